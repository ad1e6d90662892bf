"""Accessibility (WCAG 2.2 AA) of the Streamlit side: one stylesheet that overrides
Streamlit's own caption colour and date-field target size, and the site's sidebar
navigation made of plain links."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.core.plain_text import plain

# Streamlit 1.67 draws captions in its "faded" text colour (textColor at 60 % opacity:
# #76797c on white = 4.37:1, #717478 on the sidebar's #f2f4f7 = 4.26:1, both under WCAG's
# 4.5:1), and the month/day/year segments of st.date_input as targets about 18 x 20 px
# (under WCAG 2.2's 24 x 24 px). The theme has no setting for either, so this one
# stylesheet, added on every run by the entry script, overrides them. CAPTION_COLOUR gives
# 8.0:1 on white and 7.3:1 on #f2f4f7 (checked in the browser by the contrast test).
CAPTION_COLOUR = "#4A5058"
_ACCESSIBILITY_CSS = f"""<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] * {{
  color: {CAPTION_COLOUR} !important; opacity: 1 !important;
}}
[role="spinbutton"] {{
  display: inline-block; min-width: 24px; min-height: 24px; line-height: 24px;
  text-align: center;
}}
</style>"""


def accessibility_css() -> None:
    """Add the project's accessibility overrides of Streamlit's own styles (see above)."""
    st.html(_ACCESSIBILITY_CSS)


NAV_KEY = "site_nav"  # the sidebar container of site_navigation (class st-key-site_nav)


def site_navigation(container: Any, sections: dict[str, list[Any]]) -> None:
    """The pages a role opens, as plain links grouped under section names, in
    `container` (a sidebar container made before the filters, so it stays on top).

    Why not Streamlit's own sidebar menu: in 1.67 it puts the section headings as <div>s
    inside its <ul> and the <li>s inside those <div>s, which axe-core reports as broken
    lists (WCAG 1.3.1). st.navigation(position="hidden") keeps its routing and access
    control; these st.page_link links (real <a> elements, keyboard reachable) replace
    the menu."""
    with container:
        for section, pages in sections.items():
            st.markdown(f"**{plain(section)}**")
            for p in pages:
                st.page_link(p, label=p.title, icon=p.icon)
