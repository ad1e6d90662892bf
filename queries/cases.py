"""The cases behind a figure: person-level rows, always restricted by the user's Scope.

Every function here requires a Scope and applies it in SQL (scope.person_clause), so an
area manager's query cannot return another area's people however it is called.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, and_, case, func, or_, select

from dashboard.access.scope import Scope, require_person_level
from dashboard.core.filters import Filters
from dashboard.data.schema import (
    audit_answer,
    case_audit,
    custody_release,
    office,
    person,
    staff_member,
    upw_order,
    upw_session,
)
from queries._frames import read_frame

VIEWS = {
    "caseload": "Cases open at the end of the period",
    "releases": "Releases from custody in the period (Through the Gate)",
    "unpaid_work": "Unpaid work orders live at the end of the period",
    "audits": "Audited cases with a key question judged not sufficient",
}
LIMIT = 5000


def _scoped(stmt, f: Filters, scope: Scope):
    require_person_level(scope)
    return stmt.where(*f.office_clause(person.c.office_id),
                      scope.person_clause(person.c.id, person.c.office_id))


def case_rows(conn: Connection, f: Filters, scope: Scope, view: str = "caseload",
              limit: int = LIMIT, key_question: str | None = None) -> pd.DataFrame:
    """Person-level rows for one of VIEWS, newest first, at most `limit` rows.

    Columns always include crn, office, sentence_type, tier, rosh_level; each view adds
    its own (see the page). For the audits view, key_question (e.g. "2.3c") keeps only the
    cases judged not sufficient on that question. Raises ScopeError for a role without
    person-level access.
    """
    base = [person.c.crn, office.c.name.label("office"), person.c.sentence_type,
            person.c.tier, person.c.rosh_level]
    if view == "caseload":
        stmt = (select(*base, person.c.start_date, person.c.end_date,
                       staff_member.c.staff_ref.label("officer"))
                .join(office, office.c.id == person.c.office_id)
                .outerjoin(staff_member, staff_member.c.id == person.c.officer_id)
                .where(person.c.start_date <= f.end, person.c.end_date >= f.end)
                .order_by(office.c.name, person.c.crn))
    elif view == "releases":
        r = custody_release
        stmt = (select(*base, r.c.prison, r.c.reception_date, r.c.screening_date,
                       r.c.plan_completed_date, r.c.pre_release_contact_date, r.c.release_date,
                       r.c.accommodation_on_release, r.c.first_appointment_kept)
                .select_from(r).join(person, person.c.id == r.c.person_id)
                .join(office, office.c.id == person.c.office_id)
                .where(*f.clauses(r.c.release_date))
                .order_by(r.c.release_date.desc(), person.c.crn))
    elif view == "unpaid_work":
        worked = (select(upw_session.c.order_id,
                         func.sum(upw_session.c.hours_worked).label("hours_worked"))
                  .where(upw_session.c.session_date <= f.end)
                  .group_by(upw_session.c.order_id).subquery())
        hours = func.coalesce(worked.c.hours_worked, 0.0)
        stmt = (select(*base, upw_order.c.sentence_date, upw_order.c.hours_ordered,
                       hours.label("hours_worked"),
                       (upw_order.c.hours_ordered - hours).label("hours_outstanding"))
                .select_from(upw_order).join(person, person.c.id == upw_order.c.person_id)
                .join(office, office.c.id == person.c.office_id)
                .outerjoin(worked, worked.c.order_id == upw_order.c.id)
                .where(upw_order.c.sentence_date <= f.end,
                       or_(upw_order.c.completed_date.is_(None),
                           upw_order.c.completed_date > f.end),
                       or_(upw_order.c.terminated_date.is_(None),
                           upw_order.c.terminated_date > f.end))
                .order_by(upw_order.c.sentence_date, person.c.crn))
    elif view == "audits":
        flagged = audit_answer.c.answer == "not_sufficient"
        if key_question:
            flagged = and_(flagged, audit_answer.c.key_question == key_question)
        not_ok = case((flagged, 1), else_=0)
        stmt = (select(*base, case_audit.c.audit_date, case_audit.c.auditor,
                       func.sum(not_ok).label("not_sufficient"),
                       func.count(audit_answer.c.id).label("questions"))
                .select_from(case_audit).join(person, person.c.id == case_audit.c.person_id)
                .join(office, office.c.id == person.c.office_id)
                .join(audit_answer, audit_answer.c.audit_id == case_audit.c.id)
                .where(and_(case_audit.c.status == "complete",
                            *f.clauses(case_audit.c.audit_date)))
                .group_by(*base, case_audit.c.id, case_audit.c.audit_date,
                          case_audit.c.auditor)
                .having(func.sum(not_ok) > 0)
                .order_by(case_audit.c.audit_date.desc(), person.c.crn))
    else:
        raise ValueError(f"unknown view {view!r}")
    return read_frame(_scoped(stmt, f, scope).limit(limit), conn)
