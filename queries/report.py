"""The integrated performance report of the overview (NHS England "Making Data Count"):
one row per measure with its latest month, period value, target, changes, a 24-month
series and the variation and assurance icons; and the office x measure grid of the
heat-map.

Period values come from queries.overview.measure_frame (so the report, the heat-map and
the measure pages agree); the monthly series is one SQL statement over the monthly
summaries (the measure modules' own per-office selects, summed by month), or the measure
modules' monthly queries over the raw rows when the summaries do not cover the months.
The icons are dashboard.stats.mdc's XmR rules on the monthly values.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
from sqlalchemy import Connection, Float, String, cast, func, literal, select, union_all

from dashboard.core import display
from dashboard.core.filters import Filters, add_months, month_end, month_start
from dashboard.core.glossary import MEASURES
from dashboard.core.targets import Target, look_up, rag, target_book
from dashboard.data import summaries
from dashboard.data.sqlfuncs import month_of
from dashboard.data.summary_schema import summary_upw_due, summary_upw_start
from dashboard.stats import mdc
from queries import gate, monthly, overview, payback, quality, reference, staffing, supervision
from queries._frames import read_frame

SERIES_MONTHS = 24
# (section, measure key) in report order: the four areas of the mission and supervision.
REPORT_MEASURES: list[tuple[str, str]] = [
    ("Staffing", "vacancy_rate"),
    ("Staffing", "caseload_per_officer"),
    ("Case quality", "pct_sufficient"),
    ("Unpaid work", "upw_completed_in_12_months"),
    ("Unpaid work", "upw_started_in_7_days"),
    ("Unpaid work", "upw_attendance"),
    ("Through the Gate", "ttg_screened_in_5_days"),
    ("Through the Gate", "ttg_plan_before_release"),
    ("Through the Gate", "ttg_contact_12_weeks"),
    ("Through the Gate", "ttg_housed_on_release"),
    ("Through the Gate", "ttg_first_appointment_kept"),
    ("Supervision", "appointments_kept"),
]
KEYS = [key for _section, key in REPORT_MEASURES]
SERIES_COLUMNS = ["month", "measure", "numerator", "denominator", "value"]
REPORT_COLUMNS = [
    "section", "measure", "name", "unit", "higher_is_better", "green_from", "amber_from",
    "latest_month", "latest", "latest_status", "period", "numerator", "denominator",
    "status", "previous", "last_year", "change_previous", "change_last_year", "series",
    "months", "points", "mean", "lpl", "upl", "variation", "assurance", "latest_rules",
    "concern",
]
GRID_COLUMNS = ["area", "area_code", "office", "office_code", "office_id", "measure", "value",
                "numerator", "denominator", "status", "green_from", "amber_from",
                "higher_is_better"]


def same_period_last_year(f: Filters) -> Filters:
    """f moved back 12 months (the same months a year earlier)."""
    return replace(f, start=add_months(f.start, -12), end=month_end(add_months(f.end, -12)))


def series_window(conn: Connection, f: Filters) -> Filters:
    """The SERIES_MONTHS months ending with f's last month, starting no earlier than the
    first month the summaries cover (nothing is counted before it)."""
    first = add_months(month_start(f.end), -(SERIES_MONTHS - 1))
    covered = summaries.coverage(conn)
    if covered is not None and covered[0] <= f.end <= month_end(covered[1]):
        first = max(first, covered[0])
    return replace(f, start=first)


# --- the monthly series -------------------------------------------------------------------

def monthly_series(conn: Connection, f: Filters) -> pd.DataFrame:
    """Every report measure by month over series_window(f), summed over f's offices.

    Columns: month ('YYYY-MM'), measure (key), numerator, denominator, value (percent, or
    cases per FTE for caseload; NaN when the denominator is 0). Staffing measures are
    each month's snapshot (first day of the month); the others count the month's events.
    Months without any row for a measure are absent.
    """
    window = series_window(conn, f)
    if summaries.serves(conn, window):
        frame = read_frame(_series_statement(window), conn)
    else:
        frame = _series_from_rows(conn, window)
    frame = frame[frame["measure"].isin(KEYS)].copy()
    scale = frame["measure"].map({k: overview.RATES[k][2] for k in KEYS})
    frame["numerator"] = frame["numerator"].astype(float)
    frame["denominator"] = frame["denominator"].astype(float)
    frame["value"] = scale * frame["numerator"] / frame["denominator"].where(
        frame["denominator"] > 0)
    return frame.sort_values(["measure", "month"]).reset_index(drop=True)[SERIES_COLUMNS]


def _series_statement(f: Filters):
    """One UNION ALL over the per-office monthly selects: month, measure, numerator,
    denominator, each summed over the offices of f by month."""
    due, start = summary_upw_due, summary_upw_start
    sources = {
        "staffing": staffing.gaps_per_office(f, by_month=True),
        "caseload": staffing.caseload_per_office(f, by_month=True),
        "quality": quality.answers_per_office(f, by_month=True),
        "sessions": payback.sessions_per_office(f, by_month=True),
        "due": summaries.per_office(due, [(c, c) for c in ("due_12_months",
                                                             "completed_in_12_months")],
                                    f.clauses(due.c.month, due.c.office_id), by_month=True),
        "starts": summaries.per_office(start, [(c, c) for c in payback.STARTS],
                                       f.clauses(start.c.month, start.c.office_id),
                                       by_month=True),
        "releases": gate.releases_per_office(f, by_month=True),
        "appointments": supervision.appointments_per_office(f, by_month=True),
    }
    source_of = {"vacancy_rate": "staffing", "caseload_per_officer": "caseload",
                 "pct_sufficient": "quality", "upw_completed_in_12_months": "due",
                 "upw_started_in_7_days": "starts", "upw_attendance": "sessions",
                 "appointments_kept": "appointments"}
    subqueries = {name: stmt.subquery(f"src_{name}") for name, stmt in sources.items()}
    parts = []
    for key in KEYS:
        sq = subqueries[source_of.get(key, "releases")]
        num, den, _scale = overview.RATES[key]
        top = sq.c.settled + sq.c.temporary if num == "housed" else sq.c[num]
        parts.append(
            select(month_of(sq.c.month).label("month"),
                   cast(literal(key), String).label("measure"),
                   cast(func.sum(top), Float).label("numerator"),
                   cast(func.sum(sq.c[den]), Float).label("denominator"))
            .group_by(sq.c.month))
    return union_all(*parts)


def _series_from_rows(conn: Connection, f: Filters) -> pd.DataFrame:
    """monthly_series' counts from the measure modules' monthly queries (raw rows)."""
    releases = gate.coverage(conn, f, "region", by_month=True)
    releases["housed"] = releases["settled"] + releases["temporary"]
    answers = quality.key_question_counts(conn, f, "region", by_month=True)
    sources = {
        "vacancy_rate": staffing.gaps_by_month(conn, f, "region", by_grade=False),
        "caseload_per_officer": staffing.caseload_by_month(conn, f, "region"),
        "pct_sufficient": answers.groupby("month", as_index=False)[
            ["applicable", "sufficient"]].sum(),
        "upw_completed_in_12_months": monthly.completions_by_month(conn, f).groupby(
            "month", as_index=False)[["due_12_months", "completed_in_12_months"]].sum(),
        "upw_started_in_7_days": monthly.start_times_by_month(conn, f).groupby(
            "month", as_index=False)[list(payback.STARTS)].sum(),
        "upw_attendance": payback.hours_worked(conn, f, "region", by_month=True),
        "appointments_kept": supervision.appointments(conn, f, "region", by_month=True),
    }
    parts = []
    for key in KEYS:
        source = sources.get(key, releases)
        num, den, _scale = overview.RATES[key]
        parts.append(pd.DataFrame({"month": source["month"], "measure": key,
                                   "numerator": source[num], "denominator": source[den]}))
    return pd.concat(parts, ignore_index=True)


# --- the report -----------------------------------------------------------------------------

def report(conn: Connection, f: Filters) -> pd.DataFrame:
    """One row per REPORT_MEASURES measure for f's offices. Columns (REPORT_COLUMNS):

    section, measure (key), name, unit, higher_is_better; green_from, amber_from (the
    target: the office's own when one office is chosen, else the default; NaN if none);
    latest_month ('YYYY-MM', f's last month), latest (that month's value), latest_status;
    period (the value over f's period: percent, or cases per FTE), numerator, denominator,
    status (RAG of period: Green/Amber/Red/No data); previous (the value over the
    previous period of the same length), last_year (the same months a year earlier);
    change_previous, change_last_year (period minus those, in the unit: percentage points
    for %); series (the monthly values over series_window(f), oldest first, NaN for a
    month without a denominator), months (their 'YYYY-MM' labels), points (months with a
    value); mean, lpl, upl (the XmR chart's mean and process limits); variation and
    assurance (dashboard.stats.mdc codes); latest_rules (the special-cause rules the
    latest month breaks, as words); concern (a plain sentence when the row needs
    attention: Red, a concerning special cause, or a target consistently failed; '' else).
    """
    targets = target_book(reference.targets(conn))
    office_id = f.office_ids[0] if f.office_ids and f.office_code else None
    current = overview.measure_frame(conn, f, "region")
    before = overview.measure_frame(conn, f.previous(), "region")
    year_ago = same_period_last_year(f)
    last_year = before if year_ago == f.previous() else overview.measure_frame(
        conn, year_ago, "region")
    series = monthly_series(conn, f)
    months = _month_labels(series_window(conn, f))
    rows = []
    for section, key in REPORT_MEASURES:
        measure = MEASURES[key]
        target = look_up(targets, key, office_id)
        num, den, _scale = overview.RATES[key]
        mine = series[series["measure"] == key].set_index("month")["value"]
        values = [float(mine.get(m, math.nan)) for m in months]
        period = _value(current, key)
        latest = values[-1] if values else math.nan
        chart = mdc.assess(values, measure.higher_is_better,
                           target.green_from if target else None)
        row = {
            "section": section, "measure": key, "name": measure.name, "unit": measure.unit,
            "higher_is_better": measure.higher_is_better,
            "green_from": target.green_from if target else math.nan,
            "amber_from": target.amber_from if target else math.nan,
            "latest_month": months[-1] if months else f.end.strftime("%Y-%m"),
            "latest": latest, "latest_status": rag(_number(latest), target),
            "period": period, "numerator": float(current[num].iloc[0]),
            "denominator": float(current[den].iloc[0]),
            "status": rag(_number(period), target),
            "previous": _value(before, key), "last_year": _value(last_year, key),
            "series": values, "months": months, "points": len(chart.values),
            "mean": chart.mean, "lpl": chart.lpl, "upl": chart.upl,
            "variation": chart.variation, "assurance": chart.assurance,
            "latest_rules": mdc.describe_rules(chart.latest_rules),
        }
        row["change_previous"] = period - row["previous"]
        row["change_last_year"] = period - row["last_year"]
        row["concern"] = concern_sentence(row, target, f)
        rows.append(row)
    return pd.DataFrame(rows, columns=REPORT_COLUMNS)


def _value(frame: pd.DataFrame, key: str) -> float:
    return float(frame[key].iloc[0]) if len(frame) else math.nan


def _number(value: float) -> float | None:
    return None if display.is_missing(value) else float(value)


def _month_labels(f: Filters) -> list[str]:
    out, m = [], month_start(f.start)
    while m <= f.end:
        out.append(m.strftime("%Y-%m"))
        m = add_months(m, 1)
    return out


def _month_words(month: str) -> str:
    return pd.Timestamp(month + "-01").strftime("%b %Y")


def value_text(key: str, value: float, target: Target | None) -> str:
    """A report figure as text by dashboard.core.display's rule: one decimal ('82.4 %',
    '38.5'), more only where one would round it onto or across the target."""
    unit = MEASURES[key].unit
    return display.text(value, display.rag_judge(target), 1, "%" if unit == "%" else "")


def target_text(key: str, green_from: float, higher_is_better: bool | None) -> str:
    """The target in words, e.g. '≥ 90 %' or '≤ 40' (– when none is set)."""
    if display.is_missing(green_from):
        return "–"
    unit = " %" if MEASURES[key].unit == "%" else ""
    return f"{'≥' if higher_is_better else '≤'} {green_from:g}{unit}"


def concern_sentence(row: dict, target: Target | None, f: Filters) -> str:
    """One plain sentence on why a report row needs attention ('' when it does not)."""
    key = row["measure"]
    red = row["status"] == "Red"
    worse = row["variation"] == mdc.CONCERNING
    failing = row["assurance"] == mdc.FAILS
    if not (red or worse or failing):
        return ""
    parts = [f"{row['name']}: {value_text(key, row['period'], target)} over "
             f"{f.period_text()}"]
    if target is not None:
        goal = target_text(key, target.green_from, target.higher_is_better)
        parts[0] += f" against a target of {goal}" + (", off target" if red else "")
    if worse:
        parts.append(f"{_month_words(row['latest_month'])} "
                     f"({value_text(key, row['latest'], target)}) is a special cause of "
                     f"concern ({row['latest_rules']})")
    if failing:
        parts.append("unless something changes it will keep missing the target (its months "
                     f"are expected between {value_text(key, row['lpl'], None)} and "
                     f"{value_text(key, row['upl'], None)})")
    return ". ".join(p[0].upper() + p[1:] for p in parts) + "."


# --- the office x measure grid ---------------------------------------------------------------

def office_grid(conn: Connection, f: Filters) -> pd.DataFrame:
    """Every office of f against each report measure over f's period, for the heat-map.

    Columns (GRID_COLUMNS): area, area_code, office, office_code, office_id, measure (key),
    value
    (percent, or cases per FTE; NaN without a denominator), numerator, denominator,
    status (RAG against the office's own target, else the default; 'No data' when no
    value or no target), green_from, amber_from, higher_is_better (the target used).
    Rows in area, office and report order; offices without any counted row are absent.
    """
    frame = overview.measure_frame(conn, f, "office")
    offices = reference.offices(conn)
    ids = dict(zip(offices["office_code"], offices["office_id"], strict=True))
    area_codes = dict(zip(offices["office_code"], offices["area_code"], strict=True))
    targets = target_book(reference.targets(conn))
    own = {(key, int(i)): look_up(targets, key, int(i))
           for key in KEYS for i in ids.values()}
    rows = []
    for office in frame.to_dict("records"):
        office_id = int(ids[office["office_code"]])
        for key in KEYS:
            num, den, _scale = overview.RATES[key]
            target = own[(key, office_id)]
            value = float(office[key])
            rows.append({
                "area": office["area"], "area_code": area_codes[office["office_code"]],
                "office": office["office"],
                "office_code": office["office_code"], "office_id": office_id,
                "measure": key, "value": value, "numerator": float(office[num]),
                "denominator": float(office[den]), "status": rag(_number(value), target),
                "green_from": target.green_from if target else math.nan,
                "amber_from": target.amber_from if target else math.nan,
                "higher_is_better": target.higher_is_better if target else None})
    return pd.DataFrame(rows, columns=GRID_COLUMNS)
