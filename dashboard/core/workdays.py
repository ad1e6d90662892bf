"""England and Wales working days: bank holidays and the calendar_day table.

Service levels count working days ("screening within 5 working days of reception").
The calendar table numbers every working day, so a query subtracts two numbers instead of
counting weekdays in dialect-specific SQL.

Bank holidays come from the `holidays` library (England subdivision), which keeps the
one-off days (jubilees, coronation, state funerals) and moved holidays that hand-written
rules miss, e.g. the 2022 spring bank holiday on 2 June instead of 30 May.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=256)
def _england(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def bank_holidays(year: int) -> set[date]:
    """England and Wales bank holidays of a year, one-off days and substitute days
    included (a holiday falling at a weekend is listed on its date and on the weekday
    it is observed)."""
    return set(_england(year))


def calendar_rows(first: date, last: date) -> list[dict]:
    """Rows for calendar_day from first to last inclusive.

    working_day_number increases by one on each working day and stays flat over weekends
    and holidays, so (number at B) - (number at A) = working days after A up to B.
    """
    off: set[date] = set()
    for year in range(first.year, last.year + 1):
        off |= _england(year)
    rows = []
    number = 0
    day = first
    while day <= last:
        working = day.weekday() < 5 and day not in off
        number += working
        rows.append({"day": day, "is_working_day": working, "working_day_number": number})
        day += timedelta(days=1)
    return rows


def add_working_days(start: date, n: int) -> date:
    """The date n working days after start (start itself not counted)."""
    day = start
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in _england(day.year):
            n -= 1
    return day
