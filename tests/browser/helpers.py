"""What the browser tests share besides fixtures (tests/browser/conftest.py holds those):
the demo's constants and passwords, and the helpers that wait on Streamlit's states, sign
in, open pages, choose filters, read metrics and figures, download, take screenshots and
run axe-core. A module of its own: pytest advises against importing from conftest.

Tests import it as ``from tests.browser import helpers as web`` (or single names).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

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


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}; CI must run the browser tests (scripts/test.sh installs "
                    "Debian's chromium)")
    pytest.skip(reason)


# --- waiting, reading, acting ----------------------------------------------------------

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
