"""Helpers for AppTest page tests: open the entry file on a database and a page."""

from __future__ import annotations

import os

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest, app_test

from dashboard.config import PROJECT_ROOT

ENTRY = str(PROJECT_ROOT / "streamlit_app.py")


class _NavigationOnlyPagesManager(PagesManager):
    """AppTest resets Streamlit's legacy pages/ folder mode before every run, which then
    drops the entry file's sidebar from reruns. The server is started the same way as
    dashboard/serve.py does it: legacy mode off."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


app_test.PagesManager = _NavigationOnlyPagesManager


def open_app(database_url: str, page: str | None = None, params: dict | None = None,
             user: str | None = "chief.exec", timeout: float = 60) -> AppTest:
    """Run the entry file against database_url with URL params, signed in as `user` (a
    demo account; None for the sign-in screen), then switch to page.

    Signing in is simulated by the server-side session key the sign-in form sets; the form
    itself is tested in tests/pages/test_login.py.
    """
    os.environ["DATABASE_URL"] = database_url
    at = AppTest.from_file(ENTRY, default_timeout=timeout)
    if user:
        at.session_state["auth_username"] = user
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
