"""Store the data quality page's large counts when the raw tables they read change: every
cross-table check but the audits' per office and month (dq_check_month), and the large
tables' sizes (dq_table_size).

A refresh of the summaries of a table these counts read marks them all out of date
(dashboard.data.stat_state.mark_checks_stale, in the writer's transaction); ``refresh``
recounts them all from queries.data_quality's own statements and marks them up to date.
Until then the page counts the raw rows itself, so a missed recount makes it slower, never
wrong. tests/test_data_quality.py checks the stored path against the raw rows.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete

from dashboard.data import stat_state
from dashboard.data import summary_schema as ss
from dashboard.data.summaries import coverage
from queries import data_quality


def refresh(conn: Connection) -> int:
    """Recount the stored data-quality counts when they are out of date, over the months
    the summaries cover, in the caller's transaction. Returns the rows written (0 when they
    were up to date, or there are no summaries to follow)."""
    if stat_state.coverage(conn, stat_state.CHECKS) is not None:
        return 0
    for table in ss.DQ_TABLES:
        conn.execute(delete(table))
    months = coverage(conn)
    if months is None:
        return 0
    checks = data_quality.check_counts_by_office_month(conn, *months)
    sizes = data_quality.count_table_sizes(conn, data_quality.STORED_SIZES)
    rows = checks.astype(object).to_dict("records")
    for start in range(0, len(rows), 20_000):
        conn.execute(ss.dq_check_month.insert(), rows[start:start + 20_000])
    conn.execute(ss.dq_table_size.insert(), [
        {"table_name": r.table, "row_count": int(r.rows), "latest_date": r.latest_date}
        for r in sizes.itertuples()])
    stat_state.set_coverage(conn, *months, name=stat_state.CHECKS)
    return len(rows) + len(sizes)
