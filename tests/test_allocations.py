"""Allocation history (issue 12): a transfer leaves the past where it was.

The scenario from the issue, on SQLite and PostgreSQL: one Horsham case moves to Bognor
Regis from 15 May 2026, imported as an allocation extract. Every figure the pages show
(appointments, audits and answers, unpaid work sessions, orders and outstanding hours,
releases, open cases and workload) is read per office and month before and after, through
the query modules and the monthly summaries. Months before May stay exactly as they were in
both offices; every month is checked against hand-written SQL over the raw rows (sharing
no code with dashboard/data/allocations.py); the later months move by exactly the case's own
events. Per-officer caseload is checked against the same kind of SQL.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import text

from dashboard.commands.imports import import_file
from dashboard.core.filters import Filters, add_months, month_end
from dashboard.data import summaries
from dashboard.demo import demo_data
from queries import caseload, gate, payback, quality, staffing, supervision
from tests.backend_engines import migrated_engine

AS_OF = date(2026, 10, 31)
MOVE = date(2026, 5, 15)
MONTHS = [add_months(date(2024, 11, 1), k) for k in range(24)]
SUSSEX_PAIR = demo_data.Scale("pair", (("SUSSEX", "Sussex"),), (
    ("HOR", "Horsham", "SUSSEX", 160, 0.28),
    ("BOG", "Bognor Regis", "SUSSEX", 170, 0.22),
))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(request, tmp_path_factory):
    """Horsham and Bognor Regis, generated (seed 12), on each backend; modified here."""
    eng = migrated_engine(request, tmp_path_factory, "transfer")
    demo_data.generate(eng, seed=12, as_of=AS_OF, scale=SUSSEX_PAIR)
    yield eng
    eng.dispose()


def month_sql(conn, column: str) -> str:
    if conn.dialect.name == "sqlite":
        return f"substr({column}, 1, 7)"
    return f"to_char({column}, 'YYYY-MM')"


def held_on(alias: str, person: str, day: str) -> str:
    """Hand-written: the allocation of `person` covering `day` (from and to inclusive)."""
    return (f"{alias}.person_id = {person} AND {alias}.start_date <= {day} AND "
            f"({alias}.end_date IS NULL OR {alias}.end_date >= {day})")


def raw_figures(conn, person_id: int | None = None, by_person: bool = False) -> pd.DataFrame:
    """Every figure per office and month from the raw rows (hand-written SQL). With
    person_id: that person's contribution only. by_person: everything where the person
    is now (person_on_probation.office_id, as before allocation history existed).
    Columns: office_code, month, measure, value."""
    only = "" if person_id is None else f" AND p.id = {int(person_id)}"
    parts = []

    def office_of(day: str) -> str:
        """The joins giving office o for the case (p) on `day`."""
        if by_person:
            return "JOIN office o ON o.id = p.office_id "
        return (f"JOIN case_allocation c ON {held_on('c', 'p.id', day)} "
                "JOIN office o ON o.id = c.office_id ")

    def events(measure_sql: str, table: str, day: str, join: str = "", where: str = ""):
        m = month_sql(conn, day)
        sql = (f"SELECT o.code AS office_code, {m} AS month, {measure_sql} "
               f"FROM {table} {join} JOIN person_on_probation p ON p.id = x.person_id "
               f"{office_of(day)} WHERE 1 = 1 {where} {only} "
               f"GROUP BY o.code, {m}")
        df = pd.read_sql(text(sql), conn)
        parts.append(df.melt(["office_code", "month"], var_name="measure"))

    events("COUNT(*) AS appointments, SUM(CASE WHEN x.outcome = 'kept' THEN 1 ELSE 0 END) "
           "AS kept", "appointment x", "x.appointment_date")
    events("COUNT(*) AS audits", "case_audit x", "x.audit_date",
           where="AND x.status = 'complete'")
    events("SUM(CASE WHEN q.answer = 'sufficient' THEN 1 ELSE 0 END) AS sufficient, "
           "SUM(CASE WHEN q.answer <> 'not_applicable' THEN 1 ELSE 0 END) AS applicable",
           "audit_answer q", "x.audit_date", join="JOIN case_audit x ON x.id = q.audit_id",
           where="AND x.status = 'complete' AND x.scheme = 'crc_2018'")
    events("COUNT(*) AS sessions, SUM(s.hours_worked) AS hours_worked", "upw_session s",
           "s.session_date", join="JOIN upw_order x ON x.id = s.order_id")
    events("COUNT(*) AS orders, SUM(x.hours_ordered) AS hours_ordered", "upw_order x",
           "x.sentence_date")
    events("COUNT(*) AS releases", "custody_release x", "x.release_date")
    # snapshots: open cases on each month's first day, orders live at each month's end
    for m in MONTHS:
        first, last = m.isoformat(), month_end(m).isoformat()
        df = pd.read_sql(text(
            "SELECT o.code AS office_code, COUNT(*) AS open_cases FROM person_on_probation p "
            f"{office_of(':d')}"
            f"WHERE p.start_date <= :d AND p.end_date >= :d {only} GROUP BY o.code"),
            conn, params={"d": first})
        parts.append(df.assign(month=first[:7]).melt(["office_code", "month"],
                                                     var_name="measure"))
        df = pd.read_sql(text(
            "SELECT o.code AS office_code, COUNT(*) AS live_orders, "
            "SUM(u.hours_ordered - COALESCE((SELECT SUM(s.hours_worked) FROM upw_session s "
            "  WHERE s.order_id = u.id AND s.session_date <= :e), 0)) AS hours_outstanding "
            "FROM upw_order u JOIN person_on_probation p ON p.id = u.person_id "
            f"{office_of(':e')}"
            "WHERE u.sentence_date <= :e AND (u.completed_date IS NULL OR u.completed_date > :e)"
            " AND (u.terminated_date IS NULL OR u.terminated_date > :e)"
            f" {only} GROUP BY o.code"), conn, params={"e": last})
        parts.append(df.assign(month=first[:7]).melt(["office_code", "month"],
                                                     var_name="measure"))
    out = pd.concat(parts, ignore_index=True)
    out["value"] = out["value"].astype(float)
    out = out[out["month"].isin({m.strftime("%Y-%m") for m in MONTHS})]
    return tidy(out)


def tidy(df: pd.DataFrame) -> pd.DataFrame:
    df = df[df["value"] != 0]
    return (df.groupby(["office_code", "month", "measure"], as_index=False)["value"].sum()
            .sort_values(["office_code", "month", "measure"]).reset_index(drop=True))


def page_figures(conn) -> pd.DataFrame:
    """The same figures as the pages read them: the query modules, month by month (whole
    months, so through the monthly summaries)."""
    parts = []
    for m in MONTHS:
        f = Filters(m, month_end(m))
        frames = [
            supervision.appointments(conn, f, "office")[["office_code", "appointments",
                                                          "kept"]],
            quality.audits_completed(conn, f, "office")[["office_code", "audits"]],
            quality.key_question_counts(conn, f, "office").groupby(
                "office_code", as_index=False)[["sufficient", "applicable"]].sum(),
            payback.hours_worked(conn, f, "office")[["office_code", "sessions",
                                                     "hours_worked"]],
            payback.orders_made(conn, f, "office")[["office_code", "orders",
                                                    "hours_ordered"]],
            payback.outstanding(conn, f, "office")[["office_code", "live_orders",
                                                    "hours_outstanding"]],
            gate.coverage(conn, f, "office")[["office_code", "releases"]],
            staffing.caseload_by_month(conn, f, "office")[["office_code", "open_cases"]],
        ]
        for df in frames:
            parts.append(df.assign(month=m.strftime("%Y-%m")).melt(
                ["office_code", "month"], var_name="measure"))
    out = pd.concat(parts, ignore_index=True)
    out["value"] = out["value"].astype(float)
    return tidy(out)


def pick_case(conn) -> dict:
    """A Horsham case open on the move date with unpaid work sessions on both sides of
    it and appointments after it (the richest such case, lowest id first)."""
    row = conn.execute(text(
        "SELECT p.id, p.crn, c.id AS allocation_id, c.start_date, "
        "  (SELECT COUNT(*) FROM upw_session s JOIN upw_order u ON u.id = s.order_id "
        "   WHERE u.person_id = p.id AND s.session_date < :m) AS sessions_before, "
        "  (SELECT COUNT(*) FROM upw_session s JOIN upw_order u ON u.id = s.order_id "
        "   WHERE u.person_id = p.id AND s.session_date >= :m) AS sessions_after, "
        "  (SELECT COUNT(*) FROM case_audit a WHERE a.person_id = p.id) AS audits "
        "FROM person_on_probation p JOIN case_allocation c ON c.person_id = p.id "
        "  AND c.start_date <= :m AND (c.end_date IS NULL OR c.end_date >= :m) "
        "JOIN office o ON o.id = c.office_id "
        "WHERE o.code = 'HOR' AND c.end_date IS NULL AND p.start_date < :m "
        "  AND p.end_date > :e "
        "ORDER BY CASE WHEN (SELECT COUNT(*) FROM upw_session s JOIN upw_order u "
        "  ON u.id = s.order_id WHERE u.person_id = p.id AND s.session_date < :m) > 0 "
        "  AND (SELECT COUNT(*) FROM upw_session s JOIN upw_order u ON u.id = s.order_id "
        "  WHERE u.person_id = p.id AND s.session_date >= :m) > 0 THEN 0 ELSE 1 END, "
        "  audits DESC, p.id LIMIT 1"),
        {"m": MOVE, "e": AS_OF}).mappings().one()
    assert row["sessions_before"] > 0 and row["sessions_after"] > 0
    return dict(row)


def allocation_file(conn, path, crn: str, allocation_id: int) -> None:
    """The allocation extract of the move: the Horsham allocation ends the day before,
    one at Bognor Regis (with an officer in post there) starts on the move date."""
    old = conn.execute(text(
        "SELECT c.start_date, t.code AS team_code, s.staff_ref FROM case_allocation c "
        "LEFT JOIN team t ON t.id = c.team_id LEFT JOIN staff_member s ON s.id = c.officer_id "
        "WHERE c.id = :i"), {"i": allocation_id}).mappings().one()
    officer = conn.execute(text(
        "SELECT s.staff_ref FROM staff_member s JOIN office o ON o.id = s.office_id "
        "WHERE o.code = 'BOG' AND s.grade = 'PO' AND s.start_date <= :m "
        "AND (s.end_date IS NULL OR s.end_date > :e) ORDER BY s.id LIMIT 1"),
        {"m": MOVE, "e": AS_OF}).scalar_one()
    start = old["start_date"]
    start = start if isinstance(start, date) else date.fromisoformat(str(start)[:10])
    with open(path, "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["crn", "office_code", "team_code", "officer_staff_ref", "start_date",
                    "end_date"])
        w.writerow([crn, "HOR", old["team_code"] or "", old["staff_ref"] or "",
                    start.isoformat(), (MOVE - timedelta(days=1)).isoformat()])
        w.writerow([crn, "BOG", "", officer, MOVE.isoformat(), ""])


@pytest.fixture(scope="module")
def moved(engine, tmp_path_factory):
    """(figures before, figures after, the moved person, the case's own raw figures)."""
    with engine.connect() as conn:
        covered = summaries.coverage(conn)
        before = page_figures(conn)
        raw_before = raw_figures(conn)
        case = pick_case(conn)
        own = raw_figures(conn, case["id"])
        path = tmp_path_factory.mktemp("move") / "case_allocation.csv"
        allocation_file(conn, path, case["crn"], case["allocation_id"])
    report = import_file(engine, path, "case_allocation", username="test")
    assert report.status == "succeeded", report.problems
    assert (report.inserted, report.updated) == (1, 1)
    again = import_file(engine, path, "case_allocation", username="test")
    assert (again.status, again.inserted, again.updated, again.unchanged) == (
        "succeeded", 0, 0, 2)
    with engine.connect() as conn:
        after = page_figures(conn)
        raw_after = raw_figures(conn)
        office_now = conn.execute(text(
            "SELECT o.code FROM person_on_probation p JOIN office o ON o.id = p.office_id "
            "WHERE p.id = :i"), {"i": case["id"]}).scalar_one()
    assert office_now == "BOG"  # the person's current office follows the allocation
    with engine.connect() as conn:
        assert summaries.coverage(conn) == covered  # the same months, refreshed in place
    return before, after, raw_before, raw_after, case, own


def keyed(df: pd.DataFrame) -> pd.Series:
    return df.set_index(["office_code", "month", "measure"])["value"]


def test_pages_show_the_raw_rows_figures_before_and_after(moved):
    before, after, raw_before, raw_after, _case, _own = moved
    pd.testing.assert_frame_equal(before, raw_before, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(after, raw_after, check_exact=False, rtol=1e-9)


def test_months_before_the_move_are_unchanged_in_both_offices(moved):
    before, after, *_ = moved
    cut = MOVE.strftime("%Y-%m")
    past_before = before[before["month"] < cut].reset_index(drop=True)
    past_after = after[after["month"] < cut].reset_index(drop=True)
    assert set(past_before["office_code"]) == {"HOR", "BOG"}
    pd.testing.assert_frame_equal(past_before, past_after)


def test_later_months_move_by_exactly_the_cases_own_figures(moved):
    before, after, _rb, _ra, _case, own = moved
    cut = MOVE.strftime("%Y-%m")
    b, a = keyed(before), keyed(after)
    change = a.sub(b, fill_value=0)
    change = change[change.abs() > 1e-9]
    # the case's own figures from the move on: the part of May from the 15th, and every
    # later month (open cases on the 1st and orders live at month ends from June)
    with_move = own[own["month"] >= cut]
    assert len(with_move) > 0
    expected = {}
    for (office_code, month, measure), value in keyed(with_move).items():
        assert office_code == "HOR"
        expected[("BOG", month, measure)] = value
        expected[("HOR", month, measure)] = -value
    # May: only what happened from the 15th moves; recompute that part by hand below
    may = [k for k in expected if k[1] == cut]
    for key in may:
        expected.pop(key)
    got_may = change[[k for k in change.index if k[1] == cut]]
    later = change[[k for k in change.index if k[1] > cut]]
    assert later.to_dict() == pytest.approx(
        {k: v for k, v in expected.items() if k[1] > cut})
    # in May both offices change by opposite amounts (events from the 15th on)
    may_hor = {k[2]: v for k, v in got_may.items() if k[0] == "HOR"}
    may_bog = {k[2]: v for k, v in got_may.items() if k[0] == "BOG"}
    assert may_hor == pytest.approx({m: -v for m, v in may_bog.items()})
    assert sum(v for v in may_bog.values()) > 0  # the case had events in late May


def test_per_officer_caseload_matches_the_raw_rows(moved, engine):
    day = date(2026, 10, 1)
    f = Filters(date(2026, 10, 1), AS_OF)
    with engine.connect() as conn:
        shown = caseload.caseload(conn, f, "officer")
        raw = pd.read_sql(text(
            "SELECT COALESCE(s.staff_ref, '(unallocated)') AS officer, COUNT(*) AS open_cases "
            "FROM person_on_probation p "
            f"JOIN case_allocation c ON {held_on('c', 'p.id', ':d')} "
            "LEFT JOIN staff_member s ON s.id = c.officer_id "
            "WHERE p.start_date <= :d AND p.end_date >= :d GROUP BY s.staff_ref"),
            conn, params={"d": day})
        in_post = pd.read_sql(text(
            "SELECT staff_ref AS officer, fte FROM staff_member WHERE grade IN ('PO', 'PSO') "
            "AND start_date <= :d AND (end_date IS NULL OR end_date >= :d)"),
            conn, params={"d": day})
    with_cases = shown[shown["open_cases"] > 0].set_index("officer")["open_cases"]
    assert with_cases.sort_index().to_dict() == raw.set_index("officer")[
        "open_cases"].sort_index().to_dict()
    # every officer in post is listed, with their own FTE as capacity
    fte = shown.set_index("officer")["case_holding_fte"]
    assert set(in_post["officer"]) <= set(fte.index)
    assert fte[in_post["officer"]].to_numpy() == pytest.approx(in_post["fte"].to_numpy())
    # the team and office levels add up to the same cases
    with engine.connect() as conn:
        for level in ("team", "office", "area"):
            rolled = caseload.caseload(conn, f, level)
            assert rolled["open_cases"].sum() == raw["open_cases"].sum(), level


def test_officer_case_list_is_the_officers_cases(moved, engine):
    from dashboard.access.scope import Scope

    scope = Scope("chief.exec", "chief_executive", None, None, False, True)
    f = Filters(date(2026, 10, 1), AS_OF)
    with engine.connect() as conn:
        shown = caseload.caseload(conn, f, "officer")
        busiest = shown.sort_values("open_cases").iloc[-1]
        rows = caseload.officer_cases(conn, f, scope, int(busiest["officer_id"]))
        crns = pd.read_sql(text(
            "SELECT p.crn FROM person_on_probation p "
            f"JOIN case_allocation c ON {held_on('c', 'p.id', ':d')} "
            "WHERE c.officer_id = :o AND p.start_date <= :d AND p.end_date >= :d"),
            conn, params={"d": date(2026, 10, 1), "o": int(busiest["officer_id"])})
        other_area = Scope("am.kent", "area_manager", (999,), None, False, True)
        hidden = caseload.officer_cases(conn, f, other_area, int(busiest["officer_id"]))
    assert sorted(rows["crn"]) == sorted(crns["crn"])
    assert len(rows) == busiest["open_cases"] > 0
    assert hidden.empty  # scope applied in SQL


# --- the allocation extract's checks: row-level problems, nothing written ---------------

HEADER = "crn,office_code,team_code,officer_staff_ref,start_date,end_date\n"


def allocation_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT id, person_id, office_id, team_id, officer_id, start_date, end_date "
            "FROM case_allocation ORDER BY id")).all()


def open_case(engine) -> tuple[str, str, str]:
    """(crn, start date of its open allocation, its office code) of an open Bognor case."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT p.crn, c.start_date, o.code FROM person_on_probation p "
            "JOIN case_allocation c ON c.person_id = p.id AND c.end_date IS NULL "
            "JOIN office o ON o.id = c.office_id "
            "WHERE o.code = 'BOG' AND p.start_date < '2026-01-01' ORDER BY p.id LIMIT 1")).one()
    start = row[1] if isinstance(row[1], date) else date.fromisoformat(str(row[1])[:10])
    return row[0], start.isoformat(), row[2]


@pytest.mark.parametrize("case", ["overlap_in_file", "overlap_with_stored", "end_before_start",
                                  "unknown_office", "unknown_officer", "unknown_person"])
def test_bad_allocation_files_write_nothing(engine, tmp_path, case):
    crn, start, office_code = open_case(engine)
    rows = {
        # two periods of one person in the file that share days
        "overlap_in_file": [f"{crn},BOG,,,{start},2026-06-30",
                            f"{crn},HOR,,,2026-06-01,"],
        # a new period while the stored one (not in the file) is still open
        "overlap_with_stored": [f"{crn},HOR,,,2026-09-01,"],
        "end_before_start": [f"{crn},BOG,,,{start},2020-01-01"],
        "unknown_office": [f"{crn},NOPE,,,{start},"],
        "unknown_officer": [f"{crn},BOG,,S999999,{start},"],
        "unknown_person": [f"X9999999999,BOG,,,{start},"],
    }[case]
    path = tmp_path / "case_allocation.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n")
    before = allocation_rows(engine)
    report = import_file(engine, path, "case_allocation", username="test")
    assert report.status == "rejected"
    assert allocation_rows(engine) == before  # nothing written
    problems = report.problems_frame()
    assert len(problems) >= 1 and problems["row"].notna().all()  # row-level, not the file
    expected = {
        "overlap_in_file": ("start_date", "overlaps row"),
        "overlap_with_stored": ("start_date", "overlaps the stored allocation"),
        "end_before_start": ("end_date", "end_date is before start_date"),
        "unknown_office": ("office_code", "no office with code"),
        "unknown_officer": ("officer_staff_ref", "no staff member with staff_ref"),
        "unknown_person": ("crn", "no person on probation with crn"),
    }[case]
    assert any(c == expected[0] and expected[1] in m
               for c, m in zip(problems["column"], problems["problem"], strict=True)), problems
    if case == "overlap_in_file":
        assert sorted(problems["row"]) == [2, 3]  # both rows named


def test_a_person_extract_that_moves_a_case_starts_a_new_allocation(engine, tmp_path):
    """The people extract says where a case is now, not since when: the move starts the
    day after the data's as-of date, so no month already shown changes."""
    from dashboard.ingest import export_extracts

    crn, _start, _office = open_case(engine)
    with engine.connect() as conn:
        before = page_figures(conn)
    people = tmp_path / "person_on_probation.csv"
    with engine.connect() as conn, open(people, "w", newline="") as out:
        export_extracts.export_table(conn, "person_on_probation", out)
    frame = pd.read_csv(people, dtype=str, keep_default_na=False)
    frame = frame[frame["crn"] == crn].assign(office_code="HOR", officer_staff_ref="")
    frame.to_csv(people, index=False)
    report = import_file(engine, people, "person_on_probation", username="test")
    assert (report.status, report.updated) == ("succeeded", 1)
    with engine.connect() as conn:
        after = page_figures(conn)
        history = conn.execute(text(
            "SELECT o.code, c.start_date, c.end_date FROM case_allocation c "
            "JOIN person_on_probation p ON p.id = c.person_id "
            "JOIN office o ON o.id = c.office_id WHERE p.crn = :c ORDER BY c.start_date"),
            {"c": crn}).all()
    day_after = AS_OF + timedelta(days=1)
    assert [(r[0], str(r[1])[:10]) for r in history[-2:]] == [
        ("BOG", str(history[-2][1])[:10]), ("HOR", day_after.isoformat())]
    assert str(history[-2][2])[:10] == AS_OF.isoformat() and history[-1][2] is None
    pd.testing.assert_frame_equal(before, after)  # every month shown stays as it was
