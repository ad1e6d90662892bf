"""Unpaid work family: sessions, orders made and completed (by their own month), 12-month
completion (by anniversary month), start times (by start-deadline month), and live orders
and hours outstanding (levels carried from month to month)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection, Float, and_, cast, func, literal_column, or_, select, union_all
from sqlalchemy.orm import aliased

from dashboard.core.filters import month_end
from dashboard.data import summary_schema as ss
from dashboard.data.allocations import held, office_held, on_date, overlapping
from dashboard.data.event_counts import EventCounts
from dashboard.data.schema import calendar_day, person, upw_order, upw_session
from dashboard.data.sqlfuncs import count_where, day_after, first_of, later_of, month_text
from dashboard.data.summaries.months import Months, key_dates
from dashboard.data.summaries.rules import (
    ANNIVERSARY_SPAN_DAYS,
    DEADLINE_SPAN_DAYS,
    START_WORKING_DAYS,
)
from dashboard.data.summaries.store import office_clause, replace, sum_changes, write_levels

_o, _s = upw_order, upw_session


def _orders_held_on(day):
    """Orders joined to their person and the allocation open on `day`."""
    return _o.join(person, person.c.id == _o.c.person_id).outerjoin(
        held, on_date(person.c.id, day))


SESSIONS = EventCounts(
    source=_s.join(_o, _o.c.id == _s.c.order_id).join(
        person, person.c.id == _o.c.person_id).outerjoin(
        held, on_date(person.c.id, _s.c.session_date)),
    day=_s.c.session_date,
    measures={"sessions": func.count(_s.c.id),
              "sessions_attended": count_where(_s.c.attended),
              "hours_worked": func.coalesce(func.sum(_s.c.hours_worked), 0.0)},
)

ORDERS = EventCounts(
    source=_orders_held_on(_o.c.sentence_date),
    day=_o.c.sentence_date,
    measures={"orders": func.count(_o.c.id),
              "hours_ordered": func.coalesce(func.sum(_o.c.hours_ordered), 0)},
)

COMPLETED = EventCounts(
    source=_orders_held_on(_o.c.completed_date),
    day=_o.c.completed_date,
    where=(_o.c.completed_date.is_not(None),),
    measures={"orders_completed": func.count(_o.c.id)},
)


def order_closed(o=upw_order):
    """SQL: the day an order closed: completed or terminated, whichever came first (or
    NULL while it is live)."""
    return first_of(o.c.completed_date, o.c.terminated_date)


def refresh_due(conn: Connection, months: Months, ids) -> None:
    """Orders by the month of their 12-month anniversary (the calendar date one year after
    sentence, 29 Feb -> 28 Feb); completed in time = completed on or before it."""
    where = [*office_clause(office_held, ids)]
    if months.exact is not None:  # generous bounds; the exact month is decided below
        lo = min(months.exact) - timedelta(days=ANNIVERSARY_SPAN_DAYS)
        hi = month_end(max(months.exact)) - timedelta(days=364)  # 29 Feb -> 28 Feb
        where += [_o.c.sentence_date >= lo, _o.c.sentence_date <= hi]
    elif months.start is not None:
        where.append(_o.c.sentence_date >= months.start - timedelta(days=ANNIVERSARY_SPAN_DAYS))
    orders = pd.read_sql(
        select(office_held.label("office_id"), _o.c.sentence_date, _o.c.completed_date)
        .select_from(_orders_held_on(_o.c.sentence_date)).where(*where), conn)
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
    replace(conn, ss.summary_upw_due, rows, months, ids)


def refresh_starts(conn: Connection, months: Months, ids) -> None:
    """Orders by the month of their start deadline (the 7th working day after sentence):
    how many had a first session by then. in_last_10_days is no longer used (always
    False): orders are keyed by deadline month, so none is left out of any period."""
    sentenced_day = aliased(calendar_day)
    # orders sentenced up to DEADLINE_SPAN_DAYS before a key month can fall due in it
    chosen = [*months.date_clauses_back(_o.c.sentence_date, DEADLINE_SPAN_DAYS),
              *office_clause(office_held, ids)]
    first = select(_s.c.order_id, func.min(_s.c.session_date).label("first_session"))
    if chosen:  # only the sessions of the orders being refreshed
        first = first.where(_s.c.order_id.in_(
            select(_o.c.id).select_from(_orders_held_on(_o.c.sentence_date)).where(*chosen)))
    first = first.group_by(_s.c.order_id).subquery()
    orders = pd.read_sql(
        select(office_held.label("office_id"), _o.c.sentence_date,
               sentenced_day.c.working_day_number.label("sentenced_number"),
               first.c.first_session)
        .select_from(_orders_held_on(_o.c.sentence_date)
                     # orders sentenced on a day missing from the calendar are left out
                     # (inner join), as in the raw-row query
                     .join(sentenced_day, sentenced_day.c.day == _o.c.sentence_date)
                     .outerjoin(first, first.c.order_id == _o.c.id))
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
    replace(conn, ss.summary_upw_start, rows, months, ids)


def _working_days(conn: Connection) -> pd.Series:
    """working_day_number -> the working day carrying it (datetime64)."""
    cal = pd.read_sql(select(calendar_day.c.day, calendar_day.c.working_day_number)
                      .where(calendar_day.c.is_working_day.is_(True)), conn)
    return pd.Series(pd.to_datetime(cal["day"]).to_numpy(),
                     index=cal["working_day_number"].to_numpy())


def _working_day_numbers(conn: Connection) -> pd.Series:
    """Day (datetime64) -> its working_day_number."""
    cal = pd.read_sql(select(calendar_day.c.day, calendar_day.c.working_day_number), conn)
    return pd.Series(cal["working_day_number"].to_numpy(),
                     index=pd.to_datetime(cal["day"]))


def refresh_outstanding(conn: Connection, start: date, last: date, offices: list[int],
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
    close = order_closed(_o)
    piece = (  # an order whose person has no allocation then: where the person is now
        select(office_held.label("office_id"), _o.c.id.label("order_id"), _o.c.hours_ordered,
               later_of(held.c.start_date, _o.c.sentence_date).label("opened"),
               first_of(close, day_after(held.c.end_date)).label("closed"))
        .select_from(_o)
        .join(person, person.c.id == _o.c.person_id)
        .outerjoin(held, and_(*overlapping(held, _o.c.person_id, _o.c.sentence_date),
                              or_(close.is_(None), held.c.start_date < close)))
        .where(office_held.in_(offices))
        .subquery()
    )
    t_key, c_key = month_text(piece.c.opened), month_text(piece.c.closed)
    s_key = month_text(later_of(_s.c.session_date, piece.c.opened))
    closes_after = or_(c_key.is_(None), c_key > t_key)
    closes_from = [] if start <= first else [piece.c.closed >= start]
    sentenced_from = [] if start <= first else [piece.c.opened >= start]
    session_from = ([] if start <= first else
                    [or_(_s.c.session_date >= start, piece.c.opened >= start)])

    def grouped(key, *cols, where, sessions=False):
        stmt = select(piece.c.office_id, key.label("month"), *cols)
        stmt = (stmt.select_from(_s).join(piece, piece.c.order_id == _s.c.order_id)
                if sessions else stmt.select_from(piece))
        return stmt.where(*where).group_by(piece.c.office_id, key)

    hours = func.coalesce(func.sum(_s.c.hours_worked), 0.0)
    ordered = func.sum(cast(piece.c.hours_ordered, Float))
    stmt = union_all(
        grouped(t_key, func.count(piece.c.order_id).label("live_orders_change"),
                ordered.label("hours_outstanding_change"), where=[closes_after, *sentenced_from]),
        grouped(c_key, -func.count(piece.c.order_id), -ordered,
                where=[c_key > t_key, *closes_from]),
        grouped(s_key, literal_column("0"), -hours, sessions=True,
                where=[or_(c_key.is_(None), c_key > s_key), *session_from]),
        grouped(c_key, literal_column("0"), hours, sessions=True,
                where=[c_key > s_key, *closes_from]),
    )
    flows = pd.read_sql(stmt, conn)
    flows["month"] = key_dates(flows["month"])
    changes = sum_changes([flows], ["live_orders_change", "hours_outstanding_change"],
                          start, last)
    write_levels(conn, ss.summary_upw_outstanding, changes,
                 [("live_orders_change", "live_orders"),
                  ("hours_outstanding_change", "hours_outstanding")],
                 start, last, offices, first)
