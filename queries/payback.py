"""Unpaid work (Community Payback): hours ordered, worked and outstanding; completions.

Each query reads the monthly summaries (dashboard.data.summary_schema) when they cover the
period, else the raw rows (``*_from_rows``); both give the same figures.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import (
    Connection,
    Date,
    and_,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from dashboard.core.filters import Filters, month_start
from dashboard.data import summaries
from dashboard.data import summary_schema as ss
from dashboard.data.allocations import held, office_held, on_date, unallocated
from dashboard.data.schema import area, calendar_day, office, person, upw_order, upw_session
from dashboard.data.sqlfuncs import one_year_after
from dashboard.data.summaries import DEADLINE_SPAN_DAYS, START_WORKING_DAYS
from dashboard.data.summaries.unpaid_work import ORDERS as ORDERS_COUNTED
from dashboard.data.summaries.unpaid_work import SESSIONS as SESSIONS_COUNTED
from dashboard.data.summaries.unpaid_work import order_closed
from dashboard.stats.measures import add_rate
from queries import Level, level_columns
from queries._frames import read_frame

__all__ = ["CARDS", "COMPLETIONS", "ORDERS", "OUTSTANDING", "SESSIONS", "STARTS",
           "START_WORKING_DAYS", "anniversary", "by_month", "by_office", "completions",
           "completions_from_rows", "completions_per_office", "hours_worked",
           "hours_worked_from_rows", "orders_made", "orders_made_from_rows",
           "orders_per_office", "outstanding", "outstanding_from_rows",
           "outstanding_per_office", "sessions_per_office", "start_times",
           "start_deadline_join", "start_times_from_rows", "starts_per_office"]


def _from_orders(stmt, day):
    """The order's office: the one holding the case on `day` (an event's date)."""
    return (stmt.join(person, person.c.id == upw_order.c.person_id)
            .outerjoin(held, on_date(person.c.id, day))
            .join(office, office.c.id == office_held)
            .join(area, area.c.id == office.c.area_id))


def _from_summary(stmt, table):
    return (stmt.select_from(table)
            .join(office, office.c.id == table.c.office_id)
            .join(area, area.c.id == office.c.area_id))


def _grouped(stmt, groups):
    return stmt.group_by(*groups).order_by(*groups) if groups else stmt


def _total(column, empty=0):
    return func.coalesce(func.sum(column), empty)


SESSIONS = ("sessions", "sessions_attended", "hours_worked")
ORDERS = ("orders", "hours_ordered")
OUTSTANDING = ("live_orders", "hours_outstanding")
COMPLETIONS = ("orders_completed", "due_12_months", "completed_in_12_months")
STARTS = ("orders_due_to_start", "started_in_7_days")


def hours_worked(conn: Connection, f: Filters, level: Level = "office",
                 by_month: bool = False) -> pd.DataFrame:
    """Sessions in the period. Columns: [month], [area, office, office_code],
    sessions, sessions_attended, hours_worked (hours)."""
    if not summaries.serves(conn, f):
        return hours_worked_from_rows(conn, f, level, by_month)
    return read_frame(summaries.period_rollup(ss.summary_upw_session, SESSIONS, f,
                                               level_columns(level), level == "office",
                                               by_month), conn)


def orders_made(conn: Connection, f: Filters, level: Level = "office",
                by_month: bool = False) -> pd.DataFrame:
    """Orders sentenced in the period. Columns: [month], [area, office, office_code],
    orders, hours_ordered (hours)."""
    if not summaries.serves(conn, f):
        return orders_made_from_rows(conn, f, level, by_month)
    return read_frame(summaries.period_rollup(ss.summary_upw_order, ORDERS, f, level_columns(level),
                                               level == "office", by_month), conn)


def outstanding(conn: Connection, f: Filters, level: Level = "office",
                at: date | None = None) -> pd.DataFrame:
    """Orders live at the end of the period and their hours still to work.

    An order is live at date `at` (default: the period's last day) when sentenced on or
    before it and neither completed nor terminated by then. Columns: [area, office,
    office_code], live_orders, hours_outstanding (hours ordered - hours worked up to `at`).
    """
    at = at or f.end
    if not (summaries.is_month_end(at) and summaries.covers(conn, at, at)):
        return outstanding_from_rows(conn, f, level, at)
    return read_frame(summaries.roll_up(outstanding_per_office(f, at), OUTSTANDING,
                                         level_columns(level),
                                         one_row_per_office=level == "office"), conn)


def completions(conn: Connection, f: Filters, level: Level = "office") -> pd.DataFrame:
    """Completion within 12 months, and orders completed in the period.

    Columns: [area, office, office_code], orders_completed (completed in the period),
    due_12_months (orders whose 12-month anniversary falls in the period),
    completed_in_12_months (of those, completed on or before the anniversary). The
    anniversary is the calendar date one year after sentence (29 Feb -> 28 Feb).
    """
    if not summaries.serves(conn, f):
        return completions_from_rows(conn, f, level)
    return read_frame(summaries.roll_up(completions_per_office(f), COMPLETIONS,
                                         level_columns(level),
                                         one_row_per_office=level == "office"), conn)


def start_times(conn: Connection, f: Filters, level: Level = "office") -> pd.DataFrame:
    """Time from sentence to first session, for orders whose start deadline (the 7th
    working day after sentence) fell in the period, so every order is counted once, in
    the period its deadline passed, and only once that deadline has passed.

    Columns: [area, office, office_code], orders_due_to_start, started_in_7_days (first
    session on or before the deadline).
    """
    if not summaries.serves(conn, f):
        return start_times_from_rows(conn, f, level)
    return read_frame(summaries.period_rollup(ss.summary_upw_start, STARTS, f,
                                               level_columns(level), level == "office"), conn)


GLOSSARY = (  # the measures the page's help defines, in this order
    "hours_ordered", "hours_worked", "hours_outstanding", "upw_completed_in_12_months",
    "upw_started_in_7_days", "upw_attendance",
)
CARDS = (  # measure key, numerator, denominator: the page's rate cards
    ("upw_completed_in_12_months", "completed_in_12_months", "due_12_months"),
    ("upw_started_in_7_days", "started_in_7_days", "orders_due_to_start"),
    ("upw_attendance", "sessions_attended", "sessions"),
)


def by_office(conn: Connection, f: Filters) -> pd.DataFrame:
    """Every unpaid work figure per office: the columns of hours_worked, orders_made,
    outstanding, completions and start_times (0 where an office has none), plus
    completed_12m (% completed within 12 months, with completed_12m_low/_high, Wilson
    95 %), started_7d (% started within 7 working days) and attendance (% sessions
    attended)."""
    keys = ["area", "office", "office_code"]
    offices = hours_worked(conn, f)
    for part in (orders_made(conn, f), outstanding(conn, f), completions(conn, f),
                 start_times(conn, f)):
        offices = offices.merge(part, on=keys, how="outer")
    offices = offices.fillna(0)
    offices = add_rate(offices, "completed_in_12_months", "due_12_months", "completed_12m")
    offices = add_rate(offices, "started_in_7_days", "orders_due_to_start", "started_7d",
                       interval=False)
    return add_rate(offices, "sessions_attended", "sessions", "attendance", interval=False)


def by_month(conn: Connection, f: Filters, level: Level = "office") -> pd.DataFrame:
    """Sessions and orders per month at the level. Columns: month, [area, office,
    office_code], sessions, sessions_attended, hours_worked, orders, hours_ordered (0 in
    a month with sessions but no orders, or the reverse)."""
    worked = hours_worked(conn, f, level, by_month=True)
    ordered = orders_made(conn, f, level, by_month=True)
    names = [c for c in ("month", "area", "office", "office_code") if c in worked.columns]
    return worked.merge(ordered, on=names, how="outer").fillna(
        {"hours_worked": 0, "sessions_attended": 0, "hours_ordered": 0, "orders": 0})


# --- per office, from the summaries (also composed by queries.overview) ------------------

def sessions_per_office(f: Filters, by_month: bool = False):
    """office_id, [month], SESSIONS."""
    return summaries.period_per_office(ss.summary_upw_session, SESSIONS, f, by_month)


def orders_per_office(f: Filters, by_month: bool = False):
    """office_id, [month], ORDERS (by sentence month)."""
    return summaries.period_per_office(ss.summary_upw_order, ORDERS, f, by_month)


def outstanding_per_office(f: Filters, at: date | None = None):
    """office_id, OUTSTANDING at the end of at's month (a month end), offices with live
    orders only."""
    s = ss.summary_upw_outstanding
    return summaries.per_office(
        s, [(c, c) for c in OUTSTANDING],
        [s.c.month == month_start(at or f.end), s.c.live_orders > 0,
         *f.office_clause(s.c.office_id)], fixed=["month"])


def completions_per_office(f: Filters):
    """office_id, COMPLETIONS: completions by completion month, 12-month dues by
    anniversary month."""
    done, due = ss.summary_upw_completed, ss.summary_upw_due
    zero = literal_column("0")
    rows = union_all(
        select(done.c.office_id, done.c.orders_completed.label("orders_completed"),
               zero.label("due_12_months"), zero.label("completed_in_12_months"))
        .where(*f.clauses(done.c.month, done.c.office_id)),
        select(due.c.office_id, zero, due.c.due_12_months, due.c.completed_in_12_months)
        .where(*f.clauses(due.c.month, due.c.office_id)),
    ).subquery()
    return (select(rows.c.office_id, *[func.sum(rows.c[c]).label(c) for c in COMPLETIONS])
            .group_by(rows.c.office_id))


def starts_per_office(f: Filters):
    """office_id, STARTS: orders by the month of their 7-working-day start deadline."""
    return summaries.period_per_office(ss.summary_upw_start, STARTS, f)


def anniversary(sentence_date):
    """SQL: the order's 12-month anniversary (calendar, 29 Feb -> 28 Feb)."""
    return one_year_after(sentence_date)


def start_deadline_join(stmt, sentence_date):
    """Join to stmt the calendar rows of the sentence day and of the start deadline (the
    7th working day after it). Returns (stmt, sentenced_day, deadline_day)."""
    sentenced_day, deadline_day = aliased(calendar_day), aliased(calendar_day)
    stmt = (stmt.join(sentenced_day, sentenced_day.c.day == sentence_date)
            .join(deadline_day, and_(
                deadline_day.c.is_working_day.is_(True),
                deadline_day.c.working_day_number
                == sentenced_day.c.working_day_number + START_WORKING_DAYS)))
    return stmt, sentenced_day, deadline_day


# --- the same figures from the raw rows -------------------------------------------------

def hours_worked_from_rows(conn: Connection, f: Filters, level: Level = "office",
                           by_month: bool = False) -> pd.DataFrame:
    """hours_worked computed from upw_session rows."""
    return read_frame(SESSIONS_COUNTED.by_level(f, level_columns(level), by_month), conn)


def orders_made_from_rows(conn: Connection, f: Filters, level: Level = "office",
                          by_month: bool = False) -> pd.DataFrame:
    """orders_made computed from upw_order rows."""
    return read_frame(ORDERS_COUNTED.by_level(f, level_columns(level), by_month), conn)


def outstanding_from_rows(conn: Connection, f: Filters, level: Level = "office",
                          at: date | None = None) -> pd.DataFrame:
    """outstanding computed from upw_order and upw_session rows."""
    at = at or f.end
    worked = (
        select(upw_session.c.order_id, func.sum(upw_session.c.hours_worked).label("worked"))
        .where(upw_session.c.session_date <= at)
        .group_by(upw_session.c.order_id)
        .subquery()
    )
    groups = level_columns(level)
    stmt = _from_orders(
        select(*groups, func.count(upw_order.c.id).label("live_orders"),
               func.coalesce(func.sum(upw_order.c.hours_ordered
                                      - func.coalesce(worked.c.worked, 0.0)), 0.0).label(
                   "hours_outstanding"))
        .select_from(upw_order)
        .outerjoin(worked, worked.c.order_id == upw_order.c.id), literal(at, Date)
    ).where(
        upw_order.c.sentence_date <= at,
        or_(upw_order.c.completed_date.is_(None), upw_order.c.completed_date > at),
        or_(upw_order.c.terminated_date.is_(None), upw_order.c.terminated_date > at),
        *f.office_clause(office_held),
        # held at `at`; else where the person is, if no allocation spans the live order
        or_(held.c.id.is_not(None), unallocated(upw_order.c.person_id,
                                                upw_order.c.sentence_date,
                                                before=order_closed(upw_order))),
    )
    return read_frame(_grouped(stmt, groups), conn)


def completions_from_rows(conn: Connection, f: Filters, level: Level = "office") -> pd.DataFrame:
    """completions computed from upw_order rows."""
    groups = level_columns(level)
    due = anniversary(upw_order.c.sentence_date)
    in_time = and_(upw_order.c.completed_date.is_not(None), upw_order.c.completed_date <= due)
    is_due = and_(due >= f.start, due <= f.end)
    completed_now = and_(upw_order.c.completed_date >= f.start,
                         upw_order.c.completed_date <= f.end)
    # completions count where the case was on the completion date, dues where it was on
    # the sentence date: one row per order and date, then added up
    names = [g.name for g in groups]
    none = literal_column("0")
    flagged = union_all(*[
        _from_orders(select(*groups, *counts).select_from(upw_order), day)
        .where(condition, *f.office_clause(office_held))
        for day, condition, counts in (
            (upw_order.c.completed_date, completed_now,
             (literal_column("1").label("orders_completed"), none.label("due_12_months"),
              none.label("completed_in_12_months"))),
            (upw_order.c.sentence_date, is_due,
             (none, literal_column("1"), case((in_time, 1), else_=0))))]).subquery()
    sums = [func.coalesce(func.sum(flagged.c[c]), 0).label(c) for c in COMPLETIONS]
    stmt = select(*[flagged.c[n] for n in names], *sums)
    if names:
        stmt = stmt.group_by(*[flagged.c[n] for n in names]).order_by(
            *[flagged.c[n] for n in names])
    return read_frame(stmt, conn)


def start_times_from_rows(conn: Connection, f: Filters, level: Level = "office") -> pd.DataFrame:
    """start_times computed from upw_order and upw_session rows."""
    first = (
        select(upw_session.c.order_id, func.min(upw_session.c.session_date).label("first_day"))
        .group_by(upw_session.c.order_id)
        .subquery()
    )
    first_day = aliased(calendar_day)
    groups = level_columns(level)
    stmt, sentenced_day, deadline_day = start_deadline_join(_from_orders(
        select().select_from(upw_order), upw_order.c.sentence_date), upw_order.c.sentence_date)
    in_time = (first_day.c.working_day_number - sentenced_day.c.working_day_number
               <= START_WORKING_DAYS)
    stmt = (
        stmt.add_columns(
            *groups, func.count(upw_order.c.id).label("orders_due_to_start"),
            func.coalesce(func.sum(case((and_(first.c.first_day.is_not(None), in_time), 1),
                                        else_=0)), 0).label("started_in_7_days"))
        .outerjoin(first, first.c.order_id == upw_order.c.id)
        .outerjoin(first_day, first_day.c.day == first.c.first_day)
    ).where(deadline_day.c.day >= f.start, deadline_day.c.day <= f.end,
            # a coarse bound on the indexed column: 7 working days never span 21 days
            upw_order.c.sentence_date >= f.start - timedelta(days=DEADLINE_SPAN_DAYS),
            upw_order.c.sentence_date <= f.end,
            *f.office_clause(office_held))
    return read_frame(_grouped(stmt, groups), conn)
