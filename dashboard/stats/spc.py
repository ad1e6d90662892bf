"""Statistical process control for monthly rates: a p-chart and two special-cause rules.

Month-on-month wiggles are mostly noise. A p-chart draws each month's rate with control
limits that depend on that month's denominator, around a centre line from a baseline, and
flags only what noise rarely produces (Shewhart's rules as used in the NHS "Making Data
Count" guidance):

- ``beyond_limits``: a month outside the 3-sigma limits;
- ``run_of_8``: 8 or more consecutive months on the same side of the centre line.

The centre line p_bar is the pooled rate of the baseline months (sum of numerators / sum
of denominators; by default every month charted). Month i has denominator n_i and
sigma_i = sqrt(p_bar (1 - p_bar) / n_i). Two ways to set the limits (``method``):

- ``"exact"`` (the default, used by the app): **exact binomial probability limits with the
  same tail areas as 3 sigma** (0.135 % each side), computed like the funnel limits
  (``dashboard.stats.funnel.exact_limit``: Binomial(n_i, p_bar), Spiegelhalter's interpolation,
  fractional n_i rounded to whole numbers). Monthly denominators per office are small
  (a handful of releases or audits), where p_bar +/- 3 sigma is badly wrong: with
  p_bar = 97 % and n_i = 1 it puts the lower limit at 46 %, so a single missed case (a 3 %
  event) would be "special cause".
- ``"normal"``: the textbook p-chart, **normal approximation p_bar +/- 3 sigma_i, no
  continuity correction**, clipped to [0, 1] (so with n_i = 1 and 0.1 <= p_bar <= 0.9 no
  month can fall outside them). At large n_i the two agree closely.

A rate exactly on a limit is inside. Months with a zero denominator have no rate: they are
left off the chart, and neither extend nor break a run. A month exactly on the centre line
breaks a run. All rates here are proportions 0..1.

Known limit of the run rule: it assumes a month is about as likely to fall above the centre
line as below. With a centre near 0 % or 100 % and small denominators that is not so (at
p_bar = 94 % and n_i = 3, 100 % happens 83 % of the time), and runs come more easily.

Staffing snapshots (vacancy rate) are charted the same way with n = budgeted FTE; they are
not independent from month to month, so a run of 8 there mostly says "this gap has
persisted", which is still worth a flag.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from scipy.stats import norm

from dashboard.stats.funnel import exact_limit, whole_denominator

SIGMAS = 3.0
TAIL = float(norm.sf(SIGMAS))  # P(Z > 3) = 0.00135: the tail area of a 3-sigma limit
METHODS = ("exact", "normal")
RUN_LENGTH = 8
BEYOND_LIMITS = "beyond_limits"
RUN_OF_8 = "run_of_8"
RULE_TEXT = {BEYOND_LIMITS: "outside the control limits (3-sigma tail areas)",
             RUN_OF_8: f"{RUN_LENGTH} or more months in a row on one side of the centre line"}
CHART_COLUMNS = ["month", "numerator", "denominator", "rate", "centre", "sigma", "lcl", "ucl"]


@dataclass(frozen=True)
class Flag:
    """One special-cause signal. side is 'above' or 'below' the centre line; z is
    (rate - centre) / sigma (inf when sigma is 0); run_length and run_start are the length
    and first month of the run the month belongs to (0 and '' for beyond_limits)."""

    month: str
    rule: str
    side: str
    rate: float
    centre: float
    z: float
    run_length: int = 0
    run_start: str = ""


def p_chart(months: Sequence[str], numerators: Sequence[float],
            denominators: Sequence[float], baseline_months: int | None = None,
            method: str = "exact") -> pd.DataFrame:
    """The p-chart: one row per month with a positive denominator, in the order given.

    baseline_months: how many of the first charted months set the centre line (None: all).
    method: "exact" (binomial probability limits, 3-sigma tail areas) or "normal"
    (p_bar +/- 3 sigma); see the module docstring.
    Columns: month, numerator, denominator, rate, centre, sigma, lcl, ucl (proportions).
    An empty frame (same columns) when no month has a denominator.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    rows = [(m, float(x), float(n)) for m, x, n in zip(months, numerators, denominators,
                                                         strict=True) if n and n > 0]
    if not rows:
        return pd.DataFrame(columns=CHART_COLUMNS)
    base = rows if baseline_months is None else rows[:max(1, baseline_months)]
    centre = sum(x for _m, x, _n in base) / sum(n for _m, _x, n in base)
    out = []
    for month, x, n in rows:
        sigma = math.sqrt(centre * (1.0 - centre) / n)
        if method == "exact":
            whole = whole_denominator(n)
            lcl, ucl = exact_limit(whole, centre, TAIL), exact_limit(whole, centre, 1.0 - TAIL)
        else:
            lcl, ucl = max(0.0, centre - SIGMAS * sigma), min(1.0, centre + SIGMAS * sigma)
        out.append({"month": month, "numerator": x, "denominator": n, "rate": x / n,
                    "centre": centre, "sigma": sigma, "lcl": lcl, "ucl": ucl})
    return pd.DataFrame(out, columns=CHART_COLUMNS)


def _z(rate: float, centre: float, sigma: float) -> float:
    if sigma > 0:
        return (rate - centre) / sigma
    return 0.0 if rate == centre else math.copysign(math.inf, rate - centre)


def flags(chart: pd.DataFrame, run_length: int = RUN_LENGTH) -> list[Flag]:
    """Special-cause flags on a p_chart frame, in month order (beyond_limits before
    run_of_8 for the same month). Every month of a qualifying run is flagged, with the
    run's full length."""
    out: list[Flag] = []
    records = chart.to_dict("records")
    sides = []
    for row in records:
        diff = row["rate"] - row["centre"]
        sides.append("above" if diff > 0 else "below" if diff < 0 else "")
    runs: dict[int, tuple[int, str]] = {}  # month index -> (run length, first month)
    start = 0
    for i in range(1, len(records) + 1):
        if i == len(records) or sides[i] != sides[start] or not sides[i]:
            if sides[start] and i - start >= run_length:
                runs.update({j: (i - start, records[start]["month"]) for j in range(start, i)})
            start = i
    for i, row in enumerate(records):
        z = _z(row["rate"], row["centre"], row["sigma"])
        if row["rate"] > row["ucl"] or row["rate"] < row["lcl"]:
            out.append(Flag(row["month"], BEYOND_LIMITS, sides[i], row["rate"], row["centre"],
                            z))
        if i in runs:
            out.append(Flag(row["month"], RUN_OF_8, sides[i], row["rate"], row["centre"], z,
                            *runs[i]))
    return out


def flags_frame(chart: pd.DataFrame, run_length: int = RUN_LENGTH) -> pd.DataFrame:
    """flags() as a frame. Columns: month, rule, side, rate, centre, z, run_length,
    run_start."""
    found = flags(chart, run_length)
    columns = ["month", "rule", "side", "rate", "centre", "z", "run_length", "run_start"]
    return pd.DataFrame([f.__dict__ for f in found], columns=columns)
