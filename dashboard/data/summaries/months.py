"""Months: which key months a refresh recomputes, and the raw rows that can change them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import and_, or_

from dashboard.core.filters import add_months, month_end, month_start


def is_month_end(d: date) -> bool:
    """True when d is the last day of its month."""
    return (d + timedelta(days=1)).day == 1


def month_range(first: date, last: date) -> list[date]:
    """First days of every month from first's month to last's month."""
    out, m = [], month_start(first)
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


def as_date(value) -> date:
    """A date from a date, a datetime or ISO text (as the two databases return them)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def key_dates(keys: pd.Series) -> pd.Series:
    """'YYYY-MM' text -> the month's first day (datetime64)."""
    return pd.to_datetime(keys.astype(str) + "-01")


def ts(values: pd.Series) -> pd.Series | pd.DatetimeIndex:
    """Dates or timestamps as datetime64[ns], so keys from SQL and pandas line up."""
    return pd.to_datetime(values).astype("datetime64[ns]")


def month_of_dates(values: pd.Series) -> pd.Series:
    """Each date's month as its first day (datetime64)."""
    return pd.to_datetime(values).dt.to_period("M").dt.to_timestamp()


@dataclass(frozen=True)
class Months:
    """The key months to recompute: every month (neither set), the months `exact`, or
    every month from `start` on."""

    exact: tuple[date, ...] | None = None
    start: date | None = None

    def date_clauses(self, col) -> list:
        """WHERE clauses keeping raw rows whose own date falls in these months."""
        return self.date_clauses_back(col, 0)

    def keep(self, months: pd.Series) -> pd.Series:
        """Which computed key months (datetime64) belong to these months."""
        if self.start is not None:
            return months >= pd.Timestamp(self.start)
        if self.exact is not None:
            return months.isin([pd.Timestamp(m) for m in self.exact])
        return pd.Series(True, index=months.index)

    def date_clauses_back(self, col, days: int) -> list:
        """As date_clauses, each range starting `days` earlier (rows dated shortly before
        a month that can count in it)."""
        if self.start is not None:
            return [col >= self.start - timedelta(days=days)]
        if self.exact is not None:
            return [or_(*[and_(col >= lo - timedelta(days=days), col <= hi)
                          for lo, hi in _runs(self.exact)])]
        return []

    def delete_clauses(self, col) -> list:
        """WHERE clauses keeping a summary table's rows keyed by these months."""
        if self.start is not None:
            return [col >= self.start]
        if self.exact is not None:
            return [col.in_(self.exact)]
        return []


def _runs(months: Sequence[date]) -> list[tuple[date, date]]:
    """Consecutive months merged into (first day, last day) date ranges."""
    runs: list[tuple[date, date]] = []
    for m in sorted(set(months)):
        if runs and m == add_months(month_start(runs[-1][1]), 1):
            runs[-1] = (runs[-1][0], month_end(m))
        else:
            runs.append((m, month_end(m)))
    return runs
