"""Every chart comes from here: one colour-blind-safe palette, axis titles with units,
hover text with the denominator. Functions return plotly Figures and need no server."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.core import display

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000"]
AREA_COLOURS = {"Kent": "#0072B2", "Surrey": "#E69F00", "Sussex": "#009E73"}
FONT = dict(family="Source Sans Pro, Arial, sans-serif", size=13)


def _base_layout(title: str, x_title: str, y_title: str, height: int = 380) -> dict:
    """The shared look: title top left, axis titles with units, light grid, palette."""
    return dict(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=16)),
        height=height, font=FONT,
        margin=dict(l=10, r=10, t=60, b=10), legend=dict(orientation="h", y=-0.25),
        hoverlabel=dict(font_size=13), plot_bgcolor="white",
        colorway=PALETTE,
        xaxis=dict(title=dict(text=x_title), showgrid=False, linecolor="#444"),
        yaxis=dict(title=dict(text=y_title), gridcolor="#e5e5e5", zeroline=True,
                   zerolinecolor="#999"),
    )


def _merged(base: dict, extra: dict) -> dict:
    """base updated by extra, nested dicts merged (as plotly's update_layout does)."""
    out = dict(base)
    for key, value in extra.items():
        out[key] = (_merged(out[key], value) if isinstance(value, dict)
                    and isinstance(out.get(key), dict) else value)
    return out


def _plain(value):
    """Arrays (pandas, numpy) as lists, inside dicts and lists too: what an unvalidated
    figure may hold."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, pd.Series | pd.Index | np.ndarray):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _figure(traces: list[dict], title: str, x_title: str, y_title: str,
            height: int = 380, layout: dict | None = None) -> go.Figure:
    """A figure made in one go from trace and layout dicts, not validated. Plotly
    validates every add_bar/update_layout call against the whole figure (~20 ms each),
    and even one validated construction took 40-90 ms for a country's offices (issue 16).
    Everything here is plain lists, numbers, strings and the dicts above; the chart tests
    read the figures back and the browser tests draw them."""
    return go.Figure(data=[_plain(t) for t in traces],
                     layout=_merged(_base_layout(title, x_title, y_title, height),
                                    _plain(layout or {})), _validate=False)


def _hover(df: pd.DataFrame, hover: dict[str, str]) -> tuple[list, str]:
    """customdata and a hovertemplate fragment for hover columns (column -> label);
    missing values show as "–". Plain Python: the pandas astype/where/values route cost
    ~4 ms a trace."""
    cols = list(hover)
    lines = "<br>".join(f"{label}: %{{customdata[{i}]}}" for i, label in enumerate(hover.values()))
    if not cols:
        return [], lines
    columns = [df[c].tolist() for c in cols]
    custom = [["–" if pd.isna(v) else v for v in row] for row in zip(*columns, strict=True)]
    return custom, lines


def _judged_values(part: pd.DataFrame, value: str, value_format: str,
                   target: float | None, custom: list, axis: str,
                   judge: display.Judge | None = None) -> tuple[list, str]:
    """customdata and the value placeholder for a trace's hover. Against a target line
    (or a judge such as rating bands) the value is written by dashboard.core.display, never
    rounded onto or across the line; otherwise Plotly formats it with value_format."""
    if target is None and judge is None:
        return custom, f"%{{{axis}:{value_format}}}"
    digits = value_format.rsplit(".", 1)[-1].rstrip("f")
    base = int(digits) if digits.isdigit() else 1
    texts = value_texts(part[value], target, base, judge)
    k = len(custom[0]) if custom else 0
    custom = [[*row, t] for row, t in zip(custom, texts, strict=True)] if custom else [
        [t] for t in texts]
    return custom, f"%{{customdata[{k}]}}"


def value_texts(values: Sequence[float], target: float | None, base: int = 1,
                judge: display.Judge | None = None) -> list[str]:
    """Hover text for values drawn against a target line (or judged by `judge`, e.g.
    rating bands): dashboard.core.display's rule (one decimal, more where one would round a
    value onto or across the line or into another band)."""
    judge = judge or display.line_judge(target)
    return [display.text(v, judge, base) for v in values]


def month_label(month: str) -> str:
    """'2025-11' -> 'Nov 2025'; other labels (quarters, sample names) unchanged."""
    text = str(month)
    if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdigit():
        return text
    names = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    return f"{names[int(text[5:]) - 1]} {text[:4]}"


def _unit_suffix(value_title: str) -> str:
    return " %" if "%" in value_title else ""


def _target_marks(target: float | None, value_title: str, across: bool
                  ) -> tuple[list[dict], list[dict]]:
    """The dashed target line, labelled with its unit, across the plot (a trend's y) or up
    it (a bar chart's x), as layout shapes and annotations. Nothing without a target."""
    if target is None:
        return [], []
    return reference_marks([target], across, dict(dash="dash", color="#000"),
                           [f"target {target:g}{_unit_suffix(value_title)}"])


def line_shape(value: float, across: bool, line: dict) -> dict:
    """A layout shape: a line across the plot at y = value (across) or up it at x = value."""
    if across:
        return dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=value, y1=value,
                    line=line)
    return dict(type="line", yref="y domain", y0=0, y1=1, xref="x", x0=value, x1=value,
                line=line)


def reference_marks(values: Sequence[float], across: bool, line: dict,
                    texts: Sequence[str] = ()) -> tuple[list[dict], list[dict]]:
    """Lines across the plot at y = each value (across) or up it at x = each value, with
    an optional label each (top left of a line across, top of a line up): layout shapes
    and annotations (plotly's add_hline/add_vline take ~18 ms a line)."""
    shapes, notes = [], []
    for i, value in enumerate(values):
        shapes.append(line_shape(value, across, line))
        if i < len(texts) and texts[i]:
            notes.append(dict(xref="x domain", x=0, yref="y", y=value, xanchor="left",
                              yanchor="bottom", text=texts[i], showarrow=False) if across
                         else dict(xref="x", x=value, yref="y domain", y=1,
                                   xanchor="center", yanchor="bottom", text=texts[i],
                                   showarrow=False))
    return shapes, notes


def colour_for(name: str, i: int) -> str:
    return AREA_COLOURS.get(name, PALETTE[i % len(PALETTE)])


def bar_by_unit(df: pd.DataFrame, unit: str, value: str, title: str, value_title: str,
                hover: dict[str, str] | None = None, colour_by: str | None = "area",
                target: float | None = None, interval: tuple[str, str] | None = None,
                value_format: str = ".1f", judge: display.Judge | None = None,
                edges: Sequence[float] = ()) -> go.Figure:
    """Horizontal bars, one per office (or area), sorted by value, coloured by area.

    hover maps extra columns to labels (the numerator and denominator); interval names
    the low/high columns drawn as error bars; target draws a dashed reference line; judge
    (e.g. display.rating_judge) keeps hover values from rounding into another band; edges
    draws dotted lines at those values (e.g. the rating bands' lower bounds).
    """
    df = df.sort_values(value, na_position="first")
    traces = []
    groups = df.groupby(colour_by, sort=True) if colour_by else [("", df)]
    for i, (name, part) in enumerate(groups):
        custom, lines = _hover(part, hover or {})
        custom, shown = _judged_values(part, value, value_format, target, custom, "x", judge)
        trace = dict(
            type="bar", y=part[unit], x=part[value], orientation="h",
            name=str(name) or value_title, marker=dict(color=colour_for(str(name), i)),
            customdata=custom,
            hovertemplate=f"<b>%{{y}}</b><br>{value_title}: {shown}"
                          f"<br>{lines}<extra></extra>",
        )
        if interval:
            trace["error_x"] = dict(type="data", symmetric=False, color="#444", thickness=1.2,
                                    array=(part[interval[1]] - part[value]).tolist(),
                                    arrayminus=(part[value] - part[interval[0]]).tolist())
        traces.append(trace)
    shapes, notes = _target_marks(target, value_title, across=False)
    shapes += reference_marks(edges, False, dict(dash="dot", color="#777"))[0]
    height = max(320, 26 * len(df) + 120)
    return _figure(traces, title, value_title, "", height=height, layout=dict(
        yaxis=dict(categoryorder="array", categoryarray=df[unit].tolist()),
        shapes=shapes, annotations=notes))


def trend(df: pd.DataFrame, value: str, title: str, value_title: str,
          series: str | None = None, hover: dict[str, str] | None = None,
          target: float | None = None, value_format: str = ".1f",
          max_series: int = 12, judge: display.Judge | None = None) -> go.Figure:
    """Monthly lines (x = 'month' as YYYY-MM), one per series value (e.g. area); judge as
    in bar_by_unit."""
    traces = []
    names = list(dict.fromkeys(df[series])) if series else [value_title]
    for i, name in enumerate(names[:max_series]):
        part = df[df[series] == name] if series else df
        custom, lines = _hover(part, hover or {})
        custom, shown = _judged_values(part, value, value_format, target, custom, "y", judge)
        traces.append(dict(
            type="scatter", x=part["month"], y=part[value], mode="lines+markers",
            name=str(name), line=dict(color=colour_for(str(name), i), width=2),
            customdata=custom,
            hovertemplate=f"<b>{name}</b> %{{x}}<br>{value_title}: {shown}"
                          f"<br>{lines}<extra></extra>",
        ))
    shapes, notes = _target_marks(target, value_title, across=True)
    months = sorted(set(df["month"]))
    return _figure(traces, title, "", value_title, layout=dict(
        xaxis=dict(type="category", tickangle=-45, categoryorder="array",
                   categoryarray=months, tickvals=months,
                   ticktext=[month_label(m) for m in months]),
        legend=dict(orientation="v", x=1.01, y=1, yanchor="top"),
        shapes=shapes, annotations=notes))


def grouped_bars(df: pd.DataFrame, category: str, values: Sequence[tuple[str, str]],
                 title: str, value_title: str, hover: dict[str, str] | None = None,
                 value_format: str = ".1f") -> go.Figure:
    """Side-by-side bars per category for several value columns (column, legend label)."""
    custom, lines = _hover(df, hover or {})
    traces = [dict(type="bar", x=df[category], y=df[col], name=label,
                   marker=dict(color=PALETTE[i]), customdata=custom,
                   hovertemplate=f"<b>%{{x}}</b><br>{label}: %{{y:{value_format}}}"
                                 f"<br>{lines}<extra></extra>")
              for i, (col, label) in enumerate(values)]
    return _figure(traces, title, "", value_title, layout=dict(barmode="group"))


def stacked_bars(df: pd.DataFrame, category: str, values: Sequence[tuple[str, str, str]],
                 title: str, value_title: str, percent: bool = False) -> go.Figure:
    """Stacked bars per category: values are (column, legend label, colour)."""
    total = df[[c for c, _l, _c in values]].sum(axis=1)
    traces = []
    for col, label, colour in values:
        share = (100 * df[col] / total.where(total > 0)).round(1)
        traces.append(dict(type="bar", x=df[category], y=share if percent else df[col],
                           name=label, marker=dict(color=colour),
                           customdata=list(zip(df[col], total, strict=True)),
                           hovertemplate=f"<b>%{{x}}</b><br>{label}: %{{customdata[0]:,}} of "
                                         f"%{{customdata[1]:,}}<extra></extra>"))
    return _figure(traces, title, "", value_title, layout=dict(barmode="stack"))


# --- text alternative (WCAG 1.1.1): every chart is drawn with ui.chart, which shows this ---

def number_text(value) -> str:
    """A chart value as text: whole numbers without decimals, others to one decimal."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if v != v:  # NaN: a gap in the series
        return "–"
    return f"{v:,.0f}" if v.is_integer() else f"{v:,.1f}"


def chart_table(fig: go.Figure) -> pd.DataFrame:
    """The data a chart draws, one row per point: series, category (the bar's office or
    the line's month, as labelled on the axis) and value. Traces without data (e.g. a
    legend-only marker) are left out."""
    rows = []
    for trace in fig.data:
        if trace.type == "heatmap":
            rows += heatmap_rows(trace)
            continue
        if getattr(trace, "meta", None) == NOT_DATA:
            continue  # a layer that only catches clicks or hover (e.g. on a heat-map)
        x, y = getattr(trace, "x", None), getattr(trace, "y", None)
        if x is None or y is None:
            continue
        horizontal = getattr(trace, "orientation", None) == "h"
        cats, values = (y, x) if horizontal else (x, y)
        labels = getattr(trace, "text", None)
        name = trace.name or ""
        for i, (cat, value) in enumerate(zip(cats, values, strict=False)):
            if isinstance(labels, list | tuple) and i < len(labels) and labels[i] is not None:
                cat = f"{labels[i]} ({cat})"
            rows.append({"Series": name, "Category": month_label(cat), "Value": value})
    return pd.DataFrame(rows, columns=["Series", "Category", "Value"])


def heatmap_rows(trace) -> list[dict]:
    """The cells of a heat-map trace as chart_table rows: series = the row's label (the
    last level of a grouped axis, with its group in brackets), category = the column's
    label, value = the cell's hover text, else its text (the value as shown, with its
    status in words), else its z."""
    xs, ys = list(trace.x or ()), trace.y
    if ys is not None and len(ys) == 2 and isinstance(ys[0], list | tuple):
        labels = [f"{name} ({group})" for group, name in zip(ys[0], ys[1], strict=True)]
    else:
        labels = [str(v) for v in (ys if ys is not None else ())]
    texts = trace.hovertext if trace.hovertext is not None else trace.text
    rows = []
    for i, label in enumerate(labels):
        for j, column in enumerate(xs):
            value = trace.z[i][j]
            if texts is not None and i < len(texts) and j < len(texts[i]):
                value = texts[i][j]
            rows.append({"Series": label, "Category": month_label(column), "Value": value})
    return rows


NOT_DATA = "not data"  # trace.meta of layers chart_table leaves out


def heatmap_summary(fig: go.Figure, table: pd.DataFrame) -> str:
    """The caption of a heat-map whose cells carry a status word: how many cells have
    each status, and the rows with most 'off target' cells."""
    title = (fig.layout.title.text or "Chart").replace("<br>", " ")
    if table.empty:
        return f"Chart: {title}. No data to draw."
    words = table["Value"].astype(str)
    counts = {w: int(words.str.contains(w, regex=False).sum())
              for w in ("on target", "near target", "off target", "no data")}
    off = table[words.str.contains("off target", regex=False)].groupby("Series").size()
    worst = off[off == off.max()].index.tolist() if len(off) else []
    text = (f"Chart: {title}. {table['Series'].nunique()} rows by "
            f"{table['Category'].nunique()} columns: "
            + ", ".join(f"{n} {w}" for w, n in counts.items() if n) + ".")
    if worst:
        text += (f" Most off target: {', '.join(worst[:5])} ({int(off.max())} of "
                 f"{table['Category'].nunique()}).")
    return text


def _number(value) -> float | None:
    """value as a float; None when it is not a number or is NaN (pd.to_numeric, coerced)."""
    if isinstance(value, bool):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def chart_summary(fig: go.Figure, table: pd.DataFrame | None = None) -> str:
    """One sentence saying what the chart shows and its key figures: per series (at most
    six) the highest and lowest point, and for monthly lines the latest month too; for a
    heat-map, heatmap_summary."""
    table = chart_table(fig) if table is None else table
    if any(trace.type == "heatmap" for trace in fig.data):
        return heatmap_summary(fig, table)
    title = fig.layout.title.text or "Chart"
    title = title.replace("<br>", " ").replace("<b>", "").replace("</b>", "")
    if table.empty:
        return f"Chart: {title}. No data to draw."
    parts = []
    points: dict[str, list[tuple[object, float]]] = {}  # plain Python: pandas per series
    for name, category, value in zip(table["Series"], table["Category"], table["Value"],
                                     strict=True):  # cost ~0.1 s a page
        number = _number(value)
        points.setdefault(name, [])
        if number is not None:
            points[name].append((category, number))
    series = list(points)
    for name in series[:6]:
        part = points[name]
        if not part:
            continue
        # max/min keep the first of equal values, as idxmax/idxmin do
        hi, lo = max(part, key=lambda p: p[1]), min(part, key=lambda p: p[1])
        text = (f"highest {hi[0]} {number_text(hi[1])}, "
                f"lowest {lo[0]} {number_text(lo[1])}")
        last = part[-1]
        monthly = re.fullmatch(r"[A-Z][a-z]{2} \d{4}", str(last[0]))
        if len(part) > 2 and monthly:
            text = f"latest {last[0]} {number_text(last[1])}; " + text
        parts.append(f"{name}: {text}" if name else text)
    more = f" (and {len(series) - 6} more series in the table)" if len(series) > 6 else ""
    return f"Chart: {title}. " + "; ".join(parts) + more + "."
