"""Which months the summaries cover, and the data version every cached result keys on."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Connection, delete, func, select

from dashboard.core.filters import month_start
from dashboard.data import summary_schema as ss
from dashboard.data.schema import (
    appointment,
    case_audit,
    custody_release,
    dataset_info,
    establishment,
    person,
    staff_absence,
    upw_order,
    upw_session,
)
from dashboard.data.summaries.months import as_date, is_month_end

STATE = "monthly"


def coverage(conn: Connection) -> tuple[date, date] | None:
    """(first month, last month) the summaries cover, or None before they are built."""
    row = conn.execute(select(ss.summary_state.c.first_month, ss.summary_state.c.last_month)
                       .where(ss.summary_state.c.name == STATE)).first()
    return None if row is None else (as_date(row[0]), as_date(row[1]))


def covers(conn: Connection, first: date, last: date) -> bool:
    """True when the summaries hold every month from first's month to last's month."""
    state = coverage(conn)
    return state is not None and state[0] <= month_start(first) and month_start(last) <= state[1]


def serves(conn: Connection, f) -> bool:
    """May a query read the summaries for the filters' period? Only whole months (the
    dashboard's filters always are) inside the covered months."""
    return f.start.day == 1 and is_month_end(f.end) and covers(conn, f.start, f.end)


def data_range(conn: Connection) -> tuple[date, date] | None:
    """First and last month holding any dated raw row (and the data's as-of month)."""
    cols = [person.c.start_date, upw_order.c.sentence_date, upw_session.c.session_date,
            appointment.c.appointment_date, custody_release.c.release_date,
            case_audit.c.audit_date, staff_absence.c.start_date, establishment.c.month]
    lows, highs = [], []
    for col in cols:
        lo, hi = conn.execute(select(func.min(col), func.max(col))).one()
        if lo is not None:
            lows.append(as_date(lo))
            highs.append(as_date(hi))
    as_of = conn.execute(select(dataset_info.c.value)
                         .where(dataset_info.c.key == "data_as_of")).scalar()
    if as_of:
        highs.append(date.fromisoformat(as_of))
    if not lows:
        return None
    return month_start(min(lows)), month_start(max(highs))


def set_state(conn: Connection, first: date, last: date) -> None:
    """Record that the summaries cover first's month to last's month."""
    conn.execute(delete(ss.summary_state).where(ss.summary_state.c.name == STATE))
    conn.execute(ss.summary_state.insert().values(name=STATE, first_month=first,
                                                  last_month=last))


def mark_data_changed(conn: Connection, version: str | None = None) -> str:
    """Set dataset_info.data_version (part of every cached query's key) to a new value."""
    version = version or uuid.uuid4().hex
    conn.execute(delete(dataset_info).where(dataset_info.c.key == "data_version"))
    conn.execute(dataset_info.insert().values(key="data_version", value=version))
    return version
