"""The Users admin page (issue 14, item 6): plain headings, a change form that opens with
nothing chosen, a failed add that keeps what was typed and lists every problem in plain
words, and role and area changes made through the command and audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, select

from dashboard.data.schema import app_user, audit_log
from tests.pages.apphelp import copy_of_demo, open_app

PAGE = "pages/admin_users.py"


@pytest.fixture()
def users_url(demo_sqlite_url, tmp_path):
    return copy_of_demo(demo_sqlite_url, tmp_path / "users.sqlite")


def _rows(url: str, table, *where):
    eng = create_engine(url)
    with eng.connect() as conn:
        rows = conn.execute(select(table).where(*where)).all()
    eng.dispose()
    return rows


def _logged(url: str, action: str):
    """The audit rows of action written by the admin (the demo wrote its own before)."""
    return _rows(url, audit_log, audit_log.c.action == action, audit_log.c.username == "admin")


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def _said(at) -> list[str]:
    """The success messages as a reader sees them (Markdown escapes removed)."""
    return [s.value.replace("\\", "") for s in at.success]


def _errors(at) -> str:
    return "\n".join(e.value for e in at.error)


def test_column_headings_are_plain_words(users_url):
    at = open_app(users_url, page=PAGE, user="admin")
    assert not at.exception
    config = json.loads(at.dataframe[0].proto.columns)
    labels = {name: c.get("label") for name, c in config.items() if not c.get("hidden")}
    assert labels["display_name"] == "Name" and labels["username"] == "Username"
    assert labels["area_code"] == "Area" and labels["failed_logins"] == "Failed sign-ins"
    shown = at.dataframe[0].value
    assert all(label and "_" not in label for label in labels.values()), labels
    assert config["id"].get("hidden") is True and "password_hash" not in shown.columns
    assert "area_manager" not in set(shown["role"]) and "Area manager" in set(shown["role"])


def test_change_form_opens_with_no_user_and_no_change_chosen(users_url):
    at = open_app(users_url, page=PAGE, user="admin")
    assert at.selectbox(key="change_user").value is None
    assert at.radio(key="change_action").value is None
    before = len(_rows(users_url, audit_log))
    _button(at, "Apply").click().run()
    assert "Choose a user and a change first." in _errors(at)
    assert len(_rows(users_url, audit_log)) == before
    (admin,) = _rows(users_url, app_user, app_user.c.username == "admin")
    assert not admin.disabled


def test_failed_add_keeps_what_was_typed_and_lists_every_problem(users_url):
    at = open_app(users_url, page=PAGE, user="admin")
    typed = {"add_username": "New Person", "add_name": "New Person",
             "add_email": "not-an-email", "add_password": "short"}
    for key, value in typed.items():
        at.text_input(key=key).set_value(value)
    at.selectbox(key="add_role").set_value("area_manager")
    _button(at, "Add user").click().run()
    assert not at.exception
    message = _errors(at)
    assert message.startswith("The user was not added:")
    assert message.count("\n- ") == 4, message  # username, area, e-mail, password
    for words in ("The username must be 3 to 64 characters", "Choose an area",
                  "The e-mail address is not a valid address",
                  "The password must be at least 12 characters long"):
        assert words in message
    assert "--" not in message and "'" not in message
    for key, value in typed.items():  # nothing typed is lost
        assert at.text_input(key=key).value == value
    assert at.selectbox(key="add_role").value == "area_manager"
    assert not _logged(users_url, "user_created")

    # mended, the same form adds the user, says so and empties itself
    at.text_input(key="add_username").set_value("am.new")
    at.text_input(key="add_email").set_value("am.new@example.org")
    at.text_input(key="add_password").set_value("Kent office 2027")
    at.selectbox(key="add_area").set_value("KENT")
    _button(at, "Add user").click().run()
    assert not at.error
    assert "User am.new added (Area manager, Kent)." in _said(at)
    assert at.text_input(key="add_username").value == ""
    assert [r.target for r in _logged(users_url, "user_created")] == ["am.new"]


def test_role_and_area_change_goes_through_the_command_and_is_audited(users_url):
    at = open_app(users_url, page=PAGE, user="admin")
    at.selectbox(key="change_user").set_value("quality.lead")
    at.radio(key="change_action").set_value("Change role or area")
    at.selectbox(key="change_role").set_value("area_manager")
    _button(at, "Apply").click().run()
    assert "Choose an area: an area manager sees the cases of one area." in _errors(at)
    assert at.selectbox(key="change_user").value == "quality.lead"  # kept for the mend

    at.selectbox(key="change_area").set_value("SURREY")
    _button(at, "Apply").click().run()
    assert not at.error
    assert "quality.lead is now Area manager, Surrey." in _said(at)
    (user,) = _rows(users_url, app_user, app_user.c.username == "quality.lead")
    assert user.role == "area_manager" and user.area_id == 2
    (logged,) = _logged(users_url, "role_changed")
    assert (logged.username, logged.target) == ("admin", "quality.lead")
    assert json.loads(logged.detail) == {"from_role": "quality_lead", "to_role": "area_manager",
                                         "from_area_id": None, "to_area_id": 2}
    assert at.selectbox(key="change_user").value is None  # the form is empty again
    shown = at.dataframe[0].value.set_index("username")
    assert (shown.at["quality.lead", "role"], shown.at["quality.lead", "area_code"]) == (
        "Area manager", "Surrey")


def test_last_admin_refusal_is_in_plain_words(users_url):
    at = open_app(users_url, page=PAGE, user="admin")
    at.selectbox(key="change_user").set_value("admin")
    at.radio(key="change_action").set_value("Disable")
    _button(at, "Apply").click().run()
    message = _errors(at)
    assert "This is the last enabled administrator" in message and "'" not in message
    (admin,) = _rows(users_url, app_user, app_user.c.username == "admin")
    assert not admin.disabled and not _logged(users_url, "user_disabled")
