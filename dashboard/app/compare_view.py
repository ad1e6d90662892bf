"""Pieces of the Compare offices page (pages/compare.py) that are not its storyboard: the
ranked table beside the funnel, the narrow-screen rule and the plain message when a
control chart would rest on too few cases."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard.app import charts
from dashboard.core.glossary import MEASURES
from dashboard.core.plain_text import plain
from dashboard.core.targets import Target
from queries import flags

# Below 640 px the funnel is too narrow to read (its labels and limits crowd into a strip):
# it is hidden and the ranked table beside it, which says the same, stands alone.
NARROW_CSS = ("<style>@media (max-width: 640px) {.st-key-cmp_funnel_box {display: none;}}"
              "@media (min-width: 641px) {.st-key-cmp_narrow_note {display: none;}}</style>")


def ranked_table(where: Any, view: pd.DataFrame, measure_name: str, gkey: str,
                 target: Target | None) -> Any:
    """Draw queries.monthly.comparison_table output (with a 'count' text column, '7 of
    62') as the compact ranked table beside the funnel, worst first, office pinned; the
    intervals stay in the data and the CSV. Returns the selection event."""
    where.container(key="cmp_narrow_note").caption(
        "On a narrow screen the funnel plot is left out: this ranked table says the same.")
    where.caption("Worst rate first. Click a heading to sort, a row to open that office. "
                  "The CSV below adds the counts and 95 % intervals.")
    m = MEASURES[gkey]
    shown = view.assign(where=view["position"].str.replace(" limits", "").str.replace(
        " limit", ""))
    return where.dataframe(
        shown, hide_index=True, width="stretch", key="cmp_table", on_select="rerun",
        selection_mode="single-row",
        column_order=["office", "rate", "status", "count", "where"],
        column_config={
            "office": st.column_config.TextColumn("Office", pinned=True, width=104),
            "rate": st.column_config.NumberColumn(
                "Rate %", help=f"{measure_name}: {m.definition()}", width=56),
            "status": st.column_config.TextColumn(
                "Target", help=target.describe() if target else "No target set", width=74),
            "count": st.column_config.TextColumn(
                "Of", help=f"{m.numerator} of {m.denominator}",
                width=max(60, 8 + 7 * int(view["count"].str.len().max()))),
            "where": st.column_config.TextColumn(
                "Funnel", help="Where the office lies against the funnel's 95 % and "
                               "99.8 % limits", width=78)})


def too_few_message(office: str, measure_name: str, gkey: str, chart: pd.DataFrame,
                    months: str) -> str:
    """Why there is no control chart: the rule (flags.too_few_to_chart) in plain words."""
    typical = charts.number_text(chart["denominator"].median()) if len(chart) else "none"
    return (f"No control chart for {plain(office)}: {measure_name} rests on too few "
            f"{MEASURES[gkey].denominator} a month there ({typical} in the median month of "
            f"{months}; at least {flags.MIN_MONTHLY_DENOMINATOR} are needed), so its limits "
            "would span nearly everything and no month could stand out. The funnel above "
            "compares the whole period.")
