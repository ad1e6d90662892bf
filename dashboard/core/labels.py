"""Plain words on screen: one date format (dd Mmm yyyy, e.g. 03 Dec 2026) for every date
shown, and display copies of tables whose dates are text in that format. CSV downloads keep
ISO dates: these functions are for what is drawn, never for what is stored or exported."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd

from dashboard.core.display import is_missing

DATE_FORMAT = "%d %b %Y"  # 03 Dec 2026
DATETIME_FORMAT = "%d %b %Y %H:%M"  # 03 Dec 2026 14:05


ROLE_LABELS = {"chief_executive": "Chief executive", "area_manager": "Area manager",
               "quality_lead": "Quality lead", "auditor": "Auditor", "admin": "Administrator"}

COLUMN_LABELS = {"crn": "CRN", "rosh_level": "RoSH level", "fte": "FTE",
                 "sample_id": "Sample", "audit_id": "Audit", "officer_staff_ref": "Officer"}


def column_label(column: str) -> str:
    """A display label for a column name ("hours_worked" -> "Hours worked")."""
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    return column.replace("_fte", " (FTE)").replace("_", " ").strip().capitalize()


def display_date(value: Any, with_time: bool = False) -> str:
    """The date of value (a date, datetime, Timestamp or ISO string) as "03 Dec 2026", or
    "03 Dec 2026 14:05" with_time; "" when missing or not a date."""
    if is_missing(value):
        return ""
    if not isinstance(value, (date, datetime, pd.Timestamp)):
        try:
            value = pd.Timestamp(str(value))
        except (TypeError, ValueError):
            return ""
    return value.strftime(DATETIME_FORMAT if with_time else DATE_FORMAT)


# Coded values as words, wherever they are shown (cases, caseload, audits, samples).
VALUE_LABELS = {
    "community_order": "Community order", "suspended_sentence_order": "Suspended sentence",
    "licence": "Licence", "very_high": "Very high", "high": "High", "medium": "Medium",
    "low": "Low", "settled": "Settled", "temporary": "Temporary",
    "no_fixed_abode": "No fixed abode", "male": "Male", "female": "Female",
    "pdu_2023": "PDU standards (2023)", "crc_2018": "CRC standards (2018)",
    "regional_2023": "Regional standards (2023)", "in_progress": "In progress",
    "not_started": "Not started", "not_sufficient": "Not sufficient",
    "not_applicable": "Not applicable",
}
CODED_COLUMNS = ("sentence_type", "rosh_level", "accommodation_on_release", "gender",
                 "scheme", "status", "answer")


def plain_value(value: Any) -> str | Any:
    """A coded value as words (VALUE_LABELS); any other value unchanged."""
    return VALUE_LABELS.get(value, value) if isinstance(value, str) else value


def _is_text(values: pd.Series) -> bool:
    if values.dtype != object:
        return False
    present = values.dropna()
    return present.empty or pd.api.types.infer_dtype(present, skipna=False) == "string"


def _is_dates(values: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    if values.dtype != object:
        return False
    present = values.dropna()
    if present.empty:
        return False
    kind = pd.api.types.infer_dtype(present, skipna=False)
    if kind in ("date", "datetime"):
        return True
    return kind == "mixed" and present.map(lambda v: isinstance(v, (date, datetime))).all()


def _per_distinct(values: pd.Series, fn) -> pd.Series:
    """fn applied to each distinct value once (a case list repeats a few hundred dates
    over thousands of rows), as an object Series like values.map(fn)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = [fn(v) for v in uniques]
    missing = fn(None)
    return pd.Series([missing if c < 0 else texts[c] for c in codes], index=values.index,
                     dtype=object)


def dates_as_text(df: pd.DataFrame, with_time: tuple[str, ...] = ()) -> pd.DataFrame:
    """A display copy of df: date and datetime columns (by dtype, or objects that are all
    dates) as text in the one format, with hours and minutes for the columns in
    with_time; missing dates blank."""
    out = df.copy()
    for col in out.columns:
        if _is_dates(out[col]):
            out[col] = _per_distinct(out[col], lambda v, c=col: display_date(v, c in with_time))
    return out


def display_frame(df: pd.DataFrame, dates: bool = False,
                  with_time: tuple[str, ...] = ()) -> pd.DataFrame:
    """A display copy of df: coded values as words and missing text blank rather than
    "None"; with dates, dates as text in the one format too (dates_as_text) and every
    missing value in a mixed column blank."""
    out = dates_as_text(df, with_time) if dates else df.copy()
    for col in out.columns:
        if col in CODED_COLUMNS:
            out[col] = out[col].map(plain_value)
        if _is_text(out[col]) or (dates and out[col].dtype == object):
            values = out[col].astype(object)
            out[col] = values.where(values.notna(), "")
    return out
