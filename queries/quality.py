"""Case quality sample scores: audit judgements against HMIP key questions."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, case, func, select

from dashboard.filters import Filters
from dashboard.schema import area, audit_answer, case_audit, office, person
from dashboard.sqlfuncs import month_of
from queries import Level, level_columns


def key_question_counts(conn: Connection, f: Filters, level: Level = "office",
                        by_month: bool = False, scheme: str = "crc_2018") -> pd.DataFrame:
    """Completed audits in the period: judgements per key question.

    Columns: [month], [area, office, office_code], standard, key_question, audits (cases
    audited on it), applicable (answers other than not applicable), sufficient.
    % sufficient = sufficient / applicable.
    """
    groups = [*( [month_of(case_audit.c.audit_date).label("month")] if by_month else []),
              *level_columns(level), audit_answer.c.standard, audit_answer.c.key_question]
    stmt = (
        select(*groups,
               func.count(audit_answer.c.id).label("audits"),
               func.sum(case((audit_answer.c.answer != "not_applicable", 1), else_=0)).label(
                   "applicable"),
               func.sum(case((audit_answer.c.answer == "sufficient", 1), else_=0)).label(
                   "sufficient"))
        .select_from(audit_answer)
        .join(case_audit, case_audit.c.id == audit_answer.c.audit_id)
        .join(person, person.c.id == case_audit.c.person_id)
        .join(office, office.c.id == person.c.office_id)
        .join(area, area.c.id == office.c.area_id)
        .where(case_audit.c.status == "complete", case_audit.c.scheme == scheme,
               *f.clauses(case_audit.c.audit_date, person.c.office_id))
        .group_by(*groups)
        .order_by(*groups)
    )
    return pd.read_sql(stmt, conn)


def audits_completed(conn: Connection, f: Filters, level: Level = "office") -> pd.DataFrame:
    """Completed case audits in the period. Columns: [area, office, office_code], audits."""
    groups = level_columns(level)
    stmt = (
        select(*groups, func.count(case_audit.c.id).label("audits"))
        .select_from(case_audit)
        .join(person, person.c.id == case_audit.c.person_id)
        .join(office, office.c.id == person.c.office_id)
        .join(area, area.c.id == office.c.area_id)
        .where(case_audit.c.status == "complete",
               *f.clauses(case_audit.c.audit_date, person.c.office_id))
    )
    if groups:
        stmt = stmt.group_by(*groups).order_by(*groups)
    return pd.read_sql(stmt, conn)
