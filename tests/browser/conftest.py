"""Browser-test harness: a fresh demo database, the real server on a free port, and
Debian's Chromium driven by Playwright's sync API.

Fixtures: ``app`` (session: demo SQLite file + server, read by most tests), ``fresh_app``
(module: its own database and server, for tests that write), ``browser`` (session) and
``page`` (a new browser context per test, so a new Streamlit session: sign in again).
Helpers: sign_in, wait_for_run, screenshot, open_page, choose, metrics, figures,
download, assert_no_error_shown.

Waiting is on states, never on fixed sleeps: a run has finished when the app's root says
``data-test-script-state="notRunning"``, the status widget is gone and no stale element
is left; tests then wait for the consequence they expect (URL, heading, text, chart).

Without /usr/bin/chromium (or Playwright) the tests skip with the reason; under CI=true
they fail instead.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dashboard.app import replicas

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "test-artefacts"
CHROMIUM = os.environ.get("BROWSER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
AS_OF = "2026-10-31"
DEFAULT_PERIOD = ("2025-11-01", "2026-10-31")  # the filters' default: the last 12 months
VIEWPORT = {"width": 1366, "height": 2000}  # tall: Streamlit scrolls an inner container
TIMEOUT_MS = 60_000  # upper bound for any single wait; a healthy run takes 1-3 s

PASSWORDS = {
    "chief.exec": "demo-chief-2026!",
    "am.kent": "demo-kent-2026!",
    "am.surrey": "demo-surrey-2026!",
    "quality.lead": "demo-quality-2026!",
    "auditor.ken1": "demo-auditor-2026!",
    "admin": "demo-users-2026!",
}
LOGIN_TITLE = "Probation performance dashboard"

RUN_DONE = "[data-testid='stApp'][data-test-script-state='notRunning']"
STATUS = "[data-testid='stStatusWidget']"
STALE = "[data-stale='true']"
LOADING = "[data-testid='stSkeleton'], [data-testid='stSkeletonElement']"  # lazy components
# The site's own sidebar navigation (dashboard/app/accessibility.py), not Streamlit's menu.
NAV = "[data-testid='stSidebar'] .st-key-site_nav"


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

def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}; CI must run the browser tests (scripts/test.sh installs "
                    "Debian's chromium)")
    pytest.skip(reason)


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


# --- helpers -------------------------------------------------------------------------

def wait_for_run(page, timeout: float = TIMEOUT_MS) -> None:
    """Wait until Streamlit has finished the current script run and drawn its result."""
    page.wait_for_selector(RUN_DONE, state="attached", timeout=timeout)
    page.wait_for_selector(STATUS, state="detached", timeout=timeout)
    page.wait_for_selector(STALE, state="detached", timeout=timeout)
    page.wait_for_selector(LOADING, state="detached", timeout=timeout)
    page.wait_for_selector(RUN_DONE, state="attached", timeout=timeout)


def heading(page) -> str:
    """The page title (first h1)."""
    return page.locator("h1").first.inner_text().strip()


def wait_for_heading(page, title: str) -> None:
    """Wait until the page titled `title` is drawn and its run has finished."""
    from playwright.sync_api import expect

    expect(page.locator("h1").first).to_have_text(title, timeout=TIMEOUT_MS)
    wait_for_run(page)


def sign_in(page, user: str, path: str = "/", password: str | None = None) -> None:
    """Open `path` (a new session shows the sign-in form), sign in as a demo account and
    wait until the first signed-in page is drawn."""
    page.goto(path)
    wait_for_run(page)
    page.get_by_role("textbox", name="Username", exact=True).fill(user)
    page.get_by_role("textbox", name="Password", exact=True).fill(
        password if password is not None else PASSWORDS[user])
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("textbox", name="Username", exact=True).wait_for(state="detached")
    page.locator("[data-testid='stSidebar']").get_by_text("Signed in as").wait_for()
    page.locator("h1").filter(has_not_text=LOGIN_TITLE).first.wait_for()
    wait_for_run(page)


def open_page(page, link: str, title: str | None = None) -> None:
    """Follow a link in the sidebar navigation and wait for the page to be drawn."""
    nav = page.locator(NAV)
    nav.get_by_role("link", name=link, exact=True).click()
    wait_for_heading(page, title or link)


def choose(page, label: str, option: str, url_part: str | None = None) -> None:
    """Pick `option` in the sidebar selectbox `label`; wait for the URL to carry
    `url_part` (e.g. 'area=SURREY') when given, then for the run to finish."""
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    if url_part:
        page.wait_for_url(re.compile(r"[?&]" + re.escape(url_part) + r"(&|$)"))
    from playwright.sync_api import expect

    expect(sidebar.get_by_role("combobox", name=label, exact=True)).to_have_value(option)
    wait_for_run(page)


def selected(page, label: str) -> str:
    """The value shown in the sidebar selectbox `label`."""
    box = page.locator("[data-testid='stSidebar']").get_by_role("combobox", name=label,
                                                                 exact=True)
    return box.input_value()


def metrics(page) -> dict[str, str]:
    """Metric cards as {label: value}, as a person reads them."""
    out = {}
    for card in page.locator("[data-testid='stMetric']").all():
        label = card.locator("[data-testid='stMetricLabel']").inner_text().strip()
        out[label] = card.locator("[data-testid='stMetricValue']").inner_text().strip()
    return out


_FIGURES_JS = """() => {
  const plain = v => (v == null ? [] : Array.from(v, x => (typeof x === 'bigint' ? Number(x) : x)));
  return Array.from(document.querySelectorAll("[data-testid='stPlotlyChart'] .js-plotly-plot"))
    .map(g => {
      const t = g.layout && g.layout.title;
      return {
        title: ((t && (t.text !== undefined ? t.text : t)) || '').replace(/<[^>]*>/g, ''),
        traces: (g._fullData || []).map(d => ({name: d.name || '', type: d.type,
                                               x: plain(d.x), y: plain(d.y)})),
      };
    });
}"""


def figures(page) -> list[dict]:
    """The drawn Plotly charts: [{title, traces: [{name, type, x, y}]}], data decoded."""
    return page.evaluate(_FIGURES_JS)


def wait_for_figures(page, count: int = 1) -> list[dict]:
    page.wait_for_function(
        "n => document.querySelectorAll(\"[data-testid='stPlotlyChart'] .js-plotly-plot\")"
        ".length >= n && Array.from(document.querySelectorAll("
        "\"[data-testid='stPlotlyChart'] .js-plotly-plot\")).every(g => g._fullData)",
        arg=count)
    return figures(page)


def download(page, button: str, name: str | None = None) -> Path:
    """Click a download button and save the file under test-artefacts/downloads/."""
    wait_for_run(page)  # never click a button left from the previous run
    target = page.locator("[data-testid='stDownloadButton']").get_by_role(
        "button", name=button)
    with page.expect_download() as info:
        target.click()
    dl = info.value
    path = ARTEFACTS / "downloads" / (name or dl.suggested_filename)
    path.parent.mkdir(parents=True, exist_ok=True)
    dl.save_as(path)
    wait_for_run(page)  # the click's callback (audit log row) reruns the script
    return path


def main_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def alerts(page, kind: str | None = None) -> list[str]:
    """Texts of the main area's st.error/warning/info/success boxes (kind: 'Error',
    'Warning', 'Info', 'Success'; None for all)."""
    box = f"[data-testid='stAlertContent{kind}']" if kind else "[data-testid='stAlert']"
    texts = page.locator(f"[data-testid='stMain'] {box} [data-testid='stMarkdownContainer']")
    return [t.strip() for t in texts.all_inner_texts()]


def expect_alert(page, kind: str, text: str | re.Pattern) -> None:
    """Wait until the main area shows an alert of `kind` containing `text`."""
    from playwright.sync_api import expect

    box = page.locator(f"[data-testid='stMain'] [data-testid='stAlertContent{kind}']")
    expect(box.filter(has_text=text).first).to_be_visible()


def assert_no_error_shown(page) -> None:
    """No traceback and no 'something went wrong' / database error box on screen."""
    assert page.locator("[data-testid='stException']").count() == 0, main_text(page)[:2000]
    errors = [e for e in alerts(page, "Error") if not e.startswith("Off target (Red)")]
    assert not errors, errors


def screenshot(page, name: str) -> Path:
    """Save a screenshot of the current view as test-artefacts/<name>.png."""
    ARTEFACTS.mkdir(exist_ok=True)
    path = ARTEFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
    page.screenshot(path=str(path))
    return path


# --- accessibility (axe-core) ---------------------------------------------------------

AXE_VERSION = "4.14.1"
AXE_CACHE = ROOT / ".cache" / "axe"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_BLOCKING = ("serious", "critical")


def axe_source() -> str:
    """axe.min.js of axe-core AXE_VERSION, fetched once from the npm registry with
    `npm pack` into .cache/axe/ (the test command installs it; no vendored copy)."""
    script = AXE_CACHE / f"axe-core-{AXE_VERSION}" / "axe.min.js"
    if not script.exists():
        AXE_CACHE.mkdir(parents=True, exist_ok=True)
        packed = subprocess.run(
            ["npm", "pack", f"axe-core@{AXE_VERSION}", "--silent",
             "--pack-destination", str(AXE_CACHE)],
            capture_output=True, text=True, timeout=180)
        tarball = AXE_CACHE / f"axe-core-{AXE_VERSION}.tgz"
        if packed.returncode != 0 or not tarball.exists():
            _unavailable(f"npm pack axe-core@{AXE_VERSION} failed: {packed.stderr[-500:]}")
        import tarfile

        with tarfile.open(tarball) as tar:
            member = tar.extractfile("package/axe.min.js")
            assert member is not None
            script.parent.mkdir(parents=True, exist_ok=True)
            script.write_bytes(member.read())
    return script.read_text()


_AXE_RUN_JS = """async tags => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                              summary: (n.failureSummary || '').slice(0, 300)})),
  }));
}"""


def axe_violations(page, source: str) -> list[dict]:
    """Run axe-core (the WCAG 2.0-2.2 A/AA rule tags, no rule disabled) on the page as it
    is drawn now; returns every violation with its nodes."""
    wait_for_run(page)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=source)
    return page.evaluate(_AXE_RUN_JS, AXE_TAGS)


def blocking(violations: list[dict]) -> list[dict]:
    """The serious and critical violations (the ones that fail the suite)."""
    return [v for v in violations if v["impact"] in AXE_BLOCKING]
