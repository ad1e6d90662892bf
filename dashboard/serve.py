"""Start the Streamlit server for streamlit_app.py.

Streamlit switches on its legacy "pages/ folder" mode for a server's first script run when
a pages/ folder sits beside the entry file, until some session calls st.navigation. A
fresh server whose first request is a deep link (/staffing?area=KENT) would then run the
page file on its own, without the login gate and shared filters. We keep the page files
in pages/ (the project layout) and switch that mode off before the server starts.
"""

from __future__ import annotations

import sys

from dashboard.config import PROJECT_ROOT


def main(extra_args: list[str]) -> int:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(PROJECT_ROOT / "streamlit_app.py"),
                "--browser.gatherUsageStats=false", *extra_args]
    return cli.main()
