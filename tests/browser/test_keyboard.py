"""Issue 15 item 4: the whole journey by keyboard alone (WCAG 2.1.1): sign in, change
area and office, open a page, download its table. No mouse call is made: focus moves
with Tab, values are typed, Enter chooses; the page is only read to know where focus is."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.browser.helpers import (
    ARTEFACTS,
    NAV,
    PASSWORDS,
    screenshot,
    wait_for_heading,
    wait_for_run,
)

pytestmark = pytest.mark.browser
MAX_TABS = 200  # more than the focusable elements of any page


def tab_to(page, locator, backwards: bool = False) -> int:
    """Press Tab until `locator` has the focus; returns how many presses it took."""
    target = locator.element_handle()
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate("el => document.activeElement === el", target):
            return presses
    raise AssertionError(f"Tab never reached {locator}")


def test_keyboard_only_journey(page, app):
    office_code, office, area = app.rows(
        "SELECT o.code, o.name, a.name FROM office o JOIN area a ON a.id = o.area_id "
        "WHERE a.code = 'SURREY' ORDER BY o.name LIMIT 1")[0]
    page.goto("/")
    wait_for_run(page)
    tab_to(page, page.get_by_role("textbox", name="Username", exact=True))
    page.keyboard.type("chief.exec")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORDS["chief.exec"])
    page.keyboard.press("Enter")
    page.locator("[data-testid='stSidebar']").get_by_text("Signed in as").wait_for()
    wait_for_heading(page, "Overview")

    sidebar = page.locator("[data-testid='stSidebar']")
    tab_to(page, sidebar.get_by_role("combobox", name="Area", exact=True))
    page.keyboard.type(area)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "area=SURREY" in url)
    wait_for_run(page)
    tab_to(page, sidebar.get_by_role("combobox", name="Office", exact=True))
    page.keyboard.type(office)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: f"office={office_code}" in url)
    wait_for_run(page)

    presses = tab_to(page, page.locator(NAV).get_by_role("link", name="Staffing gaps",
                                                        exact=True), backwards=True)
    page.keyboard.press("Enter")
    wait_for_heading(page, "Staffing gaps")
    assert f"office={office_code}" in page.url, "the filters stay with the page"
    screenshot(page, "keyboard_staffing")

    button = page.locator("[data-testid='stDownloadButton']").get_by_role(
        "button", name="Download this table (CSV)")
    tab_to(page, button)
    focused = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle"
                            " + '|' + getComputedStyle(document.activeElement).boxShadow")
    assert focused != "none|none", "the focused button shows a focus indicator (2.4.7)"
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    path = ARTEFACTS / "downloads" / "keyboard_staffing.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    info.value.save_as(path)
    wait_for_run(page)
    table = pd.read_csv(path)
    assert set(table["office"]) == {office}
    budget = app.value(
        "SELECT SUM(e.budgeted_fte) FROM establishment e JOIN office o ON o.id = e.office_id "
        "WHERE o.code = ? AND e.month = (SELECT MAX(month) FROM establishment)", (office_code,))
    assert table["establishment_fte"].sum() == pytest.approx(budget)
    assert presses < MAX_TABS
