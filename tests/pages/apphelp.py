"""Helpers for AppTest page tests: open the entry file on a database and a page."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest, app_test

from dashboard.access import sessions
from dashboard.app import ui_auth
from dashboard.core.config import PROJECT_ROOT
from dashboard.data import db

ENTRY = str(PROJECT_ROOT / "streamlit_app.py")


class _NavigationOnlyPagesManager(PagesManager):
    """AppTest resets Streamlit's legacy pages/ folder mode before every run, which then
    drops the entry file's sidebar from reruns. The server is started the same way as
    dashboard/app/serve.py does it: legacy mode off."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


app_test.PagesManager = _NavigationOnlyPagesManager

# AppTest has no browser, so no cookie: its sessions read the session secret that
# sign_in_as() puts in their session_state instead. Only the test process does this; the
# server reads the HttpOnly cookie (dashboard/app/ui_auth.py, _browser_token).
TEST_COOKIE_KEY = "_apptest_cookie"
ui_auth._browser_token = lambda: st.session_state.get(TEST_COOKIE_KEY)


def browser_session(database_url: str, username: str) -> str:
    """A live app_session for username, as the /_bind route makes it; returns the token."""
    engine = db.make_engine(database_url)
    try:
        now = datetime.now(UTC)
        with engine.begin() as conn:
            code = sessions.start(conn, username, now)
            token = sessions.bind(conn, code, now)
    finally:
        engine.dispose()
    assert token
    return token


def sign_in_as(at: AppTest, database_url: str, username: str) -> str:
    """Give this AppTest the browser cookie of a fresh session for username."""
    token = browser_session(database_url, username)
    at.session_state[TEST_COOKIE_KEY] = token
    return token


def open_app(database_url: str, page: str | None = None, params: dict | None = None,
             user: str | None = "chief.exec", timeout: float = 60) -> AppTest:
    """Run the entry file against database_url with URL params, signed in as `user` (a
    demo account; None for the sign-in screen), then switch to page.

    Signing in is simulated by a live app_session and its cookie (sign_in_as); the form
    and the bind route are tested in tests/pages/test_access.py and tests/test_sessions.py.
    """
    os.environ["DATABASE_URL"] = database_url
    at = AppTest.from_file(ENTRY, default_timeout=timeout)
    if user:
        sign_in_as(at, database_url, user)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def metric(at: AppTest, label: str) -> str:
    """The value of the metric card with this label."""
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric {label!r}; have {[m.label for m in at.metric]}")


def office_on(rows, allocations, day: str):
    """rows (with person_id) with the office_id of the allocation covering each row's
    `day` (allocation start and end inclusive; no end = open): where the case was then.
    allocations: the case_allocation rows, dates parsed."""
    pairs = rows.drop(columns=["office_id"], errors="ignore").reset_index().merge(
        allocations[["person_id", "office_id", "start_date", "end_date"]].rename(
            columns={"start_date": "_from", "end_date": "_to"}), on="person_id")
    covered = (pairs["_from"] <= pairs[day]) & (pairs["_to"].isna() | (pairs["_to"] >= pairs[day]))
    return pairs[covered].set_index("index").drop(columns=["_from", "_to"]).sort_index()


def sql_scalar(url: str, sql: str, **params):
    """One value by plain SQL over the database at `url` (an independent check of a page)."""
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.connect() as conn:
        value = conn.execute(text(sql), params).scalar()
    eng.dispose()
    return value


def copy_of_demo(demo_sqlite_url: str, target) -> str:
    """A private copy of the demo database at target, so a test's writes stay in it
    (sqlite backup API: consistent under WAL); returns its URL."""
    source = sqlite3.connect(demo_sqlite_url.split("///", 1)[1])
    copy = sqlite3.connect(target)
    source.backup(copy)
    source.close()
    copy.close()
    return f"sqlite:///{target}"
