"""Stored statistics (dashboard.precompute.statistics) equal the view-time computation.

The expected figures come from the functions the pages used before anything was stored:
queries.monthly.period_counts and monthly_counts, dashboard.stats.funnel.assess and
funnel_curve, queries.flags.chart_for and flags_from_counts. On SQLite and PostgreSQL,
on freshly generated data and again after an import that changes one office's month (only
the windows holding that month are recomputed; until then the pages compute them).
"""

from __future__ import annotations

import csv
import math
from datetime import date

import pandas as pd
import pandas.testing as pdt
import pytest
from sqlalchemy import func, select

from dashboard.commands.imports import import_file
from dashboard.core.filters import Filters, add_months, month_end
from dashboard.data import stat_state
from dashboard.data import summary_schema as ss
from dashboard.data.schema import office, person
from dashboard.precompute import statistics
from dashboard.stats import funnel
from queries import flags, monthly, stored_stats
from tests.backend_engines import small_demo_fixture
from tests.conftest import AS_OF

LAST = date(2026, 10, 1)
WINDOWS = [Filters(add_months(LAST, -11), month_end(LAST)),      # the default view
           Filters(date(2025, 11, 1), date(2026, 10, 31)),       # (the same, spelt out)
           Filters(date(2025, 6, 1), month_end(date(2026, 5, 1))),  # 12 months to May
           Filters(date(2026, 3, 1), date(2026, 3, 31))]          # one month


# a small generated database of this module's own (the last test imports rows)
engine = small_demo_fixture("stored", seed=13, as_of=AS_OF)


def expected_funnel(counts: pd.DataFrame, measure: str, adjusted: bool):
    """(assess output, theta, phi, curve) as the page computed them at view time."""
    rows = counts[counts["measure"] == measure].reset_index(drop=True)
    theta = funnel.pooled_rate(list(rows["numerator"]), list(rows["denominator"]))
    phi = funnel.overdispersion(list(rows["numerator"]), list(rows["denominator"]), theta)
    assessed, _ = funnel.assess(rows, "numerator", "denominator",
                                monthly.higher_is_better(measure), theta=theta,
                                phi=phi if adjusted else None)
    curve = funnel.funnel_curve(theta, rows["denominator"].max(),
                                phi=phi if adjusted else None)
    return assessed[stored_stats.FUNNEL_COLUMNS], theta, phi, curve


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pdt.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True),
                           check_dtype=False, rtol=1e-12, atol=1e-12)


def assert_window_stored_and_equal(conn, f: Filters) -> None:
    """Every measure's funnel, monthly series, control charts and flags over f, read from
    the stored statistics, equal the view-time computation."""
    assert stored_stats.stored_window(conn, f)
    counts = monthly.period_counts(conn, f)
    by_month = monthly.monthly_counts(conn, f)
    measures = sorted(set(counts["measure"]))
    assert list(stored_stats.measures(conn, f)["measure"]) == measures
    for measure in measures:
        for adjusted in (False, True):
            want, theta, phi, curve = expected_funnel(counts, measure, adjusted)
            bench = stored_stats.funnel_benchmark(conn, f, measure).iloc[0]
            assert bench["theta"] == pytest.approx(theta, rel=1e-12)
            assert (math.isnan(phi) and math.isnan(bench["phi"])) or bench["phi"] == (
                pytest.approx(phi, rel=1e-12))
            assert_same(stored_stats.funnel_offices(conn, f, measure, adjusted), want)
            assert_same(stored_stats.funnel_lines(conn, f, measure, adjusted),
                        curve[stored_stats.CURVE_COLUMNS])
        assert_same(stored_stats.monthly_series(conn, f, measure),
                    by_month[by_month["measure"] == measure])
    if f.months != 12:
        return
    for (code, measure), _ in by_month.groupby(["office_code", "measure"]):
        assert_same(stored_stats.control_chart(conn, f, code, measure),
                    flags.chart_for(by_month, code, measure)[stored_stats.CHART_COLUMNS])
        one = by_month[(by_month["office_code"] == code) & (by_month["measure"] == measure)]
        assert_same(stored_stats.chart_flags(conn, f, code, measure),
                    flags.flags_from_counts(one))
    assert_same(flags.all_flags(conn, f), flags.flags_from_counts(by_month))
    assert_same(flags.current_flags(conn, f), flags.flags_from_counts(
        by_month, only_month=f"{f.end:%Y-%m}"))
    kent = Filters(f.start, f.end, office_ids=(1, 2))
    assert_same(flags.current_flags(conn, kent), flags.flags_from_counts(
        monthly.monthly_counts(conn, kent), only_month=f"{f.end:%Y-%m}"))


def test_generation_stores_every_statistic_as_the_view_time_functions_give_it(engine):
    with engine.connect() as conn:
        _ids, pending = stat_state.pending(conn)
        assert pending == set()  # demo generation recomputed everything it marked
        assert stat_state.coverage(conn) == (date(2024, 11, 1), LAST)
        for f in WINDOWS:
            assert_window_stored_and_equal(conn, f)


def test_a_one_month_view_reads_the_twelve_month_chart_ending_with_it(engine):
    f = Filters(date(2026, 3, 1), date(2026, 3, 31))
    with engine.connect() as conn:
        counts = monthly.monthly_counts(conn, flags.chart_window(f))
        code = counts["office_code"].iloc[0]
        assert_same(stored_stats.control_chart(conn, f, code, "appointments_kept"),
                    flags.chart_for(counts, code, "appointments_kept")[
                        stored_stats.CHART_COLUMNS])
        assert_same(flags.current_flags(conn, f),
                    flags.flags_from_counts(counts, only_month="2026-03"))


def test_periods_not_stored_are_computed_at_view_time(engine):
    f = Filters(date(2026, 1, 1), date(2026, 5, 31))  # five months: no stored funnel
    with engine.connect() as conn:
        assert not stored_stats.stored_window(conn, f)
        counts = monthly.period_counts(conn, f)
        want, *_ = expected_funnel(counts, "appointments_kept", False)
        assert_same(stored_stats.funnel_offices(conn, f, "appointments_kept"), want)


def _import_failed_appointments(engine, tmp_path, month: date, office_id: int) -> None:
    """Import 40 failed appointments for people of one office, dated in `month`."""
    with engine.connect() as conn:
        crns = conn.execute(select(person.c.crn).where(person.c.office_id == office_id)
                            .order_by(person.c.id).limit(40)).scalars().all()
    path = tmp_path / "appointments.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["appointment_ref", "crn", "appointment_date", "outcome",
                         "enforcement_action"])
        for i, crn in enumerate(crns):
            writer.writerow([f"APT-T{i:06d}", crn, f"{month:%Y-%m}-14", "failed", "false"])
    report = import_file(engine, path, "appointment", username="test")
    assert report.ok and report.inserted == len(crns), report.message


def test_an_import_marks_its_month_pending_and_catch_up_recomputes_only_its_windows(
        engine, tmp_path):
    month = date(2026, 5, 1)
    with engine.connect() as conn:
        ash = conn.execute(select(office.c.id).where(office.c.code == "ASH")).scalar_one()
        before = stored_stats.funnel_offices(conn, WINDOWS[0], "appointments_kept")
        untouched = pd.read_sql(select(ss.stat_funnel_office).where(
            ss.stat_funnel_office.c.window_end < month), conn)
    _import_failed_appointments(engine, tmp_path, month, ash)
    with engine.connect() as conn:
        _ids, pending = stat_state.pending(conn)
        assert pending == {month}
        # until recomputed, the windows holding May are computed at view time (and right)
        assert not stored_stats.stored_window(conn, WINDOWS[0])
        assert stored_stats.stored_window(conn, Filters(date(2025, 4, 1), date(2026, 3, 31)))
        counts = monthly.period_counts(conn, WINDOWS[0])
        want, *_ = expected_funnel(counts, "appointments_kept", False)
        assert_same(stored_stats.funnel_offices(conn, WINDOWS[0], "appointments_kept"), want)
        assert not want.equals(before)
    done = statistics.catch_up(engine)
    assert done is not None and done.months == 1
    assert done.windows == 1 + 6  # May alone, and the 12-month windows ending May..Oct
    with engine.connect() as conn:
        assert stat_state.pending(conn)[1] == set()
        for f in (*WINDOWS, Filters(date(2025, 6, 1), date(2026, 5, 31))):
            assert_window_stored_and_equal(conn, f)
        assert_same(pd.read_sql(select(ss.stat_funnel_office).where(
            ss.stat_funnel_office.c.window_end < month), conn), untouched)
        # a refresh with nothing pending does nothing
        rows = conn.execute(select(func.count()).select_from(ss.stat_control_chart)).scalar()
    assert statistics.catch_up(engine) == statistics.Refreshed()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(
            ss.stat_control_chart)).scalar() == rows
