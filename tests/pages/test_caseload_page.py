"""The caseload drill-down page (AppTest): team and officer figures against hand-written
SQL over the raw allocation rows; one officer's cases within the user's scope, audited."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import create_engine, func, select, text

from dashboard.data.schema import audit_log
from tests.pages.apphelp import metric, open_app

DAY = "2026-10-01"  # first day of the default period's last month
OPEN_ON_DAY = """
    FROM person_on_probation p
    JOIN case_allocation c ON c.person_id = p.id AND c.start_date <= :d
         AND (c.end_date IS NULL OR c.end_date >= :d)
    JOIN office o ON o.id = c.office_id JOIN area a ON a.id = o.area_id
    LEFT JOIN staff_member s ON s.id = c.officer_id
    WHERE p.start_date <= :d AND p.end_date >= :d"""


@pytest.fixture()
def engine(demo_sqlite_url):
    eng = create_engine(demo_sqlite_url)
    yield eng
    eng.dispose()


def sql(engine, query: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text(query), conn, params={"d": DAY})


def views_logged(engine, username: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(audit_log).where(
            audit_log.c.action == "view_person_rows", audit_log.c.username == username,
            audit_log.c.target.like("caseload:officer:%"))).scalar_one()


def test_team_level_matches_the_allocations(demo_sqlite_url, engine):
    at = open_app(demo_sqlite_url, page="pages/caseload.py")
    assert not at.exception
    table = at.dataframe[0].value
    raw = sql(engine, "SELECT o.name AS office, COALESCE(t.name, '(no team)') AS team, "
                      "COUNT(*) AS open_cases " + OPEN_ON_DAY.replace(
                          "LEFT JOIN staff_member s", "LEFT JOIN team t ON t.id = c.team_id "
                          "LEFT JOIN staff_member s") + " GROUP BY o.name, t.name")
    shown = table[table["open_cases"] > 0].set_index(["office", "team"])["open_cases"]
    assert shown.sort_index().to_dict() == raw.set_index(["office", "team"])[
        "open_cases"].sort_index().to_dict()
    assert metric(at, "Open cases") == f"{raw['open_cases'].sum():,}"


def test_officer_drill_lists_that_officers_cases_and_is_audited(demo_sqlite_url, engine):
    before = views_logged(engine, "chief.exec")
    at = open_app(demo_sqlite_url, page="pages/caseload.py")
    at.segmented_control(key="caseload_level").set_value("officer").run()
    assert not at.exception
    officers = at.dataframe[0].value
    raw = sql(engine, "SELECT s.staff_ref AS officer, COUNT(*) AS open_cases "
              + OPEN_ON_DAY + " AND s.id IS NOT NULL GROUP BY s.staff_ref")
    with_cases = officers[officers["open_cases"] > 0].set_index("officer")["open_cases"]
    assert with_cases.sort_index().to_dict() == raw.set_index("officer")[
        "open_cases"].sort_index().to_dict()
    busiest = raw.sort_values(["open_cases", "officer"]).iloc[-1]
    officer_id = sql(engine, f"SELECT id FROM staff_member WHERE staff_ref = "
                             f"'{busiest['officer']}'")["id"].iloc[0]
    at.selectbox(key="caseload_officer").set_value(int(officer_id)).run()
    assert not at.exception
    cases = at.dataframe[1].value
    expected = sql(engine, "SELECT p.crn " + OPEN_ON_DAY
                   + f" AND s.staff_ref = '{busiest['officer']}'")
    assert sorted(cases["crn"]) == sorted(expected["crn"])
    assert views_logged(engine, "chief.exec") == before + 1


def test_area_manager_sees_no_case_of_another_area(demo_sqlite_url, engine):
    surrey = sql(engine, "SELECT s.id, COUNT(*) AS n " + OPEN_ON_DAY
                 + " AND a.code = 'SURREY' AND s.id IS NOT NULL GROUP BY s.id "
                 "ORDER BY n DESC, s.id")
    # the whole region in view (area managers land on their own area), so the Surrey
    # officer can be chosen: the cases must still stay hidden
    at = open_app(demo_sqlite_url, page="pages/caseload.py", user="am.kent",
                  params={"area": "ALL"})
    at.segmented_control(key="caseload_level").set_value("officer").run()
    at.selectbox(key="caseload_officer").set_value(int(surrey["id"].iloc[0])).run()
    assert not at.exception
    assert len(at.dataframe) == 1  # the officers' table only: no case rows
    assert "outside" in " ".join(w.value for w in at.warning) or any(
        "None of this officer's cases" in w.value for w in at.warning)


@pytest.mark.parametrize("user", ["admin", "auditor.ken1"])
def test_roles_without_case_lists_cannot_reach_the_caseload_page(demo_sqlite_url, user):
    at = open_app(demo_sqlite_url, user=user)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/caseload.py")


def test_staffing_links_to_the_caseload_page(demo_sqlite_url):
    at = open_app(demo_sqlite_url, page="pages/staffing.py")
    assert not at.exception
    links = [link.proto.page for link in at.get("page_link")]
    assert any(page.endswith("caseload") or "caseload" in page for page in links), links
