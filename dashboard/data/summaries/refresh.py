"""What is refreshed for which months and offices: rebuild everything, or only the rows an
import can have changed (see the package docstring)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Connection, delete

from dashboard.core.filters import add_months, month_start
from dashboard.data import stat_state
from dashboard.data import summary_schema as ss
from dashboard.data.summaries import audits, gate, staffing, supervision, unpaid_work
from dashboard.data.summaries.months import Months
from dashboard.data.summaries.state import coverage, data_range, mark_data_changed, set_state
from dashboard.data.summaries.store import known_offices, refresh_events

# summary family -> (summary table, the events it counts by their own date)
EVENT_FAMILIES = {
    "absence": (ss.summary_absence, staffing.ABSENCE),
    "audits": (ss.summary_audit, audits.AUDITS),
    "answers": (ss.summary_audit_answer, audits.ANSWERS),
    "sessions": (ss.summary_upw_session, unpaid_work.SESSIONS),
    "orders": (ss.summary_upw_order, unpaid_work.ORDERS),
    "completed": (ss.summary_upw_completed, unpaid_work.COMPLETED),
    "releases": (ss.summary_release, gate.RELEASES),
    "appointments": (ss.summary_appointment, supervision.APPOINTMENTS),
}

# raw table -> the summary families its rows feed
DEPENDS = {
    "appointment": {"appointments"},
    "upw_session": {"sessions", "starts", "outstanding"},
    "upw_order": {"orders", "completed", "due", "starts", "outstanding"},
    "custody_release": {"releases"},
    "case_audit": {"audits", "answers"},
    "audit_answer": {"answers"},
    "staff_absence": {"absence"},
    "staff_member": {"staffing"},
    "establishment": {"staffing"},
    "person_on_probation": {"caseload"},
    # where a case is allocated decides the office of every event and snapshot
    "case_allocation": {"appointments", "sessions", "orders", "completed", "due", "starts",
                        "outstanding", "releases", "audits", "answers", "caseload"},
    "calendar_day": {"releases", "starts"},
}


def refresh_all(conn: Connection) -> None:
    """Rebuild every summary table from the raw rows, in the caller's transaction."""
    for table in ss.SUMMARY_TABLES:
        conn.execute(delete(table))
    conn.execute(delete(ss.summary_state))
    stat_state.mark_stale(conn)  # the stored statistics follow (dashboard.precompute)
    stat_state.mark_checks_stale(conn)  # and the stored data-quality counts
    span = data_range(conn)
    if span is None:
        return
    first, last = span
    every = Months()
    offices = known_offices(conn, None)
    staffing.refresh_staffing(conn, every, None)
    for table, counts in EVENT_FAMILIES.values():
        refresh_events(conn, every, None, table, counts)
    unpaid_work.refresh_due(conn, every, None)
    unpaid_work.refresh_starts(conn, every, None)
    staffing.refresh_caseload(conn, first, last, offices, first)
    unpaid_work.refresh_outstanding(conn, first, last, offices, first)
    set_state(conn, first, last)
    if conn.dialect.name == "postgresql":  # planner statistics for the rebuilt tables
        for table in ss.SUMMARY_TABLES:
            conn.exec_driver_sql(f"ANALYZE {table.name}")


def refresh_months(conn: Connection, months: Iterable[date],
                   office_ids: Iterable[int] | None = None,
                   tables: Iterable[str] | None = None) -> None:
    """Recompute the summary rows that raw rows dated in `months` (for the offices
    `office_ids`, or any office) can change; see the package docstring for what that
    covers. `tables` names the raw tables whose rows changed (default: all of them), so a
    saved audit does not recompute appointments. Runs in the caller's transaction and
    bumps dataset_info.data_version."""
    touched = sorted({month_start(m) for m in months})
    if not touched:
        return
    state = coverage(conn)
    if state is None:
        refresh_all(conn)
        mark_data_changed(conn)
        return
    unknown = set(tables or ()) - set(DEPENDS)
    if unknown:
        raise ValueError(f"no summaries depend on {sorted(unknown)}")
    families = set().union(*DEPENDS.values()) if tables is None else set().union(
        *(DEPENDS[t] for t in tables))
    first, last = min(state[0], touched[0]), max(state[1], touched[-1])
    ids = None if office_ids is None else tuple(sorted({int(i) for i in office_ids}))
    exact = Months(exact=tuple(touched))
    if "staffing" in families:
        staffing.refresh_staffing(conn, Months(start=touched[0]), ids)
    for name, (table, counts) in EVENT_FAMILIES.items():
        if name in families:
            refresh_events(conn, exact, ids, table, counts)
    if "due" in families:
        unpaid_work.refresh_due(conn, Months(exact=tuple(sorted(
            {add_months(m, k) for m in touched for k in range(13)}))), ids)
    if "starts" in families:
        # a session in m can start an order sentenced in m-1 or m, due in m-1, m or m+1
        unpaid_work.refresh_starts(conn, Months(exact=tuple(sorted(
            {add_months(m, k) for m in touched for k in (-1, 0, 1)}))), ids)
    # Levels carry over from month to month: new months at the end need every office.
    level_from, level_ids = touched[0], ids
    if last > state[1]:
        level_from, level_ids = min(level_from, add_months(state[1], 1)), None
        families |= {"caseload", "outstanding"}
    offices = known_offices(conn, level_ids)
    if "caseload" in families:
        staffing.refresh_caseload(conn, level_from, last, offices, first)
    if "outstanding" in families:
        unpaid_work.refresh_outstanding(conn, level_from, last, offices, first)
    set_state(conn, first, last)
    stat_state.mark_stale(conn, touched)  # the stored statistics follow (dashboard.precompute)
    stat_state.mark_checks_stale(conn, tables)  # the data-quality counts of those tables
    mark_data_changed(conn)
