"""Where a case was allocated on a date: the one join every figure uses (issue 12).

A person's allocation history (``case_allocation``: office, team, responsible officer,
from a date to a date, the open one with no end) decides where each event counts: an
appointment, session, order, release or audit counts for the office (and team and
officer) holding the case on the event's date; a snapshot (cases open on the first of a
month, orders live at a month's end) for the office holding it on the snapshot's date. A
transfer therefore moves only the figures dated from the transfer on, in both offices.

Usage in a query (SQLAlchemy Core): join the person as before, add one outer join to the
allocation on the event's date, and read the office from ``office_held``::

    a = appointment
    stmt = (select(office_held.label("office_id"), ...).select_from(a)
            .join(person, person.c.id == a.c.person_id)
            .outerjoin(held, on_date(person.c.id, a.c.appointment_date))
            .where(*f.clauses(a.c.appointment_date, office_held)))

A date no allocation covers (rows written without a history: a script, an old test)
counts where the person is now, so nothing is ever dropped. Snapshots add
``unallocated(...)``: with an allocation history only the days it covers count.
``person_on_probation.office_id`` / ``officer_id`` mirror the latest allocation
(``sync_current``) so case lists and scopes keep reading today's allocation.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, case, func, or_, select, union_all, update

from dashboard.data.schema import (
    appointment,
    case_allocation,
    case_audit,
    custody_release,
    person,
    upw_order,
    upw_session,
)

# The allocation table under the name the queries read best ("the office holding it").
held = case_allocation
# The office holding a case on an event's date, for a statement joined to the person and
# outer-joined to the allocation on that date: the allocation's office, or where the
# person is now when no allocation covers the date (rows written without an allocation
# history, e.g. by a script, still count where the person is).
office_held = func.coalesce(held.c.office_id, person.c.office_id)
officer_held = case((held.c.id.is_not(None), held.c.officer_id), else_=person.c.officer_id)


def overlapping(allocation, person_id, first, last=None, before=None) -> list:
    """WHERE/ON clauses: `allocation` is a row of `person_id` covering some day from
    `first` to `last` (inclusive) or up to `before` (exclusive); neither: open-ended. The
    pieces a period is cut into, one per allocation (snapshots and the summaries)."""
    clauses = [allocation.c.person_id == person_id,
               or_(allocation.c.end_date.is_(None), allocation.c.end_date >= first)]
    if last is not None:
        clauses.append(allocation.c.start_date <= last)
    if before is not None:
        clauses.append(allocation.c.start_date < before)
    return clauses


def unallocated(person_id, first, last=None, before=None):
    """WHERE clause for snapshots: the person has no allocation on any day from `first`
    to `last` (inclusive) or up to `before` (exclusive); neither: open-ended. Such a span
    counts where the person is now; otherwise only the days allocations cover count (as
    the monthly summaries do)."""
    other = held.alias("any_allocation")
    return ~select(other.c.id).where(*overlapping(other, person_id, first, last,
                                                  before)).exists()


def on_date(person_id, day, allocation=held):
    """ON clause: `allocation` is the row of `person_id` open on `day` (from and to
    inclusive, no end = still open). Allocations of one person never overlap (the
    importer and the generator keep it so), so at most one row matches."""
    return and_(allocation.c.person_id == person_id, allocation.c.start_date <= day,
                or_(allocation.c.end_date.is_(None), allocation.c.end_date >= day))


def sync_current(conn: Connection, person_ids: Iterable[int] | None = None) -> int:
    """Copy each person's latest allocation (the open one, else the last to end) to
    person_on_probation.office_id / officer_id, for `person_ids` (None: everyone).
    Returns the number of people whose columns changed."""
    later = held.alias("later")
    current = (select(held.c.office_id, held.c.officer_id)
               .where(held.c.person_id == person.c.id,
                      ~select(later.c.id).where(later.c.person_id == held.c.person_id,
                                                later.c.start_date > held.c.start_date)
                      .exists())
               .correlate(person))
    office_now = current.with_only_columns(held.c.office_id).scalar_subquery()
    officer_now = current.with_only_columns(held.c.officer_id).scalar_subquery()
    has_any = select(held.c.id).where(held.c.person_id == person.c.id).exists()
    differs = or_(person.c.office_id != office_now,
                  person.c.officer_id.is_distinct_from(officer_now))
    stmt = update(person).where(has_any, differs).values(office_id=office_now,
                                                         officer_id=officer_now)
    changed = 0
    ids = None if person_ids is None else sorted({int(i) for i in person_ids})
    if ids is None:
        return conn.execute(stmt).rowcount
    for start in range(0, len(ids), 500):
        changed += conn.execute(stmt.where(person.c.id.in_(ids[start:start + 500]))).rowcount
    return changed


# --- imports: checks over the whole file, and keeping the person's columns in step -------

PROBLEM_COLUMNS = ["row", "column", "value", "message"]


def overlap_problems(conn: Connection, rows: pd.DataFrame) -> pd.DataFrame:
    """Allocation rows of one file that overlap another period of the same person: in the
    file, or stored and not replaced by the file (same person and start date). rows:
    row (spreadsheet row number), crn, person_id, start_date, end_date (dates or None);
    rows missing a person or start date are left to the row checks. Returns problems
    (row, column, value, message), one per overlapping file row."""
    rows = rows.dropna(subset=["person_id", "start_date"])
    if rows.empty:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    people = sorted({int(p) for p in rows["person_id"]})
    stored = []
    for start in range(0, len(people), 500):
        part = people[start:start + 500]
        stored.append(pd.read_sql(
            select(held.c.person_id, held.c.start_date, held.c.end_date)
            .where(held.c.person_id.in_(part)), conn))
    kept = pd.concat(stored, ignore_index=True) if stored else pd.DataFrame(
        columns=["person_id", "start_date", "end_date"])
    file_rows = rows.assign(person_id=rows["person_id"].astype(int),
                            start_date=pd.to_datetime(rows["start_date"]),
                            end_date=pd.to_datetime(rows["end_date"]))
    kept = kept.assign(start_date=pd.to_datetime(kept["start_date"]),
                       end_date=pd.to_datetime(kept["end_date"]), row=pd.NA)
    replaced = kept.merge(file_rows[["person_id", "start_date"]], how="left", indicator=True,
                          on=["person_id", "start_date"])["_merge"].eq("both").to_numpy()
    periods = pd.concat([file_rows[["row", "person_id", "start_date", "end_date"]],
                         kept.loc[~replaced, ["row", "person_id", "start_date", "end_date"]]],
                        ignore_index=True)
    periods = periods.sort_values(["person_id", "start_date"], kind="stable")
    open_end = periods["end_date"].fillna(pd.Timestamp.max)
    # a period overlaps the one before it when it starts on or before that one's end
    # (sorted by start, so comparing neighbours finds every overlap)
    prev_end = open_end.groupby(periods["person_id"]).shift()
    prev_row = periods["row"].groupby(periods["person_id"]).shift()
    prev_start = periods["start_date"].groupby(periods["person_id"]).shift()
    clash = (periods["start_date"] <= prev_end).fillna(False).to_numpy()
    crn_of = dict(zip(rows["row"], rows["crn"], strict=True))
    out = []
    for i in np.flatnonzero(clash):
        this, other = periods.iloc[i], prev_row.iloc[i]
        other_end = prev_end.iloc[i]
        ends = "open" if other_end == pd.Timestamp.max else f"to {other_end:%Y-%m-%d}"
        where = (f"row {int(other)} of the file" if pd.notna(other)
                 else "the stored allocation")
        text = (f"overlaps {where} (from {prev_start.iloc[i]:%Y-%m-%d} {ends}); one "
                "person has one allocation on any day: end the earlier one first")
        rows_hit = [this["row"]] if pd.notna(this["row"]) else []
        if pd.notna(other):
            rows_hit.append(other)
        for r in rows_hit:
            out.append({"row": int(r), "column": "start_date",
                        "value": f"{crn_of.get(r, '')} {this['start_date']:%Y-%m-%d}".strip(),
                        "message": text})
    problems = pd.DataFrame(out, columns=PROBLEM_COLUMNS)
    return problems.drop_duplicates(["row", "message"])


def open_missing(conn: Connection) -> int:
    """Give every person without any allocation one open allocation from their columns
    (office, officer), starting on the earlier of their start date and their first
    dated event, so rows written by a path that knows nothing of allocations (a script,
    an old test) are still counted where the person is. Returns the rows added."""
    has_any = select(held.c.id).where(held.c.person_id == person.c.id).exists()
    if conn.execute(select(person.c.id).where(~has_any).limit(1)).first() is None:
        return 0
    dated = [select(appointment.c.person_id.label("pid"),
                    appointment.c.appointment_date.label("day")),
             select(upw_order.c.person_id, upw_order.c.sentence_date),
             select(custody_release.c.person_id, custody_release.c.release_date),
             select(case_audit.c.person_id, case_audit.c.audit_date),
             select(upw_order.c.person_id, upw_session.c.session_date)
             .join(upw_order, upw_order.c.id == upw_session.c.order_id)]
    events = union_all(*dated).subquery()
    first = (select(events.c.pid, func.min(events.c.day).label("first_day"))
             .group_by(events.c.pid).subquery())
    start = case((and_(first.c.first_day.is_not(None), first.c.first_day < person.c.start_date),
                  first.c.first_day), else_=person.c.start_date)
    return conn.execute(held.insert().from_select(
        ["person_id", "office_id", "officer_id", "start_date"],
        select(person.c.id, person.c.office_id, person.c.officer_id, start)
        .outerjoin(first, first.c.pid == person.c.id)
        .where(~has_any))).rowcount


def follow_person_import(conn: Connection, change_day: date) -> int:
    """After people were imported: give each person without an allocation an open one
    from their start date; where a person's office or officer now differs from their
    open allocation, end that allocation the day before `change_day` (the day after the
    data's as-of date: the extract says where the case is now, not since when) and open
    the new one, so no past figure moves. Returns the number of allocations written."""
    added = open_missing(conn)
    moved = conn.execute(
        select(held.c.id, held.c.person_id, held.c.start_date, person.c.office_id,
               person.c.officer_id)
        .join(person, person.c.id == held.c.person_id)
        .where(held.c.end_date.is_(None),
               or_(held.c.office_id != person.c.office_id,
                   held.c.officer_id.is_distinct_from(person.c.officer_id)))).all()
    for alloc_id, person_id, start, office_id, officer_id in moved:
        start = start if isinstance(start, date) else date.fromisoformat(str(start)[:10])
        if start >= change_day:  # not begun yet: correct it in place
            conn.execute(update(held).where(held.c.id == alloc_id)
                         .values(office_id=office_id, officer_id=officer_id, team_id=None))
            continue
        conn.execute(update(held).where(held.c.id == alloc_id)
                     .values(end_date=change_day - timedelta(days=1)))
        conn.execute(held.insert().values(person_id=person_id, office_id=office_id,
                                          officer_id=officer_id, start_date=change_day))
    return added + len(moved)
