"""Through the Gate family: releases from custody and the resettlement work done in time,
by release month."""

from __future__ import annotations

from sqlalchemy import and_, func
from sqlalchemy.orm import aliased

from dashboard.data.allocations import held, on_date
from dashboard.data.event_counts import EventCounts
from dashboard.data.schema import calendar_day, custody_release, person
from dashboard.data.sqlfuncs import count_where, days_between
from dashboard.data.summaries.rules import CONTACT_DAYS, SCREENING_WORKING_DAYS

_r = custody_release
_reception_day, _screening_day = aliased(calendar_day), aliased(calendar_day)
_screened = and_(_r.c.screening_date.is_not(None),
                 _screening_day.c.working_day_number - _reception_day.c.working_day_number
                 <= SCREENING_WORKING_DAYS)
_long_custody = days_between(_r.c.reception_date, _r.c.release_date) >= CONTACT_DAYS
_contacted = and_(_long_custody, _r.c.pre_release_contact_date.is_not(None),
                  days_between(_r.c.pre_release_contact_date, _r.c.release_date)
                  >= CONTACT_DAYS)
_acc = _r.c.accommodation_on_release

RELEASES = EventCounts(
    source=(_r.join(person, person.c.id == _r.c.person_id)
            .outerjoin(held, on_date(person.c.id, _r.c.release_date))
            # outer: a release is never dropped for a date missing from the calendar
            # (the generator and the importer keep the calendar covering them)
            .outerjoin(_reception_day, _reception_day.c.day == _r.c.reception_date)
            .outerjoin(_screening_day, _screening_day.c.day == _r.c.screening_date)),
    day=_r.c.release_date,
    measures={
        "releases": func.count(_r.c.id),
        "screened_in_5_days": count_where(_screened),
        "plan_before_release": count_where(and_(_r.c.plan_completed_date.is_not(None),
                                                _r.c.plan_completed_date <= _r.c.release_date)),
        "custody_12_weeks": count_where(_long_custody),
        "contact_12_weeks": count_where(_contacted),
        "accommodation_known": count_where(_acc.is_not(None)),
        "settled": count_where(_acc == "settled"),
        "temporary": count_where(_acc == "temporary"),
        "no_fixed_abode": count_where(_acc == "no_fixed_abode"),
        "first_appointment_due": count_where(_r.c.first_appointment_kept.is_not(None)),
        "first_appointment_kept": count_where(_r.c.first_appointment_kept.is_(True)),
    },
)
