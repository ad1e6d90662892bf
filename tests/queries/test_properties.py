"""Property checks on the generated dataset (SQLite and PostgreSQL): figures add up across
offices, areas and the region, and across months; rates lie in [0, 100]; numerators never
exceed their denominators."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import pandas.testing as pdt
import pytest
from sqlalchemy import select

from dashboard.core.filters import Filters, add_months, month_end
from dashboard.data.schema import area, office
from queries import LEVELS, gate, overview, payback, quality, staffing, supervision

KEY_COLUMNS = ("month", "area", "office", "office_code", "grade", "standard", "key_question")
EPS = 1e-9

Query = Callable[..., pd.DataFrame]
QUERIES: dict[str, Query] = {
    "gaps_by_month[by_grade]": lambda c, f, lv: staffing.gaps_by_month(c, f, lv, by_grade=True),
    "gaps_by_month[total]": lambda c, f, lv: staffing.gaps_by_month(c, f, lv, by_grade=False),
    "caseload_by_month": staffing.caseload_by_month,
    "absence": staffing.absence,
    "key_question_counts": quality.key_question_counts,
    "key_question_counts[by_month]": lambda c, f, lv: quality.key_question_counts(
        c, f, lv, by_month=True),
    "audits_completed": quality.audits_completed,
    "hours_worked": payback.hours_worked,
    "hours_worked[by_month]": lambda c, f, lv: payback.hours_worked(c, f, lv, by_month=True),
    "orders_made": payback.orders_made,
    "orders_made[by_month]": lambda c, f, lv: payback.orders_made(c, f, lv, by_month=True),
    "outstanding": payback.outstanding,
    "completions": payback.completions,
    "start_times": payback.start_times,
    "coverage": gate.coverage,
    "coverage[by_month]": lambda c, f, lv: gate.coverage(c, f, lv, by_month=True),
    "appointments": supervision.appointments,
    "appointments[by_month]": lambda c, f, lv: supervision.appointments(c, f, lv, by_month=True),
}
# query with a month breakdown -> the same query over the whole period
MONTHLY = {
    "key_question_counts[by_month]": "key_question_counts",
    "hours_worked[by_month]": "hours_worked",
    "orders_made[by_month]": "orders_made",
    "coverage[by_month]": "coverage",
    "appointments[by_month]": "appointments",
}
# numerator <= denominator, in any frame holding both columns
BOUNDED = (
    ("vacancy_fte", "establishment_fte"),
    ("sufficient", "applicable"),
    ("applicable", "audits"),
    ("sessions_attended", "sessions"),
    ("completed_in_12_months", "due_12_months"),
    ("started_in_7_days", "orders_due_to_start"),
    ("screened_in_5_days", "releases"),
    ("plan_before_release", "releases"),
    ("custody_12_weeks", "releases"),
    ("contact_12_weeks", "custody_12_weeks"),
    ("accommodation_known", "releases"),
    ("first_appointment_due", "releases"),
    ("first_appointment_kept", "first_appointment_due"),
    ("kept", "appointments"),
    ("acceptable_absence", "appointments"),
    ("failed", "appointments"),
    ("enforcement_actions", "appointments"),
)
NOT_PERCENT = {"caseload_per_officer", "workload_capacity"}  # may exceed 100


@pytest.fixture(scope="module")
def periods(generated_engine) -> dict[str, Filters]:
    with generated_engine.connect() as conn:
        offices = pd.DataFrame(conn.execute(
            select(office.c.id, office.c.code, area.c.code.label("area_code"))
            .join(area, area.c.id == office.c.area_id)).mappings().all())
    kent = tuple(sorted(int(i) for i in offices.loc[offices["area_code"] == "KENT", "id"]))
    gui = int(offices.loc[offices["code"] == "GUI", "id"].iloc[0])
    return {
        "history_24m": Filters(date(2024, 11, 1), date(2026, 10, 31)),
        "region_12m": Filters(date(2025, 11, 1), date(2026, 10, 31)),
        "kent_3m": Filters(date(2026, 7, 1), date(2026, 9, 30), office_ids=kent,
                           area_code="KENT"),
        "gui_1m": Filters(date(2026, 1, 1), date(2026, 1, 31), office_ids=(gui,),
                          area_code="SURREY", office_code="GUI"),
    }


PERIODS = ("history_24m", "region_12m", "kent_3m", "gui_1m")


def numeric(df: pd.DataFrame) -> pd.DataFrame:
    """Value columns as floats (PostgreSQL returns sums of integers as Decimal)."""
    df = df.copy()
    for c in df.columns:
        if c not in KEY_COLUMNS:
            df[c] = pd.to_numeric(df[c]).astype(float)
    return df


def roll_up(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    values = [c for c in df.columns if c not in KEY_COLUMNS]
    if not keys:
        return pd.DataFrame([df[values].sum()])
    return df.groupby(keys, sort=True)[values].sum().reset_index()


def assert_frames_match(got: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
    if keys:
        got = got.sort_values(keys).reset_index(drop=True)
        expected = expected.sort_values(keys).reset_index(drop=True)
    pdt.assert_frame_equal(got[list(expected.columns)], expected, check_dtype=False,
                           rtol=1e-9, atol=EPS)


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("name", list(QUERIES))
def test_offices_add_up_to_areas_and_region(generated_engine, periods, name, period):
    f = periods[period]
    with generated_engine.connect() as conn:
        by_level = {lv: numeric(QUERIES[name](conn, f, lv)) for lv in LEVELS}
    office_rows = by_level["office"]
    extra = [c for c in office_rows.columns if c in KEY_COLUMNS
             and c not in ("area", "office", "office_code")]
    month_first = [c for c in extra if c == "month"]
    rest = [c for c in extra if c != "month"]
    area_keys = [*month_first, "area", *rest]
    assert_frames_match(by_level["area"], roll_up(office_rows, area_keys), area_keys)
    region_keys = [*month_first, *rest]
    region = by_level["region"]
    if not region_keys and office_rows.empty:  # an ungrouped total is one row of zeros
        assert (region.to_numpy() == 0).all()
    else:
        assert_frames_match(region, roll_up(office_rows, region_keys), region_keys)


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("name", list(QUERIES))
def test_numerators_within_denominators(generated_engine, periods, name, period):
    with generated_engine.connect() as conn:
        df = numeric(QUERIES[name](conn, periods[period], "office"))
    checked = 0
    for num, den in BOUNDED:
        if num in df.columns and den in df.columns:
            bad = df[df[num] > df[den] + EPS]
            assert bad.empty, f"{num} > {den}:\n{bad}"
            checked += 1
    values = [c for c in df.columns if c not in KEY_COLUMNS]
    assert (df[values] >= -EPS).all().all(), "a count or total is negative"
    if {"settled", "temporary", "no_fixed_abode"} <= set(df.columns):
        parts = df["settled"] + df["temporary"] + df["no_fixed_abode"]
        assert (parts == df["accommodation_known"]).all()
    if {"kept", "acceptable_absence", "failed"} <= set(df.columns):
        assert (df["kept"] + df["acceptable_absence"] + df["failed"] == df["appointments"]).all()
    if "vacancy_fte" in df.columns:  # each office-grade gap is at least budget - in post
        assert (df["vacancy_fte"] >= df["establishment_fte"] - df["in_post_fte"] - EPS).all()
    if "hours_worked" in df.columns:
        assert (df["hours_worked"] <= 12 * df["sessions_attended"] + EPS).all()
    assert checked or name in ("caseload_by_month", "absence", "audits_completed",
                               "orders_made", "orders_made[by_month]", "outstanding")


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("level", LEVELS)
def test_rates_are_percentages(generated_engine, periods, level, period):
    with generated_engine.connect() as conn:
        frame = overview.measure_frame(conn, periods[period], level)
    assert len(frame) > 0
    for key in overview.RATES:
        rate = frame[key].dropna()
        assert (rate >= 0).all(), key
        if key not in NOT_PERCENT:
            assert (rate <= 100 + EPS).all(), f"{key}: {rate.max()}"
    for num, den in BOUNDED:
        # measure_frame's audits counts audits (audits_completed), not answers
        if num in frame.columns and den in frame.columns and den != "audits":
            assert (frame[num] <= frame[den] + EPS).all(), f"{num} > {den}"


def test_vacancy_never_exceeds_establishment(generated_engine, periods):
    with generated_engine.connect() as conn:
        df = numeric(staffing.gaps_by_month(conn, periods["history_24m"], "office"))
    assert len(df) == 24 * df["office"].nunique() * df["grade"].nunique()
    assert (df["vacancy_fte"] <= df["establishment_fte"] + EPS).all()
    assert (df["vacancy_fte"] >= -EPS).all()


def test_hours_outstanding_never_negative(generated_engine, periods):
    f = periods["history_24m"]
    with generated_engine.connect() as conn:
        for k in range(f.months):
            at = month_end(add_months(f.start, k))
            df = numeric(payback.outstanding(conn, f, "office", at=at))
            assert (df["hours_outstanding"] >= 0).all(), at
            assert (df["hours_outstanding"] <= 300 * df["live_orders"]).all(), at


@pytest.mark.parametrize("period", [p for p in PERIODS if p != "gui_1m"])  # one month: trivial
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", list(MONTHLY))
def test_months_add_up_to_the_period(generated_engine, periods, name, level, period):
    f = periods[period]
    with generated_engine.connect() as conn:
        monthly = numeric(QUERIES[name](conn, f, level))
        whole = numeric(QUERIES[MONTHLY[name]](conn, f, level))
    assert set(monthly["month"]) <= {
        f"{add_months(f.start, k):%Y-%m}" for k in range(f.months)}
    keys = [c for c in whole.columns if c in KEY_COLUMNS]
    assert_frames_match(whole, roll_up(monthly.drop(columns="month"), keys), keys)
