"""Pre-aggregated monthly summaries: one row per office and month (and grade, key question
...), derived from the raw rows by dashboard.data.summaries and read by the page queries.

They live on the same MetaData as dashboard.data.schema, so alembic (migration 0003) and
``demo_data.clear`` see them. Three kinds:

- **events by month** (sessions, appointments, releases, audits, ...): counts of the rows
  whose date falls in the month. Summing months gives any whole-month period exactly.
- **snapshots that are not additive** (cases open on the first of a month, unpaid work
  outstanding at a month's end): stored as the month's *change* (``*_change``) plus the
  running *level*, so a period reads one month's level, and an import that touches one
  month only recomputes that month's changes and the levels after it.
- **staff in post**, one row per establishment row (office, grade, month), as the raw
  query computes it.

Rows of event tables exist only where the month has at least one event, exactly as a
GROUP BY over the raw rows would give, so "which offices appear" is the same on both
paths. ``summary_state`` records the months the summaries cover; outside them (or before
they are first built) the queries read the raw rows.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, Float, Index, Integer, String, Table

from dashboard.data.schema import metadata


def _office_month(name: str, *columns: Column, extra_keys: tuple[Column, ...] = ()) -> Table:
    """A summary keyed by office and month (first day of the month) and `extra_keys`."""
    table = Table(
        name,
        metadata,
        Column("office_id", Integer, primary_key=True, autoincrement=False),
        Column("month", Date, primary_key=True),
        *extra_keys,
        *columns,
    )
    # Page queries filter on a month range first, then on offices.
    Index(f"ix_{name}_month_office", table.c.month, table.c.office_id)
    return table


def _count(name: str) -> Column:
    return Column(name, Integer, nullable=False)


def _amount(name: str) -> Column:
    return Column(name, Float, nullable=False)


# Establishment against staff in post on the first day of the month (per grade).
summary_staffing = _office_month(
    "summary_staffing",
    _amount("establishment_fte"), _amount("in_post_fte"), _amount("vacancy_fte"),
    _count("staff_in_post"),
    extra_keys=(Column("grade", String(8), primary_key=True),),
)

# Cases open on the first day of the month and their workload points (tier x licence).
summary_caseload = _office_month(
    "summary_caseload",
    _count("open_cases_change"), _amount("workload_points_change"),
    _count("open_cases"), _amount("workload_points"),
)

# Sickness absence episodes by the month they started.
summary_absence = _office_month(
    "summary_absence", _count("episodes"), _amount("working_days_lost"))

# Completed case audits by audit month (any scheme).
summary_audit = _office_month("summary_audit", _count("audits"))

# Answers of completed audits by audit month, scheme and key question.
summary_audit_answer = _office_month(
    "summary_audit_answer",
    _count("answers"), _count("applicable"), _count("sufficient"),
    extra_keys=(Column("scheme", String(32), primary_key=True),
                Column("standard", String(8), primary_key=True),
                Column("key_question", String(16), primary_key=True)),
)

# Unpaid work sessions by session month.
summary_upw_session = _office_month(
    "summary_upw_session",
    _count("sessions"), _count("sessions_attended"), _amount("hours_worked"))

# Unpaid work orders by sentence month.
summary_upw_order = _office_month(
    "summary_upw_order", _count("orders"), _count("hours_ordered"))

# Orders completed, by completion month.
summary_upw_completed = _office_month("summary_upw_completed", _count("orders_completed"))

# Orders reaching their 12-month anniversary (the calendar date a year after sentence,
# 29 Feb -> 28 Feb), by that month.
summary_upw_due = _office_month(
    "summary_upw_due", _count("due_12_months"), _count("completed_in_12_months"))

# Orders by the month of their start deadline (7th working day after sentence).
# in_last_10_days is a leftover of the earlier rule and is always False (dropping a
# primary-key column needs a migration; left for one).
summary_upw_start = _office_month(
    "summary_upw_start",
    _count("orders_due_to_start"), _count("started_in_7_days"),
    extra_keys=(Column("in_last_10_days", Boolean, primary_key=True),),
)

# Live orders and hours outstanding at the end of the month.
summary_upw_outstanding = _office_month(
    "summary_upw_outstanding",
    _count("live_orders_change"), _amount("hours_outstanding_change"),
    _count("live_orders"), _amount("hours_outstanding"),
)

# Releases from custody by release month, with the resettlement work done in time.
summary_release = _office_month(
    "summary_release",
    *[_count(c) for c in (
        "releases", "screened_in_5_days", "plan_before_release", "custody_12_weeks",
        "contact_12_weeks", "accommodation_known", "settled", "temporary", "no_fixed_abode",
        "first_appointment_due", "first_appointment_kept")],
)

# Appointments by appointment month and outcome.
summary_appointment = _office_month(
    "summary_appointment",
    *[_count(c) for c in (
        "appointments", "kept", "acceptable_absence", "failed", "enforcement_actions")],
)

# The months the summaries cover (one row, name 'monthly'). No timestamp: two databases
# built from the same rows hold the same summaries, row for row.
summary_state = Table(
    "summary_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("first_month", Date, nullable=False),
    Column("last_month", Date, nullable=False),
)

EVENT_TABLES = (
    summary_absence, summary_audit, summary_audit_answer, summary_upw_session,
    summary_upw_order, summary_upw_completed, summary_upw_due, summary_upw_start,
    summary_release, summary_appointment,
)
LEVEL_TABLES = (summary_caseload, summary_upw_outstanding)
SUMMARY_TABLES = (summary_staffing, *LEVEL_TABLES, *EVENT_TABLES)

# --- stored statistics (migration 0007) ------------------------------------------------------
# Filled by dashboard.precompute.statistics from queries.monthly and dashboard.stats, read by
# queries.stored_stats. A *window* is a run of whole months (window_start .. window_end, first
# days): the 12 months ending with each month users can pick, and each single month. Measure
# keys are queries.monthly.measure_keys() ('appointments_kept', 'kq_2.3c', ...).


def _window_keys(*, with_start: bool = True) -> list[Column]:
    start = [Column("window_start", Date, primary_key=True)] if with_start else []
    return [*start, Column("window_end", Date, primary_key=True),
            Column("measure", String(40), primary_key=True)]


# Numerator and denominator of every comparable measure per office and month
# (queries.monthly.monthly_counts); a window's period figures are their sums (vacancy: the
# last month's snapshot).
stat_measure_month = _office_month(
    "stat_measure_month", _amount("numerator"), _amount("denominator"),
    extra_keys=(Column("measure", String(40), primary_key=True),),
)

# The funnel's benchmark per window and measure: theta (regional pooled rate) and
# Spiegelhalter's over-dispersion phi (NULL where undefined).
stat_funnel_benchmark = Table(
    "stat_funnel_benchmark", metadata, *_window_keys(),
    Column("theta", Float), Column("phi", Float),
)

# Each office on the funnel (dashboard.stats.funnel.assess): limits at its denominator,
# position and signal. adjusted: limits widened for over-dispersion (stored only where
# phi > 1; otherwise the adjusted funnel is the plain one).
stat_funnel_office = Table(
    "stat_funnel_office", metadata, *_window_keys(),
    Column("adjusted", Boolean, primary_key=True),
    Column("office_id", Integer, primary_key=True, autoincrement=False),
    _amount("numerator"), _amount("denominator"), _amount("rate"),
    *[Column(c, Float) for c in ("low_95", "high_95", "low_998", "high_998")],
    Column("position", String(24), nullable=False), Column("signal", String(16), nullable=False),
)

# The funnel's limit lines to draw (dashboard.stats.funnel.funnel_curve) per window and
# measure, one row per whole denominator on the curve's grid.
stat_funnel_curve = Table(
    "stat_funnel_curve", metadata, *_window_keys(),
    Column("adjusted", Boolean, primary_key=True),
    Column("denominator", Integer, primary_key=True, autoincrement=False),
    *[Column(c, Float) for c in ("low_95", "high_95", "low_998", "high_998")],
)

# The control chart (queries.flags.chart_for, proportions) of each office and measure over
# the 12-month window ending window_end (window_start = 11 months earlier), one row per month
# with a denominator; flag: the rules the month breaks ('' if none).
stat_control_chart = Table(
    "stat_control_chart", metadata, *_window_keys(with_start=False),
    Column("office_id", Integer, primary_key=True, autoincrement=False),
    Column("month", Date, primary_key=True),
    _amount("numerator"), _amount("denominator"), _amount("rate"), _amount("centre"),
    _amount("sigma"), _amount("lcl"), _amount("ucl"),
    Column("flag", String(200), nullable=False),
)
Index("ix_stat_control_chart_office", stat_control_chart.c.window_end,
      stat_control_chart.c.office_id)

# Special-cause flags on those charts (dashboard.stats.spc.flags): one row per month and rule
# broken. z is NULL where infinite (centre line at 0 % or 100 %; sign from side).
stat_control_flag = Table(
    "stat_control_flag", metadata, *_window_keys(with_start=False),
    Column("office_id", Integer, primary_key=True, autoincrement=False),
    Column("month", Date, primary_key=True),
    Column("rule", String(16), primary_key=True),
    Column("side", String(8), nullable=False), _amount("rate"), _amount("centre"),
    Column("z", Float), _count("run_length"), Column("run_start", String(7), nullable=False),
)

# The months whose stored statistics are out of date: marked in the same transaction as the
# summaries they follow (dashboard.data.stat_state), cleared when they are recomputed.
stat_pending = Table(
    "stat_pending", metadata,
    Column("id", Integer, primary_key=True),
    Column("month", Date),  # NULL: every month
)

# The months the stored statistics cover (one row, name 'statistics'): window_end from
# first_month to last_month, monthly counts from 11 months before first_month.
stat_state = Table(
    "stat_state", metadata,
    Column("name", String(32), primary_key=True),
    Column("first_month", Date, nullable=False),
    Column("last_month", Date, nullable=False),
)

STAT_TABLES = (stat_measure_month, stat_funnel_benchmark, stat_funnel_office,
               stat_funnel_curve, stat_control_chart, stat_control_flag)

# --- stored data-quality counts (migration 0008) -------------------------------------------
# Filled by dashboard.precompute.data_checks from queries.data_quality's own statements, read
# by queries.data_quality when stat_state's 'data_quality' row says they are up to date.

# Records checked and failing per cross-table check, office (the person's office, as the
# page counts it) and month (the record's date; for 'case_with_leaver', the month whose
# last day is the snapshot).
dq_check_month = _office_month(
    "dq_check_month", _count("checked"), _count("failing"),
    extra_keys=(Column("check_key", String(40), primary_key=True),),
)

# Rows and latest date of the large raw tables (a count over millions of appointments).
dq_table_size = Table(
    "dq_table_size", metadata,
    Column("table_name", String(40), primary_key=True),
    Column("row_count", Integer, nullable=False),
    Column("latest_date", Date),
)

DQ_TABLES = (dq_check_month, dq_table_size)
