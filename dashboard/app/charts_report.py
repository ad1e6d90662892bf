"""The overview's performance report as a table (with sparklines), the office x measure
heat-map, and the offices' wide table for download. Pure functions (no streamlit): they
shape queries.report's frames for drawing.

Every value goes through queries.report.value_text (dashboard.core.display's rule), and
every status is written as a symbol and a word, never a colour alone.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from dashboard.app.charts import FONT, NOT_DATA
from dashboard.core import display
from dashboard.core.glossary import MEASURES
from dashboard.core.targets import RAG_COLOUR, RAG_LABEL, Target
from dashboard.stats import mdc
from queries.report import KEYS, target_text, value_text

STATUS_ORDER = ["Red", "Amber", "Green", "No data"]  # z of the heat-map's cells
SYMBOL = {s: RAG_LABEL[s].split(" ", 1)[0] for s in STATUS_ORDER}
# measure key -> the page that explains it (the page key of streamlit_app.PAGES)
MEASURE_PAGE = {"vacancy_rate": "staffing", "caseload_per_officer": "staffing",
                "pct_sufficient": "quality", "appointments_kept": "compare",
                **{k: "payback" for k in KEYS if k.startswith("upw_")},
                **{k: "gate" for k in KEYS if k.startswith("ttg_")}}
# On a narrow screen the heat-map keeps a readable width and scrolls sideways inside its
# container (st.container(key="ov_heat_box")) instead of squeezing its cells' text.
PHONE_CSS = """<style>
@media (max-width: 760px) {
  .st-key-ov_heat_box { overflow-x: auto; }
  .st-key-ov_heat_box > [data-testid="stElementContainer"]:has([data-testid="stPlotlyChart"])
    { min-width: 720px; }
}
</style>"""
REPORT_TABLE_COLUMNS = ["Measure", "Latest month", "Period", "Target",
                        "Change on previous period", "Change on last year",
                        "Last 24 months", "Variation", "Assurance", "Area of work"]


def _target(row: pd.Series | dict) -> Target | None:
    if display.is_missing(row["green_from"]):
        return None
    return Target(row["measure"], float(row["green_from"]), float(row["amber_from"]),
                  bool(row["higher_is_better"]))


def change_text(key: str, change: float) -> str:
    """A change as text with its verdict in words: '+1.2 worse', '−0.4 better' (percentage
    points for a %), 'no change', '–' when either period has no figure."""
    if display.is_missing(change):
        return "–"
    if round(change, 1) == 0:
        return "no change"
    text = f"{change:+.1f}".replace("-", "−")
    better = MEASURES[key].higher_is_better
    if better is None:
        return text
    return text + (" better" if (change > 0) == better else " worse")


STATUS_WORD = {"Green": "● on", "Amber": "▲ near", "Red": "■ off", "No data": "○ no data"}


def status_text(value: str, status: str) -> str:
    """A value with its status against target as symbol and word: '55.9 % ▲ near'."""
    return value if status == "No data" and value == "–" else f"{value} {STATUS_WORD[status]}"


def report_table(report: pd.DataFrame) -> pd.DataFrame:
    """The report as drawn (REPORT_TABLE_COLUMNS): text in every column but the
    sparkline (a list of monthly values, NaN for a month without a denominator)."""
    rows = []
    for _, r in report.iterrows():
        target = _target(r)
        key = r["measure"]
        rows.append({
            "Area of work": r["section"], "Measure": MEASURES[key].label,
            "Latest month": status_text(value_text(key, r["latest"], target),
                                        r["latest_status"]),
            "Period": status_text(value_text(key, r["period"], target), r["status"]),
            "Target": target_text(key, r["green_from"], r["higher_is_better"]),
            "Change on previous period": change_text(key, r["change_previous"]),
            "Change on last year": change_text(key, r["change_last_year"]),
            "Last 24 months": [None if math.isnan(v) else round(v, 2) for v in r["series"]],
            "Variation": mdc.VARIATION_LABEL[r["variation"]],
            "Assurance": mdc.ASSURANCE_LABEL[r["assurance"]],
        })
    return pd.DataFrame(rows, columns=REPORT_TABLE_COLUMNS)


def report_download(report: pd.DataFrame) -> pd.DataFrame:
    """The report for CSV: the drawn columns (values and their status in separate
    columns; the sparkline as its monthly values, 'YYYY-MM=value; ...'), the period's
    numerator and denominator, and the sentence."""
    table = report_table(report)
    for column, value, status in (("Latest month", "latest", "latest_status"),
                                  ("Period", "period", "status")):
        table[column] = [value_text(r["measure"], r[value], _target(r))
                         for _, r in report.iterrows()]
        table[column + " status"] = report[status].map(RAG_LABEL)
    table["Last 24 months"] = [
        "; ".join(f"{m}={'' if math.isnan(v) else round(v, 2)}"
                  for m, v in zip(r["months"], r["series"], strict=True))
        for _, r in report.iterrows()]
    return table.assign(Numerator=report["numerator"], Denominator=report["denominator"],
                        **{"Why it needs attention": report["concern"]})


# --- the heat-map ----------------------------------------------------------------------------

def heatmap(grid: pd.DataFrame, title: str) -> go.Figure:
    """Offices (rows, grouped by area) x report measures (columns); colour = RAG against
    each office's own target, with the value and the status symbol in each cell. A
    transparent marker on each cell (meta NOT_DATA) carries customdata [office_code,
    measure] for clicks and the hover text."""
    offices = grid.drop_duplicates("office_code")[["area", "office", "office_code"]]
    offices = offices.sort_values(["area", "office"], ascending=False)  # top row first
    keys = [k for k in KEYS if k in set(grid["measure"])]
    columns = [MEASURES[k].label for k in keys]
    # plain dicts: a .loc lookup per cell took 0.3 s for a whole country's 1,152 cells
    cells = {(row["office_code"], row["measure"]): row for row in grid.to_dict("records")}
    z, text, words = [], [], []
    for code in offices["office_code"]:
        z_row, t_row, w_row = [], [], []
        for key in keys:
            c = cells[(code, key)]
            target = _target({"measure": key, "green_from": c["green_from"],
                              "amber_from": c["amber_from"],
                              "higher_is_better": c["higher_is_better"]})
            value = value_text(key, c["value"], target)
            z_row.append(STATUS_ORDER.index(c["status"]))
            t_row.append(f"{value.replace(' %', '')} {SYMBOL[c['status']]}")
            w_row.append(f"{value}, {RAG_LABEL[c['status']].split(' ', 1)[1]}"
                         + (f"; target {target_text(key, c['green_from'], c['higher_is_better'])}"
                            if target else "")
                         + (f"; {c['numerator']:,.0f} of {c['denominator']:,.0f}"
                            if MEASURES[key].unit == "%" and c["denominator"] > 0 else ""))
        z.append(z_row)
        text.append(t_row)
        words.append(w_row)
    y = [offices["area"].tolist(), offices["office"].tolist()]
    scale = []
    for i, status in enumerate(STATUS_ORDER):
        scale += [[i / 4, RAG_COLOUR[status]], [(i + 1) / 4, RAG_COLOUR[status]]]
    flat = [(i, j) for i in range(len(offices)) for j in range(len(keys))]
    codes = offices["office_code"].tolist()
    # built in one go: plotly validates each add/update call against the whole figure
    return go.Figure(data=[
        dict(type="heatmap", x=columns, y=y, z=z, text=text, hovertext=words,
             texttemplate="%{text}", textfont=dict(color="#000", size=12),
             colorscale=scale, zmin=-0.5, zmax=3.5, showscale=False, xgap=2, ygap=2,
             hoverinfo="skip", name="Office against target"),
        dict(type="scatter", x=[columns[j] for _i, j in flat],
             y=[[y[0][i] for i, _j in flat], [y[1][i] for i, _j in flat]],
             mode="markers", marker=dict(size=28, symbol="square", color="rgba(0,0,0,0)"),
             customdata=[[codes[i], keys[j]] for i, j in flat], meta=NOT_DATA,
             hovertext=[f"<b>{y[1][i]}</b> · {columns[j]}<br>{words[i][j]}"
                        for i, j in flat],
             hovertemplate="%{hovertext}<extra></extra>", showlegend=False, name=""),
    ], layout=dict(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=16)), font=FONT,
        height=max(320, 30 * len(offices) + 170), plot_bgcolor="white",
        margin=dict(l=10, r=10, t=150, b=10), hoverlabel=dict(font_size=13),
        clickmode="event+select", dragmode=False,
        xaxis=dict(side="top", tickangle=-35, showgrid=False),
        yaxis=dict(showgrid=False, autorange=True)))


def office_table(grid: pd.DataFrame) -> pd.DataFrame:
    """The offices' wide table for CSV: Office, Area, per measure its value (as shown)
    and status word, 'Measures off target' and 'Which'; most off target first."""
    rows = []
    for (area, office), cells in grid.groupby(["area", "office"], sort=True):
        row = {"Office": office, "Area": area}
        reds = []
        for _, c in cells.iterrows():
            name = MEASURES[c["measure"]].name
            target = _target(c)
            row[name] = display.shown(c["value"], display.rag_judge(target), 1)
            row[name + " status"] = c["status"]
            if c["status"] == "Red":
                reds.append(name)
        row["Measures off target"] = len(reds)
        row["Which"] = ", ".join(reds) or "none"
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(columns=["Office", "Area", "Measures off target", "Which"])
    return table.sort_values(["Measures off target", "Office"],
                             ascending=[False, True]).reset_index(drop=True)
