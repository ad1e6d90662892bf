"""WCAG 2.2 AA in the browser: axe-core (rule tags wcag2a, wcag2aa, wcag21a, wcag21aa,
wcag22aa; no rule disabled) on every page each role can open, on the sign-in page and on
pages in an error or empty state. Any serious or critical violation fails.

One server and one browser context per role: pages are opened from the sidebar within
the same signed-in session, so the sweep stays within a couple of minutes on two cores.
Each run writes its counts to test-artefacts/axe/<name>.json for the closing note.
"""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import _page_for
from tests.browser.helpers import (
    ARTEFACTS,
    LOGIN_TITLE,
    NAV,
    PASSWORDS,
    axe_source,
    axe_violations,
    blocking,
    expect_alert,
    open_page,
    screenshot,
    sign_in,
    wait_for_heading,
    wait_for_run,
)

pytestmark = pytest.mark.browser

ROLES = ["chief.exec", "am.kent", "quality.lead", "auditor.ken1", "admin"]


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


def nav_links(page) -> list[str]:
    nav = page.locator(NAV)
    # a link's text starts with its icon's ligature name ("dashboard"): keep the title
    return [t.strip().splitlines()[-1].strip() for t in nav.get_by_role("link").all_inner_texts()]


def go_to(page, link: str) -> None:
    """Follow a sidebar link and wait until the page's own title replaces the last one
    (page titles differ from link names, e.g. "Unpaid work" opens "Unpaid work (UPW)")."""
    before = page.locator("h1").first.inner_text().strip()
    nav = page.locator(NAV)
    nav.get_by_role("link", name=link, exact=True).click()
    page.wait_for_function(
        "t => { const h = document.querySelector('h1'); return h && h.innerText.trim() !== t; }",
        arg=before)
    wait_for_run(page)


def record(name: str, results: dict[str, list[dict]], seconds: float) -> None:
    """Write per-page counts (violating elements by rule) for the closing note."""
    out = ARTEFACTS / "axe"
    out.mkdir(parents=True, exist_ok=True)
    summary = {page: {v["id"]: {"impact": v["impact"], "elements": len(v["nodes"])}
                      for v in found} for page, found in results.items()}
    (out / f"{name}.json").write_text(json.dumps(
        {"seconds": round(seconds, 1), "pages": summary, "detail": results}, indent=1))


def failures(results: dict[str, list[dict]]) -> str:
    lines = []
    for page, found in results.items():
        for v in blocking(found):
            first = v["nodes"][0]
            lines.append(f"{page}: {v['id']} ({v['impact']}, {len(v['nodes'])} elements) "
                         f"e.g. {first['target']}: {first['summary']}")
    return "\n".join(lines)


@pytest.mark.parametrize("user", ROLES)
def test_every_page_of_the_role_passes_axe(browser, app, request, axe, user):
    started = time.monotonic()
    results: dict[str, list[dict]] = {}
    pages = _page_for(browser, app.url, request)  # closing the generator closes the context
    page = next(pages)
    try:
        sign_in(page, user)
        links = nav_links(page)
        assert links, "the sidebar lists the role's pages"
        for i, link in enumerate(links):
            if i:  # the first link is the page signing in opens
                go_to(page, link)
            else:
                wait_for_run(page)
            results[link] = axe_violations(page, axe)
    finally:
        pages.close()
    record(user, results, time.monotonic() - started)
    assert not failures(results), failures(results)


def test_sign_in_and_error_and_empty_states_pass_axe(page, app, axe):
    """The sign-in form (fresh and after a wrong password), a link with a filter that
    does not exist, an area manager's case list for another area, and an empty table."""
    started = time.monotonic()
    results: dict[str, list[dict]] = {}
    page.goto("/")
    wait_for_heading(page, LOGIN_TITLE)
    results["sign-in"] = axe_violations(page, axe)
    page.get_by_role("textbox", name="Username", exact=True).fill("am.kent")
    page.get_by_role("textbox", name="Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.locator("[data-testid='stAlertContentError']").first.wait_for()
    wait_for_run(page)
    results["sign-in, wrong password"] = axe_violations(page, axe)
    screenshot(page, "axe_sign_in_wrong_password")

    sign_in(page, "am.kent", "/cases?area=SURREY", password=PASSWORDS["am.kent"])
    open_page(page, "Cases behind the figures")
    expect_alert(page, "Warning", "Your role shows case lists for")
    results["cases, another area (refused)"] = axe_violations(page, axe)

    page.goto("/?area=NOWHERE")  # the default page lives at / (/overview: "Page not found")
    wait_for_heading(page, "Overview")  # still signed in: the cookie restores the session
    page.locator("[data-testid='stSidebar']").get_by_text("Signed in as").wait_for()
    page.get_by_text("Link filter not used").first.wait_for()
    wait_for_run(page)
    results["overview, unknown area in the link"] = axe_violations(page, axe)

    # what the sweep leaves closed: the help and every chart's table, opened on one page
    go_to(page, "Staffing gaps")
    summaries = page.locator("[data-testid='stExpander'] summary")
    assert summaries.count() >= 5  # "How to read this page" and one per chart
    for i in range(summaries.count()):
        summaries.nth(i).click()
    expect(page.locator("[data-testid='stTable']").first).to_be_visible()
    wait_for_run(page)
    results["staffing, every expander open"] = axe_violations(page, axe)
    record("states", results, time.monotonic() - started)
    assert not failures(results), failures(results)


def test_empty_audit_log_passes_axe(page, app, axe):
    """The admin's audit log filtered to a user with no entries: the empty state."""
    results: dict[str, list[dict]] = {}
    started = time.monotonic()
    sign_in(page, "admin")
    open_page(page, "Audit log")
    box = page.get_by_role("textbox", name="User", exact=True)
    box.fill("nobody.at.all")
    box.press("Enter")
    expect_alert(page, "Info", "No audit log entries")
    results["audit log, empty"] = axe_violations(page, axe)
    record("empty", results, time.monotonic() - started)
    assert not failures(results), failures(results)
