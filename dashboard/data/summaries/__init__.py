"""Refresh the monthly summary tables (dashboard.data.summary_schema) from the raw rows.

The page queries read these small tables instead of millions of raw rows. Their numbers
must be the raw rows' numbers exactly, so every summary is computed here from the raw
rows (tests/test_summaries.py checks it against independent raw-row computations).

Public API
- ``refresh_all(conn)``: rebuild every summary (end of demo generation; after a bulk
  load, a change to the calendar or to which office a person belongs to).
- ``refresh_months(conn, months, office_ids=None, tables=None)``: after an import that
  inserted, updated or deleted rows carrying a date in ``months`` (every date column of
  the changed rows, old and new values) for the offices ``office_ids`` (None: any
  office), in the raw ``tables`` named (None: all; see DEPENDS). Recomputes only the
  summary rows those rows can change, by delete + insert in the caller's transaction,
  widens the covered months, and bumps ``dataset_info.data_version`` so the dashboard's
  cached query results are recomputed.
- ``serves(conn, f)`` / ``covers(conn, first, last)``: may a query read the summaries
  for this period? (Whole months, inside the covered months.)
- ``per_office`` / ``roll_up`` / ``rollup``: read a summary table at a level.

What an import touching month M recomputes: events keyed by their own date (sessions,
appointments, releases, audits, absence, orders sentenced or completed) in M only;
start times for M and the month before (a first session can fall in the next month);
12-month completion for the anniversary months M..M+12; staff in post, open cases and
unpaid work outstanding (levels carried from month to month) from M onwards.

Modules: ``rules`` (the measures' constants), ``months`` and ``state`` (which months are
covered), ``store`` (writing rows and carried levels), one module per measure family
(``staffing``: staff in post, absence, caseload; ``supervision``: appointments;
``unpaid_work``; ``gate``: Through the Gate; ``audits``), ``refresh`` (what is refreshed for
which months and offices) and ``reading``. The names below are the package's public API,
used across queries/, the importer, the demo generator and the tests.
"""

from dashboard.data.summaries.months import as_date, is_month_end, month_range
from dashboard.data.summaries.reading import (
    in_period,
    per_office,
    period_per_office,
    period_rollup,
    roll_up,
    rollup,
)
from dashboard.data.summaries.refresh import DEPENDS, refresh_all, refresh_months
from dashboard.data.summaries.rules import (
    ANNIVERSARY_SPAN_DAYS,
    CASE_HOLDING,
    CONTACT_DAYS,
    DEADLINE_SPAN_DAYS,
    LICENCE_FACTOR,
    POINTS_PER_FTE,
    SCREENING_WORKING_DAYS,
    SICKNESS,
    START_WORKING_DAYS,
    TIER_POINTS,
)
from dashboard.data.summaries.state import coverage, covers, mark_data_changed, serves

__all__ = [
    "ANNIVERSARY_SPAN_DAYS", "CASE_HOLDING", "CONTACT_DAYS", "DEADLINE_SPAN_DAYS", "DEPENDS",
    "LICENCE_FACTOR", "POINTS_PER_FTE", "SCREENING_WORKING_DAYS", "SICKNESS",
    "START_WORKING_DAYS", "TIER_POINTS", "as_date", "coverage", "covers", "in_period",
    "is_month_end",
    "mark_data_changed", "month_range", "per_office", "period_per_office", "period_rollup",
    "refresh_all", "refresh_months",
    "roll_up", "rollup", "serves",
]
