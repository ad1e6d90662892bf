"""Access control: roles, office scopes, sign-in, and the audit trail they leave."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pandas as pd
import pytest
from sqlalchemy import create_engine, func, select, text

from dashboard.access import auth, sessions
from dashboard.commands.users import DisableUser, EnableUser
from dashboard.data.schema import app_user, audit_log
from tests.pages.apphelp import TEST_COOKIE_KEY, open_app


@pytest.fixture()
def engine(demo_sqlite_url):
    eng = create_engine(demo_sqlite_url)
    yield eng
    eng.dispose()


def log_rows(engine, action: str, username: str | None = None) -> int:
    stmt = select(func.count()).select_from(audit_log).where(audit_log.c.action == action)
    if username:
        stmt = stmt.where(audit_log.c.username == username)
    with engine.connect() as conn:
        return conn.execute(stmt).scalar_one()


def crn_offices(engine) -> dict[str, str]:
    with engine.connect() as conn:
        df = pd.read_sql(text(
            "SELECT p.crn, a.code AS area FROM person_on_probation p JOIN office o "
            "ON o.id = p.office_id JOIN area a ON a.id = o.area_id"), conn)
    return dict(zip(df["crn"], df["area"], strict=True))


def test_area_manager_sees_only_their_area_even_when_the_url_asks_for_another(
        demo_sqlite_url, engine):
    area_of = crn_offices(engine)
    at = open_app(demo_sqlite_url, page="pages/cases.py", user="am.kent",
                  params={"area": "SURREY"})
    assert not at.exception
    shown = at.dataframe[0].value if at.dataframe else pd.DataFrame({"crn": []})
    assert not any(area_of[c] == "SURREY" for c in shown["crn"])
    assert "Your role shows case lists for Ashford, Chatham only" in " ".join(
        w.value for w in at.warning)


def test_area_manager_case_list_is_their_area_only(demo_sqlite_url, engine):
    area_of = crn_offices(engine)
    before = log_rows(engine, "view_person_rows", "am.kent")
    at = open_app(demo_sqlite_url, page="pages/cases.py", user="am.kent")
    rows = at.dataframe[0].value
    assert len(rows) > 0
    assert {area_of[c] for c in rows["crn"]} == {"KENT"}
    assert log_rows(engine, "view_person_rows", "am.kent") == before + 1  # exactly one


def test_chief_executive_sees_every_area(demo_sqlite_url, engine):
    area_of = crn_offices(engine)
    at = open_app(demo_sqlite_url, page="pages/cases.py", user="chief.exec")
    assert {area_of[c] for c in at.dataframe[0].value["crn"]} == {"KENT", "SURREY"}


@pytest.mark.parametrize("user", ["chief.exec", "am.kent", "quality.lead", "auditor.ken1"])
def test_admin_pages_are_not_in_a_non_admins_navigation(demo_sqlite_url, user):
    at = open_app(demo_sqlite_url, user=user)
    for page in ("pages/admin_users.py", "pages/admin_log.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


def test_admin_reaches_the_admin_pages(demo_sqlite_url):
    at = open_app(demo_sqlite_url, page="pages/admin_users.py", user="admin")
    assert [t.value for t in at.title] == ["Users"]
    assert "admin" in set(at.dataframe[0].value["username"])
    assert "password_hash" not in at.dataframe[0].value.columns


def test_admin_page_file_refuses_when_run_for_another_role(demo_sqlite_url, monkeypatch):
    # Second lock: the page file itself checks the role, whatever routed to it.
    from streamlit.testing.v1 import AppTest

    from dashboard.access.scope import Scope
    from dashboard.core.config import PROJECT_ROOT

    monkeypatch.setenv("DATABASE_URL", demo_sqlite_url)
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "admin_users.py"), default_timeout=30)
    at.session_state["_scope"] = Scope("chief.exec", "chief_executive", None, None, False,
                                       True)
    at.run()
    assert "You do not have access to this page." in [e.value for e in at.error]
    assert not at.dataframe


def test_sign_in_form_wrong_password_then_lock_out(demo_sqlite_url, engine):
    fails_before = log_rows(engine, "login_failure", "am.surrey")
    at = open_app(demo_sqlite_url, user=None)
    assert at.button  # the sign-in form
    for _ in range(auth.MAX_FAILED_LOGINS):
        at.text_input[0].set_value("am.surrey")
        at.text_input[1].set_value("wrong password 123")
        at.button[0].click().run()
        assert not at.dataframe, "no figures before signing in"
    assert log_rows(engine, "login_failure", "am.surrey") == fails_before + auth.MAX_FAILED_LOGINS
    at.text_input[0].set_value("am.surrey")
    at.text_input[1].set_value("demo-surrey-2026!")  # right password, but locked
    at.button[0].click().run()
    assert not at.dataframe
    assert any("locked" in e.value.lower() for e in at.error)
    with engine.begin() as conn:  # tidy: let the account back in for other tests
        conn.execute(app_user.update().where(app_user.c.username == "am.surrey").values(
            failed_logins=0, locked_until=None))


def test_sign_in_success_logs_once_and_shows_figures(demo_sqlite_url, engine):
    before = log_rows(engine, "login_success", "chief.exec")
    at = open_app(demo_sqlite_url, user=None)
    at.text_input[0].set_value("chief.exec")
    at.text_input[1].set_value("demo-chief-2026!")
    at.button[0].click().run()
    assert not at.dataframe  # signed in, but this browser holds no cookie yet
    code = bind_code(at)
    with engine.begin() as conn:  # what the /_bind route does (tests/test_sessions.py)
        token = sessions.bind(conn, code, datetime.now(UTC))
    at.session_state[TEST_COOKIE_KEY] = token
    at.run()
    assert at.dataframe
    assert log_rows(engine, "login_success", "chief.exec") == before + 1


def bind_code(at) -> str:
    """The single-use code in the bind link the sign-in form sends the browser to."""
    links = [m.value for m in at.markdown if "/_bind?" in m.value]
    assert len(links) == 1, [m.value for m in at.markdown]
    query = html.unescape(links[0].split('href="', 1)[1].split('"', 1)[0]).split("?", 1)[1]
    return parse_qs(query)["code"][0]


def test_session_state_without_the_cookie_is_not_signed_in(demo_sqlite_url, engine):
    """A websocket client that attaches to a live session runs the script with that
    session's state but its own (cookie-less) handshake: it must get the sign-in form."""
    at = open_app(demo_sqlite_url, page="pages/cases.py", user="chief.exec")
    assert at.dataframe and len(at.dataframe[0].value) > 0
    assert at.session_state["auth_username"] == "chief.exec"
    del at.session_state[TEST_COOKIE_KEY]
    at.run()
    assert not at.dataframe
    assert any(b.label == "Sign in" for b in at.button)


def test_signing_out_in_one_tab_signs_out_the_others(demo_sqlite_url, engine):
    tab1 = open_app(demo_sqlite_url, user="am.kent")
    tab2 = open_app(demo_sqlite_url, user=None)
    tab2.session_state[TEST_COOKIE_KEY] = tab1.session_state[TEST_COOKIE_KEY]  # one browser
    tab2.run()
    assert tab1.dataframe and tab2.dataframe
    tab1.button(key="sign_out").click().run()
    assert any(b.label == "Sign in" for b in tab1.button)
    tab2.run()
    assert not tab2.dataframe
    assert any(b.label == "Sign in" for b in tab2.button)
    assert log_rows(engine, "logout", "am.kent") >= 1


def test_disabled_user_cannot_sign_in_and_is_signed_out(demo_sqlite_url, engine):
    with engine.begin() as conn:
        DisableUser(conn, "quality.lead", actor="test").run()
    try:
        at = open_app(demo_sqlite_url, user=None)
        at.text_input[0].set_value("quality.lead")
        at.text_input[1].set_value("demo-quality-2026!")
        at.button[0].click().run()
        assert not at.dataframe
        # a session that signed in before the account was disabled is dropped
        at = open_app(demo_sqlite_url, user="quality.lead")
        assert not at.dataframe
        assert any(b.label == "Sign in" for b in at.button)
    finally:
        with engine.begin() as conn:
            EnableUser(conn, "quality.lead", actor="test").run()


def test_passwords_are_stored_only_as_argon2_hashes(engine):
    with engine.connect() as conn:
        hashes = conn.execute(select(app_user.c.password_hash)).scalars().all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any("demo-" in h for h in hashes)
