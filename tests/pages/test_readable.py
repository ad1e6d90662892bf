"""Readable everywhere (issue 14, item 5): the tables on these pages show no raw codes
(snake_case identifiers, "None", "nan", "NaT", ISO dates, JSON) in their headers or cells,
and every date on screen has one format (dd Mmm yyyy)."""

from __future__ import annotations

import re
from datetime import date, datetime

import pandas as pd
import pytest

from dashboard.core.labels import display_date
from tests.pages.apphelp import open_app

RAW = [
    ("snake_case code", re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")),
    ("missing marker", re.compile(r"^(None|nan|NaN|NaT|null)$")),
    ("ISO date", re.compile(r"\b\d{4}-\d{2}-\d{2}\b")),
    ("JSON", re.compile(r"^\s*[\[{].*[\]}]\s*$")),
]
ALLOWED = re.compile(r"^[A-Z]\d{6}$|^[A-Z]{2,}\d*$")  # CRNs, office and area codes
# The saved-samples table keeps real dates and formats them in the browser (column_config
# "DD MMM YYYY", so they sort as dates); AppTest sees the values, not the formatted text.
NOT_OWNED = {"created_at", "window_start", "window_end"}

PAGES = [
    ("pages/admin_log.py", "admin"),
    ("pages/data_quality.py", "admin"),
    ("pages/data_quality.py", "quality.lead"),
    ("pages/cases.py", "chief.exec"),
    ("pages/caseload.py", "chief.exec"),
    ("pages/audit.py", "quality.lead"),
    ("pages/sample.py", "quality.lead"),
    ("pages/readiness.py", "quality.lead"),
    ("pages/quality.py", "chief.exec"),
]


def raw_codes(frame: pd.DataFrame, labels: dict[str, str]) -> list[str]:
    """Each shown header, and the first cell of each column, that looks like a raw code:
    'kind in column: text'. labels: column -> the header shown (None when hidden)."""
    found = set()
    for col in frame.columns:
        if (col in labels and labels[col] is None) or col in NOT_OWNED:
            continue
        texts = [str(labels.get(col) or col)] + [
            str(v) for v in frame[col].tolist()
            if not isinstance(v, (int, float)) or pd.isna(v)]
        for text in texts:
            if ALLOWED.match(text):
                continue
            hits = [kind for kind, rx in RAW if rx.search(text)]
            if hits:
                found.add(f"{hits[0]} in {col}: {text}")
                break
    return sorted(found)


def shown_labels(element) -> dict[str, str | None]:
    """column -> the header shown (None for a hidden column) from the element's config."""
    import json

    out: dict[str, str | None] = {}
    raw = getattr(element.proto, "columns", "") or "{}"
    for key, cfg in json.loads(raw).items():
        col = key.removeprefix("name:") if key.startswith("name:") else key
        out[col] = None if cfg.get("hidden") else cfg.get("label", col)
    return out


def offenders(at) -> list[str]:
    """Raw codes in every dataframe and every table on the page."""
    found = []
    for df in at.dataframe:
        found += raw_codes(df.value, shown_labels(df))
    for table in at.table:
        found += raw_codes(table.value, {})
    return found


@pytest.mark.parametrize(("page", "user"), PAGES)
def test_no_raw_codes_on_screen(demo_sqlite_url, page, user):
    at = open_app(demo_sqlite_url, page=page, user=user)
    assert not at.exception
    assert not offenders(at), offenders(at)


def test_admin_log_after_downloads_and_views(demo_sqlite_url):
    open_app(demo_sqlite_url, page="pages/cases.py", user="chief.exec")  # logs a view
    at = open_app(demo_sqlite_url, page="pages/admin_log.py", user="admin")
    assert not at.exception
    assert len(at.dataframe[0].value) > 0
    assert not offenders(at), offenders(at)


def test_display_date():
    assert display_date(date(2026, 12, 3)) == "03 Dec 2026"
    assert display_date(datetime(2026, 12, 3, 14, 5)) == "03 Dec 2026"
    assert display_date(datetime(2026, 12, 3, 14, 5), with_time=True) == "03 Dec 2026 14:05"
    assert display_date("2026-12-03") == "03 Dec 2026"
    assert display_date(pd.Timestamp("2026-12-03")) == "03 Dec 2026"
    assert display_date(None) == "" and display_date(pd.NaT) == "" and display_date(
        float("nan")) == ""
