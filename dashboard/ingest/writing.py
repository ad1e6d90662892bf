"""Inside the one write transaction of an import: the planned inserts and updates, then
what follows from them (people and their allocations in step, the calendar covering every
date loaded, the monthly summaries, data_as_of and data_version)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from dashboard.core.workdays import calendar_rows
from dashboard.data import allocations, schema, summaries
from dashboard.data.schema import calendar_day, dataset_info
from dashboard.ingest.format_spec import ExtractFormat
from dashboard.ingest.natural_keys import in_batches
from dashboard.ingest.planning import PLAN_END, Touched, as_date
from dashboard.ingest.reading import Deadline
from dashboard.ingest.report import ImportReport, Progress
from dashboard.ingest.staging import Staging

WRITE_END = 0.95  # of the progress bar when the rows are written


def apply_plan(conn: Connection, fmt: ExtractFormat, staging: Staging, report: ImportReport,
               say: Progress, deadline: Deadline) -> None:
    """Inside the one write transaction: execute the planned inserts and updates."""
    written = 0
    total = report.inserted + report.updated
    for inserts, updates in staging.plans():
        deadline.check()
        write_chunk(conn, fmt, inserts, updates)
        written += len(inserts) + len(updates)
        say(PLAN_END + (WRITE_END - PLAN_END) * (written / total if total else 1.0),
            f"Wrote {written:,} of {total:,} changed rows")


def write_chunk(conn: Connection, fmt: ExtractFormat, inserts: list[dict],
                updates: list[dict]) -> None:
    """Execute one chunk's planned inserts and updates (from plan_chunk)."""
    table = fmt.db_table
    for part in in_batches(inserts, 5_000):
        conn.execute(insert(table), part)
    if updates:
        columns = [k[2:] for k in updates[0] if k.startswith("v_")]
        stmt = (update(table).where(table.c.id == bindparam("_id"))
                .values({c: bindparam(f"v_{c}") for c in columns}))
        for part in in_batches(updates, 5_000):
            conn.execute(stmt, part)


def _ensure_calendar(conn: Connection, earliest: date | None, latest: date | None) -> bool:
    """Make calendar_day cover every date loaded (whole years, one spare year ahead).
    Returns True when the calendar had to change."""
    if earliest is None or latest is None:
        return False
    first, last = date(earliest.year, 1, 1), date(latest.year + 1, 12, 31)
    have_first, have_last = conn.execute(
        select(func.min(calendar_day.c.day), func.max(calendar_day.c.day))).one()
    have_first, have_last = as_date(have_first), as_date(have_last)
    if have_first is not None and have_first <= first and have_last >= last:
        return False
    if have_first is not None:
        first, last = min(first, have_first), max(last, have_last)
    # renumbered from the new first day: queries only subtract two numbers, so the
    # differences (working days between two dates) stay the same
    conn.execute(delete(calendar_day))
    rows = calendar_rows(first, last)
    for part in in_batches(rows, 5_000):
        conn.execute(insert(calendar_day), part)
    return True


def _follow_allocations(conn: Connection, table: str, touched: Touched) -> None:
    """Keep people and their allocation history in step after a write: an allocation
    import sets each person's office and officer to their latest allocation; a people
    import gives new people an allocation and starts a new one (the day after the data's
    as-of date) for people whose office or officer changed."""
    if table == "case_allocation":
        allocations.sync_current(conn, touched.people)
    elif table == "person_on_probation":
        as_of = conn.execute(select(dataset_info.c.value)
                             .where(dataset_info.c.key == "data_as_of")).scalar()
        allocations.follow_person_import(conn, date.fromisoformat(as_of) + timedelta(days=1)
                                         if as_of else date.today())


def _refresh_summaries(conn: Connection, table: str, touched: Touched,
                       calendar_changed: bool) -> None:
    """Bring the monthly summary tables (dashboard.data.summaries) up to date with the rows
    just written, in the same transaction: the months touched, or everything when the
    calendar changed or a person or staff member moved office; for allocations, both
    offices' months from the earliest date changed."""
    state = summaries.coverage(conn)
    if table == "case_allocation" and not calendar_changed and touched.months and state:
        # an allocation moves every figure dated in it: both offices' months from the
        # earliest date changed to the last month summarised (none outside the months
        # summarised: those are read from the raw rows)
        first = max(min(touched.months), state[0])
        if first <= state[1]:
            summaries.refresh_months(conn, summaries.month_range(first, state[1]),
                                     touched.offices, tables=[table])
    elif calendar_changed or touched.office_moved or (table == "case_allocation"
                                                      and touched.months):
        summaries.refresh_all(conn)
    elif table in summaries.DEPENDS and touched.months:
        summaries.refresh_months(conn, touched.months, None, tables=[table])


def _set_facts(conn: Connection, report: ImportReport, changed: bool) -> None:
    """Move data_as_of to the latest date loaded (never past today) and bump
    data_version, so every cached figure is recomputed."""
    facts = dict(conn.execute(select(dataset_info.c.key, dataset_info.c.value)).all())
    new: dict[str, str] = {}
    if report.max_date is not None:
        latest = min(report.max_date, date.today())
        if "data_as_of" not in facts or latest > date.fromisoformat(facts["data_as_of"]):
            new["data_as_of"] = latest.isoformat()
    as_of = new.get("data_as_of", facts.get("data_as_of"))
    if as_of is None:  # nothing dated loaded yet: the dashboard has no figures to show
        return
    first = conn.execute(select(func.min(schema.appointment.c.appointment_date))).scalar()
    if first is None:
        first = conn.execute(select(func.min(schema.establishment.c.month))).scalar()
    start = (first or date.fromisoformat(as_of)).replace(day=1)
    if "history_start" in facts:
        start = min(start, date.fromisoformat(facts["history_start"]))
    start = min(start, date.fromisoformat(as_of).replace(day=1))
    if facts.get("history_start") != start.isoformat():
        new["history_start"] = start.isoformat()
    if changed or new or "data_version" not in facts:
        new["data_version"] = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    for key, value in new.items():
        if key in facts:
            conn.execute(update(dataset_info).where(dataset_info.c.key == key)
                         .values(value=value))
        else:
            conn.execute(insert(dataset_info).values(key=key, value=value))


def write_planned(conn: Connection, fmt: ExtractFormat, staging: Staging,
                  report: ImportReport, touched: Touched, say: Progress,
                  deadline: Deadline) -> None:
    """Inside the caller's write transaction: the planned rows, then the dataset's facts,
    and, when a row changed, the allocations, the calendar and the monthly summaries."""
    apply_plan(conn, fmt, staging, report, say, deadline)
    changed = report.inserted + report.updated > 0
    _set_facts(conn, report, changed)
    if changed:
        _follow_allocations(conn, fmt.table, touched)
        say(0.97, "Updating the monthly summaries")
        calendar_changed = _ensure_calendar(conn, touched.earliest, touched.latest)
        _refresh_summaries(conn, fmt.table, touched, calendar_changed)
