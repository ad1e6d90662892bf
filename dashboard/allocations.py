"""Where a case was allocated on a date: the one join every figure uses (issue 12).

A person's allocation history (``case_allocation``: office, team, responsible officer,
from a date to a date, the open one with no end) decides where each event counts: an
appointment, session, order, release or audit counts for the office (and team and
officer) holding the case on the event's date; a snapshot (cases open on the first of a
month, orders live at a month's end) for the office holding it on the snapshot's date. A
transfer therefore moves only the figures dated from the transfer on, in both offices.

Usage in a query (SQLAlchemy Core), in place of joining the person for its office::

    held = allocations.held
    stmt = (select(held.c.office_id, ...).select_from(appointment)
            .join(held, allocations.on_date(appointment.c.person_id,
                                            appointment.c.appointment_date))
            .where(*f.clauses(appointment.c.appointment_date, held.c.office_id)))

``person_on_probation.office_id`` / ``officer_id`` mirror the open allocation
(``sync_current``) so case lists and scopes keep reading today's allocation.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import Connection, Date, and_, func, or_, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from dashboard.schema import case_allocation, person

# The allocation table under the name the queries read best ("the office holding it").
held = case_allocation


def on_date(person_id, day, allocation=held):
    """ON clause: `allocation` is the row of `person_id` open on `day` (from and to
    inclusive, no end = still open). Allocations of one person never overlap (the
    importer and the generator keep it so), so at most one row matches."""
    return and_(allocation.c.person_id == person_id, allocation.c.start_date <= day,
                or_(allocation.c.end_date.is_(None), allocation.c.end_date >= day))


def overlapping(person_id, first, last, allocation=held):
    """ON clause: `allocation` is a row of `person_id` held on any day from `first` to
    `last` (both dates inclusive; `last` None = open-ended)."""
    clauses = [allocation.c.person_id == person_id,
               or_(allocation.c.end_date.is_(None), allocation.c.end_date >= first)]
    if last is not None:
        clauses.append(allocation.c.start_date <= last)
    return and_(*clauses)


def sync_current(conn: Connection, person_ids: Iterable[int] | None = None) -> int:
    """Copy each person's latest allocation (the open one, else the last to end) to
    person_on_probation.office_id / officer_id, for `person_ids` (None: everyone).
    Returns the number of people whose columns changed."""
    latest = (select(func.max(held.c.start_date))
              .where(held.c.person_id == person.c.id).scalar_subquery())
    current = (select(held.c.office_id, held.c.officer_id)
               .where(held.c.person_id == person.c.id, held.c.start_date == latest))
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


def transfer(conn: Connection, person_id: int, office_id: int, from_date: date,
             officer_id: int | None = None, team_id: int | None = None) -> None:
    """Move a case to another office (and officer, team) from `from_date`: the allocation
    open on the day before ends then, a new open one starts. For scripts and tests; an
    import of the allocation extract does the same through the importer."""
    before = from_date - timedelta(days=1)
    conn.execute(update(held).where(on_date(held.c.person_id, before),
                                    held.c.person_id == person_id)
                 .values(end_date=before))
    conn.execute(held.insert().values(person_id=person_id, office_id=office_id,
                                      team_id=team_id, officer_id=officer_id,
                                      start_date=from_date, end_date=None))
    sync_current(conn, [person_id])


class day_after(FunctionElement):  # noqa: N801 - reads like a SQL function
    """The day after a date (NULL stays NULL): where an allocation ending on a date hands
    the case over. A date on both dialects (SQLite's ISO text, PostgreSQL's date)."""

    type = Date()
    inherit_cache = True
    name = "day_after"


@compiles(day_after, "sqlite")
def _day_after_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, '+1 day')"


@compiles(day_after)
def _day_after_default(element, compiler, **kw):
    return f"({compiler.process(element.clauses, **kw)} + 1)"
