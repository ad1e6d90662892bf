"""One display rule for a value judged against thresholds: cards, tables, chart hover,
CSV, XLSX and PDF all show figures through here.

The status (RAG) or rating is always decided on the exact value. The value is then shown
with the fewest decimals (at least the usual number for its unit) at which the rounded
figure would be judged the same: 79.64 % against "amber from 80" is Red and is shown as
"79.6 %", never "80 %"; 64.955 % against "Good from 65" is shown as "64.95", not "65.0".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from typing import Any

import pandas as pd

Judge = Callable[[float], Hashable]
MOST_DECIMALS = 6  # ratios of whole counts are told apart well before this


def is_missing(value: Any) -> bool:
    """True for None and NaN (and pandas' NA)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def decimals(value: float, judge: Judge | None, base: int = 0) -> int:
    """The fewest decimals >= base at which round(value) gets the same judgement as the
    exact value (base when there is nothing to judge against)."""
    if judge is None or is_missing(value):
        return base
    exact = judge(float(value))
    for d in range(base, MOST_DECIMALS + 1):
        if judge(round(float(value), d)) == exact:
            return d
    return MOST_DECIMALS


def shown(value: float | None, judge: Judge | None, base: int = 0) -> float:
    """The value as displayed: rounded to decimals(); NaN when missing. Tables and CSV
    carry this number, so what is downloaded is what is shown."""
    if is_missing(value):
        return math.nan
    v = float(value)
    d = decimals(v, judge, base)
    out = round(v, d)
    if judge is not None and judge(out) != judge(v):
        return v  # a value closer to a threshold than MOST_DECIMALS can show: keep it all
    return out


def text(value: float | None, judge: Judge | None, base: int = 0, unit: str = "",
         thousands: bool = True) -> str:
    """The value as text ('79.6 %', '1,234', '–' when missing) by the same rule."""
    if is_missing(value):
        return "–"
    v = float(value)
    d = decimals(v, judge, base)
    body = f"{v:,.{d}f}" if thousands else f"{v:.{d}f}"
    return f"{body} {unit}".strip() if unit else body


def card_decimals(unit: str) -> int:
    """The usual decimals of a card figure: none for % and hours, one otherwise."""
    return 0 if unit in ("%", "hours") else 1


def measure_text(unit: str, value: float | None, target: Any = None) -> str:
    """A card figure ('58 %', '1,234', '40.3') judged against a targets.Target by RAG."""
    return text(value, rag_judge(target), card_decimals(unit), "%" if unit == "%" else "")


def shown_column(values: pd.Series, judges: Judge | pd.Series | None,
                 base: int = 0) -> pd.Series:
    """shown() for every value of a column; judges is one judge or one per row."""
    if judges is None or callable(judges):
        return pd.Series([shown(v, judges, base) for v in values], index=values.index,
                         dtype="float64")
    return pd.Series([shown(v, j, base) for v, j in zip(values, judges, strict=True)],
                     index=values.index, dtype="float64")


# --- judges -------------------------------------------------------------------------------

def rag_judge(target: Any) -> Judge | None:
    """Judge by RAG status against a dashboard.core.targets.Target (None: no target)."""
    if target is None:
        return None
    from dashboard.core.targets import rag

    return lambda v: rag(v, target)


def line_judge(line: float | None) -> Judge | None:
    """Judge by the side of a reference line (below, on, above): a chart's target line.
    Works for either direction, since 'on the line' is its own state."""
    if line is None or is_missing(line):
        return None
    t = float(line)
    return lambda v: (v > t) - (v < t)


def rating_judge(scheme: Any) -> Judge | None:
    """Judge a % sufficient by the scheme's standard rating bands (None: not banded)."""
    if scheme is None:
        return None

    def judge(v: float) -> str:  # scheme.rating_for: core/ never imports the HMIP rules
        return scheme.rating_for(min(max(v, 0.0), 100.0))

    return judge
