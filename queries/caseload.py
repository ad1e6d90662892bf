"""Caseload and workload per team and officer from the allocation history, in the
Workload Measurement Tool's drill order: region -> area -> office -> team -> officer.

A case counts for the office, team and officer it was allocated to on the snapshot day
(the first day of the period's last month, as the staffing page counts caseloads), so a
transfer or a reallocation moves it from that day on only. Case-holding capacity is the
PO and PSO FTE in post on that day (an officer's own FTE, a team's officers', an office's
case-holding staff); available points = FTE x POINTS_PER_FTE.

``officer_cases`` lists the cases behind one officer's row: person-level, so it takes the
user's Scope and applies it in SQL, like queries/cases.py.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import BigInteger, Connection, and_, case, cast, func, literal, or_, select

from dashboard.access.scope import Scope, require_person_level
from dashboard.core.filters import Filters, month_start
from dashboard.data.allocations import held, office_held, officer_held, on_date, unallocated
from dashboard.data.schema import area, office, person, staff_member, team
from dashboard.data.summaries import CASE_HOLDING, POINTS_PER_FTE
from dashboard.data.summaries.staffing import workload_points
from queries._frames import read_frame

DRILL_LEVELS = ("area", "office", "team", "officer")
NO_TEAM = "(no team)"
UNALLOCATED = "(unallocated)"
LIMIT = 5000
KEYS = {  # the columns that identify a row at each level (besides the names)
    "area": ["area"],
    "office": ["area", "office", "office_code"],
    "team": ["area", "office", "office_code", "team", "team_code"],
    "officer": ["area", "office", "office_code", "team", "team_code", "officer_id",
                "officer", "grade"],
}
GLOSSARY = ("caseload_per_officer", "workload_capacity")  # defined in the page's help
COUNTS = ["open_cases", "workload_points", "case_holding_fte", "available_points"]


def snapshot_day(f: Filters) -> date:
    """The day caseloads are counted on: the first day of the period's last month."""
    return month_start(f.end)


def _counted():
    """A case open on the day counts where its allocation that day says, or where the
    person is when they have no allocation during the sentence (as the summaries do)."""
    return or_(held.c.id.is_not(None),
               unallocated(person.c.id, person.c.start_date, person.c.end_date))


def _points():
    return workload_points(person)


def _names(level: str, team_col, officer_col):
    """Labelled name columns of a level, from the given team and officer tables."""
    cols = [area.c.name.label("area")]
    if level != "area":
        cols += [office.c.name.label("office"), office.c.code.label("office_code")]
    if level in ("team", "officer"):
        cols += [func.coalesce(team_col.c.name, NO_TEAM).label("team"),
                 func.coalesce(team_col.c.code, "").label("team_code")]
    if level == "officer":
        cols += [func.coalesce(officer_col.c.id, 0).label("officer_id"),
                 func.coalesce(officer_col.c.staff_ref, UNALLOCATED).label("officer"),
                 func.coalesce(officer_col.c.grade, "").label("grade")]
    return cols


def caseload(conn: Connection, f: Filters, level: str = "team",
             day: date | None = None) -> pd.DataFrame:
    """Open cases and workload on `day` (default snapshot_day(f)) per level of
    DRILL_LEVELS, in the filters' offices, with the case-holding capacity there.

    Columns: the level's KEYS (officer level: officer_id 0 and officer "(unallocated)"
    for cases without an officer; team "(no team)" for cases or staff outside a team),
    open_cases, workload_points, case_holding_fte, available_points (points), and at the
    officer level officer_left (the officer had left by `day`: the case waits for
    reallocation). Officers in post with no case are listed with 0 cases.
    """
    if level not in DRILL_LEVELS:
        raise ValueError(f"unknown level {level!r}")
    day = day or snapshot_day(f)
    officer = staff_member.alias("officer")
    names = _names(level, team, officer)
    if level == "officer":  # an officer's cases in one row, whatever team they came from
        names = [c for c in names if c.name not in ("team", "team_code")]
    # Counted per office, team and officer id first (a hash over whole numbers), then
    # named: grouping a country's 263,000 open cases by name strings sorted them on disk.
    ids = [office_held.label("office_id"), held.c.team_id.label("team_id")]
    if level == "officer":
        ids.append(officer_held.label("officer_id"))
    counted = (
        select(*ids, func.count(person.c.id).label("open_cases"),
               func.coalesce(func.sum(_points()), 0.0).label("workload_points"))
        .select_from(person)
        .outerjoin(held, on_date(person.c.id, literal(day)))
        .where(person.c.start_date <= day, person.c.end_date >= day, _counted(),
               *f.office_clause(office_held))
        .group_by(*ids)
        .subquery("counted")
    )
    cases = (
        select(*names,
               cast(func.sum(counted.c.open_cases), BigInteger).label("open_cases"),
               func.sum(counted.c.workload_points).label("workload_points"),
               *([func.max(case((officer.c.end_date < day, 1), else_=0)).label(
                   "officer_left")] if level == "officer" else []))
        .select_from(counted)
        .join(office, office.c.id == counted.c.office_id)
        .join(area, area.c.id == office.c.area_id)
        .outerjoin(team, team.c.id == counted.c.team_id)
    )
    if level == "officer":
        cases = cases.outerjoin(officer, officer.c.id == counted.c.officer_id)
    cases = cases.group_by(*names)
    # capacity: case-holding staff in post on the day, in their office and team
    staff = staff_member
    cap_names = _names(level, team, staff)
    capacity = (
        select(*cap_names, func.sum(staff.c.fte).label("case_holding_fte"))
        .select_from(staff)
        .join(office, office.c.id == staff.c.office_id)
        .join(area, area.c.id == office.c.area_id)
        .outerjoin(team, team.c.id == staff.c.team_id)
        .where(staff.c.grade.in_(CASE_HOLDING), staff.c.start_date <= day,
               or_(staff.c.end_date.is_(None), staff.c.end_date >= day),
               *f.office_clause(staff.c.office_id))
        .group_by(*cap_names)
    )
    keys = KEYS[level]
    load = read_frame(cases, conn)
    fte = read_frame(capacity, conn)
    if level == "officer":
        # an officer's cases are matched to them by id; their team is the staff record's
        # (the allocation's team can lag behind a move between teams)
        fte_keys = ["area", "office", "office_code", "officer_id"]
        fte = fte.drop(columns=["team", "team_code"])
        merged = load.merge(fte, on=fte_keys, how="outer", suffixes=("", "_staff"))
        for col in ("officer", "grade"):
            merged[col] = merged[col].fillna(merged[f"{col}_staff"])
        team_of = read_frame(
            select(staff.c.id.label("officer_id"),
                   func.coalesce(team.c.name, NO_TEAM).label("team"),
                   func.coalesce(team.c.code, "").label("team_code"))
            .outerjoin(team, team.c.id == staff.c.team_id)
            .where(staff.c.id.in_([int(i) for i in merged["officer_id"] if i])), conn)
        merged = merged.drop(columns=[c for c in merged if c.endswith("_staff")]).merge(
            team_of, on="officer_id", how="left")
        merged["team"] = merged["team"].fillna(NO_TEAM)
        merged["team_code"] = merged["team_code"].fillna("")
        merged["officer_left"] = merged["officer_left"].fillna(0).astype(bool)
    else:
        merged = load.merge(fte, on=keys, how="outer")
    merged["open_cases"] = merged["open_cases"].fillna(0).astype("int64")
    merged["workload_points"] = merged["workload_points"].fillna(0.0).astype(float)
    merged["case_holding_fte"] = merged["case_holding_fte"].fillna(0.0).astype(float)
    merged["available_points"] = merged["case_holding_fte"] * POINTS_PER_FTE
    merged["officer_id"] = (merged["officer_id"].astype("int64") if level == "officer"
                            else None)
    columns = [*keys, *COUNTS, *(["officer_left"] if level == "officer" else [])]
    for col in keys:
        if col != "officer_id":
            merged[col] = merged[col].astype(str)
    return merged[columns].sort_values(keys).reset_index(drop=True)


def with_rates(rows: pd.DataFrame) -> pd.DataFrame:
    """caseload rows with caseload_per_officer (open cases per case-holding FTE) and
    workload_capacity (% of available points); NaN where there is no capacity."""
    return rows.assign(
        caseload_per_officer=rows["open_cases"] / rows["case_holding_fte"].where(
            rows["case_holding_fte"] > 0),
        workload_capacity=100 * rows["workload_points"] / rows["available_points"].where(
            rows["available_points"] > 0))


def officer_cases(conn: Connection, f: Filters, scope: Scope, officer_id: int,
                  day: date | None = None, limit: int = LIMIT) -> pd.DataFrame:
    """The cases allocated to one officer (staff_member id; 0 = cases without an
    officer) on `day` (default snapshot_day(f)), within the filters' offices and the
    user's scope. Person-level: raises ScopeError for a role without it.

    Columns: crn, office, team, sentence_type, tier, rosh_level, start_date, end_date,
    allocated_from (first day of this allocation), workload_points.
    """
    require_person_level(scope)
    day = day or snapshot_day(f)
    who = (officer_held.is_(None) if not officer_id else officer_held == int(officer_id))
    stmt = (
        select(person.c.crn, office.c.name.label("office"),
               func.coalesce(team.c.name, NO_TEAM).label("team"), person.c.sentence_type,
               person.c.tier, person.c.rosh_level, person.c.start_date, person.c.end_date,
               func.coalesce(held.c.start_date, person.c.start_date).label("allocated_from"),
               _points().label("workload_points"))
        .select_from(person)
        .outerjoin(held, on_date(person.c.id, literal(day)))
        .join(office, office.c.id == office_held)
        .outerjoin(team, team.c.id == held.c.team_id)
        .where(and_(person.c.start_date <= day, person.c.end_date >= day), who, _counted(),
               *f.office_clause(office_held),
               # scope on the office holding the case that day
               scope.person_clause(person.c.id, office_held))
        .order_by(person.c.crn)
        .limit(limit)
    )
    return read_frame(stmt, conn)
