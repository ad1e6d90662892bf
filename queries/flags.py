"""Special-cause flags: for every office and comparable measure, a p-chart over the months
of the period (dashboard.stats.spc) and the months that break its rules, worst first.

*Current* flags are those on the period's last month: that month is outside its control
limits, or it ends (or continues) a run of 8 months on one side of the centre line. They
are judged on a chart of at least the 12 months ending with that month (the whole period
when it is longer), so a one-month view lists the same flags as the 12-month view ending
in the same month instead of none for want of a baseline.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
from sqlalchemy import Connection

from dashboard.core.filters import Filters, add_months, month_start
from dashboard.stats import spc
from queries import monthly

FLAG_COLUMNS = ["area", "office", "office_code", "measure", "measure_name", "month", "rule",
                "rule_text", "side", "direction", "rate", "centre", "z", "run_length",
                "run_start", "numerator", "denominator"]
# Worst first: a deterioration before an improvement, a point outside the limits before a
# run, then the further from the centre line (in sigmas), then the longer run.
DIRECTION_ORDER = {"worse": 0, "changed": 1, "better": 2}
RULE_ORDER = {spc.BEYOND_LIMITS: 0, spc.RUN_OF_8: 1}
CHART_MONTHS = 12  # the shortest control chart a current flag is judged on


def chart_window(f: Filters) -> Filters:
    """f widened back to CHART_MONTHS months ending with its last month (f itself when its
    period is longer): the months the current flags' control charts are drawn over."""
    first = add_months(month_start(f.end), -(CHART_MONTHS - 1))
    return replace(f, start=min(f.start, first))


def chart_for(counts: pd.DataFrame, office_code: str, measure: str,
              baseline_months: int | None = None) -> pd.DataFrame:
    """The p-chart of one office and measure from a monthly_counts frame, in percent.

    Columns: month, numerator, denominator, rate, centre, lcl, ucl (percent), sigma
    (proportion), flag (text of the rules the month breaks, '' if none).
    """
    rows = counts[(counts["office_code"] == office_code) & (counts["measure"] == measure)]
    rows = rows.sort_values("month")
    chart = spc.p_chart(list(rows["month"]), list(rows["numerator"]),
                        list(rows["denominator"]), baseline_months)
    found = spc.flags_frame(chart)
    text = found.groupby("month")["rule"].agg(
        lambda rules: "; ".join(spc.RULE_TEXT[r] for r in rules)) if len(found) else {}
    chart["flag"] = chart["month"].map(text).fillna("") if len(chart) else []
    for col in ("rate", "centre", "lcl", "ucl"):
        chart[col] = 100.0 * chart[col].astype(float)
    return chart


def flags_from_counts(counts: pd.DataFrame, baseline_months: int | None = None,
                      only_month: str | None = None) -> pd.DataFrame:
    """Every flag (or only those on only_month, 'YYYY-MM') for each office and measure in
    a monthly_counts frame, worst first. Columns: FLAG_COLUMNS; rate and centre in
    percent, z in sigmas (inf when the centre line is 0 % or 100 %)."""
    if counts.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    rows = []
    for (area, office, code, measure), series in counts.groupby(
            ["area", "office", "office_code", "measure"], sort=True):
        series = series.sort_values("month")
        chart = spc.p_chart(list(series["month"]), list(series["numerator"]),
                            list(series["denominator"]), baseline_months)
        by_month = series.set_index("month")
        better = monthly.higher_is_better(measure)
        for flag in spc.flags(chart):
            if only_month is not None and flag.month != only_month:
                continue
            rows.append({
                "area": area, "office": office, "office_code": code, "measure": measure,
                "measure_name": monthly.measure_name(measure), "month": flag.month,
                "rule": flag.rule, "rule_text": spc.RULE_TEXT[flag.rule], "side": flag.side,
                "direction": _direction(flag.side, better), "rate": 100.0 * flag.rate,
                "centre": 100.0 * flag.centre, "z": flag.z, "run_length": flag.run_length,
                "run_start": flag.run_start,
                "numerator": by_month.at[flag.month, "numerator"],
                "denominator": by_month.at[flag.month, "denominator"],
            })
    return worst_first(pd.DataFrame(rows, columns=FLAG_COLUMNS))


def worst_first(flags: pd.DataFrame) -> pd.DataFrame:
    """Sort flags: worse before better, outside limits before runs, larger |z|, longer
    run, then office and measure names (so ties are stable)."""
    if flags.empty:
        return flags.reset_index(drop=True)
    key = pd.DataFrame({
        "d": flags["direction"].map(DIRECTION_ORDER),
        "r": flags["rule"].map(RULE_ORDER),
        "z": -flags["z"].abs().fillna(0.0),
        "n": -flags["run_length"],
        "o": flags["office"], "m": flags["measure_name"], "t": flags["month"],
    })
    order = key.sort_values(["d", "r", "z", "n", "o", "m", "t"], kind="stable").index
    return flags.loc[order].reset_index(drop=True)


def one_per_signal(flags: pd.DataFrame) -> pd.DataFrame:
    """Flags with each run of 8+ shown once (at its latest month) instead of once per month
    of the run; points outside the limits are kept. Order is kept."""
    run = flags["rule"] == spc.RUN_OF_8
    latest = flags[run].sort_values("month").drop_duplicates(
        ["office_code", "measure", "run_start"], keep="last").index
    return flags[~run | flags.index.isin(latest)].reset_index(drop=True)


def all_flags(conn: Connection, f: Filters, baseline_months: int | None = None) -> pd.DataFrame:
    """Every special-cause flag in f's period for the offices in f, worst first.
    Columns: FLAG_COLUMNS."""
    return flags_from_counts(monthly.monthly_counts(conn, f), baseline_months)


def current_flags(conn: Connection, f: Filters,
                  baseline_months: int | None = None) -> pd.DataFrame:
    """The flags on the last month of f's period for the offices in f, worst first (one
    row per office, measure and rule), on charts over chart_window(f). Columns:
    FLAG_COLUMNS."""
    return flags_from_counts(monthly.monthly_counts(conn, chart_window(f)), baseline_months,
                             only_month=f.end.strftime("%Y-%m"))


def _direction(side: str, higher_is_better: bool | None) -> str:
    if higher_is_better is None or not side:
        return "changed"
    return "better" if (side == "above") == higher_is_better else "worse"


def describe(flag: pd.Series) -> str:
    """One sentence for a flag row, e.g. 'Ashford, Appointments kept: 81.0 % in 2026-10,
    below the centre line of 88.1 % (outside the 3-sigma control limits; worse).'"""
    how = spc.RULE_TEXT[flag["rule"]]
    if flag["rule"] == spc.RUN_OF_8:
        how = (f"{int(flag['run_length'])} months in a row {flag['side']} the centre line, "
               f"from {flag['run_start']}")
    z = flag["z"]
    sigmas = "" if math.isinf(z) or flag["rule"] == spc.RUN_OF_8 else f", {abs(z):.1f} sigma"
    return (f"{flag['office']}, {flag['measure_name']}: {flag['rate']:.1f} % in "
            f"{flag['month']}, {flag['side']} the centre line of {flag['centre']:.1f} % "
            f"({how}{sigmas}; {flag['direction']}).")


def describe_all(flags: pd.DataFrame, limit: int = 10) -> list[str]:
    """describe() for the first `limit` flags (runs once each), and a closing line saying
    how many more there are, if any."""
    flags = one_per_signal(flags)
    lines = [describe(row) for _, row in flags.head(limit).iterrows()]
    if len(flags) > limit:
        lines.append(f"… and {len(flags) - limit} more (see Compare offices).")
    return lines
