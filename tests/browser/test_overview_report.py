"""The overview's performance report in a real browser (issue #14): its figures and icons
against hand-written SQL over the database file, the heat-map drill to an office's
measure page, the area manager's landing view, and screenshots at three widths."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pandas as pd
import pytest

from dashboard.stats import mdc
from tests.browser.helpers import (
    assert_no_error_shown,
    download,
    main_text,
    screenshot,
    sign_in,
    wait_for_figures,
    wait_for_heading,
    wait_for_run,
)

pytestmark = pytest.mark.browser


def monthly_kept(app, office_codes: tuple[str, ...] | None = None) -> dict[str, float]:
    """Appointments kept (%) by month over the 24 months to Oct 2026, from the tables:
    each appointment counts for the office holding the case on its date."""
    where = ""
    if office_codes:
        where = f" AND o.code IN ({','.join('?' * len(office_codes))})"
    rows = app.rows(
        "SELECT strftime('%Y-%m', a.appointment_date), 100.0 * SUM(a.outcome = 'kept') "
        "/ COUNT(*) FROM appointment a JOIN case_allocation p ON p.person_id = a.person_id "
        "AND p.start_date <= a.appointment_date AND (p.end_date IS NULL OR p.end_date >= "
        "a.appointment_date) JOIN office o ON o.id = p.office_id "
        f"WHERE a.appointment_date BETWEEN '2024-11-01' AND '2026-10-31'{where} "
        "GROUP BY 1 ORDER BY 1", tuple(office_codes or ()))
    return dict(rows)


def test_report_rows_and_icons_match_sql(page, app):
    sign_in(page, "chief.exec")
    csv = download(page, "Download the report (CSV)")
    report = pd.read_csv(csv).set_index("Measure")
    assert len(report) == 12
    kept = monthly_kept(app)
    row = report.loc["Appointments kept"]
    assert row["Latest month"] == f"{kept['2026-10']:.1f} %"
    # the 24 monthly values behind the sparkline, and the icons the MDC rules give them
    months = dict(part.split("=") for part in row["Last 24 months"].split("; "))
    assert list(months) == sorted(kept)
    for month, value in months.items():
        assert float(value) == pytest.approx(kept[month], abs=0.006)
    chart = mdc.assess([kept[m] for m in sorted(kept)], True, 90.0)
    assert row["Variation"] == mdc.VARIATION_LABEL[chart.variation]
    assert row["Assurance"] == mdc.ASSURANCE_LABEL[chart.assurance]
    assert row["Target"] == "≥ 90 %"
    needs = [str(s) for s in report["Why it needs attention"] if isinstance(s, str) and s]
    text = main_text(page)
    for sentence in needs:
        assert sentence.split(" over ")[0] in text  # each concern is written on the page
    assert_no_error_shown(page)


def _click_cell(page, office_code: str, measure: str) -> None:
    """Click the heat-map cell of an office and measure (its transparent marker)."""
    box = page.evaluate("""([code, key]) => {
      const g = Array.from(document.querySelectorAll(
        "[data-testid='stPlotlyChart'] .js-plotly-plot"))
        .find(d => (d._fullData || []).some(t => t.type === 'heatmap'));
      const layer = g._fullData.findIndex(t => t.type === 'scatter');
      const i = g._fullData[layer].customdata.findIndex(c => c[0] === code && c[1] === key);
      const point = g.querySelectorAll('.scatterlayer .trace')[0]
        .querySelectorAll('path.point')[i];
      point.scrollIntoView({block: 'center'});
      const r = point.getBoundingClientRect();
      return {x: r.x + r.width / 2, y: r.y + r.height / 2};
    }""", [office_code, measure])
    page.mouse.move(box["x"], box["y"])
    page.mouse.click(box["x"], box["y"])


def test_clicking_a_heatmap_cell_opens_the_office_measure(page, app):
    sign_in(page, "chief.exec", "/?from=2026-01&to=2026-06")
    wait_for_figures(page, 1)
    _click_cell(page, "CHA", "upw_attendance")
    wait_for_heading(page, "Unpaid work (Community Payback)")
    params = dict(parse_qsl(urlsplit(page.url).query))
    assert params.items() >= {"area": "KENT", "office": "CHA", "from": "2026-01",
                              "to": "2026-06"}.items()
    assert "Chatham · Jan 2026 to Jun 2026" in main_text(page)
    screenshot(page, "overview_heatmap_drill_chatham")
    assert_no_error_shown(page)


def test_an_area_manager_lands_on_their_area(page, app):
    sign_in(page, "am.kent")
    assert "Kent · Nov 2025 to Oct 2026" in main_text(page)
    assert dict(parse_qsl(urlsplit(page.url).query)).get("area") == "KENT"
    wait_for_figures(page, 1)
    heat = page.evaluate("""() => Array.from(document.querySelectorAll(
        "[data-testid='stPlotlyChart'] .js-plotly-plot")).map(g => g._fullData)
        .flat().filter(t => t.type === 'heatmap').map(t => Array.from(t.y[0]))""")
    assert set(heat[0]) == {"Kent"}
    assert_no_error_shown(page)


@pytest.mark.parametrize("width", [1366, 1920, 390])
def test_overview_screenshots(page, app, width):
    page.set_viewport_size({"width": width, "height": 2600})
    sign_in(page, "chief.exec")
    wait_for_figures(page, 1)
    wait_for_run(page)
    screenshot(page, f"overview_report_{width}")
    assert_no_error_shown(page)
