"""queries/monthly.py and queries/flags.py against independent pandas over the raw rows.

The expected monthly counts are built from `select *` of each table with the pandas
expectations of tests/queries/test_independent.py (one per measure module) plus two written
here (completion by anniversary month, start within 7 working days by sentence month).
Runs on SQLite and PostgreSQL (generated_engine). The flags test injects a special cause
into a fresh demo database and checks it comes first.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pandas.testing as pdt
import pytest
from sqlalchemy import insert, select

from dashboard.core.filters import Filters, add_months
from dashboard.data import db, schema, summaries
from dashboard.demo import demo_data
from dashboard.stats import funnel
from queries import flags, monthly
from tests.conftest import AS_OF, SEED
from tests.queries.test_independent import (
    exp_appointments,
    exp_coverage,
    exp_gaps,
    exp_hours_worked,
    exp_key_questions,
    filters_for,
    held_on,
    in_scope,
    month_text,
    one_year_on,
    read_raw,
    start_deadline,
    ts,
    working_days_after,
)

KEYS = ["month", "area", "office", "office_code"]
LONG = [*KEYS, "measure", "numerator", "denominator"]
TTG = {"ttg_screened_in_5_days": ("screened_in_5_days", "releases"),
       "ttg_plan_before_release": ("plan_before_release", "releases"),
       "ttg_contact_12_weeks": ("contact_12_weeks", "custody_12_weeks"),
       "ttg_housed_on_release": ("housed", "accommodation_known"),
       "ttg_first_appointment_kept": ("first_appointment_kept", "first_appointment_due")}


@pytest.fixture(scope="module")
def raw(generated_engine):
    with generated_engine.connect() as conn:
        return read_raw(conn)


def _names(raw) -> pd.DataFrame:
    return raw.offices[["office_id", "area", "office", "office_code"]]


def exp_completions_by_month(raw, f: Filters) -> pd.DataFrame:
    """Orders whose calendar anniversary falls in the period, by that day's month."""
    orders = held_on(raw, raw.upw_order, "sentence_date")
    anniversary = orders["sentence_date"].map(one_year_on)
    keep = (anniversary >= ts(f.start)) & (anniversary <= ts(f.end)) & in_scope(
        orders["office_id"], f)
    orders, anniversary = orders[keep].copy(), anniversary[keep]
    orders["due"] = 1
    orders["in_time"] = (orders["completed_date"].notna()
                         & (orders["completed_date"] <= anniversary)).astype(int)
    orders["month"] = month_text(anniversary)
    out = orders.merge(_names(raw), on="office_id").groupby(KEYS, as_index=False)[
        ["in_time", "due"]].sum()
    return out.assign(measure="upw_completed_in_12_months", numerator=out["in_time"],
                      denominator=out["due"])[LONG]


def exp_start_times_by_month(raw, f: Filters) -> pd.DataFrame:
    """Orders whose 7-working-day start deadline falls in the period, by its month."""
    orders = held_on(raw, raw.upw_order, "sentence_date")
    deadline = start_deadline(orders["sentence_date"])
    keep = (deadline >= ts(f.start)) & (deadline <= ts(f.end)) & in_scope(
        orders["office_id"], f)
    orders, deadline = orders[keep].copy(), deadline[keep]
    first = raw.upw_session.groupby("order_id")["session_date"].min()
    wait = working_days_after(orders["sentence_date"], orders["id"].map(first))
    orders = orders.assign(due=1, started=(wait <= 7).astype(int), month=month_text(deadline))
    out = orders.merge(_names(raw), on="office_id").groupby(KEYS, as_index=False)[
        ["started", "due"]].sum()
    return out.assign(measure="upw_started_in_7_days", numerator=out["started"],
                      denominator=out["due"])[LONG]


def expected_monthly(raw, f: Filters) -> pd.DataFrame:
    def long(df, measure, num, den):
        return df.assign(measure=measure, numerator=df[num], denominator=df[den])[LONG]

    releases = exp_coverage(raw, f, "office", True)
    releases["housed"] = releases["settled"] + releases["temporary"]
    kq = exp_key_questions(raw, f, "office", True)
    kq = kq.groupby([*KEYS, "key_question"], as_index=False)[["sufficient",
                                                              "applicable"]].sum()
    parts = [
        long(exp_gaps(raw, f, "office", False), "vacancy_rate", "vacancy_fte",
             "establishment_fte"),
        long(exp_hours_worked(raw, f, "office", True), "upw_attendance", "sessions_attended",
             "sessions"),
        long(exp_appointments(raw, f, "office", True), "appointments_kept", "kept",
             "appointments"),
        *(long(releases, key, num, den) for key, (num, den) in TTG.items()),
        long(kq, "", "sufficient", "applicable").assign(measure="kq_" + kq["key_question"]),
        exp_completions_by_month(raw, f),
        exp_start_times_by_month(raw, f),
    ]
    out = pd.concat(parts, ignore_index=True)
    out["numerator"] = out["numerator"].astype(float)
    out["denominator"] = out["denominator"].astype(float)
    out = out[out["denominator"] > 0]
    return out.sort_values([*KEYS, "measure"]).reset_index(drop=True)


def _same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = got.sort_values([c for c in ["month", "area", "office", "office_code", "measure"]
                           if c in got.columns]).reset_index(drop=True)
    expected = expected.sort_values(
        [c for c in ["month", "area", "office", "office_code", "measure"]
         if c in expected.columns]).reset_index(drop=True)
    pdt.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-9, atol=1e-9)


# --- the catalogue ----------------------------------------------------------------------------

def test_measure_keys_are_proportions_and_key_questions():
    keys = monthly.measure_keys()
    assert not set(funnel.EXCLUDED) & set(keys)
    assert "pct_sufficient" not in keys  # clustered judgements: compared per key question
    assert {"vacancy_rate", "appointments_kept", "ttg_housed_on_release",
            "upw_completed_in_12_months", "kq_2.3c"} <= set(keys)
    assert monthly.measure_name("kq_2.3c") == "Cases sufficient: 2.3c Keeping other people safe"
    assert monthly.target_key("kq_2.3c") == "pct_sufficient"
    assert monthly.higher_is_better("vacancy_rate") is False


# --- monthly and period counts ----------------------------------------------------------------

@pytest.mark.parametrize("filter_name", ["region_12m", "kent_3m", "gui_1m"])
def test_monthly_counts_match_independent_pandas(generated_engine, raw, filter_name):
    f = filters_for(raw)[filter_name]
    with generated_engine.connect() as conn:
        got = monthly.monthly_counts(conn, f)
    expected = expected_monthly(raw, f)
    assert len(expected) > 0 and set(expected["measure"]) >= set(TTG)
    _same(got, expected)


@pytest.mark.parametrize("filter_name", ["region_12m", "kent_3m"])
def test_upw_by_month_from_rows_and_from_summaries(generated_engine, raw, filter_name):
    f = filters_for(raw)[filter_name]
    with generated_engine.connect() as conn:
        assert summaries.serves(conn, f)  # so both paths below are exercised
        pairs = [(monthly.completions_by_month(conn, f),
                  monthly.completions_by_month_from_rows(conn, f),
                  exp_completions_by_month(raw, f), "completed_in_12_months",
                  "due_12_months"),
                 (monthly.start_times_by_month(conn, f),
                  monthly.start_times_by_month_from_rows(conn, f),
                  exp_start_times_by_month(raw, f), "started_in_7_days",
                  "orders_due_to_start")]
    for from_summary, from_rows, expected, num, den in pairs:
        for got in (from_summary, from_rows):
            got = got[got[den] > 0]
            long = got.assign(measure=expected["measure"].iloc[0], numerator=got[num],
                              denominator=got[den])[LONG]
            long[["numerator", "denominator"]] = long[["numerator", "denominator"]].astype(
                float)
            _same(long, expected.astype({"numerator": float, "denominator": float}))


def test_months_add_up_to_the_period_and_vacancy_is_the_last_month(generated_engine, raw):
    f = filters_for(raw)["region_12m"]
    with generated_engine.connect() as conn:
        by_month = monthly.monthly_counts(conn, f)
        period = monthly.period_counts(conn, f)
    keys = ["area", "office", "office_code", "measure"]
    flows = by_month[by_month["measure"] != "vacancy_rate"]
    summed = flows.groupby(keys, as_index=False)[["numerator", "denominator"]].sum()
    _same(period[period["measure"] != "vacancy_rate"], summed)
    last = by_month[(by_month["measure"] == "vacancy_rate") & (by_month["month"] == "2026-10")]
    _same(period[period["measure"] == "vacancy_rate"], last.drop(columns="month"))


def test_comparison_table_intervals_and_target_status(generated_engine, raw):
    f = filters_for(raw)["region_12m"]
    with generated_engine.connect() as conn:
        period = monthly.period_counts(conn, f)
    rows = period[period["measure"] == "ttg_plan_before_release"]
    assessed, _theta = funnel.assess(rows, "numerator", "denominator", True)
    targets = pd.DataFrame([
        {"measure": "ttg_plan_before_release", "office_id": None, "green_from": 90.0,
         "amber_from": 75.0, "higher_is_better": True},
        {"measure": "ttg_plan_before_release", "office_id": 1, "green_from": 0.0,
         "amber_from": 0.0, "higher_is_better": True}])
    ids = dict(zip(raw.offices["office_code"], raw.offices["office_id"], strict=True))
    table = monthly.comparison_table(assessed, targets, ids, "ttg_plan_before_release")
    assert table["rate"].is_monotonic_increasing  # worst (lowest) first
    row = table.iloc[0]
    p = row["numerator"] / row["denominator"]  # Wilson by hand
    z = 1.959963984540054
    n = row["denominator"]
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    assert row["ci_low"] == pytest.approx(100 * (centre - half))
    assert row["ci_high"] == pytest.approx(100 * (centre + half))
    office_1 = raw.offices.loc[raw.offices["office_id"] == 1, "office_code"].iloc[0]
    status = dict(zip(table["office_code"], table["status"], strict=True))
    assert status[office_1] == "● Green"  # its own target (0) wins over the default
    for code, rate in zip(table["office_code"], table["rate"], strict=True):
        if code != office_1:
            assert status[code] == ("● Green" if rate >= 90 else "▲ Amber" if rate >= 75
                                    else "■ Red")


# --- flags --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def flagged_engine(tmp_path_factory):
    """Small demo data plus 80 missed appointments for one Ashford case in October 2026:
    a special cause the control chart must find."""
    url = f"sqlite:///{tmp_path_factory.mktemp('flags') / 'flags.sqlite'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    demo_data.generate(engine, seed=SEED, as_of=AS_OF, scale=demo_data.small_scale())
    with engine.begin() as conn:
        ash = conn.execute(select(schema.office.c.id).where(schema.office.c.code == "ASH")
                           ).scalar_one()
        person_id = conn.execute(select(schema.person.c.id).where(
            schema.person.c.office_id == ash).limit(1)).scalar_one()
        conn.execute(insert(schema.appointment), [
            {"person_id": person_id, "appointment_date": date(2026, 10, 1 + i % 28),
             "outcome": "failed", "enforcement_action": False} for i in range(80)])
        summaries.refresh_all(conn)  # the page queries read the monthly summaries
    yield engine
    engine.dispose()


def test_current_flags_put_the_injected_special_cause_first(flagged_engine):
    f = Filters(date(2025, 11, 1), date(2026, 10, 31))
    with flagged_engine.connect() as conn:
        current = flags.current_flags(conn, f)
        every = flags.all_flags(conn, f)
        # each appointment where its case was allocated on the appointment's date
        raw_rows = read_raw(conn)
        appointments = held_on(raw_rows, raw_rows.appointment, "appointment_date")
        ash = conn.execute(select(schema.office.c.id).where(schema.office.c.code == "ASH")
                           ).scalar_one()
    top = current.iloc[0]
    assert (top["office_code"], top["measure"], top["rule"], top["side"], top["direction"]) \
        == ("ASH", "appointments_kept", "beyond_limits", "below", "worse")
    october = appointments[(appointments["office_id"] == ash) & (
        pd.to_datetime(appointments["appointment_date"]).dt.strftime("%Y-%m") == "2026-10")]
    assert top["denominator"] == len(october)
    assert top["numerator"] == (october["outcome"] == "kept").sum()
    assert top["rate"] == pytest.approx(100 * top["numerator"] / top["denominator"])
    assert set(current["month"]) == {"2026-10"}
    order = current["direction"].map(flags.DIRECTION_ORDER).tolist()
    assert order == sorted(order)  # every deterioration before any improvement
    key = ["office_code", "measure", "rule", "month"]
    assert set(map(tuple, current[key].values)) <= set(map(tuple, every[key].values))
    assert flags.describe(top).startswith("Ashford, Appointments kept: ")


def test_flags_respect_the_office_filter(flagged_engine):
    with flagged_engine.connect() as conn:
        surrey = conn.execute(select(schema.office.c.id).join(schema.area).where(
            schema.area.c.code == "SURREY")).scalars().all()
        f = Filters(date(2025, 11, 1), date(2026, 10, 31), office_ids=tuple(sorted(surrey)),
                    area_code="SURREY")
        current = flags.current_flags(conn, f)
    assert "ASH" not in set(current["office_code"])


def test_chart_for_one_office_marks_the_flagged_month(flagged_engine):
    f = Filters(date(2025, 11, 1), date(2026, 10, 31))
    with flagged_engine.connect() as conn:
        counts = monthly.monthly_counts(conn, f)
    chart = flags.chart_for(counts, "ASH", "appointments_kept")
    assert len(chart) == 12
    last = chart.iloc[-1]
    assert last["rate"] < last["lcl"] and "outside the control limits" in last["flag"]
    # earlier months stay inside their limits (the low month pulls the centre line down,
    # so they may form a run above it, which is what the run rule is for)
    assert not chart["flag"].iloc[:-1].str.contains("outside the control limits").any()
    # the run rule is shown once per run, not once per month
    runs = flags.flags_from_counts(counts)
    collapsed = flags.one_per_signal(runs)
    per_run = runs[runs["rule"] == "run_of_8"].groupby(["office_code", "measure",
                                                        "run_start"]).ngroups
    assert (collapsed["rule"] == "run_of_8").sum() == per_run


def test_one_month_flags_are_those_of_the_12_months_ending_there(generated_engine):
    """'This month' means the period's last month whatever the period's length: a
    one-month view lists the flags the 12-month view ending in that month lists."""
    seen = 0
    with generated_engine.connect() as conn:
        for month in (date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)):
            end = add_months(month, 1) - timedelta(days=1)
            one = flags.current_flags(conn, Filters(month, end))
            twelve = flags.current_flags(conn, Filters(add_months(month, -11), end))
            pdt.assert_frame_equal(one, twelve)
            seen += len(one)
    assert seen > 0, "no flags in these months: the comparison proves nothing"
