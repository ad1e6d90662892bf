"""``python -m dashboard.precompute``: recompute every stored statistic (after upgrading to
migration 0007, or to repair them). Uses DATABASE_URL or the embedded demo."""

from __future__ import annotations

import time

from dashboard.core import config
from dashboard.data import db
from dashboard.precompute import statistics


def main() -> int:
    engine = db.make_engine(config.database_url())
    started = time.perf_counter()
    with engine.begin() as conn:
        done = statistics.refresh_all(conn)
    print(f"Stored statistics: {done.months} months of counts, {done.windows} windows, "
          f"{done.rows:,} rows in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
