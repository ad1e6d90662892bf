"""Issue 15 items 2 and 3: every chart has a text alternative (caption with its key
figures, the data as a table) and status is never a colour or a glyph alone."""

from __future__ import annotations

import ast

import pandas as pd

from dashboard.app import charts, ui
from dashboard.core.config import PROJECT_ROOT
from tests.pages.apphelp import open_app

OFFICES = pd.DataFrame({
    "office": ["Ashford", "Chatham", "Guildford"], "area": ["Kent", "Kent", "Surrey"],
    "rate": [12.5, 30.0, 4.25]})
MONTHLY = pd.DataFrame({"month": ["2026-08", "2026-09", "2026-10"], "hours": [310, 420, 365]})


def test_bar_chart_table_holds_every_bar_and_the_caption_its_extremes():
    fig = charts.bar_by_unit(OFFICES, "office", "rate", "Vacancy rate by office", "Vacancy %")
    table = charts.chart_table(fig)
    got = dict(zip(table["Category"], table["Value"], strict=True))
    assert got == dict(zip(OFFICES["office"], OFFICES["rate"], strict=True))
    assert set(table["Series"]) == {"Kent", "Surrey"}  # one trace per area
    text = charts.chart_summary(fig, table)
    assert text.startswith("Chart: Vacancy rate by office.")
    assert "Kent: highest Chatham 30, lowest Ashford 12.5" in text
    assert "Surrey: highest Guildford 4.2" in text or "Surrey: highest Guildford 4.3" in text


def test_trend_caption_gives_the_latest_month_in_words():
    fig = charts.trend(MONTHLY, "hours", "Hours worked by month", "Hours")
    table = charts.chart_table(fig)
    assert table["Category"].tolist() == ["Aug 2026", "Sep 2026", "Oct 2026"]
    text = charts.chart_summary(fig, table)
    assert "latest Oct 2026 365" in text
    assert "highest Sep 2026 420" in text and "lowest Aug 2026 310" in text


def test_an_empty_chart_says_so():
    fig = charts.trend(MONTHLY.iloc[:0], "hours", "Hours worked by month", "Hours")
    assert charts.chart_summary(fig).endswith("No data to draw.")


def test_no_page_draws_a_chart_without_its_text_alternative():
    """Every chart goes through ui.chart: no page calls plotly_chart (or another chart
    element) itself."""
    direct = []
    for path in sorted((PROJECT_ROOT / "pages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in (
                    "plotly_chart", "altair_chart", "vega_lite_chart", "pyplot", "line_chart",
                    "bar_chart", "area_chart", "scatter_chart"):
                direct.append(f"{path.name}:{node.lineno}")
    assert not direct, direct


def test_every_chart_on_the_staffing_page_has_a_caption_and_a_table(demo_sqlite_url):
    at = open_app(demo_sqlite_url, page="pages/staffing.py")
    assert not at.exception
    drawn = at.get("plotly_chart")
    assert len(drawn) == 4
    # captions are plain(): markdown punctuation escaped ("Chart\\: ..."), drawn as typed
    captions = [c.value for c in at.caption if c.value.replace("\\", "").startswith("Chart: ")]
    assert len(captions) == len(drawn)
    assert len(at.table) == len(drawn)
    shown = [e for e in at.expander if e.label == "Show this chart as a table"]
    assert len(shown) == len(drawn)


def test_yes_no_replaces_tick_boxes_with_words():
    df = pd.DataFrame({"name": ["a", "b"], "has_password": [True, False], "n": [1, 2]})
    out = ui.yes_no(df)
    assert out["has_password"].tolist() == ["✓ Yes", "✗ No"]
    assert out["n"].tolist() == [1, 2] and df["has_password"].dtype == bool  # copy


def test_report_change_says_better_or_worse_in_words(demo_sqlite_url):
    """The overview's report (#14) writes each change with its verdict in words."""
    at = open_app(demo_sqlite_url, page="pages/overview.py")
    assert not at.exception
    table = at.dataframe[0].value.set_index("Measure")
    for column in ("Change on previous period", "Change on last year"):
        for measure, change in table[column].items():
            if change in ("no change", "–"):
                continue
            assert change.endswith(" better") or change.endswith(" worse"), (measure, change)
    vacancy = table.loc["Vacancy rate", "Change on previous period"]
    if vacancy not in ("no change", "–"):  # lower is better
        assert vacancy.endswith(" better") == vacancy.startswith("−")


def test_metric_change_says_better_or_worse_in_words():
    """A card colours the change; the delta text carries the same verdict. No page passes
    a previous period to ui.measure_card since the overview's cards became its report
    (#14), so the card is drawn into a stand-in container here."""
    drawn = {}

    class Container:
        def metric(self, label, value, delta=None, **_kwargs):
            drawn[label] = delta

        def caption(self, _text):
            pass

    for key, now, before in (("vacancy_rate", 12.0, 14.5), ("appointments_kept", 80.0, 85.0),
                             ("hours_outstanding", 1200.0, 1000.0)):
        ui.measure_card(Container(), key, pd.Series({key: now}), pd.Series({key: before}),
                        None)
    assert drawn["Vacancy rate"] == "-2.5 pts (better)"  # lower is better
    assert drawn["Appointments kept"] == "-5.0 pts (worse)"
    assert drawn["Hours outstanding (hours)"] == "+200 hours (worse)"


def test_chart_values_as_text():
    assert [charts.number_text(v) for v in (3.0, 12.25, 1234.56, float("nan"), "x")] == [
        "3", "12.2", "1,234.6", "–", "x"]
