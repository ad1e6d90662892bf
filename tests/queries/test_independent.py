"""Every query in queries/ against an independent pandas computation over the raw rows.

The expected frames are built here from `select *` of each table (no query function, no
shared SQL): filters are applied with pandas, working days come from
dashboard.core.workdays.bank_holidays and numpy.busday_count (not the calendar_day table),
and the figures are grouped by office, area or region as each docstring describes.
Runs on the generated dataset on SQLite and PostgreSQL (generated_engine is parametrised).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from sqlalchemy import Date, delete, select

from dashboard.core.filters import Filters
from dashboard.core.workdays import bank_holidays, calendar_rows
from dashboard.data import schema
from queries import LEVELS, gate, payback, quality, staffing, supervision
from tests import handmade
from tests.backend_engines import migrated_engine
from tests.pandas_reference import completion_rows, in_post, with_gaps

LEVEL_KEYS = {"office": ["area", "office", "office_code"], "area": ["area"], "region": []}
KEY_COLUMNS = {"month", "area", "office", "office_code", "grade", "standard", "key_question"}
TABLES = ("area", "office", "staff_member", "staff_absence", "establishment",
          "person_on_probation", "appointment", "upw_order", "upw_session",
          "custody_release", "case_audit", "audit_answer", "case_allocation")
HOLIDAYS = np.array(sorted(d for y in range(2015, 2031) for d in bank_holidays(y)),
                    dtype="datetime64[D]")
TIER_POINTS = {"A": 30, "B": 20, "C": 14, "D": 8}  # workload points per case (docstring)


# --- raw rows -----------------------------------------------------------------------------

class Raw(SimpleNamespace):
    """One DataFrame per table (raw.upw_order, ...) plus raw.offices: office_id, office,
    office_code, area_id, area, area_code."""


def read_raw(conn) -> Raw:
    """Every table as plain rows, dates as datetime64 whatever the backend returned."""
    tables = {}
    for name in TABLES:
        table = schema.metadata.tables[name]
        df = pd.DataFrame(conn.execute(select(table)).mappings().all(),
                          columns=[c.name for c in table.c])
        for col in table.c:
            if isinstance(col.type, Date):
                df[col.name] = pd.to_datetime(df[col.name])
        tables[name] = df
    offices = tables["office"].rename(columns={"id": "office_id", "name": "office",
                                               "code": "office_code"}).merge(
        tables["area"].rename(columns={"id": "area_id", "name": "area", "code": "area_code"}),
        on="area_id")
    return Raw(**tables, offices=offices)


@pytest.fixture(scope="module")
def raw(generated_engine) -> Raw:
    with generated_engine.connect() as conn:
        return read_raw(conn)


def filters_for(raw: Raw) -> dict[str, Filters]:
    """A 12-month region period, a quarter for Kent's offices, one office for one month."""
    o = raw.offices
    kent = tuple(sorted(int(i) for i in o.loc[o["area_code"] == "KENT", "office_id"]))
    gui = int(o.loc[o["office_code"] == "GUI", "office_id"].iloc[0])
    return {
        "region_12m": Filters(date(2025, 11, 1), date(2026, 10, 31)),
        "kent_3m": Filters(date(2026, 7, 1), date(2026, 9, 30), office_ids=kent,
                           area_code="KENT", label="Kent"),
        "gui_1m": Filters(date(2026, 1, 1), date(2026, 1, 31), office_ids=(gui,),
                          area_code="SURREY", office_code="GUI", label="Guildford"),
    }


FILTER_NAMES = ("region_12m", "kent_3m", "gui_1m")


# --- helpers ------------------------------------------------------------------------------

def ts(d: date) -> pd.Timestamp:
    return pd.Timestamp(d)


def in_period(values: pd.Series, f: Filters) -> pd.Series:
    return (values >= ts(f.start)) & (values <= ts(f.end))


def in_scope(office_ids: pd.Series, f: Filters) -> pd.Series:
    return office_ids.isin(f.office_ids) if f.office_ids is not None else office_ids.notna()


def month_text(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%Y-%m")


def working_days_after(first: pd.Series, second: pd.Series) -> pd.Series:
    """Working days d with first < d <= second (NaN where either date is missing)."""
    known = first.notna() & second.notna()
    a = first[known].to_numpy().astype("datetime64[D]") + 1
    b = second[known].to_numpy().astype("datetime64[D]") + 1
    out = pd.Series(np.nan, index=first.index)
    out[known] = np.busday_count(a, b, holidays=HOLIDAYS)
    return out


def person_office(raw: Raw) -> pd.DataFrame:
    """Each person's current office (person_on_probation.office_id)."""
    return raw.person_on_probation[["id", "office_id"]].rename(columns={"id": "person_id"})


def held_on(raw: Raw, rows: pd.DataFrame, day: str) -> pd.DataFrame:
    """rows (with person_id) with the office_id of the allocation covering each row's
    `day` column (start and end inclusive, no end = open), or the person's current
    office when no allocation covers that day."""
    alloc = raw.case_allocation[["person_id", "office_id", "start_date", "end_date"]]
    rows = rows.drop(columns=["office_id"], errors="ignore")
    pairs = rows.reset_index().merge(
        alloc.rename(columns={"start_date": "_from", "end_date": "_to"}), on="person_id")
    covered = (pairs["_from"] <= pairs[day]) & (pairs["_to"].isna() | (pairs["_to"] >= pairs[day]))
    found = pairs[covered].set_index("index")["office_id"]
    assert found.index.is_unique  # one allocation per person and day
    now = rows["person_id"].map(person_office(raw).set_index("person_id")["office_id"])
    return rows.assign(office_id=found.reindex(rows.index).fillna(now).astype("int64"))


def summarise(raw: Raw, rows: pd.DataFrame, level: str, values: list[str],
              before: tuple = (), after: tuple = ()) -> pd.DataFrame:
    """Sum `values` per (before, level keys, after); office_id must be a column of rows.

    With no grouping at all (region, no breakdown) there is always one row, zeros if empty,
    as an ungrouped SQL aggregate gives.
    """
    names = raw.offices[["office_id", "office", "office_code", "area"]]
    rows = rows.merge(names, on="office_id", how="left")
    keys = [*before, *LEVEL_KEYS[level], *after]
    if not keys:
        return pd.DataFrame([{v: rows[v].sum() if len(rows) else 0 for v in values}])
    out = rows.groupby(keys, sort=True, dropna=False)[values].sum().reset_index()
    return out[[*keys, *values]]


def assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns in the documented order, same rows (sorted on the key columns)."""
    assert list(got.columns) == list(expected.columns)
    keys = [c for c in expected.columns if c in KEY_COLUMNS]
    values = [c for c in expected.columns if c not in keys]
    got = got.copy()
    for c in values:  # PostgreSQL sums of integers come back as Decimal
        got[c] = pd.to_numeric(got[c]).astype(float)
    expected = expected.copy()
    for c in values:
        expected[c] = expected[c].astype(float)
    if keys:
        got = got.sort_values(keys).reset_index(drop=True)
        expected = expected.sort_values(keys).reset_index(drop=True)
    pdt.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-9, atol=1e-9)


# --- expected figures, one function per query ----------------------------------------------

def _in_post(raw: Raw, est: pd.DataFrame) -> pd.DataFrame:
    """Per establishment row: in-post FTE and head count of its office and grade on the
    month's first day."""
    return in_post(raw.staff_member, est)


def exp_gaps(raw: Raw, f: Filters, level: str, by_grade: bool) -> pd.DataFrame:
    est = raw.establishment
    est = est[in_period(est["month"], f) & in_scope(est["office_id"], f)]
    rows = with_gaps(_in_post(raw, est))
    rows["month"] = month_text(rows["month"])
    return summarise(raw, rows, level,
                     ["establishment_fte", "in_post_fte", "vacancy_fte", "staff_in_post"],
                     before=("month",), after=("grade",) if by_grade else ())


def exp_caseload(raw: Raw, f: Filters, level: str) -> pd.DataFrame:
    est = raw.establishment
    est = est[in_period(est["month"], f) & in_scope(est["office_id"], f)]
    spine = est.loc[est["grade"] == "PO", ["office_id", "month"]]
    people = raw.person_on_probation.copy()
    people["points"] = people["tier"].map(TIER_POINTS) * np.where(
        people["sentence_type"] == "licence", 1.25, 1.0)
    # a case counts on the month's first day for the office it was allocated to that day
    months = pd.DataFrame({"month": spine["month"].drop_duplicates()})
    open_then = people[["id", "start_date", "end_date", "points"]].rename(
        columns={"id": "person_id"}).merge(months, how="cross")
    open_then = open_then[(open_then["start_date"] <= open_then["month"])
                          & (open_then["end_date"] >= open_then["month"])]
    pairs = spine.merge(held_on(raw, open_then, "month"), on=["office_id", "month"])
    cases = pairs.groupby(["office_id", "month"]).agg(open_cases=("points", "size"),
                                                      workload_points=("points", "sum"))
    cases = spine.set_index(["office_id", "month"]).join(cases).fillna(0.0)
    holding = _in_post(raw, est[est["grade"].isin(["PO", "PSO"])])
    fte = holding.groupby(["office_id", "month"])["in_post_fte"].sum().rename("case_holding_fte")
    rows = cases.join(fte, how="inner").reset_index()
    rows["available_points"] = rows["case_holding_fte"] * 700.0
    rows["month"] = month_text(rows["month"])
    return summarise(raw, rows, level, ["open_cases", "workload_points", "case_holding_fte",
                                   "available_points"], before=("month",))


def exp_absence(raw: Raw, f: Filters, level: str) -> pd.DataFrame:
    rows = raw.staff_absence.merge(
        raw.staff_member[["id", "office_id"]].rename(columns={"id": "staff_member_id"}),
        on="staff_member_id")
    rows = rows[(rows["reason"] == "sickness") & in_period(rows["start_date"], f)
                & in_scope(rows["office_id"], f)].assign(episodes=1)
    return summarise(raw, rows, level, ["episodes", "working_days_lost"])


def _audits(raw: Raw, f: Filters) -> pd.DataFrame:
    audits = held_on(raw, raw.case_audit, "audit_date")
    return audits[(audits["status"] == "complete") & in_period(audits["audit_date"], f)
                  & in_scope(audits["office_id"], f)]


def exp_key_questions(raw: Raw, f: Filters, level: str, by_month: bool) -> pd.DataFrame:
    audits = _audits(raw, f)
    audits = audits[audits["scheme"] == "crc_2018"]
    rows = raw.audit_answer.merge(audits[["id", "office_id", "audit_date"]].rename(
        columns={"id": "audit_id"}), on="audit_id")
    rows = rows.assign(audits=1, applicable=(rows["answer"] != "not_applicable").astype(int),
                       sufficient=(rows["answer"] == "sufficient").astype(int),
                       month=month_text(rows["audit_date"]))
    return summarise(raw, rows, level, ["audits", "applicable", "sufficient"],
                     before=("month",) if by_month else (), after=("standard", "key_question"))


def exp_audits_completed(raw: Raw, f: Filters, level: str) -> pd.DataFrame:
    return summarise(raw, _audits(raw, f).assign(audits=1), level, ["audits"])


def _orders(raw: Raw, day: str = "sentence_date") -> pd.DataFrame:
    """Orders with the office holding the case on `day` (default: sentence date)."""
    return held_on(raw, raw.upw_order, day)


def exp_hours_worked(raw: Raw, f: Filters, level: str, by_month: bool) -> pd.DataFrame:
    rows = held_on(raw, raw.upw_session.merge(
        raw.upw_order[["id", "person_id"]].rename(columns={"id": "order_id"}),
        on="order_id"), "session_date")
    rows = rows[in_period(rows["session_date"], f) & in_scope(rows["office_id"], f)]
    rows = rows.assign(sessions=1, sessions_attended=rows["attended"].astype(bool).astype(int),
                       month=month_text(rows["session_date"]))
    return summarise(raw, rows, level, ["sessions", "sessions_attended", "hours_worked"],
                     before=("month",) if by_month else ())


def exp_orders_made(raw: Raw, f: Filters, level: str, by_month: bool) -> pd.DataFrame:
    rows = _orders(raw)
    rows = rows[in_period(rows["sentence_date"], f) & in_scope(rows["office_id"], f)]
    rows = rows.assign(orders=1, month=month_text(rows["sentence_date"]))
    return summarise(raw, rows, level, ["orders", "hours_ordered"],
                     before=("month",) if by_month else ())


def exp_outstanding(raw: Raw, f: Filters, level: str, at: date | None = None) -> pd.DataFrame:
    at_ts = ts(at or f.end)
    sessions = raw.upw_session[raw.upw_session["session_date"] <= at_ts]
    worked = sessions.groupby("order_id")["hours_worked"].sum()
    rows = held_on(raw, raw.upw_order.assign(at=at_ts), "at")  # where the case is at `at`
    live = ((rows["sentence_date"] <= at_ts)
            & (rows["completed_date"].isna() | (rows["completed_date"] > at_ts))
            & (rows["terminated_date"].isna() | (rows["terminated_date"] > at_ts))
            & in_scope(rows["office_id"], f))
    rows = rows[live].copy()
    rows["live_orders"] = 1
    rows["hours_outstanding"] = rows["hours_ordered"] - rows["id"].map(worked).fillna(0.0)
    return summarise(raw, rows, level, ["live_orders", "hours_outstanding"])


def one_year_on(day: pd.Timestamp) -> pd.Timestamp:
    """The calendar anniversary: same day and month a year later, 29 Feb -> 28 Feb."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return pd.Timestamp(day.year + 1, 2, 28)


def exp_completions(raw: Raw, f: Filters, level: str) -> pd.DataFrame:
    # completions count where the case was on the completion date, dues on the sentence date
    done = _orders(raw, "completed_date")
    done = done[in_scope(done["office_id"], f) & in_period(done["completed_date"], f)]
    due = _orders(raw)
    due = due[in_scope(due["office_id"], f)].copy()
    anniversary = due["sentence_date"].map(one_year_on)
    rows = completion_rows(done, due, anniversary, in_period(anniversary, f))
    return summarise(raw, rows, level,
                     ["orders_completed", "due_12_months", "completed_in_12_months"])


def start_deadline(sentenced: pd.Series) -> pd.Series:
    """The 7th working day after each sentence date (a weekend or holiday sentence day
    rolls back, so Saturday + 7 is the Tuesday of the week after next's Monday)."""
    days = sentenced.to_numpy().astype("datetime64[D]")
    return pd.Series(np.busday_offset(days, 7, roll="backward", holidays=HOLIDAYS),
                     index=sentenced.index).astype("datetime64[ns]")


def exp_start_times(raw: Raw, f: Filters, level: str) -> pd.DataFrame:
    rows = _orders(raw)
    # every order counts once: in the period its 7-working-day start deadline fell in
    rows = rows[in_period(start_deadline(rows["sentence_date"]), f)
                & in_scope(rows["office_id"], f)].copy()
    first = raw.upw_session.groupby("order_id")["session_date"].min()
    rows["first_session"] = rows["id"].map(first)
    wait = working_days_after(rows["sentence_date"], rows["first_session"])
    rows = rows.assign(orders_due_to_start=1, started_in_7_days=(wait <= 7).astype(int))
    return summarise(raw, rows, level, ["orders_due_to_start", "started_in_7_days"])


COVERAGE_VALUES = ["releases", "screened_in_5_days", "plan_before_release", "custody_12_weeks",
                   "contact_12_weeks", "accommodation_known", "settled", "temporary",
                   "no_fixed_abode", "first_appointment_due", "first_appointment_kept"]


def exp_coverage(raw: Raw, f: Filters, level: str, by_month: bool) -> pd.DataFrame:
    r = held_on(raw, raw.custody_release, "release_date")
    r = r[in_period(r["release_date"], f) & in_scope(r["office_id"], f)].copy()
    screening_wait = working_days_after(r["reception_date"], r["screening_date"])
    in_custody = (r["release_date"] - r["reception_date"]).dt.days
    contact_ahead = (r["release_date"] - r["pre_release_contact_date"]).dt.days
    long_custody = in_custody >= 84
    acc = r["accommodation_on_release"]
    kept = r["first_appointment_kept"]
    r = r.assign(
        releases=1,
        screened_in_5_days=(screening_wait <= 5).astype(int),
        plan_before_release=(r["plan_completed_date"] <= r["release_date"]).astype(int),
        custody_12_weeks=long_custody.astype(int),
        contact_12_weeks=(long_custody & (contact_ahead >= 84)).astype(int),
        accommodation_known=acc.notna().astype(int),
        settled=(acc == "settled").astype(int),
        temporary=(acc == "temporary").astype(int),
        no_fixed_abode=(acc == "no_fixed_abode").astype(int),
        first_appointment_due=kept.notna().astype(int),
        # True only: None (and NaN, v != v) mean no outcome recorded yet
        first_appointment_kept=kept.map(lambda v: v is not None and v == v and bool(v)).astype(
            int),
        month=month_text(r["release_date"]),
    )
    return summarise(raw, r, level, COVERAGE_VALUES, before=("month",) if by_month else ())


def exp_appointments(raw: Raw, f: Filters, level: str, by_month: bool) -> pd.DataFrame:
    a = held_on(raw, raw.appointment, "appointment_date")
    a = a[in_period(a["appointment_date"], f) & in_scope(a["office_id"], f)]
    a = a.assign(appointments=1, kept=(a["outcome"] == "kept").astype(int),
                 acceptable_absence=(a["outcome"] == "acceptable_absence").astype(int),
                 failed=(a["outcome"] == "failed").astype(int),
                 enforcement_actions=a["enforcement_action"].astype(bool).astype(int),
                 month=month_text(a["appointment_date"]))
    return summarise(raw, a, level, ["appointments", "kept", "acceptable_absence", "failed",
                                "enforcement_actions"], before=("month",) if by_month else ())


# --- the cases ----------------------------------------------------------------------------

Query = Callable[..., pd.DataFrame]


def both(query: Query, expected: Callable[..., pd.DataFrame], **kw) -> tuple:
    """The query and its pandas expectation, called with the same keyword arguments."""
    return (lambda c, f, lv: query(c, f, lv, **kw), lambda r, f, lv: expected(r, f, lv, **kw))


CASES: dict[str, tuple[Query, Callable[..., pd.DataFrame]]] = {
    "gaps_by_month[by_grade]": both(staffing.gaps_by_month, exp_gaps, by_grade=True),
    "gaps_by_month[total]": both(staffing.gaps_by_month, exp_gaps, by_grade=False),
    "caseload_by_month": (staffing.caseload_by_month, exp_caseload),
    "absence": (staffing.absence, exp_absence),
    "key_question_counts": both(quality.key_question_counts, exp_key_questions, by_month=False),
    "key_question_counts[by_month]": both(quality.key_question_counts, exp_key_questions,
                                          by_month=True),
    "audits_completed": (quality.audits_completed, exp_audits_completed),
    "hours_worked": both(payback.hours_worked, exp_hours_worked, by_month=False),
    "hours_worked[by_month]": both(payback.hours_worked, exp_hours_worked, by_month=True),
    "orders_made": both(payback.orders_made, exp_orders_made, by_month=False),
    "orders_made[by_month]": both(payback.orders_made, exp_orders_made, by_month=True),
    "outstanding": (payback.outstanding, exp_outstanding),
    "outstanding[at_mid_period]": (
        lambda c, f, lv: payback.outstanding(c, f, lv, at=f.start + timedelta(days=14)),
        lambda r, f, lv: exp_outstanding(r, f, lv, at=f.start + timedelta(days=14))),
    "completions": (payback.completions, exp_completions),
    "start_times": (payback.start_times, exp_start_times),
    "coverage": both(gate.coverage, exp_coverage, by_month=False),
    "coverage[by_month]": both(gate.coverage, exp_coverage, by_month=True),
    "appointments": both(supervision.appointments, exp_appointments, by_month=False),
    "appointments[by_month]": both(supervision.appointments, exp_appointments, by_month=True),
}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("filter_name", FILTER_NAMES)
@pytest.mark.parametrize("case", list(CASES))
def test_query_matches_independent_pandas(generated_engine, raw, case, filter_name, level):
    query, expected_of = CASES[case]
    f = filters_for(raw)[filter_name]
    expected = expected_of(raw, f, level)
    with generated_engine.connect() as conn:
        got = query(conn, f, level)
    assert_same(got, expected)


@pytest.mark.parametrize("filter_name", FILTER_NAMES)
def test_filters_select_rows(raw, filter_name):
    """The chosen filters are not vacuous: each sees appointments and sessions."""
    f = filters_for(raw)[filter_name]
    assert exp_appointments(raw, f, "region", False)["appointments"].iloc[0] > 0
    assert exp_hours_worked(raw, f, "region", False)["sessions"].iloc[0] > 0
    assert exp_coverage(raw, f, "region", False)["releases"].iloc[0] > 0


# --- rows the generated data does not contain -----------------------------------------------

@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def extended_engine(request, tmp_path_factory):
    """The hand-made dataset plus rows that probe edge cases: a release after a long
    sentence (reception before the calendar table starts) and a non-sickness absence."""
    engine = migrated_engine(request, tmp_path_factory, "extended")
    handmade.load(engine)
    with engine.begin() as conn:
        conn.execute(schema.person.insert(), [{
            "crn": "H000101", "office_id": 1, "officer_id": None, "sentence_type": "licence",
            "start_date": date(2026, 9, 25), "end_date": date(2027, 9, 24), "tier": "B",
            "rosh_level": "high", "gender": "male", "routeway_needs": ""}])
        person_id = conn.execute(select(schema.person.c.id).where(
            schema.person.c.crn == "H000101")).scalar_one()
        conn.execute(schema.custody_release.insert(), [{  # seven years inside
            "person_id": person_id, "prison": "HMP Swaleside",
            "reception_date": date(2019, 9, 2), "screening_date": date(2019, 9, 4),
            "plan_completed_date": date(2026, 9, 1),
            "pre_release_contact_date": date(2026, 6, 1), "release_date": date(2026, 9, 25),
            "accommodation_on_release": "settled", "first_appointment_kept": True}])
        conn.execute(schema.staff_absence.insert(), [{
            "staff_member_id": 3, "start_date": date(2026, 10, 5),
            "end_date": date(2026, 10, 9), "working_days_lost": 5.0,
            "reason": "annual_leave"}])
        # two orders completed on 28 Feb 2025: both within 12 months by the calendar
        # anniversary (29 Feb 2024 -> 28 Feb 2025), the second not by a 365-day count
        conn.execute(schema.upw_order.insert(), [
            {"person_id": person_id, "sentence_date": date(2024, 2, 29), "hours_ordered": 40,
             "completed_date": date(2025, 2, 28), "terminated_date": None},
            {"person_id": person_id, "sentence_date": date(2024, 2, 28), "hours_ordered": 40,
             "completed_date": date(2025, 2, 28), "terminated_date": None}])
        # the importer extends the calendar to every date it loads (whole years): do the
        # same for the rows written directly here
        conn.execute(delete(schema.calendar_day))
        conn.execute(schema.calendar_day.insert(),
                     calendar_rows(date(2019, 1, 1), date(2027, 12, 31)))
    yield engine
    engine.dispose()


SEP_OCT = Filters(date(2026, 9, 1), date(2026, 10, 31))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("case", ["coverage", "absence"])
def test_edge_rows_count_as_in_pandas(extended_engine, case, level):
    """coverage counts the release after a long sentence (reception before the calendar
    starts); absence counts sickness only (not the added annual leave)."""
    query, expected = CASES[case]
    with extended_engine.connect() as conn:
        raw_rows = read_raw(conn)
        got = query(conn, SEP_OCT, level)
    assert_same(got, expected(raw_rows, SEP_OCT, level))


def test_release_outside_the_calendar_is_still_counted(extended_engine):
    """Without the calendar rows for its reception date a release still counts as a
    release (outer join); only the working-day measure cannot be met."""
    with extended_engine.connect() as conn:
        trans = conn.begin()
        try:
            conn.execute(delete(schema.calendar_day).where(
                schema.calendar_day.c.day < date(2024, 1, 1)))
            got = gate.coverage(conn, SEP_OCT, "region")
            expected = exp_coverage(read_raw(conn), SEP_OCT, "region", False)
        finally:
            trans.rollback()
    assert int(got["releases"].iloc[0]) == int(expected["releases"].iloc[0])
    assert int(got["screened_in_5_days"].iloc[0]) == int(
        expected["screened_in_5_days"].iloc[0]) - 1


FEB_2025 = Filters(date(2025, 2, 1), date(2025, 2, 28))


@pytest.mark.parametrize("level", LEVELS)
def test_completion_uses_the_calendar_anniversary(extended_engine, level):
    with extended_engine.connect() as conn:
        raw_rows = read_raw(conn)
        got = payback.completions(conn, FEB_2025, level)
    expected = exp_completions(raw_rows, FEB_2025, level)
    assert_same(got, expected)
    if level == "region":
        assert (int(got["due_12_months"].iloc[0]),
                int(got["completed_in_12_months"].iloc[0])) == (2, 2)


@pytest.mark.parametrize("filter_name", FILTER_NAMES)
def test_cases_audited_counts_distinct_people(generated_engine, raw, filter_name):
    f = filters_for(raw)[filter_name]
    audits = _audits(raw, f)
    audits = audits[audits["scheme"] == "crc_2018"]
    with generated_engine.connect() as conn:
        got = quality.cases_audited(conn, f).iloc[0]
    assert int(got["cases_audited"]) == audits["person_id"].nunique()
    assert int(got["audits"]) == len(audits)
    if filter_name == "region_12m":  # the generator audits some cases twice in a year
        assert audits["person_id"].nunique() < len(audits)
