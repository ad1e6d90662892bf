"""The compare page's statistics, read from the stored statistics (dashboard.precompute) when
they hold the period, else computed now by the same functions (dashboard.stats.funnel,
queries.flags): the figures are the same either way (tests/test_stored_statistics.py).

Stored periods: the 12 months ending with any month users can pick, and any single month
(funnels); control charts over flags.chart_window(f), i.e. periods of up to 12 months. Every
function here covers every office in the region (the filters' office and area are ignored:
the funnel's benchmark is the region); pages keep the offices they show.
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
from dashboard.data.schema import area, office
from dashboard.data.sqlfuncs import month_of
from dashboard.stats import funnel
from queries import flags, monthly
from queries._frames import read_frame

LIMITS = ["low_95", "high_95", "low_998", "high_998"]
FUNNEL_COLUMNS = ["area", "office", "office_code", "measure", "numerator", "denominator",
                  "rate", *LIMITS, "position", "signal"]
CURVE_COLUMNS = ["denominator", *LIMITS]
CHART_COLUMNS = ["month", "numerator", "denominator", "rate", "centre", "sigma", "lcl",
                 "ucl", "flag"]


def region(f: Filters) -> Filters:
    """f over every office (the compare page's funnel and charts cover the region)."""
    return replace(f, office_ids=None, area_code=None, office_code=None, label="Region")


def stored_window(conn: Connection, f: Filters) -> bool:
    """Are f's funnels stored: whole months, 1 or 12 of them, none pending?"""
    whole = f.start.day == 1 and add_months(f.start, f.months) == _next_day(f.end)
    return (whole and f.months in (1, stat_state.WINDOW_MONTHS)
            and stat_state.serves(conn, f.start, f.end))


def measures(conn: Connection, f: Filters) -> pd.DataFrame:
    """The comparable measures with figures in f's period (any office). Column: measure."""
    if stored_window(conn, f):
        t = ss.stat_funnel_benchmark
        stmt = (select(t.c.measure).where(t.c.window_start == month_start(f.start),
                                          t.c.window_end == month_start(f.end))
                .order_by(t.c.measure))
        return read_frame(stmt, conn)
    found = sorted(set(monthly.period_counts(conn, region(f))["measure"]))
    return pd.DataFrame({"measure": pd.Series(found, dtype="str")})


def funnel_benchmark(conn: Connection, f: Filters, measure: str) -> pd.DataFrame:
    """The funnel's benchmark over f's period: one row, columns theta (the regional pooled
    rate, proportion 0..1) and phi (Spiegelhalter's over-dispersion factor); NaN where
    undefined (no denominator; fewer than two offices)."""
    if stored_window(conn, f):
        t = ss.stat_funnel_benchmark
        row = conn.execute(select(t.c.theta, t.c.phi).where(*_window(t, f, measure))).first()
        values = (math.nan, math.nan) if row is None else tuple(
            math.nan if v is None else float(v) for v in row)
    else:
        rows = _period_rows(conn, f, measure)
        theta = funnel.pooled_rate(list(rows["numerator"]), list(rows["denominator"]))
        values = (theta, funnel.overdispersion(list(rows["numerator"]),
                                               list(rows["denominator"]), theta))
    return pd.DataFrame([values], columns=["theta", "phi"])


def funnel_offices(conn: Connection, f: Filters, measure: str,
                   adjusted: bool = False) -> pd.DataFrame:
    """Every office on the measure's funnel over f's period (dashboard.stats.funnel.assess,
    around the regional rate; adjusted: limits widened for over-dispersion when phi > 1).
    Columns: FUNNEL_COLUMNS; rate and limits are proportions 0..1, position one of
    funnel.POSITIONS, signal 'worse' / 'better' / 'as expected' (or 'higher' / 'lower')."""
    bench = funnel_benchmark(conn, f, measure).iloc[0]
    widen = bool(adjusted and bench["phi"] > 1.0)
    if stored_window(conn, f):
        t = ss.stat_funnel_office
        stmt = (select(area.c.name.label("area"), office.c.name.label("office"),
                       office.c.code.label("office_code"), t.c.measure, t.c.numerator,
                       t.c.denominator, t.c.rate, *(t.c[c] for c in LIMITS), t.c.position,
                       t.c.signal)
                .join(office, office.c.id == t.c.office_id)
                .join(area, area.c.id == office.c.area_id)
                .where(*_window(t, f, measure), t.c.adjusted == widen)
                .order_by(area.c.name, office.c.name, office.c.code))
        return read_frame(stmt, conn)
    rows = _period_rows(conn, f, measure)
    phi = bench["phi"] if adjusted else None
    assessed, _ = funnel.assess(rows, "numerator", "denominator",
                                monthly.higher_is_better(measure), theta=bench["theta"],
                                phi=phi)
    return assessed.reset_index(drop=True)[FUNNEL_COLUMNS]


def funnel_lines(conn: Connection, f: Filters, measure: str,
                 adjusted: bool = False) -> pd.DataFrame:
    """The funnel's limit lines (dashboard.stats.funnel.funnel_curve) up to the largest
    office's denominator. Columns: CURVE_COLUMNS (limits as proportions 0..1)."""
    bench = funnel_benchmark(conn, f, measure).iloc[0]
    widen = bool(adjusted and bench["phi"] > 1.0)
    if stored_window(conn, f):
        t = ss.stat_funnel_curve
        stmt = (select(*(t.c[c] for c in CURVE_COLUMNS))
                .where(*_window(t, f, measure), t.c.adjusted == widen)
                .order_by(t.c.denominator))
        return read_frame(stmt, conn)
    rows = _period_rows(conn, f, measure)
    if rows.empty or math.isnan(bench["theta"]):
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in CURVE_COLUMNS})
    curve = funnel.funnel_curve(bench["theta"], rows["denominator"].max(),
                                phi=bench["phi"] if adjusted else None)
    return curve[CURVE_COLUMNS]


def monthly_series(conn: Connection, f: Filters, measure: str) -> pd.DataFrame:
    """The measure's monthly counts per office over f's months (queries.monthly
    .monthly_counts). Columns: month ('YYYY-MM'), area, office, office_code, measure,
    numerator, denominator."""
    if f.start.day == 1 and stat_state.serves(conn, f.start, f.end, window_end=False):
        t = ss.stat_measure_month
        month = month_of(t.c.month).label("month")
        stmt = (select(month, area.c.name.label("area"), office.c.name.label("office"),
                       office.c.code.label("office_code"), t.c.measure, t.c.numerator,
                       t.c.denominator)
                .join(office, office.c.id == t.c.office_id)
                .join(area, area.c.id == office.c.area_id)
                .where(t.c.measure == measure, t.c.month >= month_start(f.start),
                       t.c.month <= f.end)
                .order_by(month, area.c.name, office.c.name, office.c.code))
        return read_frame(stmt, conn)
    counts = monthly.monthly_counts(conn, region(f))
    return counts[counts["measure"] == measure].reset_index(drop=True)


def control_chart(conn: Connection, f: Filters, office_code: str,
                  measure: str) -> pd.DataFrame:
    """One office's control chart of the measure over flags.chart_window(f) (at least the
    12 months ending with f's last month), as queries.flags.chart_for gives it. Columns:
    CHART_COLUMNS; rate, centre, lcl, ucl in percent, sigma a proportion, flag the rules a
    month breaks ('' if none)."""
    window = flags.chart_window(f)
    if _stored_chart(conn, window):
        t = ss.stat_control_chart
        stmt = (select(month_of(t.c.month).label("month"), t.c.numerator, t.c.denominator,
                       t.c.rate, t.c.centre, t.c.sigma, t.c.lcl, t.c.ucl, t.c.flag)
                .join(office, office.c.id == t.c.office_id)
                .where(t.c.window_end == month_start(window.end), t.c.measure == measure,
                       office.c.code == office_code)
                .order_by(t.c.month))
        chart = read_frame(stmt, conn)
        for col in ("rate", "centre", "lcl", "ucl"):
            chart[col] = 100.0 * chart[col]
        return chart
    counts = monthly.monthly_counts(conn, region(window))
    return flags.chart_for(counts, office_code, measure).reset_index(drop=True)[
        CHART_COLUMNS]


def chart_flags(conn: Connection, f: Filters, office_code: str, measure: str) -> pd.DataFrame:
    """The special-cause flags on control_chart's chart, worst first. Columns:
    flags.FLAG_COLUMNS."""
    window = flags.chart_window(f)
    if _stored_chart(conn, window):
        return flags.stored_flags(conn, month_start(window.end), measure=measure,
                                  office_code=office_code)
    counts = monthly.monthly_counts(conn, region(window))
    one = counts[(counts["office_code"] == office_code) & (counts["measure"] == measure)]
    return flags.flags_from_counts(one)


def _stored_chart(conn: Connection, window: Filters) -> bool:
    return window.months == stat_state.WINDOW_MONTHS and stored_window(conn, window)


def _period_rows(conn: Connection, f: Filters, measure: str) -> pd.DataFrame:
    counts = monthly.period_counts(conn, region(f))
    return counts[counts["measure"] == measure].reset_index(drop=True)


def _window(t, f: Filters, measure: str) -> list:
    return [t.c.window_start == month_start(f.start), t.c.window_end == month_start(f.end),
            t.c.measure == measure]


def _next_day(d: date) -> date:
    return d + timedelta(days=1)
