"""Through-the-Gate coverage: resettlement work done in time for people leaving prison.

coverage reads the monthly summaries (dashboard.data.summary_schema) when they cover the
period, else the raw rows (``coverage_from_rows``); both give the same figures.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, and_, case, func, select
from sqlalchemy.orm import aliased

from dashboard.core.filters import Filters
from dashboard.data import summaries
from dashboard.data.allocations import held, office_held, on_date
from dashboard.data.schema import area, calendar_day, custody_release, office, person
from dashboard.data.sqlfuncs import days_between, month_of
from dashboard.data.summaries import CONTACT_DAYS, SCREENING_WORKING_DAYS
from dashboard.data.summary_schema import summary_release
from queries import Level, level_columns
from queries._frames import read_frame

__all__ = ["CONTACT_DAYS", "COUNTS", "SCREENING_WORKING_DAYS", "coverage",
           "coverage_from_rows", "releases_per_office"]

COUNTS = ("releases", "screened_in_5_days", "plan_before_release", "custody_12_weeks",
          "contact_12_weeks", "accommodation_known", "settled", "temporary", "no_fixed_abode",
          "first_appointment_due", "first_appointment_kept")


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def coverage(conn: Connection, f: Filters, level: Level = "office",
             by_month: bool = False) -> pd.DataFrame:
    """Releases in the period and the resettlement work done for them.

    Columns: [month], [area, office, office_code], releases,
    screened_in_5_days (screening within 5 working days of reception),
    plan_before_release (plan completed on or before the release date),
    custody_12_weeks (in custody at least 84 days, so 12-week contact was possible),
    contact_12_weeks (of those, first contact at least 84 days before release),
    accommodation_known, settled, temporary, no_fixed_abode,
    first_appointment_due (outcome recorded), first_appointment_kept.
    """
    if not summaries.serves(conn, f):
        return coverage_from_rows(conn, f, level, by_month)
    s = summary_release
    return read_frame(summaries.rollup(s, [(c, c) for c in COUNTS], level_columns(level),
                                        f.clauses(s.c.month, s.c.office_id),
                                        by_month=by_month, office_level=level == "office"),
                       conn)


def releases_per_office(f: Filters, by_month: bool = False):
    """office_id, [month], COUNTS from summary_release (summaries must serve f)."""
    s = summary_release
    return summaries.per_office(s, [(c, c) for c in COUNTS],
                                f.clauses(s.c.month, s.c.office_id), by_month=by_month)


def coverage_from_rows(conn: Connection, f: Filters, level: Level = "office",
                       by_month: bool = False) -> pd.DataFrame:
    """coverage computed from custody_release rows."""
    r = custody_release
    reception_day = aliased(calendar_day)
    screening_day = aliased(calendar_day)
    screened = and_(r.c.screening_date.is_not(None),
                    screening_day.c.working_day_number - reception_day.c.working_day_number
                    <= SCREENING_WORKING_DAYS)
    long_custody = days_between(r.c.reception_date, r.c.release_date) >= CONTACT_DAYS
    contacted = and_(long_custody, r.c.pre_release_contact_date.is_not(None),
                     days_between(r.c.pre_release_contact_date, r.c.release_date)
                     >= CONTACT_DAYS)
    groups = [*([month_of(r.c.release_date).label("month")] if by_month else []),
              *level_columns(level)]
    stmt = (
        select(*groups,
               func.count(r.c.id).label("releases"),
               _count(screened).label("screened_in_5_days"),
               _count(and_(r.c.plan_completed_date.is_not(None),
                           r.c.plan_completed_date <= r.c.release_date)).label(
                   "plan_before_release"),
               _count(long_custody).label("custody_12_weeks"),
               _count(contacted).label("contact_12_weeks"),
               _count(r.c.accommodation_on_release.is_not(None)).label("accommodation_known"),
               _count(r.c.accommodation_on_release == "settled").label("settled"),
               _count(r.c.accommodation_on_release == "temporary").label("temporary"),
               _count(r.c.accommodation_on_release == "no_fixed_abode").label(
                   "no_fixed_abode"),
               _count(r.c.first_appointment_kept.is_not(None)).label("first_appointment_due"),
               _count(r.c.first_appointment_kept.is_(True)).label("first_appointment_kept"))
        .select_from(r)
        .join(person, person.c.id == r.c.person_id)
        .outerjoin(held, on_date(person.c.id, r.c.release_date))
        .join(office, office.c.id == office_held)
        .join(area, area.c.id == office.c.area_id)
        # outer: a release whose reception predates the calendar still counts as a release
        .outerjoin(reception_day, reception_day.c.day == r.c.reception_date)
        .outerjoin(screening_day, screening_day.c.day == r.c.screening_date)
        .where(*f.clauses(r.c.release_date, office_held))
    )
    if groups:
        stmt = stmt.group_by(*groups).order_by(*groups)
    return read_frame(stmt, conn)
