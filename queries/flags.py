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
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection, select

from dashboard.core.filters import Filters, add_months, month_start
from dashboard.data import stat_state
from dashboard.data import summary_schema as ss
from dashboard.data.schema import area as area_t
from dashboard.data.schema import office as office_t
from dashboard.data.sqlfuncs import month_of
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


MIN_MONTHLY_DENOMINATOR = 10  # a control chart needs about this many a month (median)


def too_few_to_chart(chart: pd.DataFrame) -> bool:
    """True when a chart_for chart rests on too few cases a month to say anything: its
    median monthly denominator is below MIN_MONTHLY_DENOMINATOR (or it has no month). With
    6 judgements a month the exact limits span nearly 0-100 %, so no month can stand out
    and a flat line inside them means nothing."""
    return chart.empty or float(chart["denominator"].median()) < MIN_MONTHLY_DENOMINATOR


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
    Columns: FLAG_COLUMNS. From the stored statistics when f is a stored 12-month window."""
    if baseline_months is None and _stored(conn, f):
        return stored_flags(conn, month_start(f.end), office_ids=f.office_ids)
    return flags_from_counts(monthly.monthly_counts(conn, f), baseline_months)


def current_flags(conn: Connection, f: Filters,
                  baseline_months: int | None = None) -> pd.DataFrame:
    """The flags on the last month of f's period for the offices in f, worst first (one
    row per office, measure and rule), on charts over chart_window(f). Columns:
    FLAG_COLUMNS. From the stored statistics when they hold that chart window."""
    window = chart_window(f)
    if baseline_months is None and _stored(conn, window):
        return stored_flags(conn, month_start(f.end), office_ids=f.office_ids,
                            only_month=month_start(f.end))
    return flags_from_counts(monthly.monthly_counts(conn, window), baseline_months,
                             only_month=f.end.strftime("%Y-%m"))


def stored_flags(conn: Connection, window_end: date, measure: str | None = None,
                 office_code: str | None = None, office_ids: tuple[int, ...] | None = None,
                 only_month: date | None = None) -> pd.DataFrame:
    """The stored flags (dashboard.precompute) on the control charts of the 12 months
    ending window_end (a first day), for one measure / office / set of offices / month
    when given, worst first. Columns: FLAG_COLUMNS, as flags_from_counts gives them."""
    t, c = ss.stat_control_flag, ss.stat_control_chart
    where = [t.c.window_end == window_end]
    where += [t.c.measure == measure] if measure is not None else []
    where += [office_t.c.code == office_code] if office_code is not None else []
    where += [t.c.office_id.in_(office_ids)] if office_ids is not None else []
    where += [t.c.month == only_month] if only_month is not None else []
    stmt = (select(area_t.c.name.label("area"), office_t.c.name.label("office"),
                   office_t.c.code.label("office_code"), t.c.measure,
                   month_of(t.c.month).label("month"), t.c.rule, t.c.side, t.c.rate,
                   t.c.centre, t.c.z, t.c.run_length, t.c.run_start, c.c.numerator,
                   c.c.denominator)
            .join(office_t, office_t.c.id == t.c.office_id)
            .join(area_t, area_t.c.id == office_t.c.area_id)
            .join(c, (c.c.window_end == t.c.window_end) & (c.c.measure == t.c.measure)
                  & (c.c.office_id == t.c.office_id) & (c.c.month == t.c.month))
            .where(*where))
    rows = pd.DataFrame(conn.execute(stmt).all(), columns=[
        "area", "office", "office_code", "measure", "month", "rule", "side", "rate",
        "centre", "z", "run_length", "run_start", "numerator", "denominator"])
    if rows.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    rate, centre = rows["rate"].astype(float), rows["centre"].astype(float)
    infinite = [math.copysign(math.inf, r - m) for r, m in zip(rate, centre, strict=True)]
    out = rows.assign(
        measure_name=[monthly.measure_name(m) for m in rows["measure"]],
        rule_text=rows["rule"].map(spc.RULE_TEXT),
        direction=[_direction(s, monthly.higher_is_better(m))
                   for s, m in zip(rows["side"], rows["measure"], strict=True)],
        rate=100.0 * rate, centre=100.0 * centre,
        z=[i if pd.isna(z) else float(z) for z, i in zip(rows["z"], infinite, strict=True)],
        run_length=rows["run_length"].astype(int),
        numerator=rows["numerator"].astype(float), denominator=rows["denominator"].astype(float))
    return worst_first(out[FLAG_COLUMNS])


def _stored(conn: Connection, window: Filters) -> bool:
    """Are window's control charts stored: 12 whole months, none pending?"""
    return (window.start.day == 1 and window.months == stat_state.WINDOW_MONTHS
            and add_months(window.start, window.months) == window.end + timedelta(days=1)
            and stat_state.serves(conn, window.start, window.end))


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
