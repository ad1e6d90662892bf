"""Staffing family: staff in post against the establishment, sickness absence, and cases
open on the first of each month (caseload and workload points)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection, and_, case, func, or_, select

from dashboard.core.filters import add_months
from dashboard.data import summary_schema as ss
from dashboard.data.allocations import held, office_held, overlapping
from dashboard.data.event_counts import EventCounts
from dashboard.data.schema import establishment, person, staff_absence, staff_member
from dashboard.data.sqlfuncs import earlier_of, later_of
from dashboard.data.summaries.months import Months, month_of_dates
from dashboard.data.summaries.rules import LICENCE_FACTOR, SICKNESS, TIER_POINTS
from dashboard.data.summaries.store import office_clause, replace, sum_changes, write_levels

# Sickness absence episodes by the month they start, for the staff member's office.
ABSENCE = EventCounts(
    source=staff_absence.join(staff_member,
                              staff_member.c.id == staff_absence.c.staff_member_id),
    day=staff_absence.c.start_date,
    office=staff_member.c.office_id,
    where=(staff_absence.c.reason == SICKNESS,),
    measures={"episodes": func.count(staff_absence.c.id),
              "working_days_lost": func.coalesce(func.sum(staff_absence.c.working_days_lost),
                                                 0.0)},
)


def refresh_staffing(conn: Connection, months: Months, ids) -> None:
    """One row per establishment row: budget against staff in post on the month's first
    day (a person counts when they started on or before it and had not left before it)."""
    e, s = establishment, staff_member
    in_post = (
        select(e.c.id.label("est_id"), func.sum(s.c.fte).label("fte"),
               func.count(s.c.id).label("heads"))
        .join(s, and_(s.c.office_id == e.c.office_id, s.c.grade == e.c.grade,
                      s.c.start_date <= e.c.month,
                      or_(s.c.end_date.is_(None), s.c.end_date >= e.c.month)))
        .where(*months.date_clauses(e.c.month), *office_clause(e.c.office_id, ids))
        .group_by(e.c.id)
        .subquery()
    )
    stmt = (
        select(e.c.office_id, e.c.month, e.c.grade,
               e.c.budgeted_fte.label("establishment_fte"),
               func.coalesce(in_post.c.fte, 0.0).label("in_post_fte"),
               func.coalesce(in_post.c.heads, 0).label("staff_in_post"))
        .outerjoin(in_post, in_post.c.est_id == e.c.id)
        .where(*months.date_clauses(e.c.month), *office_clause(e.c.office_id, ids))
    )
    rows = pd.read_sql(stmt, conn)
    rows["vacancy_fte"] = (rows["establishment_fte"] - rows["in_post_fte"]).clip(lower=0.0)
    replace(conn, ss.summary_staffing, rows, months, ids)


def workload_points(p=person):
    """SQL: a case's workload points (by tier; licence cases cost LICENCE_FACTOR more)."""
    points = case(*[(p.c.tier == t, v) for t, v in TIER_POINTS.items()], else_=0)
    return points * case((p.c.sentence_type == "licence", LICENCE_FACTOR), else_=1.0)


def refresh_caseload(conn: Connection, start: date, last: date, offices: list[int],
                     first: date) -> None:
    """Cases open on the first day of each month, for the office holding the case that
    day: a person counts on every month's first day from their start date to their end
    date, within each of their allocations (a piece of the case per allocation). Stored
    as +1 in the first month whose first day is on or after the piece's start, -1 in the
    month after the piece's end's month."""
    p = person
    # a person with no allocation during the sentence counts where they are now
    people = pd.read_sql(
        select(office_held.label("office_id"),
               later_of(held.c.start_date, p.c.start_date).label("start_date"),
               earlier_of(held.c.end_date, p.c.end_date).label("end_date"),
               workload_points(p).label("points"))
        .select_from(p)
        .outerjoin(held, and_(*overlapping(held, p.c.id, p.c.start_date, last=p.c.end_date)))
        .where(office_held.in_(offices), p.c.end_date >= add_months(start, -1),
               or_(held.c.end_date.is_(None), held.c.end_date >= add_months(start, -1))),
        conn)
    starts = pd.to_datetime(people["start_date"])
    ends = pd.to_datetime(people["end_date"])
    opened = month_of_dates(starts)
    opened = opened.where(starts.dt.day == 1, opened + pd.offsets.MonthBegin(1))
    end_month = month_of_dates(ends)
    counts = opened <= end_month
    people = people[counts].assign(opened=opened[counts],
                                   closed=end_month[counts] + pd.offsets.MonthBegin(1))
    parts = [
        people.assign(month=people["opened"], open_cases_change=1,
                      workload_points_change=people["points"].astype(float)),
        people.assign(month=people["closed"], open_cases_change=-1,
                      workload_points_change=-people["points"].astype(float)),
    ]
    changes = sum_changes(parts, ["open_cases_change", "workload_points_change"], start, last)
    write_levels(conn, ss.summary_caseload, changes,
                 [("open_cases_change", "open_cases"),
                  ("workload_points_change", "workload_points")],
                 start, last, offices, first)
