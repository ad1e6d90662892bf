"""Tables shown in plain words: codes as words, one date format, no "None", key columns
kept in view; their CSV downloads hold the rows as they are (ISO dates)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard.app import ui
from dashboard.core import labels, spreadsheet_safe


def readable_table(df: pd.DataFrame, file_stem: str, column_config: dict | None = None,
                   key: str | None = None, pinned: tuple[str, ...] = (),
                   with_time: tuple[str, ...] = ()) -> None:
    """table_with_download for tables with dates or blanks: shown with codes as words,
    dates as dd Mmm yyyy (hh:mm for the columns in with_time), no "None", and the
    columns in pinned kept in view when it scrolls sideways; the CSV holds df as it is
    (ISO dates)."""
    config: dict[str, Any] = {c: st.column_config.Column(ui.readable(c), pinned=c in pinned)
                              for c in df.columns}
    config.update(column_config or {})
    st.dataframe(labels.display_frame(ui.yes_no(df), dates=True, with_time=with_time),
                 hide_index=True, column_config=config, width="stretch")
    ui.logged_download_button("Download this table (CSV)",
                              lambda: spreadsheet_safe.csv_bytes(df),
                              ui.safe_file_name(file_stem) + ".csv", "text/csv", rows=len(df),
                              key=key)
