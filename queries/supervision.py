"""Supervision: appointments kept, missed and enforced."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, case, func, select

from dashboard.filters import Filters
from dashboard.schema import appointment, area, office, person
from dashboard.sqlfuncs import month_of
from queries import Level, level_columns


def appointments(conn: Connection, f: Filters, level: Level = "office",
                 by_month: bool = False) -> pd.DataFrame:
    """Appointments in the period. Columns: [month], [area, office, office_code],
    appointments, kept, acceptable_absence, failed, enforcement_actions."""
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
        .join(office, office.c.id == person.c.office_id)
        .join(area, area.c.id == office.c.area_id)
        .where(*f.clauses(a.c.appointment_date, person.c.office_id))
    )
    if groups:
        stmt = stmt.group_by(*groups).order_by(*groups)
    return pd.read_sql(stmt, conn)
