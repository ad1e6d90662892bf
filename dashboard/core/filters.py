"""The shared filters (area, office, period) and their validation from URL parameters.

Filters are a frozen dataclass so they hash: they are part of every cache key. Office
codes are resolved to ids once here; queries only ever see ids (bound parameters).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import ColumnElement

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
DEFAULT_MONTHS = 12


def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end(d: date) -> date:
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def add_months(d: date, n: int) -> date:
    """First day of the month n months after d's month (n may be negative)."""
    index = d.year * 12 + d.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Filters:
    """What the user has chosen: a period of whole months and an optional office set.

    office_ids None means every office in the region. start is the first day of the first
    month, end the last day of the last month (both inclusive).
    """

    start: date
    end: date
    office_ids: tuple[int, ...] | None = None
    area_code: str | None = None
    office_code: str | None = None
    label: str = field(default="Region", compare=False)

    def clauses(
        self, date_col: ColumnElement | None, office_col: ColumnElement | None = None
    ) -> list[ColumnElement]:
        """WHERE clauses for a date column in the period and an office column in scope."""
        out: list[ColumnElement] = []
        if date_col is not None:
            out += [date_col >= self.start, date_col <= self.end]
        if office_col is not None and self.office_ids is not None:
            out.append(office_col.in_(self.office_ids))
        return out

    def office_clause(self, office_col: ColumnElement) -> list[ColumnElement]:
        return self.clauses(None, office_col)

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def previous(self) -> Filters:
        """The same number of months immediately before this period."""
        start = add_months(self.start, -self.months)
        return replace(self, start=start, end=self.start - timedelta(days=1))

    def period_text(self) -> str:
        first = self.start.strftime("%b %Y")
        last = self.end.strftime("%b %Y")
        return first if first == last else f"{first} to {last}"


@dataclass(frozen=True)
class ParsedFilters:
    filters: Filters
    problems: tuple[str, ...]


def _one(params: Mapping, key: str) -> str | None:
    value = params.get(key)
    if isinstance(value, list | tuple):
        value = value[-1] if value else None
    if value is None:
        return None
    return str(value).strip() or None


def parse_filters(
    params: Mapping, offices: pd.DataFrame, as_of: date, history_start: date
) -> ParsedFilters:
    """Filters from URL parameters (area, office, from, to), with messages for bad values.

    offices has columns office_id, office_code, office, area_code, area. A bad value is
    dropped (the default is used) and explained; nothing from the URL reaches SQL text.
    """
    problems: list[str] = []
    last_month = month_start(as_of)
    default_start = max(add_months(last_month, -(DEFAULT_MONTHS - 1)), history_start)

    def month_param(key: str, default: date) -> date:
        raw = _one(params, key)
        if raw is None:
            return default
        m = MONTH_RE.match(raw)
        if not m:
            problems.append(f"'{key}' must be a month written YYYY-MM; ignored the value "
                            f"{raw[:20]!r}.")
            return default
        value = date(int(m.group(1)), int(m.group(2)), 1)
        if value < history_start or value > last_month:
            problems.append(f"'{key}' = {raw} is outside the data ({history_start:%b %Y} to "
                            f"{last_month:%b %Y}); used the default.")
            return default
        return value

    start = month_param("from", default_start)
    end = month_param("to", last_month)
    if start > end:
        problems.append("'from' is after 'to'; swapped them.")
        start, end = end, start

    area_code = _one(params, "area")
    office_code = _one(params, "office")
    office_ids: tuple[int, ...] | None = None
    label = "Region"
    if area_code is not None:
        area_code = area_code.upper()
        if not CODE_RE.match(area_code) or area_code not in set(offices["area_code"]):
            problems.append(f"Unknown area {area_code[:20]!r}; showing the whole region.")
            area_code = None
        else:
            in_area = offices[offices["area_code"] == area_code]
            office_ids = tuple(sorted(int(i) for i in in_area["office_id"]))
            label = str(in_area["area"].iloc[0])
    if office_code is not None:
        office_code = office_code.upper()
        match = offices[offices["office_code"] == office_code] if CODE_RE.match(
            office_code) else offices.iloc[0:0]
        if match.empty:
            problems.append(f"Unknown office {office_code[:20]!r}; showing "
                            f"{label if area_code else 'the whole region'}.")
            office_code = None
        elif area_code is not None and match["area_code"].iloc[0] != area_code:
            problems.append(f"Office {office_code} is not in area {area_code}; showing the "
                            "area.")
            office_code = None
        else:
            office_ids = (int(match["office_id"].iloc[0]),)
            area_code = str(match["area_code"].iloc[0])
            label = str(match["office"].iloc[0])
    filters = Filters(start=start, end=month_end(end), office_ids=office_ids,
                      area_code=area_code, office_code=office_code, label=label)
    return ParsedFilters(filters, tuple(problems))
