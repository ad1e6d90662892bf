"""Counts behind every comparable rate, per office: by month (for trends and control
charts) and for the whole period (for funnel plots), in one long frame each.

A *comparable* measure is a proportion of counted things: every rate in
``queries.overview.RATES`` except the ratio measures ``dashboard.stats.funnel.EXCLUDED``
(caseload per officer, workload capacity), with % sufficient compared **per key question**
of the audit scheme (measure key ``kq_<code>``, e.g. ``kq_2.3c``): one judgement per audited
case, so a binomial count. % sufficient over all key questions is left out: its 12 or so
judgements per case are not independent, so binomial limits around it would be far too
narrow and flag nearly every office.

Long frames have the columns month (monthly only, 'YYYY-MM'), area, office, office_code,
measure, numerator, denominator; rate = numerator / denominator. Offices appear only in
months (or periods) where the measure's source has rows for them.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from sqlalchemy import Connection, and_, case, func, select
from sqlalchemy.orm import aliased

from dashboard.core import display
from dashboard.core.filters import Filters, add_months
from dashboard.core.glossary import MEASURES
from dashboard.core.targets import RAG_LABEL, look_up, rag, target_book
from dashboard.data import summaries
from dashboard.data.allocations import held, office_held, on_date
from dashboard.data.schema import area, calendar_day, office, person, upw_order, upw_session
from dashboard.data.sqlfuncs import month_of
from dashboard.data.summaries import DEADLINE_SPAN_DAYS
from dashboard.data.summary_schema import summary_upw_due, summary_upw_start
from dashboard.hmip import ratings
from dashboard.stats import funnel
from dashboard.stats.intervals import wilson_interval
from queries import gate, level_columns, overview, payback, quality, staffing, supervision
from queries._frames import read_frame

SCHEME_ID = "crc_2018"  # the scheme the quality page rates with
KQ_PREFIX = "kq_"
KEYS = ["area", "office", "office_code"]
LONG_COLUMNS = ["area", "office", "office_code", "measure", "numerator", "denominator"]

# measure key -> (numerator column, denominator column), in the overview's merged frame
PROPORTIONS: dict[str, tuple[str, str]] = {
    key: (num, den) for key, (num, den, _scale) in overview.RATES.items()
    if key not in funnel.EXCLUDED and key != "pct_sufficient"
}


# --- the catalogue of comparable measures ------------------------------------------------

def measure_keys(scheme_id: str = SCHEME_ID) -> list[str]:
    """Every comparable measure key: the proportions, then one per key question."""
    scheme = ratings.load_scheme(scheme_id)
    return [*PROPORTIONS, *(KQ_PREFIX + kq.code for kq in scheme.key_questions)]


def glossary_key(key: str) -> str:
    """The glossary entry (dashboard.core.glossary.MEASURES) that defines a measure key."""
    return "pct_sufficient" if key.startswith(KQ_PREFIX) else key


def target_key(key: str) -> str:
    """The target table's measure for a key: key questions share % sufficient's target."""
    return glossary_key(key)


def measure_name(key: str, scheme_id: str = SCHEME_ID) -> str:
    """A measure's name in users' words, e.g. 'Cases sufficient: 2.3c Keeping other people
    safe'."""
    if key.startswith(KQ_PREFIX):
        code = key[len(KQ_PREFIX):]
        kq = ratings.load_scheme(scheme_id).key_question(code)
        return f"{MEASURES['pct_sufficient'].name}: {code} {kq.label}"
    return MEASURES[key].name


def higher_is_better(key: str) -> bool | None:
    return MEASURES[glossary_key(key)].higher_is_better


def comparison_table(assessed: pd.DataFrame, targets: pd.DataFrame,
                     office_ids: dict[str, int], measure: str) -> pd.DataFrame:
    """The compare page's table from dashboard.stats.funnel.assess output, worst rate first.

    Columns: office, office_code, area, numerator, denominator, rate, ci_low, ci_high
    (percent; Wilson 95 % interval), position and signal (against the funnel), status
    (RAG against the office's own target, else the default; the targets.RAG_LABEL word).
    rate is rounded by dashboard.core.display beside its status (one decimal, more where one
    would cross a threshold).
    """
    table = assessed.sort_values("rate", ascending=higher_is_better(measure) is not False)
    table = table.reset_index(drop=True)
    bounds = [wilson_interval(x, n) for x, n in zip(table["numerator"], table["denominator"],
                                                     strict=True)]
    book = target_book(targets)
    own = [look_up(book, target_key(measure), office_ids.get(c)) for c in table["office_code"]]
    status = [rag(100 * r, t) for r, t in zip(table["rate"], own, strict=True)]
    rate = [display.shown(100 * r, display.rag_judge(t), 1)
            for r, t in zip(table["rate"], own, strict=True)]
    return table[["office", "office_code", "area", "numerator", "denominator"]].assign(
        rate=rate, ci_low=[100 * lo for lo, _ in bounds],
        ci_high=[100 * hi for _, hi in bounds], position=table["position"],
        signal=table["signal"], status=[RAG_LABEL[s].split(" (")[0] for s in status])


# --- whole period ---------------------------------------------------------------------------

def period_counts(conn: Connection, f: Filters, scheme: str = SCHEME_ID) -> pd.DataFrame:
    """Numerator and denominator of every comparable measure per office over f's period.

    Built from queries.overview.measure_frame (so the figures are the overview's: vacancy
    is a snapshot of the period's last month, the rest count events in the period) and
    queries.quality.key_question_counts for the key questions. Columns: LONG_COLUMNS.
    """
    frame = overview.measure_frame(conn, f, "office")
    parts = [frame[KEYS].assign(measure=key, numerator=frame[num], denominator=frame[den])
             for key, (num, den) in PROPORTIONS.items()]
    kq = quality.key_question_counts(conn, f, "office", scheme=scheme)
    parts.append(_key_questions(kq, KEYS))
    return _tidy(pd.concat(parts, ignore_index=True), KEYS)


# --- by month -------------------------------------------------------------------------------

def monthly_counts(conn: Connection, f: Filters, scheme: str = SCHEME_ID) -> pd.DataFrame:
    """Numerator and denominator of every comparable measure per office and month of f.

    Each month counts the same things the period figures count, so a flow measure's months
    add up to its period figure; vacancy is each month's snapshot (first of the month).
    Columns: month, LONG_COLUMNS.
    """
    keys = ["month", *KEYS]
    gaps = staffing.gaps_by_month(conn, f, "office", by_grade=False)
    sessions = payback.hours_worked(conn, f, "office", by_month=True)
    releases = gate.coverage(conn, f, "office", by_month=True)
    releases["housed"] = releases["settled"] + releases["temporary"]
    visits = supervision.appointments(conn, f, "office", by_month=True)
    sources = {
        "vacancy_rate": gaps,
        "upw_completed_in_12_months": completions_by_month(conn, f),
        "upw_started_in_7_days": start_times_by_month(conn, f),
        "upw_attendance": sessions,
        "appointments_kept": visits,
        **{key: releases for key in PROPORTIONS if key.startswith("ttg_")},
    }
    parts = [sources[key][keys].assign(measure=key, numerator=sources[key][num],
                                       denominator=sources[key][den])
             for key, (num, den) in PROPORTIONS.items()]
    kq = quality.key_question_counts(conn, f, "office", by_month=True, scheme=scheme)
    parts.append(_key_questions(kq, keys))
    return _tidy(pd.concat(parts, ignore_index=True), keys)


def completions_by_month(conn: Connection, f: Filters) -> pd.DataFrame:
    """Orders due to complete within 12 months, by the month their 12-month anniversary
    (sentence date + 365 days) falls in, as queries.payback.completions counts them for the
    period: from the monthly summaries when they cover f, else from the raw rows.

    Columns: month, area, office, office_code, due_12_months, completed_in_12_months.
    """
    return _from_summary(conn, f, summary_upw_due, ("due_12_months", "completed_in_12_months"),
                         completions_by_month_from_rows)


def start_times_by_month(conn: Connection, f: Filters) -> pd.DataFrame:
    """Orders by the month their start deadline (7th working day after sentence) fell
    in, and how many started by then, as queries.payback.start_times counts them for the
    period. From the monthly summaries when they cover f, else from the raw rows.

    Columns: month, area, office, office_code, orders_due_to_start, started_in_7_days.
    """
    return _from_summary(conn, f, summary_upw_start, ("orders_due_to_start", "started_in_7_days"),
                         start_times_by_month_from_rows)


def _from_summary(conn: Connection, f: Filters, table, columns: tuple[str, ...],
                  from_rows) -> pd.DataFrame:
    """The summary table's columns summed by month and office when the summaries cover f,
    else from_rows(conn, f) over the raw rows."""
    if not summaries.serves(conn, f):
        return from_rows(conn, f)
    return _summed(conn, table, [table.c[name] for name in columns],
                   f.clauses(table.c.month, table.c.office_id))


def _summed(conn: Connection, table, columns, where) -> pd.DataFrame:
    groups = [month_of(table.c.month).label("month"), *level_columns("office")]
    stmt = (
        select(*groups, *(func.coalesce(func.sum(c), 0).label(c.name) for c in columns))
        .select_from(table)
        .join(office, office.c.id == table.c.office_id)
        .join(area, area.c.id == office.c.area_id)
        .where(*where)
        .group_by(*groups)
        .order_by(*groups)
    )
    return read_frame(stmt, conn)


def completions_by_month_from_rows(conn: Connection, f: Filters) -> pd.DataFrame:
    """completions_by_month computed from upw_order rows (by anniversary month)."""
    due = payback.anniversary(upw_order.c.sentence_date)
    in_time = and_(upw_order.c.completed_date.is_not(None), upw_order.c.completed_date <= due)
    groups = [month_of(due).label("month"), *level_columns("office")]
    stmt = (
        select(*groups, func.count(upw_order.c.id).label("due_12_months"),
               func.coalesce(func.sum(case((in_time, 1), else_=0)), 0).label(
                   "completed_in_12_months"))
        .select_from(upw_order)
        .join(person, person.c.id == upw_order.c.person_id)
        .outerjoin(held, on_date(person.c.id, upw_order.c.sentence_date))
        .join(office, office.c.id == office_held)
        .join(area, area.c.id == office.c.area_id)
        .where(due >= f.start, due <= f.end, *f.office_clause(office_held))
        .group_by(*groups)
        .order_by(*groups)
    )
    return read_frame(stmt, conn)


def start_times_by_month_from_rows(conn: Connection, f: Filters) -> pd.DataFrame:
    """start_times_by_month computed from upw_order and upw_session rows."""
    first = (
        select(upw_session.c.order_id, func.min(upw_session.c.session_date).label("first_day"))
        .group_by(upw_session.c.order_id)
        .subquery()
    )
    first_day = aliased(calendar_day)
    stmt, sentenced_day, deadline_day = payback.start_deadline_join(
        select().select_from(upw_order)
        .join(person, person.c.id == upw_order.c.person_id)
        .outerjoin(held, on_date(person.c.id, upw_order.c.sentence_date))
        .join(office, office.c.id == office_held)
        .join(area, area.c.id == office.c.area_id), upw_order.c.sentence_date)
    in_time = and_(first.c.first_day.is_not(None),
                   first_day.c.working_day_number - sentenced_day.c.working_day_number
                   <= payback.START_WORKING_DAYS)
    groups = [month_of(deadline_day.c.day).label("month"), *level_columns("office")]
    stmt = (
        stmt.add_columns(*groups, func.count(upw_order.c.id).label("orders_due_to_start"),
                         func.coalesce(func.sum(case((in_time, 1), else_=0)), 0).label(
                             "started_in_7_days"))
        .outerjoin(first, first.c.order_id == upw_order.c.id)
        .outerjoin(first_day, first_day.c.day == first.c.first_day)
        .where(deadline_day.c.day >= f.start, deadline_day.c.day <= f.end,
               upw_order.c.sentence_date >= f.start - timedelta(days=DEADLINE_SPAN_DAYS),
               upw_order.c.sentence_date <= f.end,
               *f.office_clause(office_held))
        .group_by(*groups)
        .order_by(*groups)
    )
    return read_frame(stmt, conn)


# --- helpers --------------------------------------------------------------------------------

def _months(f: Filters) -> list:
    out, m = [], f.start
    while m <= f.end:
        out.append(m)
        m = add_months(m, 1)
    return out


def _key_questions(kq: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    by = kq.groupby([*keys, "key_question"], as_index=False)[["sufficient", "applicable"]].sum()
    return by[keys].assign(measure=KQ_PREFIX + by["key_question"].astype(str),
                           numerator=by["sufficient"], denominator=by["applicable"])


def _tidy(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    df["numerator"] = df["numerator"].astype(float)
    df["denominator"] = df["denominator"].astype(float)
    df = df[df["denominator"] > 0]
    return df.sort_values([*keys, "measure"]).reset_index(drop=True)[
        [*keys, "measure", "numerator", "denominator"]]
