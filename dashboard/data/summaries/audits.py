"""Audits family: completed case audits and their answers per key question, by audit
month, for the office holding the case on the audit date."""

from __future__ import annotations

from sqlalchemy import func

from dashboard.data.allocations import held, on_date
from dashboard.data.event_counts import EventCounts
from dashboard.data.schema import audit_answer, case_audit, person
from dashboard.data.sqlfuncs import count_where

_c, _x = case_audit, audit_answer
_complete = (_c.c.status == "complete",)

AUDITS = EventCounts(
    source=(_c.join(person, person.c.id == _c.c.person_id)
            .outerjoin(held, on_date(person.c.id, _c.c.audit_date))),
    day=_c.c.audit_date,
    where=_complete,
    measures={"audits": func.count(_c.c.id)},
)

ANSWERS = EventCounts(
    source=(_x.join(_c, _c.c.id == _x.c.audit_id)
            .join(person, person.c.id == _c.c.person_id)
            .outerjoin(held, on_date(person.c.id, _c.c.audit_date))),
    day=_c.c.audit_date,
    where=_complete,
    keys=(_c.c.scheme, _x.c.standard, _x.c.key_question),
    measures={"answers": func.count(_x.c.id),
              "applicable": count_where(_x.c.answer != "not_applicable"),
              "sufficient": count_where(_x.c.answer == "sufficient")},
)
