"""Plain words on screen: one date format (dd Mmm yyyy, e.g. 03 Dec 2026) for every date
shown, and display copies of tables whose dates are text in that format. CSV downloads keep
ISO dates: these functions are for what is drawn, never for what is stored or exported.
Tables show dates through date_config (st.column_config formats), so they still sort."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd

from dashboard.core.display import is_missing

DATE_FORMAT = "%d %b %Y"  # 03 Dec 2026
DATETIME_FORMAT = "%d %b %Y %H:%M"  # 03 Dec 2026 14:05
# The same formats for st.column_config Date/DatetimeColumn (moment.js tokens).
DATE_COLUMN_FORMAT = "DD MMM YYYY"
DATETIME_COLUMN_FORMAT = "DD MMM YYYY HH:mm"


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


def display_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A display copy of df: coded values as words and missing text blank rather than
    "None". Dates keep their type (sortable); date_config shows them as dd Mmm yyyy."""
    out = df.copy()
    for col in out.columns:
        if col in CODED_COLUMNS:
            out[col] = out[col].map(plain_value)
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: "" if is_missing(v) else v)
    return out


def is_date_column(values: pd.Series) -> tuple[bool, bool]:
    """(holds dates, with a time of day) for a column: datetime dtypes, or objects that
    are all dates or datetimes."""
    if pd.api.types.is_datetime64_any_dtype(values):
        times = values.dropna()
        return True, bool(len(times)) and bool((times != times.dt.normalize()).any())
    present = values.dropna()
    if values.dtype != object or not len(present):
        return False, False
    if present.map(lambda v: isinstance(v, datetime)).all():
        return True, True
    return bool(present.map(lambda v: isinstance(v, date)).all()), False
