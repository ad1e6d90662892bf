"""Charts for comparing offices fairly: the funnel plot, small multiples of monthly trends
and the control (SPC) chart. Same palette, fonts and hover conventions as
dashboard/app/charts.py (rates in percent in titles, numerator and denominator in every hover).
Functions return plotly Figures and need no server."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

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


def count_texts(numerators, denominators) -> list[str]:
    """'7 of 62' for each pair: whole counts without decimals, FTE (vacancy) to one."""
    return [f"{charts.number_text(x)} of {charts.number_text(n)}"
            for x, n in zip(numerators, denominators, strict=True)]


def funnel_figure(assessed: pd.DataFrame, curve: pd.DataFrame, theta: float, title: str,
                  value_title: str, denominator_title: str, target: float | None = None,
                  highlight: str | None = None) -> go.Figure:
    """The funnel plot: each office's rate (percent) against its denominator, the benchmark
    line (theta, a proportion) and the 95 % and 99.8 % limits from dashboard.stats.funnel.

    assessed: dashboard.stats.funnel.assess output with columns office, office_code, numerator,
    denominator, rate, position, signal. curve: funnel.funnel_curve output. Offices outside
    the limits (and the highlighted one) are named on the plot, labels placed so they do
    not overlap; every office is named in its hover. Every office marker carries its
    office_code as customdata[0], so a selection event says which office was clicked.
    highlight: an office_code drawn with a thick outline (the office chosen in the filters).
    """
    traces = []  # the figure is made in one go at the end (see charts._figure)
    low95, high95 = limit_columns(0.95)
    low998, high998 = limit_columns(0.998)
    x = curve["denominator"]
    for col, dash, name in ((high998, "solid", "99.8 % limits"), (low998, "solid", None),
                            (high95, "dash", "95 % limits"), (low95, "dash", None)):
        traces.append(dict(type="scatter", x=x, y=100 * curve[col], mode="lines",
                           name=name or col, showlegend=name is not None, legendgroup=dash,
                           line=dict(color="#555", width=1.2, dash=dash), hoverinfo="skip"))
    shapes, notes = [], []  # drawn in one layout update (add_hline is slow)
    if not math.isnan(theta):
        shapes.append(charts.line_shape(100 * theta, True, dict(color="#000", width=1.5)))
        high = target is None or 100 * theta >= target  # the higher label sits above its line
        notes.append(_line_note(100 * theta, f"region {100 * theta:.1f}", high))
    if target is not None:
        shapes.append(charts.line_shape(target, True, dict(color=charts.PALETTE[2], dash="dot")))
        notes.append(_line_note(target, f"target {target:g}",
                                math.isnan(theta) or target > 100 * theta))
    points = assessed.dropna(subset=["rate"]).copy()
    points["strong"] = points["position"].map(STRONG).fillna(False)
    for (signal, strong), style in GROUP_STYLE.items():
        part = points[(points["signal"] == signal) & (points["strong"] == strong)]
        if part.empty:
            continue
        label, colour, symbol, size = style
        widths = [3 if code == highlight else 1 for code in part["office_code"]]
        traces.append(dict(
            type="scatter", x=part["denominator"], y=100 * part["rate"], name=label,
            mode="markers",
            marker=dict(color=colour, symbol=symbol, size=size,
                        line=dict(color="#000", width=widths)),
            customdata=[[*row, shown, count] for row, shown, count in zip(
                part[["office_code", "office", "numerator", "denominator",
                      "position"]].astype(object).values.tolist(),
                charts.value_texts(100 * part["rate"], target),
                count_texts(part["numerator"], part["denominator"]), strict=True)],
            hovertemplate=(f"<b>%{{customdata[1]}}</b><br>{value_title}: %{{customdata[5]}}"
                           "<br>%{customdata[6]}<br>%{customdata[4]}<extra></extra>"),
        ))
    layout = dict(legend=dict(orientation="h", x=0, y=-0.24, yanchor="top"),
                  margin=dict(b=120, r=80), clickmode="event+select", shapes=shapes,
                  annotations=notes)
    if points.empty:
        return charts._figure(traces, title, denominator_title, value_title, height=540,
                              layout=layout)
    # zoom on the offices: the limits at tiny denominators run to 0/100
    near = curve[curve["denominator"] >= 0.5 * points["denominator"].min()]
    values = [*(100 * points["rate"]), 100 * theta, *(100 * near[low998]),
              *(100 * near[high998]), *([target] if target is not None else [])]
    low, high = min(values), max(values)
    pad = max(1.0, 0.08 * (high - low))
    y_range = [max(0.0, low - pad), min(100.0, high + pad) + 0.5]
    # from half the smallest office's denominator: the limits below it run to 0/100 and
    # would squeeze the offices into a corner
    x_range = [0.5 * points["denominator"].min(), 1.05 * points["denominator"].max()]
    named = points[(points["signal"] != "as expected") | (points["office_code"] == highlight)]
    notes += [dict(x=px, y=100 * py, text=name, showarrow=True, arrowhead=0, arrowwidth=1,
                   arrowcolor="#666", ax=ax, ay=ay, font=dict(size=12, color="#222"),
                   bgcolor="rgba(255,255,255,0.8)")
              for (px, py, name), (ax, ay) in zip(
                  named[["denominator", "rate", "office"]].itertuples(index=False, name=None),
                  label_offsets(named, x_range, y_range), strict=True)]
    layout.update(annotations=notes, xaxis=dict(range=x_range), yaxis=dict(range=y_range))
    return charts._figure(traces, title, denominator_title, value_title, height=540,
                          layout=layout)


def _line_note(y: float, text: str, above: bool = True) -> dict:
    """The label of a horizontal line in the right margin (clear of the offices' labels),
    just above or below the line (so two close lines' labels do not overlap)."""
    return dict(xref="paper", x=1, xanchor="left", yref="y", y=y,
                yanchor="bottom" if above else "top", text=text, showarrow=False,
                font=dict(size=11))


PLOT_PX = (340, 250)  # about the funnel's plotting area at 1366 px, for placing labels
CHAR_PX, LINE_PX = 7.0, 16.0


def label_offsets(named: pd.DataFrame, x_range: list[float], y_range: list[float]
                  ) -> list[tuple[float, float]]:
    """(ax, ay) pixel offsets of each named office's label from its point, chosen greedily
    (top office first) among a ring of positions so that no two labels overlap, nor a label
    its own or an earlier point, on a plotting area of about PLOT_PX. named: columns
    office, denominator, rate (proportion); the order is kept."""
    width, height = PLOT_PX
    xs = [(d - x_range[0]) / max(x_range[1] - x_range[0], 1e-9) * width
          for d in named["denominator"]]
    ys = [(y_range[1] - 100 * r) / max(y_range[1] - y_range[0], 1e-9) * height
          for r in named["rate"]]
    ring = [(0, -28), (0, 28), (60, -20), (-60, -20), (60, 20), (-60, 20), (0, -52),
            (0, 52), (90, -40), (-90, -40), (90, 40), (-90, 40), (0, -76), (0, 76)]
    placed: list[tuple[float, float, float, float]] = []
    out: dict[int, tuple[float, float]] = {}
    for i in sorted(range(len(xs)), key=lambda k: ys[k]):
        half = CHAR_PX * len(str(named["office"].iloc[i])) / 2 + 4
        best = ring[0]
        for ax, ay in ring:
            cx, cy = xs[i] + ax, ys[i] + ay
            box = (cx - half, cy - LINE_PX / 2, cx + half, cy + LINE_PX / 2)
            inside = 0 <= box[0] and box[2] <= width and box[1] >= -10
            clear = not any(_overlap(box, other) for other in placed) and not any(
                box[0] - 6 <= x <= box[2] + 6 and box[1] - 6 <= y <= box[3] + 6
                for x, y in zip(xs, ys, strict=True))
            if inside and clear:
                best = (ax, ay)
                break
        cx, cy = xs[i] + best[0], ys[i] + best[1]
        placed.append((cx - half, cy - LINE_PX / 2, cx + half, cy + LINE_PX / 2))
        out[i] = best
    return [out[i] for i in range(len(xs))]


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def small_multiples(monthly: pd.DataFrame, region: pd.DataFrame, title: str,
                    value_title: str, columns: int = 4, target: float | None = None
                    ) -> go.Figure:
    """One small panel per office: the office's monthly rate (percent) and, in grey, the
    region's, all panels on one y scale (the same range everywhere) so any two offices
    compare at a glance. Built as plain dicts (plotly's subplot helpers take seconds for
    twenty panels).

    monthly: columns office, month, rate (percent), numerator, denominator.
    region: columns month, rate (percent).
    """
    names = sorted(monthly["office"].unique())
    rows = max(1, math.ceil(len(names) / columns))
    values = [*monthly["rate"].dropna(), *region["rate"].dropna(),
              *([target] if target is not None else [])]
    low, high = (min(values), max(values)) if values else (0.0, 100.0)
    pad = max(1.0, 0.06 * (high - low))
    y_range = [max(0.0, low - pad), min(101.0, high + pad)]
    gap_x, gap_y = 0.02, 0.32 / rows if rows > 1 else 0.0
    cell_w, cell_h = (1 - gap_x * (columns - 1)) / columns, (1 - gap_y * (rows - 1)) / rows
    layout: dict = {"annotations": [], "shapes": []}
    data = []
    months = sorted(set(region["month"]) | set(monthly["month"]))
    by_office = dict(tuple(monthly.sort_values("month").groupby("office", sort=False)))
    region_x, region_y = region["month"].tolist(), region["rate"].tolist()
    for i, name in enumerate(names):
        r, c = divmod(i, columns)
        n = "" if i == 0 else str(i + 1)
        x0, y1 = c * (cell_w + gap_x), 1 - r * (cell_h + gap_y)
        layout[f"xaxis{n}"] = dict(domain=[max(0.0, x0), min(1.0, x0 + cell_w)], anchor=f"y{n}",
                                   type="category",
                                   categoryorder="array", categoryarray=months,
                                   showticklabels=False, showgrid=False,
                                   **({"matches": "x"} if i else {}))
        # clamped: with many rows, float error can put an edge a hair outside 0..1
        layout[f"yaxis{n}"] = dict(domain=[max(0.0, y1 - cell_h), min(1.0, y1)], anchor=f"x{n}",
                                   range=y_range,
                                   showticklabels=c == 0, gridcolor="#e5e5e5",
                                   **({"matches": "y"} if i else {}))
        layout["annotations"].append(dict(
            text=name, x=x0 + cell_w / 2, y=y1, xref="paper", yref="paper", showarrow=False,
            xanchor="center", yanchor="bottom", font=dict(size=12)))
        part = by_office[name]
        data.append(dict(type="scatter", x=region_x, y=region_y,
                         mode="lines", name="Region", line=dict(color=GREY, width=1),
                         showlegend=i == 0, legendgroup="region", hoverinfo="skip",
                         xaxis=f"x{n}", yaxis=f"y{n}"))
        data.append(dict(
            type="scatter", x=part["month"].tolist(), y=part["rate"].tolist(), mode="lines+markers",
            name=name, showlegend=False, line=dict(color=charts.PALETTE[0], width=1.8),
            marker=dict(size=4), xaxis=f"x{n}", yaxis=f"y{n}",
            customdata=[[shown, count] for shown, count in zip(
                charts.value_texts(part["rate"], target),
                count_texts(part["numerator"], part["denominator"]), strict=True)],
            hovertemplate=(f"<b>{name}</b> %{{x}}<br>{value_title}: %{{customdata[0]}}"
                           "<br>%{customdata[1]}<extra></extra>")))
        if target is not None:
            layout["shapes"].append(dict(
                type="line", xref=f"x{n} domain", x0=0, x1=1, yref=f"y{n}", y0=target,
                y1=target, line=dict(color=charts.PALETTE[2], width=1, dash="dot")))
    layout.update(title=dict(text=title, x=0, xanchor="left", font=dict(size=16)),
                  height=150 * rows + 110, font=charts.FONT, plot_bgcolor="white",
                  margin=dict(l=10, r=10, t=70, b=10),
                  legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"))
    # Not validated: every value here is a plain list, number or string, and validating
    # 96 panels' traces and axes took 0.7 s (issue 16). Tests draw it in a browser.
    return go.Figure(data=data, layout=layout, _validate=False)


def spc_figure(chart: pd.DataFrame, title: str, value_title: str,
               target: float | None = None) -> go.Figure:
    """A control chart: monthly rate (percent), centre line, control limits that step with
    each month's denominator, and months breaking a rule marked with a ring and listed in
    the hover. chart: queries.flags.chart_for output (percent columns, 'flag' text)."""
    traces = [dict(type="scatter", x=chart["month"], y=chart[col], mode="lines", name=name,
                   line=dict(color="#555", width=1, dash="dash", shape="hvh"),
                   hoverinfo="skip", legendgroup="limits", showlegend=col == "ucl")
              for col, name in (("ucl", "Upper control limit"), ("lcl", "Lower control limit"))]
    traces.append(dict(type="scatter", x=chart["month"], y=chart["centre"], mode="lines",
                       name="Centre line", line=dict(color="#000", width=1.5),
                       hoverinfo="skip"))
    custom = chart[["numerator", "denominator", "lcl", "ucl", "flag"]].astype(object).assign(
        shown=charts.value_texts(chart["rate"], target),
        count=count_texts(chart["numerator"], chart["denominator"]))
    traces.append(dict(
        type="scatter", x=chart["month"], y=chart["rate"], mode="lines+markers",
        name=value_title, line=dict(color=charts.PALETTE[0], width=2), marker=dict(size=7),
        customdata=custom.values.tolist(),
        hovertemplate=(f"%{{x}}<br>{value_title}: %{{customdata[5]}}<br>%{{customdata[6]}}"
                       "<br>limits %{customdata[2]:.1f} – "
                       "%{customdata[3]:.1f}<br>%{customdata[4]}<extra></extra>")))
    flagged = chart[chart["flag"] != ""]
    if not flagged.empty:
        traces.append(dict(type="scatter", x=flagged["month"], y=flagged["rate"],
                           mode="markers", name="Special cause (rule broken)",
                           hoverinfo="skip",
                           marker=dict(size=17, color=WORSE_STRONG, symbol="circle-open",
                                       line=dict(width=3))))
    layout = dict(xaxis=dict(type="category", tickangle=-45),
                  legend=dict(orientation="h", x=0, y=-0.3, yanchor="top"),
                  margin=dict(b=100, r=80))
    if target is not None:
        layout.update(shapes=[charts.line_shape(target, True,
                                                dict(color=charts.PALETTE[2], dash="dot"))],
                      annotations=[_line_note(target, f"target {target:g}")])
    return charts._figure(traces, title, "", value_title, height=420, layout=layout)
