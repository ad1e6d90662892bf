"""The paths a person takes through the dashboard, in a real browser: sign in, read the
overview, change filters, share a link, drill to cases, download, bad links.

Every figure is checked against hand-written SQL over the database file (not the app's
query code).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pandas as pd
import pytest
from playwright.sync_api import expect

from tests.browser import helpers as web

pytestmark = pytest.mark.browser

START, END = web.DEFAULT_PERIOD
SNAPSHOT = "2026-10-01"  # staffing figures: the first day of the period's last month


# --- independent SQL -----------------------------------------------------------------

def _office_filter(column: str, office_ids: tuple[int, ...] | None) -> str:
    if office_ids is None:
        return ""
    return f" AND {column} IN ({','.join(str(int(i)) for i in office_ids)})"


def held(day: str, person_id: str) -> str:
    """JOIN p: the allocation holding the case `person_id` on `day` (p.office_id)."""
    return (f"JOIN case_allocation p ON p.person_id = {person_id} AND p.start_date <= {day} "
            f"AND (p.end_date IS NULL OR p.end_date >= {day}) ")


def headline_sql(app, start=START, end=END, office_ids=None) -> dict[str, float]:
    """The overview's eight headline figures, computed straight from the tables."""
    params = {"start": start, "end": end, "snap": end[:8] + "01"}
    on = _office_filter("p.office_id", office_ids)
    est_on = _office_filter("e.office_id", office_ids)
    in_post = ("(SELECT COALESCE(SUM(s.fte), 0) FROM staff_member s WHERE s.office_id = "
               "e.office_id AND s.grade = e.grade AND s.start_date <= e.month AND "
               "(s.end_date IS NULL OR s.end_date >= e.month))")
    vac, budget = app.rows(
        f"SELECT SUM(MAX(e.budgeted_fte - {in_post}, 0)), SUM(e.budgeted_fte) "
        f"FROM establishment e WHERE e.month = :snap{est_on}", params)[0]
    fte = app.value(f"SELECT SUM({in_post}) FROM establishment e WHERE e.month = :snap "
                    f"AND e.grade IN ('PO', 'PSO'){est_on}", params)
    # p below is the allocation holding the case on the event's date (p.office_id)
    open_cases = app.value(f"SELECT COUNT(*) FROM person_on_probation pp "
                           f"{held(':snap', 'pp.id')}WHERE "
                           f"pp.start_date <= :snap AND pp.end_date >= :snap{on}", params)
    sufficient, applicable = app.rows(
        "SELECT SUM(a.answer = 'sufficient'), SUM(a.answer != 'not_applicable') "
        "FROM audit_answer a JOIN case_audit c ON c.id = a.audit_id "
        f"{held('c.audit_date', 'c.person_id')}"
        "WHERE c.status = 'complete' AND c.scheme = 'crc_2018' "
        f"AND c.audit_date BETWEEN :start AND :end{on}", params)[0]
    # the 12-month anniversary: the same date a year on (29 Feb -> 28 Feb)
    anniversary = ("(CASE WHEN strftime('%m-%d', o.sentence_date) = '02-29' "
                   "THEN date(o.sentence_date, '+1 year', '-1 day') "
                   "ELSE date(o.sentence_date, '+1 year') END)")
    done12, due12 = app.rows(
        f"SELECT SUM(o.completed_date IS NOT NULL AND o.completed_date <= {anniversary}), "
        f"COUNT(*) FROM upw_order o {held('o.sentence_date', 'o.person_id')}"
        f"WHERE {anniversary} BETWEEN :start AND :end{on}", params)[0]
    planned, housed, known = app.rows(
        "SELECT SUM(r.plan_completed_date IS NOT NULL AND r.plan_completed_date <= "
        "r.release_date) * 1.0 / COUNT(*), "
        "SUM(r.accommodation_on_release IN ('settled', 'temporary')), "
        "SUM(r.accommodation_on_release IS NOT NULL) "
        f"FROM custody_release r {held('r.release_date', 'r.person_id')}"
        f"WHERE r.release_date BETWEEN :start AND :end{on}", params)[0]
    kept = app.value(
        "SELECT AVG(a.outcome = 'kept') FROM appointment a "
        f"{held('a.appointment_date', 'a.person_id')}"
        f"WHERE a.appointment_date BETWEEN :start AND :end{on}", params)
    outstanding = app.value(
        "SELECT SUM(o.hours_ordered - COALESCE((SELECT SUM(s.hours_worked) FROM upw_session s "
        "WHERE s.order_id = o.id AND s.session_date <= :end), 0)) "
        f"FROM upw_order o {held(':end', 'o.person_id')}"
        "WHERE o.sentence_date <= :end "
        "AND (o.completed_date IS NULL OR o.completed_date > :end) "
        f"AND (o.terminated_date IS NULL OR o.terminated_date > :end){on}", params)
    return {
        "Vacancy rate": 100 * vac / budget,
        "Caseload (cases/FTE)": open_cases / fte,
        "Cases sufficient": 100 * sufficient / applicable,
        "UPW done in 12 months": 100 * done12 / due12,
        "Plan before release": 100 * planned,
        "Housed on release": 100 * housed / known,
        "Appointments kept": 100 * kept,
        "Hours outstanding (hours)": outstanding,
    }


# card label -> the default target's (green from, amber from, higher is better)
CARD_TARGETS = {
    "Vacancy rate": (10.0, 20.0, False), "Caseload (cases/FTE)": (40.0, 50.0, False),
    "Cases sufficient": (65.0, 50.0, True), "UPW done in 12 months": (85.0, 75.0, True),
    "Plan before release": (90.0, 75.0, True), "Housed on release": (90.0, 84.0, True),
    "Appointments kept": (90.0, 80.0, True),
}


def _status(value: float, target: tuple[float, float, bool]) -> str:
    green, amber, higher = target
    if higher:
        return "G" if value >= green else "A" if value >= amber else "R"
    return "G" if value <= green else "A" if value <= amber else "R"


def shown(label: str, value: float) -> str:
    """How a card shows a value: percentages whole, caseload one decimal, hours whole,
    with more decimals only where fewer would land on the other side of a threshold
    (79.6 % beside Red against 'amber from 80', not 80 %)."""
    digits = 1 if label == "Caseload (cases/FTE)" else 0
    target = CARD_TARGETS.get(label)
    while target and digits < 6 and _status(round(value, digits), target) != _status(
            value, target):
        digits += 1
    text = f"{value:,.{digits}f}"
    return text if label in ("Caseload (cases/FTE)", "Hours outstanding (hours)") else (
        f"{text} %")


def office_ids(app, *codes: str) -> tuple[int, ...]:
    marks = ",".join("?" * len(codes))
    return tuple(r[0] for r in app.rows(f"SELECT id FROM office WHERE code IN ({marks})",
                                        codes))


def open_case_rows(app, end: str, codes: tuple[str, ...]) -> pd.DataFrame:
    """CRN and office of cases open on the period's last day in the given offices."""
    marks = ",".join("?" * len(codes))
    rows = app.rows(
        "SELECT p.crn, o.name FROM person_on_probation p JOIN office o ON o.id = p.office_id "
        f"WHERE p.start_date <= ? AND p.end_date >= ? AND o.code IN ({marks})",
        (end, end, *codes))
    return pd.DataFrame(rows, columns=["crn", "office"])


def chart(page, title_start: str) -> dict:
    for fig in web.figures(page):
        if fig["title"].startswith(title_start):
            return fig
    raise AssertionError(f"no chart {title_start!r}: {[f['title'] for f in web.figures(page)]}")


# --- tests ---------------------------------------------------------------------------

def test_sign_in_with_wrong_then_right_password(page, app):
    page.goto("/")
    web.wait_for_run(page)
    assert web.heading(page) == "Probation performance dashboard"
    page.get_by_role("textbox", name="Username", exact=True).fill("chief.exec")
    page.get_by_role("textbox", name="Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    web.expect_alert(page, "Error", "not recognised")
    web.wait_for_run(page)
    web.screenshot(page, "login_refused")
    assert page.locator("[data-testid='stMetric']").count() == 0  # nothing shown yet

    web.sign_in(page, "chief.exec")
    assert web.heading(page) == "Overview"
    sidebar = page.locator("[data-testid='stSidebar']").inner_text()
    assert "Chief Executive (demo)" in sidebar
    nav = page.locator(web.NAV).inner_text()
    for link in ("Overview", "Staffing gaps", "Cases behind the figures"):
        assert link in nav
    assert "Users" not in nav  # admin pages are not in a chief executive's navigation
    web.assert_no_error_shown(page)
    web.screenshot(page, "login_overview")
    outcomes = [r[0] for r in app.rows(
        "SELECT action FROM audit_log WHERE username = 'chief.exec' "
        "AND action LIKE 'login%' ORDER BY id")]
    assert outcomes[-2:] == ["login_failure", "login_success"]


# card label (headline_sql's keys) -> the overview report's measure label (#14)
REPORT_NAMES = {
    "Vacancy rate": "Vacancy rate", "Caseload (cases/FTE)": "Caseload",
    "Cases sufficient": "Cases sufficient", "UPW done in 12 months": "UPW done in 12 months",
    "Plan before release": "Plan before release", "Housed on release": "Housed on release",
    "Appointments kept": "Appointments kept",
}


def report_shown(label: str, value: float) -> str:
    """How the overview's report writes a value: one decimal, more only where one would
    land on the other side of a threshold."""
    digits = 1
    target = CARD_TARGETS.get(label)
    while target and digits < 6 and _status(round(value, digits), target) != _status(
            value, target):
        digits += 1
    text = f"{value:,.{digits}f}"
    return text if label == "Caseload (cases/FTE)" else f"{text} %"


def test_overview_headlines_match_the_database(page, app):
    """The report's period figures (read from its CSV: the grid draws on a canvas) are
    the database's, computed by hand-written SQL."""
    web.sign_in(page, "chief.exec")
    caption = web.main_text(page)
    assert "Region · Nov 2025 to Oct 2026 · data as of 31 Oct 2026" in caption
    n_offices = app.value("SELECT COUNT(*) FROM office")
    assert f"{n_offices} offices, grouped by area" in caption
    web.screenshot(page, "overview_region")
    csv = web.download(page, "Download the report (CSV)")
    report = pd.read_csv(csv).set_index("Measure")
    for label, value in headline_sql(app).items():
        if label in REPORT_NAMES:
            assert report.at[REPORT_NAMES[label], "Period"] == report_shown(label, value), label


def test_area_and_office_filters_change_figures_and_charts(page, app):
    web.sign_in(page, "chief.exec")
    web.open_page(page, "Staffing gaps")
    region = web.wait_for_figures(page, 2)
    by_office = chart(page, "Vacancy rate by office")
    names = app.rows("SELECT a.name, o.name FROM office o JOIN area a ON a.id = o.area_id")
    assert {t["name"] for t in by_office["traces"]} == {a for a, _o in names}
    assert sorted(y for t in by_office["traces"] for y in t["y"]) == sorted(
        o for _a, o in names)
    web.screenshot(page, "filters_region")

    web.choose(page, "Area", "Surrey", "area=SURREY")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll(\"[data-testid='stPlotlyChart'] "
        ".js-plotly-plot\")).some(g => (g._fullData || []).length === 1 && "
        "g._fullData[0].name === 'Surrey')")
    surrey = web.figures(page)
    assert surrey != region
    by_office = chart(page, "Vacancy rate by office")
    assert [t["name"] for t in by_office["traces"]] == ["Surrey"]
    assert sorted(by_office["traces"][0]["y"]) == ["Guildford", "Woking"]
    surrey_ids = office_ids(app, "GUI", "WOK")
    cards = web.metrics(page)
    assert cards["Vacancy rate"] == shown("Vacancy rate",
                                          headline_sql(app, office_ids=surrey_ids)["Vacancy rate"])
    assert "Surrey · Nov 2025 to Oct 2026" in web.main_text(page)
    web.screenshot(page, "filters_area_surrey")

    web.choose(page, "Office", "Woking", "office=WOK")
    expect(page.get_by_text("Woking · Nov 2025 to Oct 2026")).to_be_visible()
    web.wait_for_run(page)
    woking = web.figures(page)
    assert woking != surrey
    by_office = chart(page, "Vacancy rate by office")
    assert [y for t in by_office["traces"] for y in t["y"]] == ["Woking"]
    trend = chart(page, "Vacancy rate by month")
    assert [t["name"] for t in trend["traces"]] == ["Woking"]
    assert web.metrics(page)["Vacancy rate"] == shown(
        "Vacancy rate", headline_sql(app, office_ids=office_ids(app, "WOK"))["Vacancy rate"])
    web.screenshot(page, "filters_office_woking")

    web.choose(page, "From", "May 2026", "from=2026-05")
    expect(page.get_by_text("Woking · May 2026 to Oct 2026")).to_be_visible()
    web.wait_for_run(page)
    trend = chart(page, "Vacancy rate by month")
    assert trend["traces"][0]["x"] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09",
                                       "2026-10"]
    web.assert_no_error_shown(page)


def test_shared_link_reopens_the_same_filters(page, app):
    link = "/payback?area=KENT&office=CHA&from=2026-01&to=2026-06"
    web.sign_in(page, "chief.exec", link)
    assert web.selected(page, "Area") == "Kent"
    assert web.selected(page, "Office") == "Chatham"
    assert web.selected(page, "From") == "Jan 2026"
    assert web.selected(page, "To") == "Jun 2026"
    assert "Chatham · Jan 2026 to Jun 2026" in web.main_text(page)
    params = dict(parse_qsl(urlsplit(page.url).query))
    assert params.items() >= {"area": "KENT", "office": "CHA", "from": "2026-01",
                              "to": "2026-06"}.items()
    web.assert_no_error_shown(page)
    web.screenshot(page, "shared_link")


def test_shared_link_opens_the_linked_page_after_sign_in(page, app):
    web.sign_in(page, "chief.exec", "/payback?area=KENT&office=CHA&from=2026-01&to=2026-06")
    assert "/payback" in page.url
    assert web.heading(page) == "Unpaid work (Community Payback)"


def test_drill_from_an_office_to_its_cases_and_download_them(page, app):
    web.sign_in(page, "chief.exec")
    web.choose(page, "Area", "Surrey", "area=SURREY")
    web.choose(page, "Office", "Woking", "office=WOK")
    web.open_page(page, "Cases behind the figures")
    assert re.search(r"/cases\?.*office=WOK", page.url), page.url
    expected = open_case_rows(app, END, ("WOK",))
    caption = page.get_by_text(re.compile(r"^[\d,]+ rows")).inner_text()
    assert caption.startswith(f"{len(expected):,} rows"), caption
    assert "Woking" in caption
    web.screenshot(page, "cases_woking")

    csv = web.download(page, "Download this table (CSV)")
    assert csv.name == "cases_caseload_WOK_2025-11_2026-10.csv"
    table = pd.read_csv(csv)
    assert len(table) == len(expected)
    assert set(table["office"]) == {"Woking"}
    assert sorted(table["crn"]) == sorted(expected["crn"])
    views = app.rows("SELECT target, filters FROM audit_log WHERE username = 'chief.exec' "
                     "AND action IN ('view_person_rows', 'download') ORDER BY id")
    assert ("cases:caseload" in [t for t, _f in views]
            and csv.name in [t for t, _f in views]), views
    assert '"office": "WOK"' in views[-1][1]


def test_overview_table_download_matches_the_database(page, app):
    web.sign_in(page, "chief.exec")
    web.choose(page, "From", "Jan 2026", "from=2026-01")
    web.choose(page, "To", "Jun 2026", "to=2026-06")
    expect(page.get_by_text("Region · Jan 2026 to Jun 2026")).to_be_visible()
    web.wait_for_run(page)
    csv = web.download(page, "Download the offices table (CSV)")
    assert csv.name == "overview_offices_region_2026-01_2026-06.csv"
    table = pd.read_csv(csv).set_index("Office")
    offices = dict(app.rows("SELECT name, id FROM office"))
    assert set(table.index) == set(offices)
    assert list(table["Measures off target"]) == sorted(table["Measures off target"],
                                                        reverse=True)
    for name, office_id in offices.items():
        expected = headline_sql(app, "2026-01-01", "2026-06-30", (office_id,))
        row = table.loc[name]
        # the CSV carries the figures as shown: one decimal, more only beside a threshold
        for column, label in (("Appointments kept", "Appointments kept"),
                              ("Resettlement plan before release", "Plan before release"),
                              ("Vacancy rate", "Vacancy rate")):
            exact = expected[label]
            assert row[column] == pytest.approx(exact, abs=0.05), (name, column)
            assert _status(row[column], CARD_TARGETS[label]) == _status(
                exact, CARD_TARGETS[label]), (name, column)
    assert (app.value("SELECT COUNT(*) FROM audit_log WHERE action = 'download' "
                      "AND target = ?", (csv.name,)) >= 1)


def test_bad_link_parameters_get_a_friendly_message(page, app):
    web.sign_in(page, "chief.exec", "/?office=NOPE&from=2026-13&area=%27%3B%20DROP%20TABLE")
    warnings = " ".join(web.alerts(page, "Warning"))
    assert "Unknown office 'NOPE'" in warnings
    assert "'from' must be a month written YYYY-MM" in warnings
    assert "Unknown area" in warnings
    assert web.heading(page) == "Overview"
    # the overview's figures are its report table (no metric cards since #14)
    assert page.locator("[data-testid='stDataFrame']").count() >= 1, "no figures shown"
    assert "Region · Nov 2025 to Oct 2026" in web.main_text(page)  # defaults used
    assert app.value("SELECT COUNT(*) FROM office") == 4  # nothing reached SQL
    web.assert_no_error_shown(page)
    assert "Traceback" not in web.main_text(page)
    web.screenshot(page, "bad_link_parameters")
