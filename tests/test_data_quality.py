"""The data quality page's stored counts (dq_check_month, dq_table_size) give exactly the
raw rows' figures, and are never read once a write has made them out of date.

On a generated dataset of this module's own (SQLite and PostgreSQL):
- after generation the counts are stored, and every cross-table check and every table size
  read through them equals plain SQL over the raw rows (written out here, not the
  module's statements), for the region, each area and each office, over every month of
  the last year, a quarter and the default 12 months;
- a write to a table they count (an appointment import) marks them out of date: the page
  then counts the raw rows, and the import's broken record shows at once; catch_up
  recounts them and they serve again, equal to the raw rows;
- a write to a table they do not count (an audit) leaves them up to date;
- a period that is not whole months, or outside the months counted, is read from the raw
  rows.
"""

from __future__ import annotations

import csv
from datetime import date

import pytest
from sqlalchemy import select, text

from dashboard.commands.imports import import_file
from dashboard.core.filters import Filters, add_months, month_end
from dashboard.data import stat_state, summaries
from dashboard.data.schema import area, office, person
from dashboard.precompute import data_checks, statistics
from queries import data_quality
from tests.backend_engines import small_demo_fixture
from tests.conftest import AS_OF

engine = small_demo_fixture("data_quality", seed=17, as_of=AS_OF)

LAST = date(2026, 10, 1)

# Plain SQL over the raw rows, one statement per stored check: :start, :end, :day (the
# snapshot day) and the office filter spliced in as {offices}.
RAW = {
    "release_not_licence": """
        SELECT COUNT(*), SUM(CASE WHEN p.sentence_type <> 'licence' THEN 1 ELSE 0 END)
        FROM custody_release r JOIN person_on_probation p ON p.id = r.person_id
        WHERE r.release_date BETWEEN :start AND :end {offices}""",
    "release_outside_case": """
        SELECT COUNT(*), SUM(CASE WHEN r.release_date < p.start_date
                                   OR r.release_date > p.end_date THEN 1 ELSE 0 END)
        FROM custody_release r JOIN person_on_probation p ON p.id = r.person_id
        WHERE r.release_date BETWEEN :start AND :end {offices}""",
    "appointment_outside_case": """
        SELECT COUNT(*), SUM(CASE WHEN a.appointment_date < p.start_date
                                   OR a.appointment_date > p.end_date THEN 1 ELSE 0 END)
        FROM appointment a JOIN person_on_probation p ON p.id = a.person_id
        WHERE a.appointment_date BETWEEN :start AND :end {offices}""",
    "session_outside_order": """
        SELECT COUNT(*), SUM(CASE WHEN s.session_date < o.sentence_date
                                   OR s.session_date > COALESCE(o.completed_date,
                                                                o.terminated_date)
                             THEN 1 ELSE 0 END)
        FROM upw_session s JOIN upw_order o ON o.id = s.order_id
        JOIN person_on_probation p ON p.id = o.person_id
        WHERE s.session_date BETWEEN :start AND :end {offices}""",
    "order_over_worked": """
        SELECT COUNT(*), SUM(CASE WHEN (SELECT COALESCE(SUM(s.hours_worked), 0)
                                         FROM upw_session s WHERE s.order_id = o.id)
                                        > o.hours_ordered THEN 1 ELSE 0 END)
        FROM upw_order o JOIN person_on_probation p ON p.id = o.person_id
        WHERE o.sentence_date BETWEEN :start AND :end {offices}""",
    "order_on_licence": """
        SELECT COUNT(*), SUM(CASE WHEN p.sentence_type = 'licence' THEN 1 ELSE 0 END)
        FROM upw_order o JOIN person_on_probation p ON p.id = o.person_id
        WHERE o.sentence_date BETWEEN :start AND :end {offices}""",
    "case_with_leaver": """
        SELECT COUNT(*), SUM(CASE WHEN sm.end_date < :end THEN 1 ELSE 0 END)
        FROM person_on_probation p LEFT JOIN staff_member sm ON sm.id = p.officer_id
        WHERE p.start_date <= :end AND p.end_date >= :end {offices}""",
}
SIZES_SQL = {
    "appointment": "SELECT COUNT(*), MAX(appointment_date) FROM appointment",
    "upw_session": "SELECT COUNT(*), MAX(session_date) FROM upw_session",
    "upw_order": "SELECT COUNT(*), MAX(sentence_date) FROM upw_order",
    "custody_release": "SELECT COUNT(*), MAX(release_date) FROM custody_release",
    "person_on_probation": "SELECT COUNT(*), MAX(start_date) FROM person_on_probation",
    "staff_member": "SELECT COUNT(*), MAX(start_date) FROM staff_member",
    "case_allocation": "SELECT COUNT(*) FROM case_allocation",
    "case_audit": "SELECT COUNT(*), MAX(audit_date) FROM case_audit",
}


def raw_checks(conn, f: Filters) -> dict[str, tuple[int, int]]:
    offices = ""
    params = {"start": f.start, "end": f.end}
    if f.office_ids is not None:
        names = [f"o{i}" for i in range(len(f.office_ids))]
        offices = f"AND p.office_id IN ({', '.join(':' + n for n in names)})"
        params |= dict(zip(names, f.office_ids, strict=True))
    out = {}
    for key, sql in RAW.items():
        checked, failing = conn.execute(text(sql.format(offices=offices)), params).one()
        out[key] = (int(checked), int(failing or 0))
    return out


def shown_checks(conn, f: Filters) -> dict[str, tuple[int, int]]:
    checks = data_quality.cross_checks(conn, f)
    return {r.check: (int(r.checked), int(r.failing)) for r in checks.itertuples()
            if r.check in RAW}


def views(conn) -> list[Filters]:
    """Region, each area and each office, over every month of the last year, a quarter
    and the default 12 months."""
    units = [None]
    units += [tuple(sorted(conn.execute(select(office.c.id).where(office.c.area_id == a))
                           .scalars())) for a in conn.execute(select(area.c.id)).scalars()]
    units += [(o,) for o in conn.execute(select(office.c.id).order_by(office.c.id)).scalars()]
    periods = [(add_months(LAST, -k), month_end(add_months(LAST, -k))) for k in range(12)]
    periods += [(add_months(LAST, -3), month_end(add_months(LAST, -1))),
                (add_months(LAST, -11), month_end(LAST))]
    return [Filters(start, end, office_ids=unit) for unit in units for start, end in periods]


def test_generation_stores_the_counts_and_they_match_plain_sql_at_every_view(engine):
    with engine.connect() as conn:
        assert stat_state.coverage(conn, stat_state.CHECKS) == summaries.coverage(conn)
        checked = 0
        for f in views(conn):
            assert stat_state.checks_serve(conn, f.start, f.end), f
            assert shown_checks(conn, f) == raw_checks(conn, f), f
            checked += 1
        assert checked >= 5 * 14
        sizes = data_quality.table_sizes(conn).set_index("table")
        for table, sql in SIZES_SQL.items():
            rows, *latest = conn.execute(text(sql)).one()
            assert int(sizes.loc[table, "rows"]) == rows, table
            if latest:
                assert str(sizes.loc[table, "latest_date"])[:10] == str(latest[0])[:10], table


def test_periods_not_counted_whole_are_read_from_the_raw_rows(engine):
    with engine.connect() as conn:
        first, _last = summaries.coverage(conn)
        for f in (Filters(date(2026, 3, 5), date(2026, 4, 20)),   # not whole months
                  Filters(add_months(first, -12), month_end(add_months(first, -1)))):
            assert not stat_state.checks_serve(conn, f.start, f.end)
            assert shown_checks(conn, f) == raw_checks(conn, f), f


def _import_appointment_outside_case(engine, tmp_path) -> tuple[Filters, str]:
    """Import one appointment dated after its case ended; returns (its office and month,
    its crn)."""
    with engine.connect() as conn:
        crn, office_id, end = conn.execute(
            select(person.c.crn, person.c.office_id, person.c.end_date)
            .where(person.c.end_date < date(2026, 6, 1), person.c.end_date >= date(2026, 1, 1))
            .order_by(person.c.id).limit(1)).one()
    day = date(2026, 7, 14)
    assert end < day
    path = tmp_path / "appointments.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["appointment_ref", "crn", "appointment_date", "outcome",
                         "enforcement_action"])
        writer.writerow(["APT-DQ000001", crn, day.isoformat(), "kept", "false"])
    report = import_file(engine, path, "appointment", username="test")
    assert report.ok and report.inserted == 1, (report.message, report.problems)
    return Filters(date(2026, 7, 1), date(2026, 7, 31), office_ids=(office_id,)), crn


def test_an_import_marks_them_out_of_date_until_catch_up_recounts(engine, tmp_path):
    with engine.connect() as conn:
        month_before = {}
        for f in views(conn)[:14]:
            month_before[f] = shown_checks(conn, f)
    f, _crn = _import_appointment_outside_case(engine, tmp_path)
    with engine.connect() as conn:
        assert stat_state.coverage(conn, stat_state.CHECKS) is None
        assert not stat_state.checks_serve(conn, f.start, f.end)
        raw = raw_checks(conn, f)
        assert shown_checks(conn, f) == raw
        assert raw["appointment_outside_case"][1] >= 1
    statistics.catch_up(engine)
    with engine.connect() as conn:
        assert stat_state.checks_serve(conn, f.start, f.end)
        assert shown_checks(conn, f) == raw
        for g in views(conn)[:14]:
            assert shown_checks(conn, g) == raw_checks(conn, g), g
        # a recount with nothing out of date writes nothing
        assert data_checks.refresh(conn) == 0


def test_an_audit_refresh_leaves_them_up_to_date(engine):
    with engine.begin() as conn:
        summaries.refresh_months(conn, [date(2026, 9, 1)], tables=["case_audit",
                                                                    "audit_answer"])
        assert stat_state.coverage(conn, stat_state.CHECKS) is not None
        summaries.refresh_months(conn, [date(2026, 9, 1)], tables=["upw_session"])
        assert stat_state.coverage(conn, stat_state.CHECKS) is None
        assert data_checks.refresh(conn) > 0
        assert stat_state.coverage(conn, stat_state.CHECKS) is not None


@pytest.mark.parametrize("key", sorted(RAW))
def test_every_stored_check_is_a_check_of_the_page(key):
    assert key in data_quality.STORED_CHECKS
    assert key in {c.key for c in data_quality.CROSS_CHECKS}
