"""Scopes: which pages a role opens and which person-level rows a user sees."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from sqlalchemy import insert, select

from dashboard.access import auth
from dashboard.access.scope import (
    PAGE_KEYS,
    ROLE_PAGES,
    Scope,
    ScopeError,
    may_open,
    require_person_level,
    scope_for,
)
from dashboard.commands.users import AddUser
from dashboard.data.schema import ROLES, case_audit, office, person
from tests.accounts import ENGINES, OFFICES, add_places
from tests.backend_engines import migrated_engine

KENT_OFFICES = (10, 11)
SURREY_OFFICES = (20,)


@pytest.fixture(params=ENGINES)
def engine(request, tmp_path_factory):
    """Two areas, three offices, two people per office, one audit by auditor.ken1."""
    engine = migrated_engine(request, tmp_path_factory, "scope")
    with engine.begin() as conn:
        add_places(conn, [*OFFICES, {"id": 11, "code": "CHA", "name": "Chatham", "area_id": 1}])
        conn.execute(
            insert(person),
            [
                {
                    "id": office_id * 10 + k,
                    "crn": f"X{office_id}{k}",
                    "office_id": office_id,
                    "sentence_type": "community_order",
                    "start_date": date(2025, 1, 1),
                    "end_date": date(2026, 12, 31),
                    "tier": "B",
                    "rosh_level": "medium",
                    "gender": "female",
                }
                for office_id in KENT_OFFICES + SURREY_OFFICES
                for k in (1, 2)
            ],
        )
        conn.execute(
            insert(case_audit),
            [
                {
                    "person_id": 201,
                    "auditor": "auditor.ken1",
                    "audit_date": date(2026, 1, 5),
                    "status": "complete",
                    "scheme": "regional_2023",
                },
                {
                    "person_id": 101,
                    "auditor": "auditor.sur1",
                    "audit_date": date(2026, 1, 6),
                    "status": "complete",
                    "scheme": "regional_2023",
                },
            ],
        )
    yield engine
    engine.dispose()


def make_user(engine, username, role, area_id=None) -> auth.User:
    with engine.begin() as conn:  # no password: single sign-on accounts need no hashing
        return AddUser(conn, username, username, role, area_id=area_id).run()


def scope_of(engine, user: auth.User) -> Scope:
    with engine.connect() as conn:
        return scope_for(conn, user)


def visible_people(engine, clause) -> list[int]:
    """The people ids a query on person_on_probation returns under clause."""
    with engine.connect() as conn:
        return conn.execute(select(person.c.id).where(clause).order_by(person.c.id)).scalars().all()


def visible_audits(engine, scope: Scope) -> list[int]:
    """The person ids of the case audits a query under scope.audit_clause returns."""
    with engine.connect() as conn:
        return (
            conn.execute(
                select(case_audit.c.person_id)
                .join(person, person.c.id == case_audit.c.person_id)
                .where(scope.audit_clause(case_audit.c.auditor, person.c.office_id))
            )
            .scalars()
            .all()
        )


def test_role_pages_cover_every_role_with_known_pages():
    assert set(ROLE_PAGES) == set(ROLES)
    for pages in ROLE_PAGES.values():
        assert pages <= PAGE_KEYS and "overview" in pages


@pytest.mark.parametrize(
    ("role", "page", "allowed"),
    [
        ("admin", "admin_users", True),
        ("admin", "data_quality", True),
        ("admin", "cases", False),
        ("admin", "audit", False),
        ("auditor", "audit", True),
        ("auditor", "cases", False),
        ("auditor", "admin_log", False),
        ("quality_lead", "sample", True),
        ("quality_lead", "admin_targets", False),
        ("area_manager", "compare", True),
        ("area_manager", "sample", False),
        ("chief_executive", "readiness", True),
        ("chief_executive", "admin_users", False),
        ("superuser", "overview", False),
        ("admin", "no_such_page", False),
    ],
)
def test_may_open(role, page, allowed):
    assert may_open(role, page) is allowed


def test_only_admins_open_admin_pages():
    for role, pages in ROLE_PAGES.items():
        admin_pages = {p for p in pages if p.startswith("admin_")}
        assert bool(admin_pages) is (role == "admin")


def test_area_manager_sees_only_their_areas_offices(engine):
    scope = scope_of(engine, make_user(engine, "am.kent", "area_manager", 1))
    assert scope.person_office_ids == KENT_OFFICES
    assert (scope.can_view_person_level, scope.can_admin) == (True, False)
    assert visible_people(engine, scope.office_clause(person.c.office_id)) == [101, 102, 111, 112]
    assert scope.covers_office(10) and not scope.covers_office(20)
    require_person_level(scope, office_id=11)
    with pytest.raises(ScopeError, match="outside"):
        require_person_level(scope, office_id=20)


def test_office_clause_filters_a_join_through_office(engine):
    surrey = scope_of(engine, make_user(engine, "am.surrey", "area_manager", 2))
    with engine.connect() as conn:
        crns = conn.execute(
            select(person.c.crn, office.c.code)
            .join(office, office.c.id == person.c.office_id)
            .where(surrey.office_clause(office.c.id))
            .order_by(person.c.crn)
        ).all()
    assert crns == [("X201", "GUI"), ("X202", "GUI")]


def test_area_manager_without_an_area_sees_no_people(engine):
    user = auth.User(1, "am.none", "No area", None, "area_manager", None, False)
    scope = scope_of(engine, user)
    assert scope.person_office_ids == ()
    assert visible_people(engine, scope.office_clause(person.c.office_id)) == []


@pytest.mark.parametrize("role", ["chief_executive", "quality_lead"])
def test_regional_roles_see_every_office(engine, role):
    scope = scope_of(engine, make_user(engine, "regional", role))
    assert scope.person_office_ids is None and scope.audit_assignee is None
    assert len(visible_people(engine, scope.office_clause(person.c.office_id))) == 6
    require_person_level(scope, office_id=20)


def test_admin_sees_no_person_level_rows(engine):
    scope = scope_of(engine, make_user(engine, "admin", "admin"))
    assert scope.can_admin and not scope.can_view_person_level
    assert visible_people(engine, scope.office_clause(person.c.office_id)) == []
    assert visible_people(engine, scope.person_clause(person.c.id, person.c.office_id)) == []
    with pytest.raises(ScopeError, match="individual people"):
        require_person_level(scope)
    assert isinstance(ScopeError("x"), PermissionError)


def test_auditor_sees_only_people_in_audits_assigned_to_them(engine):
    scope = scope_of(engine, make_user(engine, "auditor.ken1", "auditor"))
    assert scope.audit_assignee == "auditor.ken1"
    assert visible_people(engine, scope.person_clause(person.c.id, person.c.office_id)) == [201]
    # Office-wide lists show them nothing: their cases come only through person_clause.
    assert visible_people(engine, scope.office_clause(person.c.office_id)) == []
    assert visible_audits(engine, scope) == [201]
    require_person_level(scope)
    with pytest.raises(ScopeError):
        require_person_level(scope, office_id=20)


def test_person_clause_for_other_roles_is_the_office_clause(engine):
    scope = scope_of(engine, make_user(engine, "am.kent", "area_manager", 1))
    assert visible_people(engine, scope.person_clause(person.c.id, person.c.office_id)) == [
        101,
        102,
        111,
        112,
    ]
    assert visible_audits(engine, scope) == [101]


def test_scope_is_frozen_and_hashable_for_cache_keys(engine):
    user = make_user(engine, "am.kent", "area_manager", 1)
    first, second = scope_of(engine, user), scope_of(engine, user)
    assert first == second and hash(first) == hash(second)
    assert {first: "cached rows"}[second] == "cached rows"
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.person_office_ids = None
    assert Scope("a", "admin", (), None, True, False) != first


def test_disabled_user_gets_no_scope(engine):
    user = dataclasses.replace(make_user(engine, "am.kent", "area_manager", 1), disabled=True)
    with pytest.raises(ScopeError, match="disabled"):
        scope_of(engine, user)
