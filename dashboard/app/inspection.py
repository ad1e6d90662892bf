"""Page furniture shared by the inspection work pages (pages/sample.py, pages/audit.py):
uncached reads of work in progress, and the page's help panel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from dashboard.app import ui


def fresh(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """fn(conn, **kwargs) read now, uncached: samples and audits change as people work."""
    with ui.engine().connect() as conn:
        return fn(conn, **kwargs)


def how_to_read(text: str) -> None:
    """The page's "How to read this page" panel, closed until opened."""
    with st.expander("How to read this page", icon=":material/help:"):
        st.markdown(text)

