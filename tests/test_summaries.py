"""The monthly summaries give exactly the raw rows' figures.

On the generated dataset (SQLite and PostgreSQL) every page query read from the summaries
is compared with the same query computed from the raw rows (the ``*_from_rows``
functions; they share with dashboard/data/summaries/ only the counted expressions of
dashboard/data/event_counts.py, which tests/queries/test_independent.py checks against
pandas). Then an import is imitated
(rows inserted, updated and deleted in one month for one office) and the incremental
refresh_months is checked against a full rebuild, table by table.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pandas as pd
import pandas.testing as pdt
import pytest
from sqlalchemy import delete, func, select, update

from dashboard.core.filters import Filters, month_end, month_start
from dashboard.data import schema, summaries
from dashboard.data import summary_schema as ss
from dashboard.hmip import ratings
from queries import LEVELS, gate, overview, payback, quality, readiness, staffing, supervision
from tests.backend_engines import small_demo_fixture

AS_OF = date(2026, 10, 31)
KEY_COLUMNS = {"month", "area", "office", "office_code", "grade", "standard", "key_question",
               "period", "period_order"}
# a regional scheme is rated from the PDU audits it aggregates (a tuple of scheme ids)
REGIONAL = next(s.aggregates for s in map(ratings.load_scheme, ratings.available_schemes())
                if s.aggregates)


def office_ids(conn, area_code: str | None = None, office_code: str | None = None):
    stmt = select(schema.office.c.id).join(schema.area,
                                           schema.area.c.id == schema.office.c.area_id)
    if area_code:
        stmt = stmt.where(schema.area.c.code == area_code)
    if office_code:
        stmt = stmt.where(schema.office.c.code == office_code)
    return tuple(sorted(conn.execute(stmt).scalars()))


def periods(conn) -> dict[str, Filters]:
    """Whole-month periods the dashboard can ask for, and two it cannot (before the
    history window, where only the generator's lead-in rows are)."""
    kent = office_ids(conn, "KENT")
    gui = office_ids(conn, office_code="GUI")
    return {
        "region_12m": Filters(date(2025, 11, 1), AS_OF),
        "previous_12m": Filters(date(2024, 11, 1), date(2025, 10, 31)),
        "kent_3m": Filters(date(2026, 7, 1), date(2026, 9, 30), office_ids=kent,
                           area_code="KENT"),
        "gui_1m": Filters(date(2026, 1, 1), date(2026, 1, 31), office_ids=gui,
                          area_code="SURREY", office_code="GUI"),
        "lead_in_2023": Filters(date(2023, 1, 1), date(2023, 12, 31)),
        "leap_february": Filters(date(2024, 2, 1), date(2024, 2, 29)),
    }


# query name -> (read through the summaries, computed from the raw rows)
Pair = tuple[Callable, Callable]


def pair(query: Callable, from_rows: Callable, **kw) -> Pair:
    """The query and its raw-row twin, called with the same keyword arguments."""
    return (lambda c, f, lv: query(c, f, lv, **kw), lambda c, f, lv: from_rows(c, f, lv, **kw))


QUERIES: dict[str, Pair] = {
    "gaps_by_month[by_grade]": pair(staffing.gaps_by_month, staffing.gaps_by_month_from_rows,
                                    by_grade=True),
    "gaps_by_month[total]": pair(staffing.gaps_by_month, staffing.gaps_by_month_from_rows,
                                 by_grade=False),
    "caseload_by_month": (staffing.caseload_by_month, staffing.caseload_by_month_from_rows),
    "absence": (staffing.absence, staffing.absence_from_rows),
    "key_question_counts": (quality.key_question_counts,
                            quality.key_question_counts_from_rows),
    "key_question_counts[by_month]": pair(quality.key_question_counts,
                                          quality.key_question_counts_from_rows, by_month=True),
    "audits_completed": (quality.audits_completed, quality.audits_completed_from_rows),
    "hours_worked": (payback.hours_worked, payback.hours_worked_from_rows),
    "hours_worked[by_month]": pair(payback.hours_worked, payback.hours_worked_from_rows,
                                   by_month=True),
    "orders_made": (payback.orders_made, payback.orders_made_from_rows),
    "orders_made[by_month]": pair(payback.orders_made, payback.orders_made_from_rows,
                                  by_month=True),
    "outstanding": (payback.outstanding, payback.outstanding_from_rows),
    "completions": (payback.completions, payback.completions_from_rows),
    "start_times": (payback.start_times, payback.start_times_from_rows),
    "coverage": (gate.coverage, gate.coverage_from_rows),
    "coverage[by_month]": pair(gate.coverage, gate.coverage_from_rows, by_month=True),
    "appointments": (supervision.appointments, supervision.appointments_from_rows),
    "appointments[by_month]": pair(supervision.appointments,
                                   supervision.appointments_from_rows, by_month=True),
    "overview counts": (overview.measure_counts_from_summaries,
                        overview.measure_counts_from_rows),
    "readiness key_question_counts": (
        lambda c, f, lv: readiness.key_question_counts(c, f, level=lv),
        lambda c, f, lv: readiness.key_question_counts_from_rows(c, f, level=lv)),
    "readiness key_question_counts[regional]": (
        lambda c, f, lv: readiness.key_question_counts(c, f, scheme=REGIONAL, level=lv),
        lambda c, f, lv: readiness.key_question_counts_from_rows(c, f, scheme=REGIONAL,
                                                                 level=lv)),
    # the trend runs over the whole history up to the period's end; the level is unused
    "readiness trend_counts": (lambda c, f, lv: readiness.trend_counts(c, f),
                               lambda c, f, lv: readiness.trend_counts_from_rows(c, f)),
}


def assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns in the same order and the same rows; numbers equal (PostgreSQL may
    return integer sums as Decimal on one path and int on the other)."""
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected)
    keys = [c for c in expected.columns if c in KEY_COLUMNS]
    frames = []
    for df in (got, expected):
        df = df.copy()
        for col in df.columns:
            if col not in keys:
                df[col] = pd.to_numeric(df[col]).astype(float)
        if keys:
            df = df.sort_values(keys).reset_index(drop=True)
        frames.append(df)
    pdt.assert_frame_equal(frames[0], frames[1], check_dtype=False, rtol=1e-9, atol=1e-9)


def assert_all_queries_match(conn, filters: dict[str, Filters]) -> int:
    """Every query, level and period: summaries == raw rows. Returns the rows compared."""
    compared = 0
    for name, f in filters.items():
        assert summaries.serves(conn, f), name
        for query, (from_summary, from_rows) in QUERIES.items():
            for level in LEVELS:
                got = from_summary(conn, f, level)
                expected = from_rows(conn, f, level)
                try:
                    assert_same(got, expected)
                except AssertionError as exc:
                    raise AssertionError(f"{query} {level} {name}: {exc}") from exc
                compared += len(expected)
    return compared


# --- the generated dataset -----------------------------------------------------------------

def test_summaries_cover_the_data(generated_engine):
    with generated_engine.connect() as conn:
        first, last = summaries.coverage(conn)
        first_sentence = conn.execute(select(func.min(schema.upw_order.c.sentence_date))
                                      ).scalar()
    assert last == date(2026, 10, 1)
    assert first <= month_start(summaries.as_date(first_sentence))
    assert first < date(2024, 11, 1)  # the lead-in before the history window is covered


@pytest.mark.parametrize("period", ["region_12m", "previous_12m", "kent_3m", "gui_1m",
                                    "lead_in_2023", "leap_february"])
def test_queries_from_summaries_equal_raw_rows(generated_engine, period):
    with generated_engine.connect() as conn:
        compared = assert_all_queries_match(conn, {period: periods(conn)[period]})
    assert compared > 0


@pytest.mark.parametrize("level", LEVELS)
def test_outstanding_at_every_month_end(generated_engine, level):
    """Outstanding hours are a level carried from month to month: check every month's end
    from the first covered month to the as-of date."""
    with generated_engine.connect() as conn:
        first, last = summaries.coverage(conn)
        f = Filters(first, AS_OF)
        checked = 0
        for month in summaries.month_range(first, last):
            at = month_end(month)
            got = payback.outstanding(conn, f, level, at=at)
            assert_same(got, payback.outstanding_from_rows(conn, f, level, at=at))
            checked += int(got["live_orders"].sum() > 0)
    assert checked > 24


def test_non_whole_months_read_the_raw_rows(generated_engine):
    f = Filters(date(2026, 3, 15), date(2026, 4, 10))
    with generated_engine.connect() as conn:
        assert not summaries.serves(conn, f)
        assert_same(payback.hours_worked(conn, f), payback.hours_worked_from_rows(conn, f))
        mid = date(2026, 3, 15)
        assert_same(payback.outstanding(conn, f, at=mid),
                    payback.outstanding_from_rows(conn, f, at=mid))


# --- incremental refresh after an import ---------------------------------------------------

# a small generated database of this module's own (the tests change rows)
fresh_engine = small_demo_fixture("summaries", seed=11, as_of=AS_OF)


@pytest.fixture
def scratch(fresh_engine):
    """A connection inside a transaction that is rolled back afterwards, so every test
    starts from the generated rows."""
    with fresh_engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield conn
        finally:
            transaction.rollback()


def summary_rows(conn) -> dict[str, pd.DataFrame]:
    out = {}
    for table in (*ss.SUMMARY_TABLES, ss.summary_state):
        df = pd.read_sql(select(table).order_by(*table.primary_key.columns), conn)
        for col in df.columns:
            if df[col].dtype == object and col not in ("grade", "scheme", "standard",
                                                       "key_question", "name"):
                df[col] = df[col].astype(str)
        out[table.name] = df
    return out


def assert_incremental_equals_full(conn, months, office_ids, tables=None) -> None:
    summaries.refresh_months(conn, months, office_ids, tables)
    incremental = summary_rows(conn)
    summaries.refresh_all(conn)
    full = summary_rows(conn)
    for name, expected in full.items():
        try:
            pdt.assert_frame_equal(incremental[name], expected, check_dtype=False,
                                   rtol=1e-9, atol=1e-9)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc


def imitate_import(conn, office_id: int, month: date) -> None:
    """Insert, update and delete rows dated in `month` for one office, as an import of
    that month's extract would: appointments, sessions, an order sentenced and one
    completed, a release, an audit, an absence, a starter and a leaver, a new case."""
    p, o, s = schema.person, schema.upw_order, schema.upw_session
    day = month + timedelta(days=9)
    people = conn.execute(select(p.c.id).where(p.c.office_id == office_id,
                                               p.c.start_date <= day, p.c.end_date >= day)
                          .order_by(p.c.id).limit(3)).scalars().all()
    conn.execute(schema.appointment.insert(), [
        {"person_id": people[0], "appointment_date": day, "outcome": "failed",
         "enforcement_action": True},
        {"person_id": people[1], "appointment_date": day, "outcome": "kept",
         "enforcement_action": False}])
    conn.execute(delete(schema.appointment).where(schema.appointment.c.id == conn.execute(
        select(func.min(schema.appointment.c.id)).join(p, p.c.id == schema.appointment.c
                                                       .person_id)
        .where(p.c.office_id == office_id, schema.appointment.c.appointment_date >= month,
               schema.appointment.c.appointment_date <= month_end(month))).scalar()))
    live = conn.execute(
        select(o.c.id, o.c.sentence_date).join(p, p.c.id == o.c.person_id)
        .where(p.c.office_id == office_id, o.c.sentence_date < month,
               o.c.completed_date.is_(None), o.c.terminated_date.is_(None))
        .order_by(o.c.id).limit(2)).all()
    conn.execute(s.insert(), [{"order_id": live[0].id, "session_date": day,
                               "attended": True, "hours_worked": 6.5}])
    conn.execute(update(o).where(o.c.id == live[1].id).values(completed_date=day))
    new_order = conn.execute(o.insert().values(
        person_id=people[2], sentence_date=month + timedelta(days=1), hours_ordered=80)
                             .returning(o.c.id)).scalar_one()
    conn.execute(s.insert(), [{"order_id": new_order, "session_date": month + timedelta(
        days=4), "attended": True, "hours_worked": 7.0}])
    conn.execute(schema.custody_release.insert().values(
        person_id=people[1], prison="HMP Elmley", reception_date=month - timedelta(days=200),
        screening_date=month - timedelta(days=198), release_date=day,
        plan_completed_date=day - timedelta(days=10), accommodation_on_release="temporary",
        first_appointment_kept=True))
    audit = conn.execute(schema.case_audit.insert().values(
        person_id=people[0], auditor="auditor.ken1", audit_date=day, status="complete",
        scheme="crc_2018").returning(schema.case_audit.c.id)).scalar_one()
    conn.execute(schema.audit_answer.insert(), [
        {"audit_id": audit, "standard": "2.1", "key_question": "2.1a", "answer": "sufficient"},
        {"audit_id": audit, "standard": "2.3", "key_question": "2.3c",
         "answer": "not_sufficient", "reason": "No safety plan"}])
    staff = conn.execute(select(schema.staff_member.c.id).where(
        schema.staff_member.c.office_id == office_id, schema.staff_member.c.grade == "PO",
        schema.staff_member.c.end_date.is_(None)).order_by(schema.staff_member.c.id)
                         .limit(1)).scalar_one()
    conn.execute(update(schema.staff_member).where(schema.staff_member.c.id == staff)
                 .values(end_date=day))
    conn.execute(schema.staff_member.insert().values(
        staff_ref="NEW001", office_id=office_id, grade="PSO", fte=1.0, start_date=month))
    conn.execute(schema.staff_absence.insert().values(
        staff_member_id=staff, start_date=month + timedelta(days=2),
        end_date=month + timedelta(days=3), working_days_lost=2.0, reason="sickness"))
    conn.execute(p.insert().values(
        crn="NEW0001", office_id=office_id, sentence_type="licence", start_date=month,
        end_date=month + timedelta(days=200), tier="A", rosh_level="high", gender="female",
        routeway_needs=""))


@pytest.mark.parametrize("month", [date(2026, 10, 1), date(2026, 2, 1)],
                         ids=["last_month", "eight_months_back"])
def test_refresh_months_equals_a_full_rebuild(scratch, month):
    conn = scratch
    ashford = office_ids(conn, office_code="ASH")[0]
    version = conn.execute(select(schema.dataset_info.c.value).where(
        schema.dataset_info.c.key == "data_version")).scalar_one()
    imitate_import(conn, ashford, month)
    before = summary_rows(conn)
    summaries.refresh_months(conn, [month], [ashford])
    after = summary_rows(conn)
    assert not before["summary_appointment"].equals(after["summary_appointment"])
    # the figures the pages read now match the changed raw rows ...
    assert_all_queries_match(conn, {"month": Filters(month, month_end(month),
                                                     office_ids=(ashford,)),
                                    "to_date": Filters(month, AS_OF)})
    # ... and every summary row equals a rebuild from scratch
    assert_incremental_equals_full(conn, [month], [ashford])
    new_version = conn.execute(select(schema.dataset_info.c.value).where(
        schema.dataset_info.c.key == "data_version")).scalar_one()
    assert new_version != version


def test_refresh_months_for_a_new_month_extends_the_summaries(scratch):
    """An import of November (after the data's last month) for one office: every office
    gets November's open cases and outstanding hours, carried over."""
    november = date(2026, 11, 1)
    conn = scratch
    ashford = office_ids(conn, office_code="ASH")[0]
    person_id = conn.execute(select(schema.person.c.id).where(
        schema.person.c.office_id == ashford, schema.person.c.end_date >= november)
                             .limit(1)).scalar_one()
    conn.execute(schema.appointment.insert().values(
        person_id=person_id, appointment_date=date(2026, 11, 3), outcome="kept",
        enforcement_action=False))
    assert not summaries.covers(conn, november, november)
    summaries.refresh_months(conn, [november], [ashford], tables=["appointment"])
    assert summaries.coverage(conn)[1] == november
    f = Filters(november, date(2026, 11, 30))
    assert_all_queries_match(conn, {"november": f})
    assert_incremental_equals_full(conn, [november], [ashford], ["appointment"])


def test_queries_fall_back_to_raw_rows_without_summaries(scratch):
    conn = scratch
    f = Filters(date(2025, 11, 1), AS_OF)
    expected = payback.outstanding(conn, f)
    conn.execute(delete(ss.summary_state))
    for table in ss.SUMMARY_TABLES:
        conn.execute(delete(table))
    assert not summaries.serves(conn, f)
    assert_same(payback.outstanding(conn, f), expected)
    summaries.refresh_all(conn)
    assert summaries.serves(conn, f)


def test_unknown_table_is_refused(scratch):
    with pytest.raises(ValueError, match="no summaries"):
        summaries.refresh_months(scratch, [date(2026, 10, 1)], tables=["app_user"])
