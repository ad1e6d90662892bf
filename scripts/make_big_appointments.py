"""Write a large appointments extract (default 1,000,000 rows) for the import benchmark.

The rows refer to the people already stored in a database (the demo database by default),
so the file is valid and imports cleanly. Deterministic for a given seed.

    python scripts/make_big_appointments.py OUT.csv [--rows 1000000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.data import db  # noqa: E402
from dashboard.data.schema import APPOINTMENT_OUTCOMES, person  # noqa: E402

BLOCK = 100_000


def write_big_appointments(engine, out: Path, rows: int = 1_000_000, seed: int = 5,
                           prefix: str = "BIG-") -> int:
    """Write `rows` appointments for stored people to out (CSV); returns the row count.

    Dates fall inside each person's supervision; references are prefix + a 9-digit number.
    """
    with engine.connect() as conn:
        people = pd.DataFrame(conn.execute(
            select(person.c.crn, person.c.start_date, person.c.end_date)).all(),
            columns=["crn", "start_date", "end_date"])
    if people.empty:
        raise SystemExit("The database holds no people on probation; load demo data first.")
    rng = np.random.default_rng(seed)
    crns = people["crn"].to_numpy()
    start = pd.to_datetime(people["start_date"]).to_numpy().astype("datetime64[D]")
    span = (pd.to_datetime(people["end_date"]).to_numpy().astype("datetime64[D]")
            - start).astype(int)
    outcomes = np.array(APPOINTMENT_OUTCOMES)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["appointment_ref", "crn", "appointment_date", "outcome",
                         "enforcement_action"])
        for first in range(0, rows, BLOCK):
            n = min(BLOCK, rows - first)
            who = rng.integers(0, len(people), n)
            day = start[who] + (rng.random(n) * (span[who] + 1)).astype("timedelta64[D]")
            outcome = outcomes[rng.choice(3, n, p=[0.86, 0.06, 0.08])]
            enforced = (outcome == "failed") & (rng.random(n) < 0.55)
            refs = [f"{prefix}{i:09d}" for i in range(first + 1, first + n + 1)]
            writer.writerows(zip(refs, crns[who], day.astype(str), outcome,
                                 np.where(enforced, "true", "false"), strict=True))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--database-url", help="database whose people to use (default: "
                        "DATABASE_URL or the demo SQLite file)")
    args = parser.parse_args()
    engine = db.make_engine(args.database_url)
    n = write_big_appointments(engine, args.out, args.rows, args.seed)
    engine.dispose()
    print(f"Wrote {n:,} appointments to {args.out} ({args.out.stat().st_size / 1e6:.0f} MB).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
