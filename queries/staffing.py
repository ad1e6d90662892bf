"""Staffing gaps: establishment against staff in post by grade, caseload, absence.

Staff in post are counted on the first day of each month (the establishment's month), so
a month's figures compare the budget with the people actually there on that day.

Each query reads the monthly summaries (dashboard.data.summary_schema) when they cover the
period, else the raw rows (``*_from_rows``); both give the same figures.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, and_, case, func, literal, or_, select

from dashboard.core.filters import Filters
from dashboard.data import summaries
from dashboard.data.allocations import held, office_held, on_date, unallocated
from dashboard.data.schema import area, establishment, office, person, staff_member
from dashboard.data.sqlfuncs import month_of
from dashboard.data.summaries.rules import CASE_HOLDING, LICENCE_FACTOR, POINTS_PER_FTE, TIER_POINTS
from dashboard.data.summaries.staffing import ABSENCE as ABSENCE_COUNTED
from dashboard.data.summaries.staffing import workload_points
from dashboard.data.summary_schema import summary_absence, summary_caseload, summary_staffing
from queries import Level, level_columns
from queries._frames import read_frame

__all__ = ["ABSENCE", "CASELOAD", "CASE_HOLDING", "GAPS", "LICENCE_FACTOR", "POINTS_PER_FTE",
           "TIER_POINTS", "absence", "absence_from_rows", "absence_per_office", "average_fte",
           "caseload_by_month", "caseload_by_month_from_rows", "caseload_per_office",
           "gaps_by_month", "gaps_by_month_from_rows", "gaps_per_office", "last_month",
           "office_snapshot"]


GAPS = ("establishment_fte", "in_post_fte", "vacancy_fte", "staff_in_post")
CASELOAD = ("open_cases", "workload_points", "case_holding_fte", "available_points")
ABSENCE = ("episodes", "working_days_lost")
GLOSSARY = (  # the measures the page's help defines, in this order
    "vacancy_rate", "establishment_fte", "in_post_fte", "caseload_per_officer",
    "workload_capacity", "absence_days_per_fte",
)


def gaps_by_month(conn: Connection, f: Filters, level: Level = "office",
                  by_grade: bool = True) -> pd.DataFrame:
    """Establishment and staff in post per month (and grade) at the chosen level.

    Columns: month (YYYY-MM), [area, office, office_code], [grade], establishment_fte,
    in_post_fte, vacancy_fte (establishment - in post, never below 0 per office and grade),
    staff_in_post (head count).
    """
    if not summaries.serves(conn, f):
        return gaps_by_month_from_rows(conn, f, level, by_grade)
    return read_frame(summaries.period_rollup(
        summary_staffing, GAPS, f, level_columns(level), level == "office", by_month=True,
        keys=["grade"] if by_grade else []), conn)


def caseload_by_month(conn: Connection, f: Filters, level: Level = "office") -> pd.DataFrame:
    """Cases open on the first of each month against case-holding staff (PO and PSO).

    Columns: month, [area, office, office_code], open_cases, workload_points,
    case_holding_fte, available_points. Caseload per officer = open_cases /
    case_holding_fte; capacity = workload_points / available_points.
    """
    if not summaries.serves(conn, f):
        return caseload_by_month_from_rows(conn, f, level)
    return read_frame(summaries.roll_up(caseload_per_office(f, by_month=True), CASELOAD,
                                         level_columns(level), by_month=True,
                                         one_row_per_office=level == "office"), conn)


def absence(conn: Connection, f: Filters, level: Level = "office") -> pd.DataFrame:
    """Sickness absence starting in the period (staff_absence rows whose reason is
    'sickness'; annual leave, training and other reasons are not counted).

    Columns: [area, office, office_code], episodes, working_days_lost.
    """
    if not summaries.serves(conn, f):
        return absence_from_rows(conn, f, level)
    return read_frame(summaries.period_rollup(summary_absence, ABSENCE, f,
                                               level_columns(level), level == "office"), conn)


def last_month(gaps: pd.DataFrame) -> pd.DataFrame:
    """The rows of gaps_by_month (by grade) for its last month, with vacancy_rate (%)."""
    snap = gaps[gaps["month"] == gaps["month"].max()].copy()
    snap["vacancy_rate"] = 100 * snap["vacancy_fte"] / snap["establishment_fte"]
    return snap


def average_fte(gaps: pd.DataFrame) -> pd.Series:
    """office -> staff in post (FTE) per month, averaged over the months of gaps."""
    return gaps.groupby("office")["in_post_fte"].sum() / gaps["month"].nunique()


def office_snapshot(gaps: pd.DataFrame, caseload: pd.DataFrame,
                    absence: pd.DataFrame) -> pd.DataFrame:
    """Each office in the last month of the period, from gaps_by_month (office level, by
    grade), caseload_by_month (office level) and absence (office level).

    Columns: area, office, establishment_fte, in_post_fte, vacancy_fte (that month),
    open_cases, case_holding_fte, workload_points, available_points (that month),
    working_days_lost (the period; 0 if none), vacancy_rate (%), caseload_per_officer
    (cases per case-holding FTE), workload_capacity (%), absence_days_per_fte (working
    days lost per average FTE in post over the period).
    """
    last = gaps["month"].max()
    by_office = gaps[gaps["month"] == last].groupby(["area", "office"], as_index=False)[
        ["establishment_fte", "in_post_fte", "vacancy_fte"]].sum()
    load = caseload[caseload["month"] == last][
        ["office", "open_cases", "case_holding_fte", "workload_points", "available_points"]]
    by_office = by_office.merge(load, on="office", how="left").merge(
        absence[["office", "working_days_lost"]], on="office", how="left").fillna(
        {"working_days_lost": 0})
    by_office["vacancy_rate"] = 100 * by_office["vacancy_fte"] / by_office["establishment_fte"]
    by_office["caseload_per_officer"] = by_office["open_cases"] / by_office["case_holding_fte"]
    by_office["workload_capacity"] = 100 * by_office["workload_points"] / by_office[
        "available_points"]
    by_office["absence_days_per_fte"] = by_office["working_days_lost"] / by_office[
        "office"].map(average_fte(gaps))
    return by_office


# --- per office, from the summaries (also composed by queries.overview) ------------------

def gaps_per_office(f: Filters, by_month: bool = False, by_grade: bool = False):
    """office_id, [month], [grade], GAPS from summary_staffing (summaries must serve f)."""
    return summaries.period_per_office(summary_staffing, GAPS, f, by_month,
                                       keys=["grade"] if by_grade else [])


def caseload_per_office(f: Filters, by_month: bool = False):
    """office_id, [month], CASELOAD: open cases from summary_caseload on the office-months
    that have a PO establishment row, case-holding FTE from summary_staffing."""
    s, c = summary_staffing, summary_caseload
    months = (
        select(s.c.office_id, s.c.month,
               func.sum(case((s.c.grade.in_(CASE_HOLDING), s.c.in_post_fte), else_=0.0)).label(
                   "case_holding_fte"),
               func.sum(case((s.c.grade == "PO", 1), else_=0)).label("po_rows"))
        .where(*summaries.in_period(s, f))
        .group_by(s.c.office_id, s.c.month)
        .subquery()
    )
    rows = (
        select(months.c.office_id, months.c.month,
               func.coalesce(c.c.open_cases, 0).label("open_cases"),
               func.coalesce(c.c.workload_points, 0.0).label("workload_points"),
               months.c.case_holding_fte,
               (months.c.case_holding_fte * literal(POINTS_PER_FTE)).label("available_points"))
        .select_from(months)
        .outerjoin(c, and_(c.c.office_id == months.c.office_id, c.c.month == months.c.month))
        .where(months.c.po_rows > 0)
    )
    if by_month:
        return rows
    per_month = rows.subquery()
    return (select(per_month.c.office_id,
                   *[func.sum(per_month.c[n]).label(n) for n in CASELOAD])
            .group_by(per_month.c.office_id))


def absence_per_office(f: Filters):
    """office_id, ABSENCE from summary_absence."""
    return summaries.period_per_office(summary_absence, ABSENCE, f)


# --- the same figures from the raw rows -------------------------------------------------

def _in_post_per_establishment_row():
    """establishment.id -> in-post FTE of that office and grade on the month's first day."""
    return (
        select(establishment.c.id.label("est_id"),
               func.sum(staff_member.c.fte).label("in_post_fte"),
               func.count(staff_member.c.id).label("staff_in_post"))
        .join(staff_member, and_(
            staff_member.c.office_id == establishment.c.office_id,
            staff_member.c.grade == establishment.c.grade,
            staff_member.c.start_date <= establishment.c.month,
            or_(staff_member.c.end_date.is_(None),
                staff_member.c.end_date >= establishment.c.month)))
        .group_by(establishment.c.id)
        .subquery()
    )


def gaps_by_month_from_rows(conn: Connection, f: Filters, level: Level = "office",
                            by_grade: bool = True) -> pd.DataFrame:
    """gaps_by_month computed from establishment and staff_member rows."""
    in_post = _in_post_per_establishment_row()
    in_post_fte = func.coalesce(in_post.c.in_post_fte, 0.0)
    vacancy = case((establishment.c.budgeted_fte > in_post_fte,
                    establishment.c.budgeted_fte - in_post_fte), else_=0.0)
    month = month_of(establishment.c.month)
    groups = [month.label("month"), *level_columns(level)]
    if by_grade:
        groups.append(establishment.c.grade.label("grade"))
    stmt = (
        select(*groups,
               func.sum(establishment.c.budgeted_fte).label("establishment_fte"),
               func.sum(in_post_fte).label("in_post_fte"),
               func.sum(vacancy).label("vacancy_fte"),
               func.sum(func.coalesce(in_post.c.staff_in_post, 0)).label("staff_in_post"))
        .select_from(establishment)
        .join(office, office.c.id == establishment.c.office_id)
        .join(area, area.c.id == office.c.area_id)
        .outerjoin(in_post, in_post.c.est_id == establishment.c.id)
        .where(*f.clauses(establishment.c.month, establishment.c.office_id))
        .group_by(*groups)
        .order_by(*groups)
    )
    return read_frame(stmt, conn)


def caseload_by_month_from_rows(conn: Connection, f: Filters,
                                level: Level = "office") -> pd.DataFrame:
    """caseload_by_month computed from person_on_probation and staff rows."""
    spine = (  # one row per office and month: the PO establishment rows
        select(establishment.c.office_id, establishment.c.month)
        .where(establishment.c.grade == "PO",
               *f.clauses(establishment.c.month, establishment.c.office_id))
        .subquery()
    )
    weighted = workload_points(person)
    first_days = select(spine.c.month).distinct().subquery()
    open_on = (  # cases open on each first day, for the office holding them that day
        select(first_days.c.month, office_held.label("office_id"),
               person.c.id.label("person_id"), weighted.label("points"))
        .select_from(first_days)
        .join(person, and_(person.c.start_date <= first_days.c.month,
                           person.c.end_date >= first_days.c.month))
        .outerjoin(held, on_date(person.c.id, first_days.c.month))
        .where(or_(held.c.id.is_not(None),
                   unallocated(person.c.id, person.c.start_date, person.c.end_date)))
        .subquery()
    )
    cases = (
        select(spine.c.office_id, spine.c.month,
               func.count(open_on.c.person_id).label("open_cases"),
               func.coalesce(func.sum(open_on.c.points), 0.0).label("workload_points"))
        .select_from(spine)
        .outerjoin(open_on, and_(open_on.c.office_id == spine.c.office_id,
                                 open_on.c.month == spine.c.month))
        .group_by(spine.c.office_id, spine.c.month)
        .subquery()
    )
    in_post = _in_post_per_establishment_row()
    fte = (
        select(establishment.c.office_id, establishment.c.month,
               func.coalesce(func.sum(in_post.c.in_post_fte), 0.0).label("case_holding_fte"))
        .select_from(establishment)
        .outerjoin(in_post, in_post.c.est_id == establishment.c.id)
        .where(establishment.c.grade.in_(CASE_HOLDING),
               *f.clauses(establishment.c.month, establishment.c.office_id))
        .group_by(establishment.c.office_id, establishment.c.month)
        .subquery()
    )
    month = month_of(cases.c.month)
    groups = [month.label("month"), *level_columns(level)]
    stmt = (
        select(*groups,
               func.sum(cases.c.open_cases).label("open_cases"),
               func.sum(cases.c.workload_points).label("workload_points"),
               func.sum(fte.c.case_holding_fte).label("case_holding_fte"),
               (func.sum(fte.c.case_holding_fte) * literal(POINTS_PER_FTE)).label(
                   "available_points"))
        .select_from(cases)
        .join(fte, and_(fte.c.office_id == cases.c.office_id, fte.c.month == cases.c.month))
        .join(office, office.c.id == cases.c.office_id)
        .join(area, area.c.id == office.c.area_id)
        .group_by(*groups)
        .order_by(*groups)
    )
    return read_frame(stmt, conn)


def absence_from_rows(conn: Connection, f: Filters, level: Level = "office") -> pd.DataFrame:
    """absence computed from staff_absence rows."""
    return read_frame(ABSENCE_COUNTED.by_level(f, level_columns(level)), conn)
