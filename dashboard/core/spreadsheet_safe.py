"""Cells that a spreadsheet shows as text, never runs (OWASP "CSV injection").

Excel, LibreOffice and Google Sheets treat a cell starting with ``=``, ``+``, ``-`` or
``@`` (and, after trimming, a leading tab or carriage return) as a formula: a stored
office name ``=HYPERLINK("http://…","click me")`` or ``=cmd|' /C calc'!A0`` would run
when someone opens a download. Every CSV, XLSX and PDF the dashboard writes passes its
text cells through :func:`neutralise`, which puts an apostrophe in front of such a value
(the spreadsheets' own "this is text" mark) and leaves every other value alone. Numbers,
dates and booleans are not text and are never changed; nor is text that is a plain number
(``-3.5``), which a spreadsheet reads as that number.

The importer uses :func:`formula_like` to refuse such values in text fields, so they
cannot enter by an extract in the first place; the neutralising on the way out covers
values that came in by any other route (typed into a form, older data).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MARK = "'"
# "-3.5" or "+44" is read as a plain number, never run: left alone so numbers round-trip
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def formula_like(text: str) -> bool:
    """True when a spreadsheet would read text as a formula (or a command): it starts
    with = + - @ tab or carriage return and is not a plain number such as -3.5."""
    return (bool(text) and text.startswith(TRIGGERS)
            and PLAIN_NUMBER.fullmatch(text) is None)


def neutralise(value: Any) -> Any:
    """value with an apostrophe in front when it is text a spreadsheet would run;
    anything that is not a str (numbers, dates, None) is returned unchanged."""
    if isinstance(value, str) and formula_like(value):
        return MARK + value
    return value


def neutralise_row(values: Iterable[Any]) -> list[Any]:
    """Each value of a row through :func:`neutralise`."""
    return [neutralise(v) for v in values]


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of df whose text cells (and column names) are neutralised. Numeric, date and
    boolean columns are left as they are."""
    out = df.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series) \
                or pd.api.types.is_datetime64_any_dtype(series):
            continue
        out[column] = series.map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """df as UTF-8 CSV (no index) with every text cell neutralised: the bytes for a
    download button."""
    return safe_frame(df).to_csv(index=False).encode("utf-8")


class SafeWriter:
    """A csv.writer whose rows are neutralised cell by cell (same writerow/writerows)."""

    def __init__(self, out: io.TextIOBase | Any, **kwargs: Any) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        """Write one row, each text cell neutralised."""
        return self._writer.writerow(neutralise_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write many rows, each text cell neutralised."""
        self._writer.writerows(neutralise_row(r) for r in rows)
