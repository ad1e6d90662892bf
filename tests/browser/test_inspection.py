"""Inspection work in the browser: record a case audit, export the evidence pack, and
compare offices then drill from one office to its figures and cases."""

from __future__ import annotations

import re
from datetime import date

import openpyxl
import pandas as pd
import pytest
from playwright.sync_api import expect

from tests.browser import helpers as web

pytestmark = pytest.mark.browser

START, END = web.DEFAULT_PERIOD
QUESTION = re.compile(r"^(\d+\.\d+[a-z])\b")


# --- record a case audit -------------------------------------------------------------

@pytest.fixture(scope="module")
def assigned_audits(fresh_app) -> list[int]:
    """Three Kent cases in a saved sample, as draft audits for auditor.ken1 (arranged
    with the app's own save command; the test then works only through the browser)."""
    from dashboard.commands.samples import SaveSample
    from dashboard.data import db

    people = fresh_app.rows(
        "SELECT p.id FROM person_on_probation p JOIN office o ON o.id = p.office_id "
        "JOIN area a ON a.id = o.area_id WHERE a.code = 'KENT' AND p.end_date >= ? "
        "ORDER BY p.id LIMIT 3", (END,))
    members = pd.DataFrame({"person_id": [p for (p,) in people],
                            "stratum": ["browser test"] * len(people)})
    engine = db.make_engine(f"sqlite:///{fresh_app.db_path}")
    with engine.begin() as conn:
        sample_id = SaveSample(
            conn, name="Browser test sample", window_start=date(2026, 8, 1),
            window_end=date(2026, 10, 31), office_id=None, area_id=1, confidence=0.8,
            margin=0.05, seed=1, members=members, assign_to=["auditor.ken1"],
            scheme="crc_2018", created_by="quality.lead", population=len(members)).run()
    engine.dispose()
    return [a for (a,) in fresh_app.rows(
        "SELECT id FROM case_audit WHERE sample_id = ? ORDER BY id", (sample_id,))]


def test_auditor_records_a_case_audit(fresh_page, fresh_app, assigned_audits):
    page, app = fresh_page, fresh_app
    web.sign_in(page, "auditor.ken1")
    web.open_page(page, "Record case audits")
    cards = web.metrics(page)
    # the demo's own samples are assigned to this auditor too (drafts, some started)
    mine = "FROM case_audit WHERE auditor = 'auditor.ken1' AND sample_id IS NOT NULL"
    assigned = app.value("SELECT COUNT(*) " + mine)
    drafts = app.value("SELECT COUNT(*) " + mine + " AND status = 'draft'")
    assert cards["Assigned audits"] == f"{assigned:,}"
    assert cards["Drafts"] == f"{drafts:,}"
    crn = page.locator("h3").filter(has_text=re.compile(r"^Case ")).first.inner_text()
    crn = crn.removeprefix("Case ").strip()
    audit_id, status = app.rows(
        "SELECT c.id, c.status FROM case_audit c JOIN person_on_probation p "
        "ON p.id = c.person_id WHERE p.crn = ? AND c.auditor = 'auditor.ken1' "
        "AND c.sample_id IS NOT NULL", (crn,))[0]
    assert audit_id in assigned_audits and status == "draft"
    assert f"audit={audit_id}" in page.url

    form = page.locator("[data-testid='stMain']")
    groups = form.locator("[data-testid='stRadio']").all()
    codes = []
    for group in groups:
        label = group.locator("[data-testid='stWidgetLabel']").inner_text().strip()
        codes.append(QUESTION.match(label).group(1))
    assert codes, "the audit form asks key questions"
    first = codes[0]
    reason_box = form.get_by_role("textbox", name=f"{first} reason (why it is not sufficient)")
    for group in groups[1:]:
        group.get_by_text("Sufficient", exact=True).click()
        web.wait_for_run(page)
    # the reason box appears only once "Not sufficient" is chosen
    expect(reason_box).to_have_count(0)
    groups[0].get_by_text("Not sufficient", exact=True).click()
    web.wait_for_run(page)
    expect(reason_box).to_have_count(1)
    expect(form.get_by_role("textbox")).to_have_count(1)
    web.screenshot(page, "audit_form_filled")

    # a "not sufficient" without its reason is refused, and nothing is written
    form.get_by_role("button", name="Save as complete").click()
    web.expect_alert(page, "Error", "Not saved: 1 answer(s) need attention")
    web.wait_for_run(page)
    web.expect_alert(page, "Error", f"{first}:")
    page.locator("[data-testid='stMain'] [data-testid='stAlertContentError']").first \
        .scroll_into_view_if_needed()
    assert app.value("SELECT COUNT(*) FROM audit_answer WHERE audit_id = ?", (audit_id,)) == 0
    web.screenshot(page, "audit_reason_missing")

    reason = "Risk to children not reassessed after the police call-out (browser test)"
    reason_box.fill(reason)
    reason_box.press("Tab")  # commit the text before the click
    web.wait_for_run(page)
    form.get_by_role("button", name="Save as complete").click()
    web.expect_alert(page, "Success", "Saved as complete at")
    web.wait_for_run(page)
    saved = page.locator("[data-testid='stMain'] [data-testid='stAlertContentSuccess']")
    assert f"{len(codes)} answer(s) stored" in saved.inner_text()
    saved.scroll_into_view_if_needed()  # the confirmation sits above the long form
    web.screenshot(page, "audit_saved")
    # the picker shows the saved state
    expect(form.locator("[data-testid='stSelectbox']").first).to_match_aria_snapshot(
        '- combobox "Open a case": /· complete ·/'
    )

    rows = dict((q, (a, r)) for q, a, r in app.rows(
        "SELECT key_question, answer, reason FROM audit_answer WHERE audit_id = ?",
        (audit_id,)))
    assert set(rows) == set(codes)
    assert rows[first] == ("not_sufficient", reason)
    assert all(rows[q] == ("sufficient", None) for q in codes[1:])
    assert app.value("SELECT status FROM case_audit WHERE id = ?", (audit_id,)) == "complete"
    log = app.rows("SELECT username, target, detail FROM audit_log WHERE action = "
                   "'audit_saved' ORDER BY id")
    assert len(log) == 1, "the refused save wrote nothing to the audit log"
    user, target, detail = log[0]
    assert (user, target) == ("auditor.ken1", f"case_audit:{audit_id}")
    assert '"status": "complete"' in detail and '"not_sufficient": 1' in detail
    web.assert_no_error_shown(page)


# --- evidence pack -------------------------------------------------------------------

def kq_counts(app, office: str | None = None) -> dict[str, tuple[int, int]]:
    """key question -> (sufficient, applicable) over complete audits dated in the period."""
    where = "" if office is None else " AND o.name = :office"
    rows = app.rows(
        "SELECT a.key_question, SUM(a.answer = 'sufficient'), "
        "SUM(a.answer != 'not_applicable') FROM audit_answer a "
        "JOIN case_audit c ON c.id = a.audit_id "
        # the office holding the case on the audit date
        "JOIN case_allocation h ON h.person_id = c.person_id AND h.start_date <= c.audit_date "
        "AND (h.end_date IS NULL OR h.end_date >= c.audit_date) "
        "JOIN office o ON o.id = h.office_id "
        "WHERE c.status = 'complete' AND c.scheme = 'crc_2018' "
        f"AND c.audit_date BETWEEN :start AND :end{where} GROUP BY a.key_question",
        {"start": START, "end": END, "office": office})
    return {q: (s, n) for q, s, n in rows}


def test_quality_lead_downloads_the_evidence_pack(page, app):
    web.sign_in(page, "quality.lead")
    web.open_page(page, "Inspection readiness")
    audited = app.value("SELECT COUNT(DISTINCT person_id) FROM case_audit "
                        "WHERE status = 'complete' "
                        "AND scheme = 'crc_2018' AND audit_date BETWEEN ? AND ?", (START, END))
    assert web.metrics(page)["Cases audited"] == f"{audited:,}"
    web.screenshot(page, "readiness")

    page.get_by_role("button", name="Prepare evidence pack (.xlsx and .pdf)").click()
    buttons = page.locator("[data-testid='stDownloadButton']")
    expect(buttons.filter(has_text=".pdf")).to_be_visible()
    web.wait_for_run(page)
    xlsx = web.download(page, re.compile(r"^Download evidence_pack_.*\.xlsx"))
    pdf = web.download(page, re.compile(r"^Download evidence_pack_.*\.pdf"))
    assert re.fullmatch(r"evidence_pack_Region_\d{4}-\d{2}-\d{2}\.xlsx", xlsx.name), xlsx.name
    web.screenshot(page, "readiness_evidence_pack")

    book = openpyxl.load_workbook(xlsx, read_only=True)
    assert {"Summary", "Offices", "Method"} <= set(book.sheetnames), book.sheetnames
    summary = [r[0] for r in book["Summary"].iter_rows(values_only=True) if r[0]]
    assert summary[0] == "Inspection readiness evidence pack: Region"
    assert any("Nov 2025 to Oct 2026" in str(line) for line in summary)
    rows = list(book["Offices"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    assert {"Office", "Lowest key question", "Sufficient", "Cases where it applies"} <= set(col)
    checked = 0
    for row in body:
        if not row[col["Office"]]:
            continue
        expected = kq_counts(app, row[col["Office"]])[row[col["Lowest key question"]]]
        assert (row[col["Sufficient"]], row[col["Cases where it applies"]]) == expected, row
        checked += 1
    assert checked >= 4 * 4  # every office, every case-sample standard
    book.close()

    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(data) > 3_000
    exports = app.rows("SELECT target FROM audit_log WHERE username = 'quality.lead' "
                       "AND action = 'export'")
    assert {(xlsx.name,), (pdf.name,)} <= set(exports)


# --- compare offices, then drill -----------------------------------------------------

def test_compare_offices_and_drill_to_one_office(page, app):
    web.sign_in(page, "chief.exec")
    web.open_page(page, "Compare offices")
    web.wait_for_figures(page, 2)
    funnel = next(f for f in web.figures(page) if "against its denominator" in f["title"])
    points = [y for t in funnel["traces"] for y in t["y"]] if funnel["traces"] else []
    assert points, "the funnel plot has data"
    measure = page.url.split("measure=")[1].split("&")[0]
    assert measure.startswith("kq_")
    kq = measure.removeprefix("kq_")
    region_s, region_n = kq_counts(app)[kq]
    assert f"Regional rate {100 * region_s / region_n:.1f} %" in web.main_text(page)
    table = pd.read_csv(web.download(page, "Download this table (CSV)"))
    assert set(table["office"]) == {"Ashford", "Chatham", "Guildford", "Woking"}
    for row in table.itertuples():
        assert (row.numerator, row.denominator) == kq_counts(app, row.office)[kq], row
    assert list(table["rate"]) == sorted(table["rate"]), "worst rate first"
    web.screenshot(page, "compare_offices")

    control = page.get_by_role("combobox", name="Office for the control chart", exact=True)
    control.click()
    page.get_by_role("option", name="Chatham", exact=True).click()
    page.wait_for_url(re.compile(r"[?&]spc=CHA(&|$)"))
    web.wait_for_run(page)
    expect(page.get_by_role("button", name="Open Chatham's measures")).to_be_visible()
    web.screenshot(page, "compare_control_chart_chatham")

    page.get_by_role("button", name="Cases behind Chatham's figure").click()
    web.wait_for_heading(page, "Cases behind the figures")
    page.wait_for_url(re.compile(r"/cases\?.*office=CHA"))
    web.wait_for_run(page)
    assert web.selected(page, "Office") == "Chatham"
    expect(page.get_by_role("radio", name="Audited cases with a key question judged not "
                            "sufficient", exact=True)).to_be_checked()
    csv = web.download(page, "Download this table (CSV)")
    table = pd.read_csv(csv)
    allowed = {crn for (crn,) in app.rows(
        "SELECT DISTINCT p.crn FROM case_audit c JOIN person_on_probation p "
        "ON p.id = c.person_id JOIN office o ON o.id = p.office_id "
        "JOIN audit_answer a ON a.audit_id = c.id WHERE o.code = 'CHA' "
        "AND c.status = 'complete' AND a.answer = 'not_sufficient' "
        "AND c.audit_date BETWEEN ? AND ?", (START, END))}
    assert len(table) > 0
    assert set(table["office"]) == {"Chatham"}
    assert set(table["crn"]) <= allowed
    web.screenshot(page, "compare_drill_cases_chatham")

    web.open_page(page, "Compare offices")
    web.wait_for_figures(page, 2)
    page.get_by_role("combobox", name="Office for the control chart", exact=True).click()
    page.get_by_role("option", name="Ashford", exact=True).click()  # the area stays Kent
    page.wait_for_url(re.compile(r"[?&]spc=ASH(&|$)"))
    web.wait_for_run(page)
    page.get_by_role("button", name="Open Ashford's measures").click()
    web.wait_for_heading(page, "Overview")
    page.wait_for_url(re.compile(r"office=ASH"))
    web.wait_for_run(page)
    assert web.selected(page, "Office") == "Ashford"
    assert "Ashford · Nov 2025 to Oct 2026" in web.main_text(page)
    web.assert_no_error_shown(page)
    web.screenshot(page, "compare_drill_overview_ashford")
