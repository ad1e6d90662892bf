"""Access control as a person meets it in the browser: an area manager cannot reach
another area's cases, whatever the link or the filters say."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from playwright.sync_api import expect

from tests.browser import helpers as web

pytestmark = pytest.mark.browser

END = "2026-10-31"
CRN = re.compile(r"\bX\d{10}\b")


def open_cases(app, area_code: str) -> pd.DataFrame:
    rows = app.rows(
        "SELECT p.crn, o.name FROM person_on_probation p JOIN office o ON o.id = p.office_id "
        "JOIN area a ON a.id = o.area_id WHERE a.code = ? AND p.start_date <= ? "
        "AND p.end_date >= ?", (area_code, END, END))
    return pd.DataFrame(rows, columns=["crn", "office"])


def test_area_manager_cannot_reach_another_areas_cases(page, app):
    web.sign_in(page, "am.kent", "/cases?area=SURREY")
    web.open_page(page, "Cases behind the figures")
    web.expect_alert(page, "Warning", "Your role shows case lists for Ashford, Chatham only")
    assert "area=SURREY" in page.url
    assert page.locator("[data-testid='stDataFrame']").count() == 0
    assert page.locator("[data-testid='stDownloadButton']").count() == 0
    surrey = open_cases(app, "SURREY")
    text = web.main_text(page)
    assert not CRN.findall(text), "no case reference may be shown"
    assert not set(surrey["crn"]) & set(CRN.findall(page.content()))
    web.assert_no_error_shown(page)
    web.screenshot(page, "access_am_kent_surrey_cases")

    for view in ("Releases from custody in the period (Through the Gate)",
                 "Unpaid work orders live at the end of the period"):
        page.get_by_role("radio", name=view, exact=True).click()
        page.wait_for_url(re.compile(r"view=(releases|unpaid_work)"))
        web.wait_for_run(page)
        web.expect_alert(page, "Warning", "case lists for Ashford, Chatham only")
        assert page.locator("[data-testid='stDataFrame']").count() == 0

    # widening the filter to the whole region still lists only Kent's cases
    web.choose(page, "Area", "All areas (region)")
    page.wait_for_url(lambda url: "area=ALL" in url)  # an area manager asks for the region (#14)
    page.get_by_role("radio", name="Cases open at the end of the period", exact=True).click()
    page.wait_for_url(re.compile(r"view=caseload"))
    web.wait_for_run(page)
    expect(page.locator("[data-testid='stDataFrame']")).to_be_visible()
    assert any("Limited to the offices your role covers" in a for a in web.alerts(page, "Info"))
    csv = web.download(page, "Download this table (CSV)")
    table = pd.read_csv(csv)
    kent = open_cases(app, "KENT")
    assert set(table["office"]) <= {"Ashford", "Chatham"}
    assert sorted(table["crn"]) == sorted(kent["crn"])
    assert not set(table["crn"]) & set(surrey["crn"])
    web.screenshot(page, "access_am_kent_region_cases")
    logged = app.rows("SELECT target FROM audit_log WHERE username = 'am.kent' "
                      "AND action = 'view_person_rows'")
    assert ("cases:caseload",) in logged


def test_auditor_sees_no_case_lists_or_measure_pages(page, app):
    web.sign_in(page, "auditor.ken1")
    nav = page.locator(web.NAV).inner_text()
    assert "Cases behind the figures" not in nav
    assert "Staffing gaps" not in nav
    web.assert_no_error_shown(page)
    web.screenshot(page, "access_auditor_navigation")
