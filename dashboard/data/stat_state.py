"""Which stored statistics (dashboard.data.summary_schema, the stat_* tables) are up to date.

The stored statistics are computed from the monthly figures by dashboard.precompute, a layer
above queries/, so the data layer cannot recompute them itself. Instead every refresh of
the monthly summaries marks the months it touched as *pending* here, in the same
transaction (``mark_stale``); dashboard.precompute.statistics.refresh recomputes the
pending months and clears them. Readers (queries.stored_stats) use a stored figure only
when ``serves`` says its months are covered and none of them is pending, else they compute
it at view time: a refresh that was never followed by a recompute makes a page slower,
never wrong.

The stored data-quality counts (dq_check_month, dq_table_size) follow the same rule with a
coarser grain: any refresh of the summaries of a table they count (CHECK_SOURCES) marks them
all out of date (``mark_checks_stale``); dashboard.precompute.data_checks recounts them all,
and queries.data_quality reads them only while ``checks_serve``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import Connection, delete, func, or_, select

from dashboard.core.filters import add_months, month_start
from dashboard.data.summary_schema import stat_pending, stat_state

STATE = "statistics"
CHECKS = "data_quality"
WINDOW_MONTHS = 12  # the long window: 12 months ending with each month users can pick

# The raw tables the stored data-quality counts read. Audits are checked at view time (a few
# thousand rows, and an auditor's account can change without any refresh).
CHECK_SOURCES = frozenset({"person_on_probation", "case_allocation", "staff_member",
                           "appointment", "upw_order", "upw_session", "custody_release",
                           "calendar_day"})


def mark_stale(conn: Connection, months: Iterable[date] | None = None) -> None:
    """Mark the stored statistics of these months (None: every month) out of date, in the
    caller's transaction."""
    firsts = [None] if months is None else sorted({month_start(m) for m in months})
    if firsts:
        conn.execute(stat_pending.insert(), [{"month": m} for m in firsts])


def pending(conn: Connection) -> tuple[int, set[date] | None]:
    """(the last pending row's id, the pending months; None: every month). (0, set())
    when nothing is pending."""
    rows = conn.execute(select(stat_pending.c.id, stat_pending.c.month)).all()
    if not rows:
        return 0, set()
    months = None if any(r.month is None for r in rows) else {_as_date(r.month) for r in rows}
    return max(int(r.id) for r in rows), months


def clear_pending(conn: Connection, up_to_id: int) -> None:
    """Forget the pending rows recomputed (ids up to up_to_id; later ones stay)."""
    conn.execute(delete(stat_pending).where(stat_pending.c.id <= up_to_id))


def coverage(conn: Connection, name: str = STATE) -> tuple[date, date] | None:
    """(first, last) window end month stored (name CHECKS: month counted), or None before
    the first refresh."""
    row = conn.execute(select(stat_state.c.first_month, stat_state.c.last_month)
                       .where(stat_state.c.name == name)).first()
    return None if row is None else (_as_date(row[0]), _as_date(row[1]))


def set_coverage(conn: Connection, first: date, last: date, name: str = STATE) -> None:
    conn.execute(delete(stat_state).where(stat_state.c.name == name))
    conn.execute(stat_state.insert().values(name=name, first_month=first, last_month=last))


def mark_checks_stale(conn: Connection, tables: Iterable[str] | None = None) -> None:
    """Mark every stored data-quality count out of date when the rows of `tables` (None:
    any table) changed and the counts read them; in the caller's transaction."""
    if tables is None or CHECK_SOURCES & set(tables):
        conn.execute(delete(stat_state).where(stat_state.c.name == CHECKS))


def checks_serve(conn: Connection, start: date, end: date) -> bool:
    """May queries.data_quality read the stored counts for start..end? Only whole months
    (the dashboard's filters always are) inside the months counted, and only while no
    refresh has marked them out of date."""
    if start.day != 1 or (end + timedelta(days=1)).day != 1:
        return False
    state = coverage(conn, CHECKS)
    return state is not None and state[0] <= start and month_start(end) <= state[1]


def serves(conn: Connection, first: date, last: date, window_end: bool = True) -> bool:
    """May a reader use the stored statistics for the months first..last (any days in
    them)? window_end: the statistic is keyed by a window ending in `last`'s month, which
    must lie in the stored window ends; otherwise (monthly counts) every month must lie in
    the stored months (from WINDOW_MONTHS - 1 months before the first window end). And no
    month from first to last may be pending."""
    state = coverage(conn)
    if state is None:
        return False
    first, last = month_start(first), month_start(last)
    lowest = state[0] if window_end else add_months(state[0], -(WINDOW_MONTHS - 1))
    if not (lowest <= (last if window_end else first) and last <= state[1]):
        return False
    stale = conn.execute(select(func.count()).select_from(stat_pending).where(or_(
        stat_pending.c.month.is_(None),
        (stat_pending.c.month >= first) & (stat_pending.c.month <= last)))).scalar()
    return not stale


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
