"""Query functions: (Connection, Filters, ...) -> DataFrame. Aggregation happens in SQL.

No streamlit here. Every function documents its columns; rates are left to the caller
as numerator and denominator columns so they can be re-aggregated exactly.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import ColumnElement

from dashboard.data.schema import area, office

Level = Literal["office", "area", "region"]
LEVELS: tuple[Level, ...] = ("office", "area", "region")


def level_columns(level: Level) -> list[ColumnElement]:
    """The labelled columns a query groups by at this level (none for the region)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    if level == "office":
        return [area.c.name.label("area"), office.c.name.label("office"),
                office.c.code.label("office_code")]
    if level == "area":
        return [area.c.name.label("area")]
    return []
