"""Refresh the monthly summary tables (dashboard.data.summary_schema) from the raw rows.

The page queries read these small tables instead of millions of raw rows. Their numbers
must be the raw rows' numbers exactly, so every summary is computed here from the raw
rows with its own SQL (tests/test_summaries.py checks it against the raw-row queries).

Public API
- ``refresh_all(conn)``: rebuild every summary (end of demo generation; after a bulk
  load, a change to the calendar or to which office a person belongs to).
- ``refresh_months(conn, months, office_ids=None, tables=None)``: after an import that
  inserted, updated or deleted rows carrying a date in ``months`` (every date column of
  the changed rows, old and new values) for the offices ``office_ids`` (None: any
  office), in the raw ``tables`` named (None: all; see DEPENDS). Recomputes only the
  summary rows those rows can change, by delete + insert in the caller's transaction,
  widens the covered months, and bumps ``dataset_info.data_version`` so the dashboard's
  cached query results are recomputed.
- ``serves(conn, f)`` / ``covers(conn, first, last)``: may a query read the summaries
  for this period? (Whole months, inside the covered months.)

What an import touching month M recomputes: events keyed by their own date (sessions,
appointments, releases, audits, absence, orders sentenced or completed) in M only;
start times for M and the month before (a first session can fall in the next month);
12-month completion for the anniversary months M..M+12; staff in post, open cases and
unpaid work outstanding (levels carried from month to month) from M onwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    Float,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from dashboard.core.filters import add_months, month_end, month_start
from dashboard.data import stat_state
from dashboard.data import summary_schema as ss
from dashboard.data.allocations import day_after, held, office_held, on_date
from dashboard.data.schema import (
    appointment,
    area,
    audit_answer,
    calendar_day,
    case_audit,
    custody_release,
    dataset_info,
    establishment,
    office,
    person,
    staff_absence,
    staff_member,
    upw_order,
    upw_session,
)
from dashboard.data.sqlfuncs import days_between
from dashboard.data.sqlfuncs import month_of as _month_text

# The rules behind the measures (one place; the query modules import them from here).
SCREENING_WORKING_DAYS = 5  # Through the Gate screening after reception into prison
CONTACT_DAYS = 84  # resettlement contact 12 weeks before release
START_WORKING_DAYS = 7  # unpaid work: first session within 7 working days of sentence
# Unpaid work start deadline: the 7th working day after sentence falls at most this many
# calendar days later (two weekends plus Christmas and New Year), a bound for date ranges.
DEADLINE_SPAN_DAYS = 21
# Unpaid work completed within 12 months: on or before the calendar anniversary of the
# sentence (29 Feb -> 28 Feb); 367 days bound the sentence dates whose anniversary falls
# in a range.
ANNIVERSARY_SPAN_DAYS = 367
SICKNESS = "sickness"  # the staff_absence reason the sickness-absence measure counts
CASE_HOLDING = ("PO", "PSO")
# Workload points per case by tier (the Workload Measurement Tool's approach); licence
# cases cost a quarter more. An officer's nominal capacity is 700 points per FTE.
TIER_POINTS = {"A": 30, "B": 20, "C": 14, "D": 8}
LICENCE_FACTOR = 1.25
POINTS_PER_FTE = 700.0

STATE = "monthly"


# --- months -----------------------------------------------------------------------------

def is_month_end(d: date) -> bool:
    return (d + timedelta(days=1)).day == 1


def month_range(first: date, last: date) -> list[date]:
    """First days of every month from first's month to last's month."""
    out, m = [], month_start(first)
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


def _key_dates(keys: pd.Series) -> pd.Series:
    """'YYYY-MM' text -> the month's first day (datetime64)."""
    return pd.to_datetime(keys.astype(str) + "-01")


@dataclass(frozen=True)
class Months:
    """The key months to recompute: every month (neither set), the months `exact`, or
    every month from `start` on."""

    exact: tuple[date, ...] | None = None
    start: date | None = None

    def date_clauses(self, col) -> list:
        """WHERE clauses keeping raw rows whose own date falls in these months."""
        if self.start is not None:
            return [col >= self.start]
        if self.exact is not None:
            return [or_(*[and_(col >= lo, col <= hi) for lo, hi in _runs(self.exact)])]
        return []

    def keep(self, months: pd.Series) -> pd.Series:
        """Which computed key months (datetime64) belong to these months."""
        if self.start is not None:
            return months >= pd.Timestamp(self.start)
        if self.exact is not None:
            return months.isin([pd.Timestamp(m) for m in self.exact])
        return pd.Series(True, index=months.index)

    def date_clauses_back(self, col, days: int) -> list:
        """As date_clauses, each range starting `days` earlier (rows dated shortly before
        a month that can count in it)."""
        if self.start is not None:
            return [col >= self.start - timedelta(days=days)]
        if self.exact is not None:
            return [or_(*[and_(col >= lo - timedelta(days=days), col <= hi)
                          for lo, hi in _runs(self.exact)])]
        return []

    def delete_clauses(self, col) -> list:
        if self.start is not None:
            return [col >= self.start]
        if self.exact is not None:
            return [col.in_(self.exact)]
        return []


def _runs(months: Sequence[date]) -> list[tuple[date, date]]:
    """Consecutive months merged into (first day, last day) date ranges."""
    runs: list[tuple[date, date]] = []
    for m in sorted(set(months)):
        if runs and m == add_months(month_start(runs[-1][1]), 1):
            runs[-1] = (runs[-1][0], month_end(m))
        else:
            runs.append((m, month_end(m)))
    return runs


# --- state ------------------------------------------------------------------------------

def coverage(conn: Connection) -> tuple[date, date] | None:
    """(first month, last month) the summaries cover, or None before they are built."""
    row = conn.execute(select(ss.summary_state.c.first_month, ss.summary_state.c.last_month)
                       .where(ss.summary_state.c.name == STATE)).first()
    return None if row is None else (_as_date(row[0]), _as_date(row[1]))


def covers(conn: Connection, first: date, last: date) -> bool:
    """True when the summaries hold every month from first's month to last's month."""
    state = coverage(conn)
    return state is not None and state[0] <= month_start(first) and month_start(last) <= state[1]


def serves(conn: Connection, f) -> bool:
    """May a query read the summaries for the filters' period? Only whole months (the
    dashboard's filters always are) inside the covered months."""
    return f.start.day == 1 and is_month_end(f.end) and covers(conn, f.start, f.end)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _data_range(conn: Connection) -> tuple[date, date] | None:
    """First and last month holding any dated raw row (and the data's as-of month)."""
    cols = [person.c.start_date, upw_order.c.sentence_date, upw_session.c.session_date,
            appointment.c.appointment_date, custody_release.c.release_date,
            case_audit.c.audit_date, staff_absence.c.start_date, establishment.c.month]
    lows, highs = [], []
    for col in cols:
        lo, hi = conn.execute(select(func.min(col), func.max(col))).one()
        if lo is not None:
            lows.append(_as_date(lo))
            highs.append(_as_date(hi))
    as_of = conn.execute(select(dataset_info.c.value)
                         .where(dataset_info.c.key == "data_as_of")).scalar()
    if as_of:
        highs.append(date.fromisoformat(as_of))
    if not lows:
        return None
    return month_start(min(lows)), month_start(max(highs))


def _set_state(conn: Connection, first: date, last: date) -> None:
    conn.execute(delete(ss.summary_state).where(ss.summary_state.c.name == STATE))
    conn.execute(ss.summary_state.insert().values(name=STATE, first_month=first,
                                                  last_month=last))


def mark_data_changed(conn: Connection, version: str | None = None) -> str:
    """Set dataset_info.data_version (part of every cached query's key) to a new value."""
    version = version or uuid.uuid4().hex
    conn.execute(delete(dataset_info).where(dataset_info.c.key == "data_version"))
    conn.execute(dataset_info.insert().values(key="data_version", value=version))
    return version


# --- refresh ----------------------------------------------------------------------------

def refresh_all(conn: Connection) -> None:
    """Rebuild every summary table from the raw rows, in the caller's transaction."""
    for table in ss.SUMMARY_TABLES:
        conn.execute(delete(table))
    conn.execute(delete(ss.summary_state))
    stat_state.mark_stale(conn)  # the stored statistics follow (dashboard.precompute)
    span = _data_range(conn)
    if span is None:
        return
    first, last = span
    every = Months()
    offices = _office_ids(conn, None)
    _refresh_staffing(conn, every, None)
    for fill in _EVENT_FAMILIES.values():
        fill(conn, every, None)
    _refresh_due(conn, every, None)
    _refresh_starts(conn, every, None)
    _refresh_caseload(conn, first, last, offices, first)
    _refresh_outstanding(conn, first, last, offices, first)
    _set_state(conn, first, last)
    if conn.dialect.name == "postgresql":  # planner statistics for the rebuilt tables
        for table in ss.SUMMARY_TABLES:
            conn.exec_driver_sql(f"ANALYZE {table.name}")


# raw table -> the summary families its rows feed
DEPENDS = {
    "appointment": {"appointments"},
    "upw_session": {"sessions", "starts", "outstanding"},
    "upw_order": {"orders", "completed", "due", "starts", "outstanding"},
    "custody_release": {"releases"},
    "case_audit": {"audits", "answers"},
    "audit_answer": {"answers"},
    "staff_absence": {"absence"},
    "staff_member": {"staffing"},
    "establishment": {"staffing"},
    "person_on_probation": {"caseload"},
    # where a case is allocated decides the office of every event and snapshot
    "case_allocation": {"appointments", "sessions", "orders", "completed", "due", "starts",
                        "outstanding", "releases", "audits", "answers", "caseload"},
    "calendar_day": {"releases", "starts"},
}


def refresh_months(conn: Connection, months: Iterable[date],
                   office_ids: Iterable[int] | None = None,
                   tables: Iterable[str] | None = None) -> None:
    """Recompute the summary rows that raw rows dated in `months` (for `office_ids`, or
    any office) can change; see the module docstring for what that covers. `tables`
    names the raw tables whose rows changed (default: all of them), so a saved audit
    does not recompute appointments. Runs in the caller's transaction and bumps
    dataset_info.data_version."""
    touched = sorted({month_start(m) for m in months})
    if not touched:
        return
    state = coverage(conn)
    if state is None:
        refresh_all(conn)
        mark_data_changed(conn)
        return
    unknown = set(tables or ()) - set(DEPENDS)
    if unknown:
        raise ValueError(f"no summaries depend on {sorted(unknown)}")
    families = set().union(*DEPENDS.values()) if tables is None else set().union(
        *(DEPENDS[t] for t in tables))
    first, last = min(state[0], touched[0]), max(state[1], touched[-1])
    ids = None if office_ids is None else tuple(sorted({int(i) for i in office_ids}))
    exact = Months(exact=tuple(touched))
    if "staffing" in families:
        _refresh_staffing(conn, Months(start=touched[0]), ids)
    for name, fill in _EVENT_FAMILIES.items():
        if name in families:
            fill(conn, exact, ids)
    if "due" in families:
        _refresh_due(conn, Months(exact=tuple(sorted(
            {add_months(m, k) for m in touched for k in range(13)}))), ids)
    if "starts" in families:
        # a session in m can start an order sentenced in m-1 or m, due in m-1, m or m+1
        _refresh_starts(conn, Months(exact=tuple(sorted(
            {add_months(m, k) for m in touched for k in (-1, 0, 1)}))), ids)
    # Levels carry over from month to month: new months at the end need every office.
    level_from, level_ids = touched[0], ids
    if last > state[1]:
        level_from, level_ids = min(level_from, add_months(state[1], 1)), None
        families |= {"caseload", "outstanding"}
    offices = _office_ids(conn, level_ids)
    if "caseload" in families:
        _refresh_caseload(conn, level_from, last, offices, first)
    if "outstanding" in families:
        _refresh_outstanding(conn, level_from, last, offices, first)
    _set_state(conn, first, last)
    stat_state.mark_stale(conn, touched)  # the stored statistics follow (dashboard.precompute)
    mark_data_changed(conn)


def _office_ids(conn: Connection, ids: tuple[int, ...] | None) -> list[int]:
    stmt = select(office.c.id).order_by(office.c.id)
    if ids is not None:
        stmt = stmt.where(office.c.id.in_(ids))
    return [int(i) for i in conn.execute(stmt).scalars()]


def _office_clause(col, ids: tuple[int, ...] | None) -> list:
    return [] if ids is None else [col.in_(ids)]


def _replace(conn: Connection, table: Table, rows: pd.DataFrame, months: Months,
             ids: tuple[int, ...] | None, month_col: str = "month") -> None:
    """Delete the table's rows for these months and offices, then insert `rows`."""
    conn.execute(delete(table).where(*months.delete_clauses(table.c[month_col]),
                                     *_office_clause(table.c.office_id, ids)))
    if rows.empty:
        return
    rows = rows.copy()
    rows[month_col] = pd.to_datetime(rows[month_col]).dt.date
    records = rows[[c.name for c in table.c]].astype(object).to_dict("records")
    for start in range(0, len(records), 20_000):
        conn.execute(table.insert(), records[start:start + 20_000])


def _keyed(df: pd.DataFrame, months: Months) -> pd.DataFrame:
    """Month keys as dates, keeping only the key months being refreshed."""
    df = df.copy()
    df["month"] = _key_dates(df["month"])
    return df[months.keep(df["month"])]


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# --- staff in post ----------------------------------------------------------------------

def _refresh_staffing(conn: Connection, months: Months, ids) -> None:
    """One row per establishment row: budget against staff in post on the month's first
    day (a person counts when they started on or before it and had not left before it)."""
    e, s = establishment, staff_member
    in_post = (
        select(e.c.id.label("est_id"), func.sum(s.c.fte).label("fte"),
               func.count(s.c.id).label("heads"))
        .join(s, and_(s.c.office_id == e.c.office_id, s.c.grade == e.c.grade,
                      s.c.start_date <= e.c.month,
                      or_(s.c.end_date.is_(None), s.c.end_date >= e.c.month)))
        .where(*months.date_clauses(e.c.month), *_office_clause(e.c.office_id, ids))
        .group_by(e.c.id)
        .subquery()
    )
    stmt = (
        select(e.c.office_id, e.c.month, e.c.grade,
               e.c.budgeted_fte.label("establishment_fte"),
               func.coalesce(in_post.c.fte, 0.0).label("in_post_fte"),
               func.coalesce(in_post.c.heads, 0).label("staff_in_post"))
        .outerjoin(in_post, in_post.c.est_id == e.c.id)
        .where(*months.date_clauses(e.c.month), *_office_clause(e.c.office_id, ids))
    )
    rows = pd.read_sql(stmt, conn)
    rows["vacancy_fte"] = (rows["establishment_fte"] - rows["in_post_fte"]).clip(lower=0.0)
    _replace(conn, ss.summary_staffing, rows, months, ids)


# --- events keyed by their own date -----------------------------------------------------

def _refresh_events(conn, months: Months, ids, table: Table, stmt_of) -> None:
    stmt = stmt_of(months, ids)
    rows = _keyed(pd.read_sql(stmt, conn), months)
    _replace(conn, table, rows, months, ids)


def _absence(conn, months, ids) -> None:
    a, s = staff_absence, staff_member
    key = month_text(a.c.start_date)
    _refresh_events(conn, months, ids, ss.summary_absence, lambda m, i: (
        select(s.c.office_id, key.label("month"), func.count(a.c.id).label("episodes"),
               func.sum(a.c.working_days_lost).label("working_days_lost"))
        .join(s, s.c.id == a.c.staff_member_id)
        .where(a.c.reason == SICKNESS, *m.date_clauses(a.c.start_date),
               *_office_clause(s.c.office_id, i))
        .group_by(s.c.office_id, key)))


def _audits(conn, months, ids) -> None:
    c = case_audit
    key = month_text(c.c.audit_date)
    _refresh_events(conn, months, ids, ss.summary_audit, lambda m, i: (
        select(office_held.label("office_id"), key.label("month"),
               func.count(c.c.id).label("audits"))
        .select_from(c)
        .join(person, person.c.id == c.c.person_id)
        .outerjoin(held, on_date(person.c.id, c.c.audit_date))
        .where(c.c.status == "complete", *m.date_clauses(c.c.audit_date),
               *_office_clause(office_held, i))
        .group_by(office_held, key)))


def _answers(conn, months, ids) -> None:
    c, x = case_audit, audit_answer
    key = month_text(c.c.audit_date)
    groups = [office_held, key, c.c.scheme, x.c.standard, x.c.key_question]
    _refresh_events(conn, months, ids, ss.summary_audit_answer, lambda m, i: (
        select(office_held.label("office_id"), key.label("month"), c.c.scheme, x.c.standard,
               x.c.key_question, func.count(x.c.id).label("answers"),
               _count(x.c.answer != "not_applicable").label("applicable"),
               _count(x.c.answer == "sufficient").label("sufficient"))
        .select_from(x)
        .join(c, c.c.id == x.c.audit_id)
        .join(person, person.c.id == c.c.person_id)
        .outerjoin(held, on_date(person.c.id, c.c.audit_date))
        .where(c.c.status == "complete", *m.date_clauses(c.c.audit_date),
               *_office_clause(office_held, i))
        .group_by(*groups)))


def _sessions(conn, months, ids) -> None:
    s, o = upw_session, upw_order
    key = month_text(s.c.session_date)
    _refresh_events(conn, months, ids, ss.summary_upw_session, lambda m, i: (
        select(office_held.label("office_id"), key.label("month"),
               func.count(s.c.id).label("sessions"),
               _count(s.c.attended).label("sessions_attended"),
               func.coalesce(func.sum(s.c.hours_worked), 0.0).label("hours_worked"))
        .select_from(s)
        .join(o, o.c.id == s.c.order_id)
        .join(person, person.c.id == o.c.person_id)
        .outerjoin(held, on_date(person.c.id, s.c.session_date))
        .where(*m.date_clauses(s.c.session_date), *_office_clause(office_held, i))
        .group_by(office_held, key)))


def _orders(conn, months, ids) -> None:
    o = upw_order
    key = month_text(o.c.sentence_date)
    _refresh_events(conn, months, ids, ss.summary_upw_order, lambda m, i: (
        select(office_held.label("office_id"), key.label("month"),
               func.count(o.c.id).label("orders"),
               func.coalesce(func.sum(o.c.hours_ordered), 0).label("hours_ordered"))
        .select_from(o)
        .join(person, person.c.id == o.c.person_id)
        .outerjoin(held, on_date(person.c.id, o.c.sentence_date))
        .where(*m.date_clauses(o.c.sentence_date), *_office_clause(office_held, i))
        .group_by(office_held, key)))


def _completed(conn, months, ids) -> None:
    o = upw_order
    key = month_text(o.c.completed_date)
    _refresh_events(conn, months, ids, ss.summary_upw_completed, lambda m, i: (
        select(office_held.label("office_id"), key.label("month"),
               func.count(o.c.id).label("orders_completed"))
        .select_from(o)
        .join(person, person.c.id == o.c.person_id)
        .outerjoin(held, on_date(person.c.id, o.c.completed_date))
        .where(o.c.completed_date.is_not(None), *m.date_clauses(o.c.completed_date),
               *_office_clause(office_held, i))
        .group_by(office_held, key)))


def _releases(conn, months, ids) -> None:
    r = custody_release
    reception_day, screening_day = aliased(calendar_day), aliased(calendar_day)
    screened = and_(r.c.screening_date.is_not(None),
                    screening_day.c.working_day_number - reception_day.c.working_day_number
                    <= SCREENING_WORKING_DAYS)
    long_custody = days_between(r.c.reception_date, r.c.release_date) >= CONTACT_DAYS
    contacted = and_(long_custody, r.c.pre_release_contact_date.is_not(None),
                     days_between(r.c.pre_release_contact_date, r.c.release_date)
                     >= CONTACT_DAYS)
    acc = r.c.accommodation_on_release
    key = month_text(r.c.release_date)
    _refresh_events(conn, months, ids, ss.summary_release, lambda m, i: (
        select(office_held.label("office_id"), key.label("month"),
               func.count(r.c.id).label("releases"),
               _count(screened).label("screened_in_5_days"),
               _count(and_(r.c.plan_completed_date.is_not(None),
                           r.c.plan_completed_date <= r.c.release_date)).label(
                   "plan_before_release"),
               _count(long_custody).label("custody_12_weeks"),
               _count(contacted).label("contact_12_weeks"),
               _count(acc.is_not(None)).label("accommodation_known"),
               _count(acc == "settled").label("settled"),
               _count(acc == "temporary").label("temporary"),
               _count(acc == "no_fixed_abode").label("no_fixed_abode"),
               _count(r.c.first_appointment_kept.is_not(None)).label("first_appointment_due"),
               _count(r.c.first_appointment_kept.is_(True)).label("first_appointment_kept"))
        .select_from(r)
        .join(person, person.c.id == r.c.person_id)
        .outerjoin(held, on_date(person.c.id, r.c.release_date))
        # outer, as the raw-row query: a release is never dropped for a date missing from
        # the calendar (the generator and the importer keep the calendar covering them)
        .outerjoin(reception_day, reception_day.c.day == r.c.reception_date)
        .outerjoin(screening_day, screening_day.c.day == r.c.screening_date)
        .where(*m.date_clauses(r.c.release_date), *_office_clause(office_held, i))
        .group_by(office_held, key)))


def _appointments(conn, months, ids) -> None:
    a = appointment
    key = month_text(a.c.appointment_date)
    _refresh_events(conn, months, ids, ss.summary_appointment, lambda m, i: (
        select(office_held.label("office_id"), key.label("month"),
               func.count(a.c.id).label("appointments"),
               _count(a.c.outcome == "kept").label("kept"),
               _count(a.c.outcome == "acceptable_absence").label("acceptable_absence"),
               _count(a.c.outcome == "failed").label("failed"),
               _count(a.c.enforcement_action.is_(True)).label("enforcement_actions"))
        .select_from(a)
        .join(person, person.c.id == a.c.person_id)
        .outerjoin(held, on_date(person.c.id, a.c.appointment_date))
        .where(*m.date_clauses(a.c.appointment_date),
               *_office_clause(office_held, i))
        .group_by(office_held, key)))


_EVENT_FAMILIES = {
    "absence": _absence, "audits": _audits, "answers": _answers, "sessions": _sessions,
    "orders": _orders, "completed": _completed, "releases": _releases,
    "appointments": _appointments,
}


# --- unpaid work: 12-month completion and start times -----------------------------------

def _refresh_due(conn: Connection, months: Months, ids) -> None:
    """Orders by the month of their 12-month anniversary (the calendar date one year after
    sentence, 29 Feb -> 28 Feb); completed in time = completed on or before it."""
    o = upw_order
    where = [*_office_clause(office_held, ids)]
    if months.exact is not None:  # generous bounds; the exact month is decided below
        lo = min(months.exact) - timedelta(days=ANNIVERSARY_SPAN_DAYS)
        hi = month_end(max(months.exact)) - timedelta(days=364)  # 29 Feb -> 28 Feb
        where += [o.c.sentence_date >= lo, o.c.sentence_date <= hi]
    elif months.start is not None:
        where.append(o.c.sentence_date >= months.start - timedelta(days=ANNIVERSARY_SPAN_DAYS))
    orders = pd.read_sql(
        select(office_held.label("office_id"), o.c.sentence_date, o.c.completed_date)
        .select_from(o)
        .join(person, person.c.id == o.c.person_id)
        .outerjoin(held, on_date(person.c.id, o.c.sentence_date)).where(*where), conn)
    sentenced = pd.to_datetime(orders["sentence_date"])
    completed = pd.to_datetime(orders["completed_date"])
    anniversary = sentenced + pd.DateOffset(years=1)  # 29 Feb -> 28 Feb, as one_year_after
    orders["month"] = anniversary.dt.to_period("M").dt.to_timestamp()
    orders["due_12_months"] = 1
    orders["completed_in_12_months"] = (
        completed.notna() & (completed <= anniversary)).astype(int)
    orders = orders[months.keep(orders["month"])]
    rows = orders.groupby(["office_id", "month"], as_index=False)[
        ["due_12_months", "completed_in_12_months"]].sum()
    _replace(conn, ss.summary_upw_due, rows, months, ids)


def _refresh_starts(conn: Connection, months: Months, ids) -> None:
    """Orders by the month of their start deadline (the 7th working day after sentence):
    how many had a first session by then. in_last_10_days is no longer used (always
    False): orders are keyed by deadline month, so none is left out of any period."""
    o, s = upw_order, upw_session
    sentenced_day = aliased(calendar_day)
    # orders sentenced up to DEADLINE_SPAN_DAYS before a key month can fall due in it
    chosen = [*months.date_clauses_back(o.c.sentence_date, DEADLINE_SPAN_DAYS),
              *_office_clause(office_held, ids)]
    first = select(s.c.order_id, func.min(s.c.session_date).label("first_session"))
    if chosen:  # only the sessions of the orders being refreshed
        first = first.where(s.c.order_id.in_(
            select(o.c.id).join(person, person.c.id == o.c.person_id)
            .outerjoin(held, on_date(person.c.id, o.c.sentence_date))
            .where(*chosen)))
    first = first.group_by(s.c.order_id).subquery()
    orders = pd.read_sql(
        select(office_held.label("office_id"), o.c.sentence_date,
               sentenced_day.c.working_day_number.label("sentenced_number"),
               first.c.first_session)
        .select_from(o)
        .join(person, person.c.id == o.c.person_id)
        .outerjoin(held, on_date(person.c.id, o.c.sentence_date))
        # orders sentenced on a day missing from the calendar are left out (inner join),
        # as in the raw-row query
        .join(sentenced_day, sentenced_day.c.day == o.c.sentence_date)
        .outerjoin(first, first.c.order_id == o.c.id)
        .where(*chosen), conn)
    numbers = _working_day_numbers(conn)
    first = pd.to_datetime(orders["first_session"])
    first_number = first.map(numbers)
    orders["started_in_7_days"] = (
        first_number - orders["sentenced_number"] <= START_WORKING_DAYS).astype(int)
    orders["orders_due_to_start"] = 1
    deadline = (orders["sentenced_number"] + START_WORKING_DAYS).map(_working_days(conn))
    # no deadline day: the calendar ends before it (not yet due, as in the raw-row query)
    orders = orders[deadline.notna()].assign(month=pd.to_datetime(
        deadline[deadline.notna()]).dt.to_period("M").dt.to_timestamp())
    orders["in_last_10_days"] = False
    rows = orders.groupby(["office_id", "month", "in_last_10_days"], as_index=False)[
        ["orders_due_to_start", "started_in_7_days"]].sum()
    rows = rows[months.keep(rows["month"])]
    _replace(conn, ss.summary_upw_start, rows, months, ids)


def _working_days(conn: Connection) -> pd.Series:
    """working_day_number -> the working day carrying it (datetime64)."""
    cal = pd.read_sql(select(calendar_day.c.day, calendar_day.c.working_day_number)
                      .where(calendar_day.c.is_working_day.is_(True)), conn)
    return pd.Series(pd.to_datetime(cal["day"]).to_numpy(),
                     index=cal["working_day_number"].to_numpy())


def _working_day_numbers(conn: Connection) -> pd.Series:
    cal = pd.read_sql(select(calendar_day.c.day, calendar_day.c.working_day_number), conn)
    return pd.Series(cal["working_day_number"].to_numpy(),
                     index=pd.to_datetime(cal["day"]))


# --- levels carried from month to month -------------------------------------------------

def _write_levels(conn: Connection, table: Table, changes: pd.DataFrame,
                  pairs: list[tuple[str, str]], start: date, last: date,
                  offices: list[int], first: date) -> None:
    """Store each office's monthly changes from `start` to `last` and the running levels
    (level = level of the month before `start` + changes so far).

    pairs: (change column, level column). `changes` has office_id, month and the change
    columns, one row per office and month at most.
    """
    grid = pd.MultiIndex.from_product(
        [offices, _ts(pd.Series(month_range(start, last)))], names=["office_id", "month"])
    change_cols = [c for c, _lvl in pairs]
    changes = changes.assign(month=_ts(changes["month"]))
    frame = (changes.set_index(["office_id", "month"])[change_cols]
             .reindex(grid, fill_value=0).reset_index())
    opening = pd.DataFrame(columns=["office_id", *[lvl for _c, lvl in pairs]])
    if start > first:
        opening = pd.read_sql(
            select(table.c.office_id, *[table.c[lvl] for _c, lvl in pairs])
            .where(table.c.month == add_months(start, -1),
                   table.c.office_id.in_(offices)), conn)
    opening = opening.set_index("office_id")
    for change, level in pairs:
        carried = frame["office_id"].map(opening[level]).fillna(0)
        frame[level] = (frame.groupby("office_id")[change].cumsum() + carried).astype(
            frame[change].dtype)
    _replace(conn, table, frame, Months(start=start), tuple(offices))


def _ts(values: pd.Series) -> pd.Series | pd.DatetimeIndex:
    """Dates or timestamps as datetime64[ns], so keys from SQL and pandas line up."""
    return pd.to_datetime(values).astype("datetime64[ns]")


def _month_of_dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.to_period("M").dt.to_timestamp()


def _refresh_caseload(conn: Connection, start: date, last: date, offices: list[int],
                      first: date) -> None:
    """Cases open on the first day of each month, for the office holding the case that
    day: a person counts on every month's first day from their start date to their end
    date, within each of their allocations (a piece of the case per allocation). Stored
    as +1 in the first month whose first day is on or after the piece's start, -1 in the
    month after the piece's end's month."""
    p = person
    pts = case(*[(p.c.tier == t, v) for t, v in TIER_POINTS.items()], else_=0)
    weighted = pts * case((p.c.sentence_type == "licence", LICENCE_FACTOR), else_=1.0)
    piece_start = case((held.c.start_date > p.c.start_date, held.c.start_date),
                       else_=p.c.start_date)
    piece_end = case((and_(held.c.end_date.is_not(None), held.c.end_date < p.c.end_date),
                      held.c.end_date), else_=p.c.end_date)
    # a person with no allocation during the sentence counts where they are now
    people = pd.read_sql(
        select(office_held.label("office_id"), piece_start.label("start_date"),
               piece_end.label("end_date"), weighted.label("points"))
        .select_from(p)
        .outerjoin(held, and_(held.c.person_id == p.c.id,
                              or_(held.c.end_date.is_(None),
                                  held.c.end_date >= p.c.start_date),
                              held.c.start_date <= p.c.end_date))
        .where(office_held.in_(offices), p.c.end_date >= add_months(start, -1),
               or_(held.c.end_date.is_(None), held.c.end_date >= add_months(start, -1))),
        conn)
    starts = pd.to_datetime(people["start_date"])
    ends = pd.to_datetime(people["end_date"])
    opened = _month_of_dates(starts)
    opened = opened.where(starts.dt.day == 1, opened + pd.offsets.MonthBegin(1))
    end_month = _month_of_dates(ends)
    counts = opened <= end_month
    people = people[counts].assign(opened=opened[counts],
                                   closed=end_month[counts] + pd.offsets.MonthBegin(1))
    parts = [
        people.assign(month=people["opened"], open_cases_change=1,
                      workload_points_change=people["points"].astype(float)),
        people.assign(month=people["closed"], open_cases_change=-1,
                      workload_points_change=-people["points"].astype(float)),
    ]
    changes = _sum_changes(parts, ["open_cases_change", "workload_points_change"], start, last)
    _write_levels(conn, ss.summary_caseload, changes,
                  [("open_cases_change", "open_cases"),
                   ("workload_points_change", "workload_points")],
                  start, last, offices, first)


def _refresh_outstanding(conn: Connection, start: date, last: date, offices: list[int],
                         first: date) -> None:
    """Live orders and hours outstanding at each month's end, for the office holding the
    case on that day.

    An order is cut into one piece per allocation of its person. A piece is live at a
    month's end from the month of its start (the later of the sentence and the
    allocation's start) until the month before it closes (the order completed or
    terminated, or the allocation ended: the day after its end); a session's hours count
    against it from the later of the session's and the piece's start month. Each is
    stored as a change in the month it starts and an opposite change in the closing
    month. (With one open allocation the piece is the order itself.)
    """
    o, s = upw_order, upw_session
    close = case((o.c.completed_date.is_(None), o.c.terminated_date),
                 (o.c.terminated_date.is_(None), o.c.completed_date),
                 (o.c.completed_date < o.c.terminated_date, o.c.completed_date),
                 else_=o.c.terminated_date)
    handed_over = day_after(held.c.end_date)
    piece = (  # an order whose person has no allocation then: where the person is now
        select(office_held.label("office_id"), o.c.id.label("order_id"), o.c.hours_ordered,
               case((held.c.start_date > o.c.sentence_date, held.c.start_date),
                    else_=o.c.sentence_date).label("opened"),
               case((close.is_(None), handed_over), (held.c.end_date.is_(None), close),
                    (close < handed_over, close), else_=handed_over).label("closed"))
        .select_from(o)
        .join(person, person.c.id == o.c.person_id)
        .outerjoin(held, and_(held.c.person_id == o.c.person_id,
                              or_(held.c.end_date.is_(None),
                                  held.c.end_date >= o.c.sentence_date),
                              or_(close.is_(None), held.c.start_date < close)))
        .where(office_held.in_(offices))
        .subquery()
    )
    t_key, c_key = month_text(piece.c.opened), month_text(piece.c.closed)
    s_key = month_text(case((s.c.session_date > piece.c.opened, s.c.session_date),
                            else_=piece.c.opened))
    closes_after = or_(c_key.is_(None), c_key > t_key)
    closes_from = [] if start <= first else [piece.c.closed >= start]
    sentenced_from = [] if start <= first else [piece.c.opened >= start]
    session_from = ([] if start <= first else
                    [or_(s.c.session_date >= start, piece.c.opened >= start)])

    def grouped(key, *cols, where, sessions=False):
        stmt = select(piece.c.office_id, key.label("month"), *cols)
        stmt = (stmt.select_from(s).join(piece, piece.c.order_id == s.c.order_id)
                if sessions else stmt.select_from(piece))
        return stmt.where(*where).group_by(piece.c.office_id, key)

    hours = func.coalesce(func.sum(s.c.hours_worked), 0.0)
    stmt = union_all(
        grouped(t_key, func.count(piece.c.order_id).label("live_orders_change"),
                func.sum(cast(piece.c.hours_ordered, Float)).label("hours_outstanding_change"),
                where=[closes_after, *sentenced_from]),
        grouped(c_key, -func.count(piece.c.order_id),
                -func.sum(cast(piece.c.hours_ordered, Float)),
                where=[c_key > t_key, *closes_from]),
        grouped(s_key, literal_column("0"), -hours, sessions=True,
                where=[or_(c_key.is_(None), c_key > s_key), *session_from]),
        grouped(c_key, literal_column("0"), hours, sessions=True,
                where=[c_key > s_key, *closes_from]),
    )
    flows = pd.read_sql(stmt, conn)
    flows["month"] = _key_dates(flows["month"])
    changes = _sum_changes([flows], ["live_orders_change", "hours_outstanding_change"],
                           start, last)
    _write_levels(conn, ss.summary_upw_outstanding, changes,
                  [("live_orders_change", "live_orders"),
                   ("hours_outstanding_change", "hours_outstanding")],
                  start, last, offices, first)


def _sum_changes(parts: list[pd.DataFrame], cols: list[str], start: date,
                 last: date) -> pd.DataFrame:
    rows = pd.concat([p[["office_id", "month", *cols]] for p in parts], ignore_index=True)
    rows["month"] = _ts(rows["month"])
    rows = rows[(rows["month"] >= pd.Timestamp(start)) & (rows["month"] <= pd.Timestamp(last))]
    out = rows.groupby(["office_id", "month"], as_index=False)[cols].sum()
    for col in cols:
        if col.startswith(("open_cases", "live_orders")):
            out[col] = out[col].astype(np.int64)
        else:
            out[col] = out[col].astype(float)
    return out


# --- reading the summaries --------------------------------------------------------------

def per_office(table: Table, measures: Sequence[tuple[str, str]], where: Sequence = (),
               by_month: bool = False, keys: Sequence[str] = (), fixed: Sequence[str] = ()):
    """SELECT office_id, [month], keys, SUM of each measure FROM a summary table, grouped
    by those keys: the summary rolled up per office (and month and keys) before any names
    are joined. measures: (output name, summary column). fixed: key columns that `where`
    pins to one value; when office, month, keys and fixed cover the primary key the rows
    are already one per group and are not grouped again."""
    groups = [table.c.office_id, *([table.c.month] if by_month else []),
              *[table.c[k] for k in keys]]
    covered = {c.name for c in groups} | set(fixed)
    if {c.name for c in table.primary_key.columns} <= covered:
        return select(*groups, *[table.c[column].label(name)
                                 for name, column in measures]).where(*where)
    return (select(*groups, *[func.sum(table.c[column]).label(name)
                              for name, column in measures])
            .where(*where).group_by(*groups))


def roll_up(per_office_select, names: Sequence[str], level_columns: Sequence,
            by_month: bool = False, keys: Sequence[str] = (), empty=0,
            one_row_per_office: bool = False):
    """SELECT [month], level columns, keys, SUM of each named column FROM a per-office
    select (office_id, [month], keys, names...), joined to the office and area names.

    one_row_per_office: the level is the office, so the per-office rows only get their
    names. Without any grouping the result is one row, with `empty` where there is
    nothing to add up, as an ungrouped SQL SUM wrapped in COALESCE gives.
    """
    inner = per_office_select.subquery()
    groups = [*([month_text(inner.c.month).label("month")] if by_month else []),
              *level_columns, *[inner.c[k].label(k) for k in keys]]
    if one_row_per_office:
        values = [inner.c[name] for name in names]
    else:
        values = [func.coalesce(func.sum(inner.c[name]), empty).label(name) for name in names]
    stmt = (select(*groups, *values)
            .select_from(inner)
            .join(office, office.c.id == inner.c.office_id)
            .join(area, area.c.id == office.c.area_id))
    if one_row_per_office:
        return stmt.order_by(*groups)
    return stmt.group_by(*groups).order_by(*groups) if groups else stmt


def rollup(table: Table, measures: Sequence[tuple[str, str]], level_columns: Sequence,
           where: Sequence = (), by_month: bool = False, keys: Sequence[str] = (),
           empty=0, fixed: Sequence[str] = (), office_level: bool = False):
    """A summary table summed to the level: per office and then named at the office level;
    in one GROUP BY over the table joined to its office and area otherwise (SQLite sorts
    fewer rows that way than by grouping twice)."""
    if office_level:
        return roll_up(per_office(table, measures, where, by_month, keys, fixed),
                       [name for name, _column in measures], level_columns, by_month, keys,
                       empty, one_row_per_office=True)
    groups = [*([table.c.month.label("month")] if by_month else []),
              *level_columns, *[table.c[k].label(k) for k in keys]]
    stmt = select(*groups, *[func.coalesce(func.sum(table.c[column]), empty).label(name)
                             for name, column in measures]).select_from(table)
    if level_columns:
        stmt = (stmt.join(office, office.c.id == table.c.office_id)
                .join(area, area.c.id == office.c.area_id))
    stmt = stmt.where(*where)
    if not groups:
        return stmt
    if not by_month:
        return stmt.group_by(*groups).order_by(*groups)
    # group on the month's date, then write it as 'YYYY-MM' on the grouped rows only
    grouped = stmt.group_by(*groups).subquery()
    outer = [month_text(grouped.c.month).label("month"),
             *[grouped.c[g.name] for g in groups[1:]]]
    return (select(*outer, *[grouped.c[name] for name, _column in measures])
            .order_by(*outer))


class month_text(FunctionElement):  # noqa: N801 - reads like a SQL function
    """A date's month as 'YYYY-MM' text, as dashboard.data.sqlfuncs.month_of gives, but with
    substr on SQLite's ISO date text (several times cheaper than strftime there)."""

    type = String()
    inherit_cache = True
    name = "month_text"


@compiles(month_text, "sqlite")
def _month_text_sqlite(element, compiler, **kw):
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"


@compiles(month_text)
def _month_text_default(element, compiler, **kw):
    return compiler.process(_month_text(*element.clauses), **kw)


def main() -> int:
    """``python -m dashboard.data.summaries [DATABASE_URL]``: rebuild every summary."""
    import sys
    import time

    from dashboard.data import db

    engine = db.make_engine(sys.argv[1] if len(sys.argv) > 1 else None)
    db.upgrade(engine)
    started = time.perf_counter()
    with engine.begin() as conn:
        refresh_all(conn)
        mark_data_changed(conn)
    print(f"Summaries rebuilt in {time.perf_counter() - started:.1f} s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
