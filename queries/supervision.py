"""Supervision: appointments kept, missed and enforced.

appointments reads the monthly summaries (dashboard.data.summary_schema) when they cover the
period, else the raw rows (``appointments_from_rows``); both give the same figures.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, case, func, select

from dashboard.core.filters import Filters
from dashboard.data import summaries
from dashboard.data.allocations import held, office_held, on_date
from dashboard.data.schema import appointment, area, office, person
from dashboard.data.sqlfuncs import month_of
from dashboard.data.summary_schema import summary_appointment
from queries import Level, level_columns
from queries._frames import read_frame

COUNTS = ("appointments", "kept", "acceptable_absence", "failed", "enforcement_actions")


def appointments(conn: Connection, f: Filters, level: Level = "office",
                 by_month: bool = False) -> pd.DataFrame:
    """Appointments in the period. Columns: [month], [area, office, office_code],
    appointments, kept, acceptable_absence, failed, enforcement_actions."""
    if not summaries.serves(conn, f):
        return appointments_from_rows(conn, f, level, by_month)
    s = summary_appointment
    return read_frame(summaries.rollup(s, [(c, c) for c in COUNTS], level_columns(level),
                                        f.clauses(s.c.month, s.c.office_id),
                                        by_month=by_month, office_level=level == "office"),
                       conn)


def appointments_per_office(f: Filters, by_month: bool = False):
    """office_id, [month], COUNTS from summary_appointment (summaries must serve f)."""
    s = summary_appointment
    return summaries.per_office(s, [(c, c) for c in COUNTS],
                                f.clauses(s.c.month, s.c.office_id), by_month=by_month)


def appointments_from_rows(conn: Connection, f: Filters, level: Level = "office",
                           by_month: bool = False) -> pd.DataFrame:
    """appointments computed from appointment rows."""
    a = appointment
    groups = [*([month_of(a.c.appointment_date).label("month")] if by_month else []),
              *level_columns(level)]

    def count(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    stmt = (
        select(*groups, func.count(a.c.id).label("appointments"),
               count(a.c.outcome == "kept").label("kept"),
               count(a.c.outcome == "acceptable_absence").label("acceptable_absence"),
               count(a.c.outcome == "failed").label("failed"),
               count(a.c.enforcement_action.is_(True)).label("enforcement_actions"))
        .select_from(a)
        .join(person, person.c.id == a.c.person_id)
        .outerjoin(held, on_date(person.c.id, a.c.appointment_date))
        .join(office, office.c.id == office_held)
        .join(area, area.c.id == office.c.area_id)
        .where(*f.clauses(a.c.appointment_date, office_held))
    )
    if groups:
        stmt = stmt.group_by(*groups).order_by(*groups)
    return read_frame(stmt, conn)
