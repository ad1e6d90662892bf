"""Every query against figures worked out by hand from tests/handmade.py.

The expected numbers below come from reading the rows, not from running code; the
comments show the arithmetic. Runs on SQLite and PostgreSQL (hand_engine is parametrised).
"""

from datetime import date

import pandas as pd
import pytest

from dashboard.core.filters import Filters
from dashboard.hmip import ratings
from queries import (
    caseload,
    gate,
    overview,
    payback,
    quality,
    readiness,
    reference,
    staffing,
    supervision,
)

SEP_OCT = Filters(date(2026, 9, 1), date(2026, 10, 31))
OCT = Filters(date(2026, 10, 1), date(2026, 10, 31))
KENT = Filters(date(2026, 9, 1), date(2026, 10, 31), office_ids=(1, 2), area_code="KENT")


def rows(df, key="office"):
    return {r[key]: r for r in df.to_dict("records")}


def test_staffing_gaps_october(hand_engine):
    with hand_engine.connect() as conn:
        df = staffing.gaps_by_month(conn, OCT, "office", by_grade=True)
    got = {(r["office"], r["grade"]): r for r in df.to_dict("records")}
    # Ashford PO: 10 budgeted, 7 in post on 1 Oct (id 8 left 15 Sep) -> 3 vacant
    assert got[("Ashford", "PO")]["in_post_fte"] == pytest.approx(7.0)
    assert got[("Ashford", "PO")]["vacancy_fte"] == pytest.approx(3.0)
    # Ashford PSO: 4 x 1.0 + 0.5 = 4.5 of 5
    assert got[("Ashford", "PSO")]["in_post_fte"] == pytest.approx(4.5)
    # Chatham: 3 + the starter on 1 Oct = 4 of 4
    assert got[("Chatham", "PO")]["vacancy_fte"] == pytest.approx(0.0)
    assert got[("Chatham", "PO")]["staff_in_post"] == 4
    # Guildford: 3 in post against 2 budgeted: vacancy is 0, not -1
    assert got[("Guildford", "PO")]["vacancy_fte"] == pytest.approx(0.0)


def test_staffing_region_by_month(hand_engine):
    with hand_engine.connect() as conn:
        df = staffing.gaps_by_month(conn, SEP_OCT, "region", by_grade=False)
    by_month = rows(df, "month")
    # Sep: vacancies Ashford PO 2 (8 in post), PSO 0.5, Chatham 1 (3 in post) -> 3.5 of 21
    assert by_month["2026-09"]["establishment_fte"] == pytest.approx(21.0)
    assert by_month["2026-09"]["vacancy_fte"] == pytest.approx(3.5)
    # Oct: Ashford PO 3, PSO 0.5, Chatham 0 -> 3.5 of 21; in post 7+4.5+4+3 = 18.5
    assert by_month["2026-10"]["vacancy_fte"] == pytest.approx(3.5)
    assert by_month["2026-10"]["in_post_fte"] == pytest.approx(18.5)


def test_caseload_october(hand_engine):
    with hand_engine.connect() as conn:
        df = staffing.caseload_by_month(conn, OCT, "office")
    got = rows(df)
    # Ashford on 1 Oct: person 1 and person 2 (released 20 Sep); person 3 ended 15 Sep
    assert got["Ashford"]["open_cases"] == 2
    assert got["Ashford"]["case_holding_fte"] == pytest.approx(11.5)  # 7 PO + 4.5 PSO
    # tier A community 30 points + tier B licence 20 x 1.25 = 55
    assert got["Ashford"]["workload_points"] == pytest.approx(55.0)
    assert got["Chatham"]["open_cases"] == 2  # persons 4 and 7
    assert got["Guildford"]["open_cases"] == 1  # person 6; person 5 starts 5 Oct


def test_absence(hand_engine):
    with hand_engine.connect() as conn:
        df = staffing.absence(conn, SEP_OCT, "office")
    got = rows(df)
    assert got["Ashford"]["working_days_lost"] == pytest.approx(5.0)  # the August one is out
    assert got["Guildford"]["working_days_lost"] == pytest.approx(2.0)
    assert "Chatham" not in got


def test_quality_counts_skip_drafts_and_other_periods(hand_engine):
    with hand_engine.connect() as conn:
        df = quality.key_question_counts(conn, SEP_OCT, "region")
    got = rows(df, "key_question")
    # audits 1 and 2 only (3 is a draft, 4 is in August)
    assert (got["2.1a"]["applicable"], got["2.1a"]["sufficient"]) == (2, 2)
    assert (got["2.1b"]["applicable"], got["2.1b"]["sufficient"]) == (2, 1)
    assert (got["2.1c"]["audits"], got["2.1c"]["applicable"], got["2.1c"]["sufficient"]) == (
        2, 1, 0)


def test_unpaid_work_hours(hand_engine):
    with hand_engine.connect() as conn:
        worked = rows(payback.hours_worked(conn, SEP_OCT, "office"))
        made = rows(payback.orders_made(conn, SEP_OCT, "office"))
        live = rows(payback.outstanding(conn, SEP_OCT, "office"))
    assert (worked["Ashford"]["sessions"], worked["Ashford"]["sessions_attended"]) == (3, 2)
    assert worked["Ashford"]["hours_worked"] == pytest.approx(14.0)
    assert worked["Chatham"]["hours_worked"] == pytest.approx(33.0 + 7.0)  # orders 2 and 5
    assert worked["Guildford"]["hours_worked"] == pytest.approx(10.0)
    assert list(made) == ["Chatham"] and made["Chatham"]["hours_ordered"] == 50
    # order 1: 60 - 21 = 39; order 5: 50 - 7 = 43; orders 2, 3 complete, 4 terminated
    assert live["Ashford"]["hours_outstanding"] == pytest.approx(39.0)
    assert live["Chatham"]["hours_outstanding"] == pytest.approx(43.0)
    assert "Guildford" not in live


def test_unpaid_work_completion_and_start(hand_engine):
    with hand_engine.connect() as conn:
        done = rows(payback.completions(conn, SEP_OCT, "office"))
        start = rows(payback.start_times(conn, SEP_OCT, "office"))
    # anniversaries in Sep-Oct 2026: order 3 (GUI, done in 360 days), order 4 (ASH, not)
    assert (done["Guildford"]["due_12_months"], done["Guildford"]["completed_in_12_months"]) == (
        1, 1)
    assert (done["Ashford"]["due_12_months"], done["Ashford"]["completed_in_12_months"]) == (
        1, 0)
    assert done["Chatham"]["orders_completed"] == 1  # order 2 on 8 Oct
    # order 5 sentenced Mon 5 Oct, first session Tue 13 Oct = 6 working days later
    assert (start["Chatham"]["orders_due_to_start"], start["Chatham"]["started_in_7_days"]) == (
        1, 1)


def test_through_the_gate(hand_engine):
    with hand_engine.connect() as conn:
        got = rows(gate.coverage(conn, SEP_OCT, "office"))
    ash, cha, gui = got["Ashford"], got["Chatham"], got["Guildford"]
    # Ashford: screened Mon 2 -> Mon 9 Mar = 5 working days; plan before release; contact
    # 92 days before release after 202 days in custody
    assert (ash["screened_in_5_days"], ash["plan_before_release"], ash["custody_12_weeks"],
            ash["contact_12_weeks"], ash["settled"], ash["first_appointment_kept"]) == (
        1, 1, 1, 1, 1, 1)
    # Guildford: screening 6 working days after reception; 63 days in custody (not eligible)
    assert (gui["screened_in_5_days"], gui["custody_12_weeks"], gui["no_fixed_abode"],
            gui["first_appointment_due"], gui["first_appointment_kept"]) == (0, 0, 1, 1, 0)
    # Chatham: no screening, plan after release, contact 31 days before, outcome unknown
    assert (cha["screened_in_5_days"], cha["plan_before_release"], cha["custody_12_weeks"],
            cha["contact_12_weeks"], cha["temporary"], cha["first_appointment_due"]) == (
        0, 0, 1, 0, 1, 0)


def test_appointments(hand_engine):
    with hand_engine.connect() as conn:
        got = rows(supervision.appointments(conn, SEP_OCT, "office"))
    assert (got["Ashford"]["appointments"], got["Ashford"]["kept"],
            got["Ashford"]["acceptable_absence"], got["Ashford"]["failed"],
            got["Ashford"]["enforcement_actions"]) == (4, 2, 1, 1, 1)
    assert got["Guildford"]["failed"] == 1  # the August appointment is outside the period


def test_area_filter_keeps_only_its_offices(hand_engine):
    with hand_engine.connect() as conn:
        df = gate.coverage(conn, KENT, "office")
        region = gate.coverage(conn, KENT, "region")
    assert set(df["office"]) == {"Ashford", "Chatham"}
    assert int(region["releases"].iloc[0]) == 2


def test_overview_region_rates(hand_engine):
    with hand_engine.connect() as conn:
        frame = overview.measure_frame(conn, SEP_OCT, "region").iloc[0]
    assert frame["vacancy_rate"] == pytest.approx(100 * 3.5 / 21)  # October snapshot
    assert frame["pct_sufficient"] == pytest.approx(100 * 3 / 5)  # 2 + 1 + 0 of 2 + 2 + 1
    assert frame["ttg_housed_on_release"] == pytest.approx(100 * 2 / 3)
    assert frame["appointments_kept"] == pytest.approx(100 * 3 / 6)
    assert frame["hours_outstanding"] == pytest.approx(39.0 + 43.0)
    # caseload: 5 open cases on 1 Oct / (11.5 + 4 + 3) case-holding FTE
    assert frame["caseload_per_officer"] == pytest.approx(5 / 18.5)


# --- the frames the pages draw (merges and rates moved out of pages/) -----------------------

def test_payback_by_office_merges_and_rates(hand_engine):
    with hand_engine.connect() as conn:
        got = rows(payback.by_office(conn, SEP_OCT))
        monthly = payback.by_month(conn, SEP_OCT, "region")
    # every office of any part, 0 where a part has none: only Chatham made orders
    assert set(got) == {"Ashford", "Chatham", "Guildford"}
    assert got["Ashford"]["hours_ordered"] == 0 and got["Chatham"]["hours_ordered"] == 50
    assert got["Ashford"]["hours_outstanding"] == pytest.approx(39.0)
    # Ashford: 2 of 3 sessions attended; 0 of 1 order completed in 12 months
    assert got["Ashford"]["attendance"] == pytest.approx(100 * 2 / 3)
    assert got["Ashford"]["completed_12m"] == pytest.approx(0.0)
    assert got["Guildford"]["completed_12m"] == pytest.approx(100.0)
    assert got["Chatham"]["started_7d"] == pytest.approx(100.0)
    assert got["Ashford"]["completed_12m_high"] > got["Ashford"]["completed_12m_low"]
    # the months: hours worked and ordered side by side (0 where a month has none)
    assert monthly["hours_worked"].sum() == pytest.approx(14.0 + 40.0 + 10.0)
    assert monthly["hours_ordered"].sum() == 50


def test_gate_rates(hand_engine):
    with hand_engine.connect() as conn:
        got = rows(gate.coverage_rates(conn, SEP_OCT, "office"))
    # housed = settled + temporary: Ashford settled, Chatham temporary, Guildford NFA
    assert (got["Ashford"]["housed"], got["Chatham"]["housed"], got["Guildford"]["housed"]) == (
        1, 1, 0)
    assert got["Ashford"]["ttg_contact_12_weeks"] == pytest.approx(100.0)
    assert got["Chatham"]["ttg_contact_12_weeks"] == pytest.approx(0.0)
    assert got["Guildford"]["ttg_first_appointment_kept"] == pytest.approx(0.0)
    assert got["Guildford"]["ttg_contact_12_weeks"] != got["Guildford"]["ttg_contact_12_weeks"]
    for key, _num, _den in gate.MEASURES:
        assert {key, f"{key}_low", f"{key}_high"} <= set(got["Ashford"])


def test_staffing_office_snapshot(hand_engine):
    with hand_engine.connect() as conn:
        gaps = staffing.gaps_by_month(conn, SEP_OCT, "office", by_grade=True)
        caseload = staffing.caseload_by_month(conn, SEP_OCT, "office")
        absence = staffing.absence(conn, SEP_OCT, "office")
    got = rows(staffing.office_snapshot(gaps, caseload, absence))
    # October: Ashford 15 budgeted, 11.5 in post, 3.5 vacant; 2 cases on 11.5 FTE
    assert got["Ashford"]["vacancy_rate"] == pytest.approx(100 * 3.5 / 15)
    assert got["Ashford"]["caseload_per_officer"] == pytest.approx(2 / 11.5)
    assert got["Ashford"]["workload_capacity"] == pytest.approx(100 * 55 / (11.5 * 700))
    # absence: 5 days lost over Ashford's average FTE in post ((12.5 + 11.5) / 2 months)
    assert got["Ashford"]["absence_days_per_fte"] == pytest.approx(5 / 12.0)
    assert got["Chatham"]["working_days_lost"] == 0
    snap = staffing.last_month(gaps)
    assert set(snap["month"]) == {"2026-10"}
    assert snap["vacancy_rate"].max() == pytest.approx(100 * 3 / 10)  # Ashford PO
    assert staffing.average_fte(gaps)["Chatham"] == pytest.approx((3 + 4) / 2)


def test_quality_rates(hand_engine):
    with hand_engine.connect() as conn:
        region = quality.key_question_counts(conn, SEP_OCT, "region")
        offices = quality.key_question_counts(conn, SEP_OCT, "office")
        monthly = quality.key_question_counts(conn, SEP_OCT, "region", by_month=True)
    scheme = ratings.load_scheme("crc_2018")
    kq = rows(quality.key_question_rates(region, scheme), "key_question")
    assert kq["2.1b"]["pct"] == pytest.approx(50.0)  # 1 of 2
    assert kq["2.1b"]["question"] == "2.1b " + scheme.key_question("2.1b").label
    assert quality.office_rates(offices)["sufficient"].sum() == 3
    assert quality.office_rates(offices)["applicable"].sum() == 5
    trend = quality.monthly_rates(monthly.assign(region="All"), "region")
    assert trend["sufficient"].sum() == 3 and trend["applicable"].sum() == 5


@pytest.mark.parametrize(("f", "expected"), [
    (SEP_OCT, (None, None, None)),
    (KENT, ("KENT", "Kent", 1)),
    (Filters(date(2026, 9, 1), date(2026, 10, 31), office_ids=(3,), office_code="GUI"),
     ("SURREY", "Surrey", 2)),
])
def test_judgement_area(hand_engine, f, expected):
    with hand_engine.connect() as conn:
        offices = reference.offices(conn)
    assert readiness.judgement_area(offices, f) == expected


def test_caseload_rates_leave_no_capacity_blank():
    rows_ = pd.DataFrame({"open_cases": [10, 3], "case_holding_fte": [2.0, 0.0],
                          "workload_points": [350.0, 60.0], "available_points": [1400.0, 0.0]})
    got = caseload.with_rates(rows_)
    assert got["caseload_per_officer"].iloc[0] == pytest.approx(5.0)
    assert got["workload_capacity"].iloc[0] == pytest.approx(25.0)
    assert got[["caseload_per_officer", "workload_capacity"]].iloc[1].isna().all()
