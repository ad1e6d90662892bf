"""Browser-test harness: a fresh demo database, the real server on a free port, and
Debian's Chromium driven by Playwright's sync API.

Fixtures: ``app`` (session: demo SQLite file + server, read by most tests), ``fresh_app``
(module: its own database and server, for tests that write), ``browser`` (session) and
``page`` (a new browser context per test, so a new Streamlit session: sign in again).
The helpers (sign_in, wait_for_run, screenshot, open_page, choose, metrics, figures,
download, assert_no_error_shown, axe-core) are in tests/browser/helpers.py.

Waiting is on states, never on fixed sleeps: a run has finished when the app's root says
``data-test-script-state="notRunning"``, the status widget is gone and no stale element
is left; tests then wait for the consequence they expect (URL, heading, text, chart).

Without /usr/bin/chromium (or Playwright) the tests skip with the reason; under CI=true
they fail instead.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dashboard.app import replicas
from tests.browser.helpers import (
    ARTEFACTS,
    AS_OF,
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    TIMEOUT_MS,
    VIEWPORT,
    _unavailable,
    screenshot,
)

# --- the app under test ------------------------------------------------------------------

@dataclass
class App:
    """A running server on its own demo database."""

    url: str
    db_path: Path
    process: subprocess.Popen
    log_path: Path

    def rows(self, sql: str, params: tuple | dict = ()) -> list[tuple]:
        """Rows of a hand-written SQL query over the database file (read-only)."""
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def value(self, sql: str, params: tuple | dict = ()) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


def start_app(workdir: Path) -> App:
    """Create a fresh small demo database with the CLI, then serve it on a free port (the
    server start shared with the scripts: dashboard.app.replicas.start_server)."""
    db_path = workdir / "demo.sqlite"
    db_url = f"sqlite:///{db_path}"
    env = replicas.server_env(db_url, {"AUTH_BACKEND": "local"})
    made = subprocess.run(
        [sys.executable, "-m", "dashboard", "--database-url", db_url, "demo-data",
         "--scale", "small", "--as-of", AS_OF],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, f"demo-data failed:\n{made.stdout}\n{made.stderr}"
    log_path = workdir / "server.log"
    proc, url = replicas.start_server(db_url, log_path, env=env)
    return App(url, db_path, proc, log_path)


def stop_app(proc: subprocess.Popen) -> None:
    replicas.stop(proc)


@pytest.fixture(scope="session")
def app(tmp_path_factory, browser) -> Iterator[App]:
    """The server on a fresh demo database, shared by the tests that only read."""
    started = start_app(tmp_path_factory.mktemp("browser-app"))
    yield started
    stop_app(started.process)


@pytest.fixture(scope="module")
def fresh_app(tmp_path_factory, browser) -> Iterator[App]:
    """A server on its own fresh database, for tests that change data (audit answers)."""
    started = start_app(tmp_path_factory.mktemp("browser-fresh-app"))
    yield started
    stop_app(started.process)


# --- the browser ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium under Playwright (no browser download)."""
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"playwright is not installed ({exc})")
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    for old in [*ARTEFACTS.glob("FAILED-*.png"), *ARTEFACTS.glob("downloads/*")]:
        old.unlink()  # left by an earlier session: never mistake them for this one's
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                      headless=True)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _page_for(browser, base_url: str, request) -> Iterator[Any]:
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT, accept_downloads=True,
                                  locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            try:
                screenshot(page, f"FAILED-{request.node.name}")
            except Exception:  # noqa: BLE001 - the test's own failure is what matters
                pass
        context.close()


@pytest.fixture
def page(browser, app, request) -> Iterator[Any]:
    """A new browser context (a new Streamlit session) on the shared app."""
    yield from _page_for(browser, app.url, request)


@pytest.fixture
def fresh_page(browser, fresh_app, request) -> Iterator[Any]:
    """A new browser context on the module's own app (fresh_app)."""
    yield from _page_for(browser, fresh_app.url, request)
