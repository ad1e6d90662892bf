"""Count cards whose shown figure disagrees with their RAG status, over every unit and
period of a database.

For the region, every area and every office, and every single month of the history plus
the last quarter and the last twelve months, every headline rate with a target (the
overview's measure frame, as the cards show it) is judged on its exact value and on the
figure as displayed; a disagreement is a card like "80 %" beside Red. Two displays are
compared: the old fixed rounding (0 decimals for %, 1 otherwise) and dashboard.core.display.

    python scripts/check_value_status.py [DATABASE_URL]   (default: the configured one)

Prints the counts and the first disagreements; exits 1 if the current rule disagrees.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard.core import config, display
from dashboard.core.filters import add_months, parse_filters  # noqa: E402
from dashboard.core.glossary import MEASURES  # noqa: E402
from dashboard.core.targets import rag, target_for  # noqa: E402
from dashboard.data import db  # noqa: E402
from queries import overview, reference  # noqa: E402


def fixed_rounding(unit: str, value: float) -> str:
    """The cards' display before dashboard.core.display: f'{v:.0f} %' or one decimal."""
    return f"{value:.0f} %" if unit == "%" else f"{value:,.{0 if unit == 'hours' else 1}f}"


def parse(text: str) -> float:
    return float(text.replace(",", "").replace("%", "").strip())


def periods(history_start: date, as_of: date) -> list[tuple[str, str]]:
    months, m = [], date(history_start.year, history_start.month, 1)
    while m <= as_of:
        months.append(m.strftime("%Y-%m"))
        m = add_months(m, 1)
    return [(x, x) for x in months] + [(months[-3], months[-1]), (months[-12], months[-1])]


def main(url: str) -> int:
    engine = db.make_engine(url)
    counts = {"fixed rounding": 0, "dashboard.core.display": 0}
    cards, examples = 0, []
    with engine.connect() as conn:
        facts = reference.dataset_facts(conn)
        as_of, start = (date.fromisoformat(facts[k]) for k in ("data_as_of", "history_start"))
        offices = reference.offices(conn)
        targets = reference.targets(conn)
        units = [{}] + [{"area": a} for a in sorted(offices["area_code"].unique())] + [
            {"area": r.area_code, "office": r.office_code} for r in offices.itertuples()]
        for unit in units:
            for first, last in periods(start, as_of):
                f = parse_filters({**unit, "from": first, "to": last}, offices, as_of,
                                  start).filters
                row = overview.measure_frame(conn, f, "region").iloc[0]
                for key in overview.RATES:
                    target, value = target_for(targets, key), row[key]
                    if target is None or display.is_missing(value):
                        continue
                    cards += 1
                    status, unit_text = rag(float(value), target), MEASURES[key].unit
                    now = display.measure_text(unit_text, value, target)
                    for name, shown in (
                            ("fixed rounding", fixed_rounding(unit_text, float(value))),
                            ("dashboard.core.display", now)):
                        if rag(parse(shown), target) != status:
                            counts[name] += 1
                            if len(examples) < 8:
                                examples.append(f"  {f.label} {f.period_text()}: {key} "
                                                f"{value:.3f} shown {shown!r} beside "
                                                f"{status} (display now: {now!r})")
    engine.dispose()
    print(f"{len(units)} units x {len(periods(start, as_of))} periods: {cards} cards "
          "with a target")
    for name, n in counts.items():
        print(f"value/status disagreements with {name}: {n}")
    print("\n".join(examples))
    return 1 if counts["dashboard.core.display"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else config.database_url()))
