"""The user-account commands called directly: each typed error is raised before anything
is written, and a success writes its rows and exactly one audit_log row."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from dashboard.access import audit_log, auth
from dashboard.commands import users
from dashboard.data.schema import app_user
from tests import accounts
from tests.accounts import engine_fixture, fast_hasher_fixture, kent_fixture  # noqa: F401


def _add(conn, **kwargs) -> users.AddUser:
    args = {"username": "new.user", "display_name": "New", "role": "quality_lead",
            "password": accounts.OTHER_PASSWORD} | kwargs
    return users.AddUser(conn, **args)


def _stored(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            select(app_user.c.username, app_user.c.role, app_user.c.area_id,
                   app_user.c.disabled, app_user.c.password_hash).order_by(app_user.c.id)
        ).all()


def _last_log(engine) -> dict:
    with engine.connect() as conn:
        row = audit_log.read_log(conn, limit=1).iloc[0]
    return {"username": row["username"], "action": row["action"], "target": row["target"],
            "detail": json.loads(row["detail"]) if row["detail"] else None}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"username": "Jo Bloggs"}, users.InvalidUsername),
        ({"display_name": " "}, users.InvalidDisplayName),
        ({"role": "superuser"}, users.UnknownRole),
        ({"role": "area_manager"}, users.AreaRequiredForRole),
        ({"area_id": 99}, users.UnknownArea),
        ({"email": "not-an-email"}, users.InvalidEmail),
        ({"email": "AM.KENT@example.org"}, users.EmailTaken),
        ({"username": "am.kent"}, users.UsernameTaken),
        ({"password": "short"}, users.WeakPassword),
    ],
)
def test_add_user_raises_each_typed_error_before_writing(engine, kent, kwargs, error):
    stored, logged = _stored(engine), accounts.log_count(engine)
    with engine.begin() as conn:
        command = _add(conn, **kwargs)
        with pytest.raises(error) as raised:
            command.validate()
        with pytest.raises(error):
            command.run()
    assert isinstance(raised.value, users.UserError)
    assert _stored(engine) == stored and accounts.log_count(engine) == logged


def test_weak_password_lists_every_problem():
    with pytest.raises(users.WeakPassword) as raised:
        users.check_password("aaaa", "am.kent")
    assert raised.value.problems == auth.password_problems("aaaa", "am.kent")
    assert len(raised.value.problems) == 3
    assert str(raised.value).startswith("The password must be at least 12 characters long; ")


def test_add_user_writes_the_account_and_one_audit_row(engine, kent):
    logged = accounts.log_count(engine)
    with engine.begin() as conn:
        user = users.AddUser(conn, "am.surrey", " Surrey Manager ", "area_manager",
                             password=accounts.OTHER_PASSWORD, email=" AM.Surrey@Example.org ",
                             area_id=2, actor="admin").run()
    assert (user.display_name, user.email, user.area_id) == (
        "Surrey Manager", "am.surrey@example.org", 2)
    assert accounts.log_count(engine) == logged + 1
    assert _last_log(engine) == {
        "username": "admin", "action": "user_created", "target": "am.surrey",
        "detail": {"role": "area_manager", "area_id": 2, "email": "am.surrey@example.org",
                   "has_password": True}}
    with engine.connect() as conn:
        assert auth.get_user(conn, "am.surrey") == user


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (lambda conn: users.DisableUser(conn, "ghost"), users.NoSuchUser),
        (lambda conn: users.EnableUser(conn, "am.kent"), users.AlreadyEnabled),
        (lambda conn: users.ResetPassword(conn, "ghost", accounts.OTHER_PASSWORD),
         users.NoSuchUser),
        (lambda conn: users.ResetPassword(conn, "am.kent", "kent"), users.WeakPassword),
        (lambda conn: users.ChangeRole(conn, "am.kent", "superuser"), users.UnknownRole),
        (lambda conn: users.ChangeRole(conn, "am.kent", "area_manager"), users.RoleUnchanged),
        (lambda conn: users.ChangeRole(conn, "am.kent", "auditor", area_id=99),
         users.UnknownArea),
    ],
)
def test_changes_raise_each_typed_error_before_writing(engine, kent, command, error):
    stored, logged = _stored(engine), accounts.log_count(engine)
    with engine.begin() as conn:
        with pytest.raises(error):
            command(conn).validate()
        with pytest.raises(error):
            command(conn).run()
    assert _stored(engine) == stored and accounts.log_count(engine) == logged


def test_area_required_and_already_disabled(engine, fast_hasher):
    with engine.begin() as conn:
        users.AddUser(conn, "quality.lead", "QL", "quality_lead").run()
        users.AddUser(conn, "admin", "Admin", "admin").run()
        with pytest.raises(users.AreaRequiredForRole):
            users.ChangeRole(conn, "quality.lead", "area_manager").validate()
        users.DisableUser(conn, "quality.lead").run()
        with pytest.raises(users.AlreadyDisabled):
            users.DisableUser(conn, "quality.lead").validate()


def test_last_admin_is_kept(engine, fast_hasher):
    with engine.begin() as conn:
        users.AddUser(conn, "admin", "Admin", "admin").run()
    for command in (users.DisableUser, lambda c, u: users.ChangeRole(c, u, "auditor")):
        with engine.begin() as conn, pytest.raises(users.LastAdmin):
            command(conn, "admin").run()
    with engine.connect() as conn:
        assert auth.get_user(conn, "admin").role == "admin"


def test_area_id_for_code(engine):
    with engine.connect() as conn:
        assert users.area_id_for_code(conn, " surrey ") == 2
        with pytest.raises(users.UnknownArea, match="known codes: KENT, SURREY"):
            users.area_id_for_code(conn, "MARS")


@pytest.mark.parametrize(
    ("command", "action", "changed"),
    [
        (lambda conn: users.DisableUser(conn, "am.kent", actor="admin"), "user_disabled",
         {"disabled": True}),
        (lambda conn: users.ResetPassword(conn, "am.kent", accounts.OTHER_PASSWORD, actor="admin"),
         "password_reset", {}),
        (lambda conn: users.ChangeRole(conn, "am.kent", "area_manager", area_id=2,
                                       actor="admin"), "role_changed", {"area_id": 2}),
    ],
)
def test_a_change_writes_its_row_and_one_audit_row(engine, kent, command, action, changed):
    logged = accounts.log_count(engine)
    with engine.begin() as conn:
        user = command(conn).run()
    assert accounts.log_count(engine) == logged + 1
    last = _last_log(engine)
    assert (last["username"], last["action"], last["target"]) == ("admin", action, "am.kent")
    for field, value in changed.items():
        assert getattr(user, field) == value
    if action == "role_changed":
        assert last["detail"] == {"from_role": "area_manager", "to_role": "area_manager",
                                  "from_area_id": 1, "to_area_id": 2}


def test_enable_writes_one_audit_row(engine, kent):
    with engine.begin() as conn:
        users.DisableUser(conn, "am.kent").run()
    logged = accounts.log_count(engine)
    with engine.begin() as conn:
        assert not users.EnableUser(conn, "am.kent", actor="admin").run().disabled
    assert accounts.log_count(engine) == logged + 1
    assert _last_log(engine)["action"] == "user_enabled"


def test_add_user_lists_every_problem_at_once(engine, kent):
    with engine.begin() as conn:
        command = users.AddUser(conn, "am.kent", "Someone", "area_manager",
                                password="short", email="nope")
        found = command.problems()
        with pytest.raises(users.InvalidUser) as raised:
            command.run()
    kinds = [users.AreaRequiredForRole, users.InvalidEmail, users.UsernameTaken,
             users.WeakPassword]
    assert [type(e) for e in found] == kinds
    assert [type(e) for e in raised.value.errors] == kinds
    assert str(raised.value).startswith("An area manager needs an area. 'nope' is not")
    assert users.UsernameTaken("x").errors[0].args == ("x",)
