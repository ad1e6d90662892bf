"""Case quality sample scores: audit judgements against HMIP key questions.

Each query reads the monthly summaries (dashboard.data.summary_schema) when they cover the
period, else the raw rows (``*_from_rows``); both give the same figures.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, case, func, select

from dashboard.core.filters import Filters
from dashboard.data import summaries
from dashboard.data.allocations import held, office_held, on_date
from dashboard.data.schema import area, audit_answer, case_audit, office, person
from dashboard.data.sqlfuncs import month_of
from dashboard.data.summary_schema import summary_audit, summary_audit_answer
from queries import Level, level_columns
from queries._frames import read_frame

KEY_QUESTION = ("audits", "applicable", "sufficient")


def key_question_counts(conn: Connection, f: Filters, level: Level = "office",
                        by_month: bool = False, scheme: str = "crc_2018") -> pd.DataFrame:
    """Completed audits in the period: judgements per key question.

    Columns: [month], [area, office, office_code], standard, key_question, audits (cases
    audited on it), applicable (answers other than not applicable), sufficient.
    % sufficient = sufficient / applicable.
    """
    if not summaries.serves(conn, f):
        return key_question_counts_from_rows(conn, f, level, by_month, scheme)
    s = summary_audit_answer
    return read_frame(summaries.rollup(
        s, [("audits", "answers"), ("applicable", "applicable"), ("sufficient", "sufficient")],
        level_columns(level), [s.c.scheme == scheme, *f.clauses(s.c.month, s.c.office_id)],
        by_month=by_month, keys=["standard", "key_question"], fixed=["scheme"],
        office_level=level == "office"), conn)


def audits_completed(conn: Connection, f: Filters, level: Level = "office") -> pd.DataFrame:
    """Completed case audits in the period. Columns: [area, office, office_code], audits."""
    if not summaries.serves(conn, f):
        return audits_completed_from_rows(conn, f, level)
    s = summary_audit
    return read_frame(summaries.rollup(s, [("audits", "audits")], level_columns(level),
                                        f.clauses(s.c.month, s.c.office_id),
                                        office_level=level == "office"), conn)


# --- per office, from the summaries (also composed by queries.overview) ------------------

def answers_per_office(f: Filters, scheme: str = "crc_2018", by_month: bool = False,
                       keys: tuple[str, ...] | list[str] = ()):
    """office_id, [month], keys, audits (answers), applicable, sufficient."""
    s = summary_audit_answer
    return summaries.per_office(
        s, [("audits", "answers"), ("applicable", "applicable"), ("sufficient", "sufficient")],
        [s.c.scheme == scheme, *f.clauses(s.c.month, s.c.office_id)], by_month=by_month,
        keys=keys, fixed=["scheme"])


def audits_per_office(f: Filters):
    """office_id, audits (completed audits, any scheme)."""
    s = summary_audit
    return summaries.per_office(s, [("audits", "audits")], f.clauses(s.c.month, s.c.office_id))


# --- the same figures from the raw rows -------------------------------------------------

def key_question_counts_from_rows(conn: Connection, f: Filters, level: Level = "office",
                                  by_month: bool = False,
                                  scheme: str = "crc_2018") -> pd.DataFrame:
    """key_question_counts computed from case_audit and audit_answer rows."""
    groups = [*([month_of(case_audit.c.audit_date).label("month")] if by_month else []),
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
        .outerjoin(held, on_date(person.c.id, case_audit.c.audit_date))
        .join(office, office.c.id == office_held)
        .join(area, area.c.id == office.c.area_id)
        .where(case_audit.c.status == "complete", case_audit.c.scheme == scheme,
               *f.clauses(case_audit.c.audit_date, office_held))
        .group_by(*groups)
        .order_by(*groups)
    )
    return read_frame(stmt, conn)


def audits_completed_from_rows(conn: Connection, f: Filters,
                               level: Level = "office") -> pd.DataFrame:
    """audits_completed computed from case_audit rows."""
    groups = level_columns(level)
    stmt = (
        select(*groups, func.count(case_audit.c.id).label("audits"))
        .select_from(case_audit)
        .join(person, person.c.id == case_audit.c.person_id)
        .outerjoin(held, on_date(person.c.id, case_audit.c.audit_date))
        .join(office, office.c.id == office_held)
        .join(area, area.c.id == office.c.area_id)
        .where(case_audit.c.status == "complete",
               *f.clauses(case_audit.c.audit_date, office_held))
    )
    if groups:
        stmt = stmt.group_by(*groups).order_by(*groups)
    return read_frame(stmt, conn)


def cases_audited(conn: Connection, f: Filters, scheme: str = "crc_2018") -> pd.DataFrame:
    """Cases audited: distinct people on probation with at least one completed audit under
    the scheme dated in the period (a case audited twice counts once), and the audits
    themselves (counting every completed audit). One row. Columns: cases_audited, audits.
    """
    stmt = (
        select(func.count(func.distinct(case_audit.c.person_id)).label("cases_audited"),
               func.count(case_audit.c.id).label("audits"))
        .select_from(case_audit)
        .join(person, person.c.id == case_audit.c.person_id)
        .where(case_audit.c.status == "complete", case_audit.c.scheme == scheme,
               *f.clauses(case_audit.c.audit_date, person.c.office_id))
    )
    return read_frame(stmt, conn)
