"""Charts for comparing offices fairly: the funnel plot, small multiples of monthly trends
and the control (SPC) chart. Same palette, fonts and hover conventions as
dashboard/app/charts.py (rates in percent in titles, numerator and denominator in every hover).
Functions return plotly Figures and need no server."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.app import charts
from dashboard.stats.funnel import (
    ABOVE_95,
    ABOVE_998,
    BELOW_95,
    BELOW_998,
    WITHIN,
    limit_columns,
)

GREY = "#999999"
# Okabe-Ito colours plus a distinct marker shape per group, so colour is never the only cue.
WORSE_STRONG, WORSE, BETTER, BETTER_STRONG = "#D55E00", "#E69F00", "#56B4E9", "#0072B2"
GROUP_STYLE = {  # (signal, strong) -> (legend text, colour, symbol, size)
    ("worse", True): ("Worse than expected: outside 99.8 % limit", WORSE_STRONG, "diamond", 14),
    ("worse", False): ("Worse than expected: outside 95 % limit", WORSE, "diamond-open", 13),
    ("as expected", False): ("Within the limits (as expected)", GREY, "circle", 10),
    ("better", False): ("Better than expected: outside 95 % limit", BETTER, "square-open", 12),
    ("better", True): ("Better than expected: outside 99.8 % limit", BETTER_STRONG, "square",
                       12),
    ("higher", True): ("Higher than expected: outside 99.8 % limit", BETTER_STRONG, "square",
                       12),
    ("higher", False): ("Higher than expected: outside 95 % limit", BETTER, "square-open", 12),
    ("lower", False): ("Lower than expected: outside 95 % limit", WORSE, "diamond-open", 13),
    ("lower", True): ("Lower than expected: outside 99.8 % limit", WORSE_STRONG, "diamond", 14),
}
STRONG = {ABOVE_998: True, BELOW_998: True, ABOVE_95: False, BELOW_95: False, WITHIN: False}


def funnel_figure(assessed: pd.DataFrame, curve: pd.DataFrame, theta: float, title: str,
                  value_title: str, denominator_title: str, target: float | None = None,
                  highlight: str | None = None) -> go.Figure:
    """The funnel plot: each office's rate (percent) against its denominator, the benchmark
    line (theta, a proportion) and the 95 % and 99.8 % limits from dashboard.stats.funnel.

    assessed: dashboard.stats.funnel.assess output with columns office, office_code, numerator,
    denominator, rate, position, signal. curve: funnel.funnel_curve output. Offices outside
    the limits are named on the plot. Every office marker carries its office_code as
    customdata[0], so a selection event says which office was clicked. highlight: an
    office_code drawn with a thick outline (the office chosen in the filters).
    """
    fig = go.Figure()
    low95, high95 = limit_columns(0.95)
    low998, high998 = limit_columns(0.998)
    x = curve["denominator"]
    for col, dash, name in ((high998, "solid", "99.8 % limits"), (low998, "solid", None),
                            (high95, "dash", "95 % limits"), (low95, "dash", None)):
        fig.add_scatter(x=x, y=100 * curve[col], mode="lines", name=name or col,
                        showlegend=name is not None, legendgroup=dash,
                        line=dict(color="#555", width=1.2, dash=dash), hoverinfo="skip")
    if not math.isnan(theta):
        fig.add_hline(y=100 * theta, line_color="#000", line_width=1.5,
                      annotation_text=f"region {100 * theta:.1f} %",
                      annotation_position="bottom right")
    if target is not None:
        fig.add_hline(y=target, line_color=charts.PALETTE[2], line_dash="dot",
                      annotation_text=f"target {target:g}", annotation_position="top left")
    points = assessed.dropna(subset=["rate"]).copy()
    points["strong"] = points["position"].map(STRONG).fillna(False)
    for (signal, strong), style in GROUP_STYLE.items():
        part = points[(points["signal"] == signal) & (points["strong"] == strong)]
        if part.empty:
            continue
        label, colour, symbol, size = style
        outside = signal != "as expected"
        widths = [3 if code == highlight else 1 for code in part["office_code"]]
        fig.add_scatter(
            x=part["denominator"], y=100 * part["rate"], name=label,
            mode="markers+text" if outside else "markers",
            text=part["office"] if outside else None, textposition="top center",
            textfont=dict(color=colour if colour != GREY else "#444"),
            marker=dict(color=colour, symbol=symbol, size=size,
                        line=dict(color="#000", width=widths)),
            customdata=[[*row, shown] for row, shown in zip(
                part[["office_code", "office", "numerator", "denominator",
                      "position"]].astype(object).values.tolist(),
                charts.value_texts(100 * part["rate"], target), strict=True)],
            hovertemplate=(f"<b>%{{customdata[1]}}</b><br>{value_title}: %{{customdata[5]}}"
                           "<br>%{customdata[2]:,.1f} of %{customdata[3]:,.1f}"
                           "<br>%{customdata[4]}<extra></extra>"),
        )
    chosen = points[(points["office_code"] == highlight) & (points["signal"] == "as expected")]
    if not chosen.empty:  # offices outside the limits are already named
        row = chosen.iloc[0]
        fig.add_annotation(x=row["denominator"], y=100 * row["rate"], text=row["office"],
                           showarrow=True, arrowhead=2, ax=30, ay=-30)
    fig = charts._layout(fig, title, denominator_title, value_title, height=460)
    fig.update_layout(legend=dict(orientation="v", x=1.01, y=1, yanchor="top"),
                      clickmode="event+select")
    if not points.empty:  # zoom on the offices: the limits at tiny denominators run to 0/100
        near = curve[curve["denominator"] >= 0.5 * points["denominator"].min()]
        values = [*(100 * points["rate"]), 100 * theta, *(100 * near[low998]),
                  *(100 * near[high998]), *([target] if target is not None else [])]
        low, high = min(values), max(values)
        pad = max(1.0, 0.08 * (high - low))
        fig.update_yaxes(range=[max(0.0, low - pad), min(100.0, high + pad) + 0.5])
        fig.update_xaxes(range=[0, 1.05 * points["denominator"].max()])
    return fig


def small_multiples(monthly: pd.DataFrame, region: pd.DataFrame, title: str,
                    value_title: str, columns: int = 4, target: float | None = None
                    ) -> go.Figure:
    """One small panel per office: the office's monthly rate (percent) and, in grey, the
    region's, on a shared y axis so panels compare at a glance.

    monthly: columns office, month, rate (percent), numerator, denominator.
    region: columns month, rate (percent).
    """
    names = sorted(monthly["office"].unique())
    rows = max(1, math.ceil(len(names) / columns))
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=names, shared_yaxes=True,
                        shared_xaxes=True, vertical_spacing=0.5 / rows if rows > 1 else 0.1,
                        horizontal_spacing=0.02)
    for i, name in enumerate(names):
        part = monthly[monthly["office"] == name].sort_values("month")
        r, c = i // columns + 1, i % columns + 1
        fig.add_scatter(x=region["month"], y=region["rate"], mode="lines", name="Region",
                        line=dict(color=GREY, width=1), showlegend=i == 0,
                        legendgroup="region", hoverinfo="skip", row=r, col=c)
        fig.add_scatter(
            x=part["month"], y=part["rate"], mode="lines+markers", name=name,
            showlegend=False, line=dict(color=charts.PALETTE[0], width=1.8),
            marker=dict(size=4), row=r, col=c,
            customdata=[[*row, shown] for row, shown in zip(
                part[["numerator", "denominator"]].values.tolist(),
                charts.value_texts(part["rate"], target), strict=True)],
            hovertemplate=(f"<b>{name}</b> %{{x}}<br>{value_title}: %{{customdata[2]}}"
                           "<br>%{customdata[0]:,.1f} of %{customdata[1]:,.1f}"
                           "<extra></extra>"))
        if target is not None:
            fig.add_hline(y=target, line_dash="dot", line_color=charts.PALETTE[2],
                          line_width=1, row=r, col=c)
    fig.update_xaxes(type="category", showticklabels=False, showgrid=False)
    fig.update_yaxes(gridcolor="#e5e5e5")
    fig.update_layout(title=dict(text=title, x=0, xanchor="left", font=dict(size=16)),
                      height=150 * rows + 110, font=charts.FONT, plot_bgcolor="white",
                      margin=dict(l=10, r=10, t=70, b=10),
                      legend=dict(orientation="h", y=1.02, x=1, xanchor="right",
                                  yanchor="bottom"))
    fig.update_annotations(font_size=12)
    return fig


def spc_figure(chart: pd.DataFrame, title: str, value_title: str,
               target: float | None = None) -> go.Figure:
    """A control chart: monthly rate (percent), centre line, control limits that step with
    each month's denominator, and months breaking a rule marked with a ring and listed in
    the hover. chart: queries.flags.chart_for output (percent columns, 'flag' text)."""
    fig = go.Figure()
    for col, name in (("ucl", "Upper control limit"), ("lcl", "Lower control limit")):
        fig.add_scatter(x=chart["month"], y=chart[col], mode="lines", name=name,
                        line=dict(color="#555", width=1, dash="dash", shape="hvh"),
                        hoverinfo="skip", legendgroup="limits",
                        showlegend=col == "ucl")
    fig.add_scatter(x=chart["month"], y=chart["centre"], mode="lines", name="Centre line",
                    line=dict(color="#000", width=1.5), hoverinfo="skip")
    custom = chart[["numerator", "denominator", "lcl", "ucl", "flag"]].astype(object).assign(
        shown=charts.value_texts(chart["rate"], target))
    fig.add_scatter(
        x=chart["month"], y=chart["rate"], mode="lines+markers", name=value_title,
        line=dict(color=charts.PALETTE[0], width=2), marker=dict(size=7),
        customdata=custom.values.tolist(),
        hovertemplate=(f"%{{x}}<br>{value_title}: %{{customdata[5]}}<br>%{{customdata[0]:,.1f}} of "
                       "%{customdata[1]:,.1f}<br>limits %{customdata[2]:.1f} – "
                       "%{customdata[3]:.1f}<br>%{customdata[4]}<extra></extra>"))
    flagged = chart[chart["flag"] != ""]
    if not flagged.empty:
        fig.add_scatter(x=flagged["month"], y=flagged["rate"], mode="markers",
                        name="Special cause (rule broken)", hoverinfo="skip",
                        marker=dict(size=17, color=WORSE_STRONG, symbol="circle-open",
                                    line=dict(width=3)))
    if target is not None:
        fig.add_hline(y=target, line_dash="dot", line_color=charts.PALETTE[2],
                      annotation_text=f"target {target:g}", annotation_position="top left")
    fig.update_xaxes(type="category", tickangle=-45)
    fig = charts._layout(fig, title, "", value_title, height=400)
    fig.update_layout(legend=dict(orientation="v", x=1.01, y=1, yanchor="top"))
    return fig
