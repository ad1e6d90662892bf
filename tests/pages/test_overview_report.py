"""The overview as an integrated performance report (issue #14): AppTest at the default
view, at one small office in a quiet month, the area manager's landing, and the heat-map
drill to an office's measure page."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sqlalchemy import create_engine

from dashboard.stats import mdc
from queries import report
from tests.pages.apphelp import open_app, sql_scalar


def _report(at) -> pd.DataFrame:
    return at.dataframe[0].value


def _heatmap(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_default_view_is_the_report_for_the_region(demo_sqlite_url):
    at = open_app(demo_sqlite_url)
    assert not at.exception
    assert at.title[0].value == "Overview"
    table = _report(at)
    assert len(table) == len(report.REPORT_MEASURES)
    assert list(table["Area of work"].drop_duplicates()) == [
        "Staffing", "Case quality", "Unpaid work", "Through the Gate", "Supervision"]
    # target as text, status and icons in words beside their symbols
    assert table["Target"].str.match(r"^[≥≤] \d").all()
    assert table["Period"].str.contains(r"[●▲■○] (?:on|near|off|no data)$").all()
    words = set(mdc.VARIATION_LABEL.values())
    assert set(table["Variation"]) <= words
    assert set(table["Assurance"]) <= set(mdc.ASSURANCE_LABEL.values())
    assert all(len(v) == report.SERIES_MONTHS for v in table["Last 24 months"])
    changes = pd.concat([table["Change on previous period"], table["Change on last year"]])
    assert changes.str.contains(r" (?:better|worse)$|^no change$|^–$").all()
    assert at.subheader[0].value.startswith("How Region is doing: Nov 2025 to Oct 2026")
    # the heat-map: every office by every measure, one cell each
    spec = _heatmap(at)
    cells = next(t for t in spec["data"] if t["type"] == "heatmap")
    offices = sql_scalar(demo_sqlite_url, "SELECT COUNT(*) FROM office")
    assert len(cells["z"]) == offices and len(cells["z"][0]) == len(report.KEYS)
    assert any(c.value.replace("\\", "").startswith("Chart: Each office against")
               for c in at.caption)
    labels = [b.label for b in at.get("download_button")]
    assert "Download the report (CSV)" in labels
    assert "Download the offices table (CSV)" in labels


def test_the_report_figures_match_raw_rows(demo_sqlite_url):
    """Appointments kept: period, latest month and last year from the appointment rows
    (every office), written as the page writes them."""
    at = open_app(demo_sqlite_url)
    row = _report(at).set_index("Measure").loc["Appointments kept"]
    eng = create_engine(demo_sqlite_url)
    appts = pd.read_sql_table("appointment", eng, parse_dates=["appointment_date"])
    eng.dispose()

    def kept(first, last):
        a = appts[(appts["appointment_date"] >= first) & (appts["appointment_date"] <= last)]
        return 100 * (a["outcome"] == "kept").mean()

    period = kept("2025-11-01", "2026-10-31")
    assert row["Latest month"].startswith(f"{kept('2026-10-01', '2026-10-31'):.1f} % ")
    assert row["Period"].startswith(f"{period:.1f} % ")
    change = period - kept("2024-11-01", "2025-10-31")
    assert row["Change on last year"] == f"{change:+.1f} ".replace("-", "−") + (
        "better" if change > 0 else "worse")


def test_one_small_office_in_a_quiet_month(demo_sqlite_url):
    smallest = sql_scalar(demo_sqlite_url, """
        SELECT o.code FROM office o ORDER BY (SELECT COUNT(*) FROM case_allocation c
                                              WHERE c.office_id = o.id), o.code LIMIT 1""")
    at = open_app(demo_sqlite_url, params={"office": smallest, "from": "2026-08",
                                           "to": "2026-08"})
    assert not at.exception
    assert at.query_params["office"] in ([smallest], smallest)
    table = _report(at)
    assert len(table) == len(report.REPORT_MEASURES)
    spec = _heatmap(at)
    cells = next(t for t in spec["data"] if t["type"] == "heatmap")
    assert len(cells["z"]) == 1  # the office alone
    # the sentences and icons are words, and empty figures are a dash, never 'nan'
    shown = " ".join(table.drop(columns="Last 24 months").astype(str).stack())
    assert "nan" not in shown.lower() and "None" not in shown
    assert at.subheader[0].value.startswith("How ")


def test_an_area_manager_lands_on_their_area(demo_sqlite_url):
    at = open_app(demo_sqlite_url, user="am.kent")
    assert not at.exception
    assert any(c.value.startswith("**Kent**") for c in at.caption)
    assert at.query_params["area"] in (["KENT"], "KENT")
    spec = _heatmap(at)
    cells = next(t for t in spec["data"] if t["type"] == "heatmap")
    assert set(cells["y"][0]) == {"Kent"}


def test_the_link_still_wins_for_an_area_manager(demo_sqlite_url):
    at = open_app(demo_sqlite_url, user="am.kent", params={"area": "SURREY"})
    assert any(c.value.startswith("**Surrey**") for c in at.caption)
    region = open_app(demo_sqlite_url, user="am.kent", params={"area": "ALL"})
    assert not region.exception
    assert any(c.value.startswith("**Region**") for c in region.caption)
    assert region.query_params["area"] in (["ALL"], "ALL")  # a link back to the region
    assert not any("Link filter not used" in w.value for w in region.warning)


def test_a_period_only_link_keeps_the_home_area_and_a_deep_link_its_view(demo_sqlite_url):
    at = open_app(demo_sqlite_url, user="am.kent", params={"from": "2026-01", "to": "2026-06"})
    assert any(c.value.startswith("**Kent** · Jan 2026 to Jun 2026") for c in at.caption)
    # a link to a view (here the compare page's chart of a Surrey office) is not narrowed
    deep = open_app(demo_sqlite_url, user="am.kent",
                    params={"measure": "appointments_kept", "spc": "GUI"})
    assert any(c.value.startswith("**Region**") for c in deep.caption)


def test_the_chief_executive_still_lands_on_the_region(demo_sqlite_url):
    at = open_app(demo_sqlite_url)
    assert any(c.value.startswith("**Region**") for c in at.caption)
    assert "area" not in at.query_params


@pytest.mark.parametrize(("measure", "title"), [("upw_attendance", "Unpaid work"),
                                                ("vacancy_rate", "Staffing gaps")])
def test_clicking_a_heatmap_cell_opens_the_office_measure(demo_sqlite_url, measure, title):
    at = open_app(demo_sqlite_url, params={"from": "2026-01", "to": "2026-06"})
    spec = _heatmap(at)
    layer = next(t for t in spec["data"] if t["type"] == "scatter")
    index = next(i for i, c in enumerate(layer["customdata"])
                 if c == ["CHA", measure])
    at.session_state["ov_heat"] = {"selection": {
        "points": [{"customdata": ["CHA", measure], "curve_number": 1, "point_number": index,
                    "point_index": index}], "point_indices": [index], "box": [],
        "lasso": []}}
    at.run()
    assert not at.exception
    assert at.title[0].value.startswith(title)
    assert any(c.value.startswith("**Chatham**") for c in at.caption)
    assert at.query_params["office"] in (["CHA"], "CHA")
    assert at.query_params["from"] in (["2026-01"], "2026-01")


def test_office_flags_are_one_toggle_away(demo_sqlite_url):
    """Each office's p-chart flags cost seconds on the region demo, so the report comes
    first and the flags on request."""
    at = open_app(demo_sqlite_url)
    assert at.subheader[-1].value.startswith("Special-cause flags in Oct 2026")
    assert not any("No office shows special-cause" in s.value for s in at.success)
    at.toggle(key="ov_flags").set_value(True).run()
    assert not at.exception
    shown = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert shown or any("No office shows special-cause" in s.value for s in at.success)
