"""Supervision family: appointments kept, missed and enforced, by appointment month."""

from __future__ import annotations

from sqlalchemy import func

from dashboard.data.allocations import held, on_date
from dashboard.data.event_counts import EventCounts
from dashboard.data.schema import appointment, person
from dashboard.data.sqlfuncs import count_where

APPOINTMENTS = EventCounts(
    source=(appointment.join(person, person.c.id == appointment.c.person_id)
            .outerjoin(held, on_date(person.c.id, appointment.c.appointment_date))),
    day=appointment.c.appointment_date,
    measures={
        "appointments": func.count(appointment.c.id),
        "kept": count_where(appointment.c.outcome == "kept"),
        "acceptable_absence": count_where(appointment.c.outcome == "acceptable_absence"),
        "failed": count_where(appointment.c.outcome == "failed"),
        "enforcement_actions": count_where(appointment.c.enforcement_action.is_(True)),
    },
)
