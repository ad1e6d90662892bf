"""Targets and RAG status: one rule, used by every page.

A target row holds green_from and amber_from thresholds. For a measure where higher is
better, value >= green_from is Green, value >= amber_from is Amber, else Red; where lower
is better the comparisons are <=.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

RAG_LABEL = {
    "Green": "● Green (on target)",
    "Amber": "▲ Amber (near target)",
    "Red": "■ Red (off target)",
    "No data": "○ No data",
}
RAG_COLOUR = {"Green": "#009E73", "Amber": "#E69F00", "Red": "#D55E00", "No data": "#999999"}


@dataclass(frozen=True)
class Target:
    measure: str
    green_from: float
    amber_from: float
    higher_is_better: bool

    def describe(self) -> str:
        op = "≥" if self.higher_is_better else "≤"
        return f"green {op} {self.green_from:g}, amber {op} {self.amber_from:g}"


def rag(value: float | None, target: Target | None) -> str:
    """'Green', 'Amber', 'Red' or 'No data' for a value against its target."""
    if target is None or value is None or (isinstance(value, float) and math.isnan(value)):
        return "No data"
    # judged on the exact ratio: 400 / 10 FTE computed as 40.00000000000001 is 40, on
    # target, not 1e-14 over it (9 decimals keep every real difference)
    value = round(float(value), 9)
    if target.higher_is_better:
        if value >= target.green_from:
            return "Green"
        return "Amber" if value >= target.amber_from else "Red"
    if value <= target.green_from:
        return "Green"
    return "Amber" if value <= target.amber_from else "Red"


TargetBook = dict[tuple[str, int | None], Target]


def target_book(targets: pd.DataFrame) -> TargetBook:
    """Every target row by (measure, office id), the defaults under office None; the first
    row wins where a key repeats. Built once for loops over offices and measures (a
    DataFrame filter per lookup cost seconds for a whole country's offices)."""
    book: TargetBook = {}
    for row in targets.to_dict("records"):
        office = row["office_id"]
        key = (str(row["measure"]), None if pd.isna(office) else int(office))
        book.setdefault(key, Target(key[0], float(row["green_from"]),
                                    float(row["amber_from"]), bool(row["higher_is_better"])))
    return book


def look_up(book: TargetBook, measure: str, office_id: int | None = None) -> Target | None:
    """The office's own target for a measure if one is set, else the default."""
    if office_id is not None and (measure, int(office_id)) in book:
        return book[(measure, int(office_id))]
    return book.get((measure, None))


def target_for(targets: pd.DataFrame, measure: str, office_id: int | None = None) -> Target | None:
    """The office's own target for a measure if one is set, else the default (office NULL)."""
    return look_up(target_book(targets), measure, office_id)
