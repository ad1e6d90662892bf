"""Person-level queries enforce the user's scope in SQL, whoever calls them."""

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import text

from dashboard.access.scope import Scope, ScopeError
from dashboard.core.filters import Filters, parse_filters
from queries import cases, reference

YEAR = Filters(date(2025, 11, 1), date(2026, 10, 31))


def _areas(conn) -> tuple[dict[str, tuple[int, ...]], dict[str, str]]:
    offices = reference.offices(conn)
    by_area = {a: tuple(int(i) for i in g["office_id"]) for a, g in offices.groupby("area_code")}
    crn_area = pd.read_sql(text(
        "SELECT p.crn, a.code FROM person_on_probation p JOIN office o ON o.id = p.office_id "
        "JOIN area a ON a.id = o.area_id"), conn)
    return by_area, dict(zip(crn_area["crn"], crn_area["code"], strict=True))


@pytest.mark.parametrize("view", list(cases.VIEWS))
def test_area_manager_scope_holds_for_every_view(generated_engine, view):
    with generated_engine.connect() as conn:
        by_area, crn_area = _areas(conn)
        kent = Scope("am.kent", "area_manager", by_area["KENT"], None, False, True)
        everything = cases.case_rows(conn, YEAR, kent, view=view)
        assert {crn_area[c] for c in everything["crn"]} <= {"KENT"}
        surrey_only = Filters(YEAR.start, YEAR.end, office_ids=by_area["SURREY"])
        assert cases.case_rows(conn, surrey_only, kent, view=view).empty
        chief = Scope("chief.exec", "chief_executive", None, None, False, True)
        all_rows = cases.case_rows(conn, YEAR, chief, view=view)
        kent_rows = all_rows[[crn_area[c] == "KENT" for c in all_rows["crn"]]]
        assert sorted(everything["crn"]) == sorted(kent_rows["crn"])


def test_admin_cannot_list_people(generated_engine):
    admin = Scope("admin", "admin", (), None, True, False)
    with generated_engine.connect() as conn, pytest.raises(ScopeError):
        cases.case_rows(conn, YEAR, admin)


def test_auditor_sees_only_people_in_their_audits(generated_engine):
    with generated_engine.connect() as conn:
        mine = set(pd.read_sql(text(
            "SELECT p.crn FROM case_audit c JOIN person_on_probation p ON p.id = c.person_id "
            "WHERE c.auditor = 'auditor.ken1'"), conn)["crn"])
        auditor = Scope("auditor.ken1", "auditor", (), "auditor.ken1", False, True)
        rows = cases.case_rows(conn, YEAR, auditor, view="audits")
    assert len(rows) > 0 and set(rows["crn"]) <= mine


@pytest.mark.parametrize("value", [
    "' OR '1'='1", "KENT; DROP TABLE person_on_probation; --", "1) OR (1=1", "%", "\x00",
    "ASH' UNION SELECT crn FROM person_on_probation --", "A" * 5000,
])
def test_injection_through_every_filter_parameter_is_refused(generated_engine, value):
    with generated_engine.connect() as conn:
        offices = reference.offices(conn)
        before = conn.execute(text("SELECT COUNT(*) FROM person_on_probation")).scalar_one()
    for key in ("area", "office", "from", "to"):
        parsed = parse_filters({key: value}, offices, date(2026, 10, 31), date(2024, 11, 1))
        assert parsed.problems, f"{key}={value!r} was accepted"
        assert parsed.filters.office_ids is None  # fell back to the whole region
    with generated_engine.connect() as conn:
        after = conn.execute(text("SELECT COUNT(*) FROM person_on_probation")).scalar_one()
    assert after == before
