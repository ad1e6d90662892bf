"""Widgets several measure pages draw the same way: a rate's card from totals, and one
line per HMIP standard with its rating's icon."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard.app import ui
from dashboard.core.targets import target_for

RATING_ICONS = {
    "Outstanding": ":material/star:",
    "Good": ":material/check_circle:",
    "Requires improvement": ":material/warning:",
    "Inadequate": ":material/cancel:",
}


def rate_cards(columns: list[Any], measures: list[tuple[str, str, str]], totals: pd.Series,
               targets: pd.DataFrame) -> None:
    """One measure card per (measure key, numerator, denominator): the % of the totals
    (none when the denominator is 0), with its basis and its target's RAG."""
    for col, (key, num, den) in zip(columns, measures, strict=True):
        ui.measure_card(col, key, {key: 100 * totals[num] / totals[den] if totals[den] else None,
                                   num: totals[num], den: totals[den]}, None,
                        target_for(targets, key), num, den)


def rating_lines(statements, ratings) -> None:
    """One line per standard: its rating's icon and the statement."""
    for statement, rating in zip(statements, ratings, strict=True):
        st.markdown(f"{RATING_ICONS.get(rating, ':material/help:')} {statement}")
