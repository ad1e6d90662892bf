"""England and Wales working days: bank holidays and the calendar_day table.

Service levels count working days ("screening within 5 working days of reception").
The calendar table numbers every working day, so a query subtracts two numbers instead of
counting weekdays in dialect-specific SQL.
"""

from __future__ import annotations

from datetime import date, timedelta


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_monday(year: int, month: int) -> date:
    d = date(year, month, 1)
    return d + timedelta(days=(7 - d.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    d = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return d - timedelta(days=d.weekday())


def _substitute(d: date, taken: set[date]) -> date:
    while d.weekday() >= 5 or d in taken:
        d += timedelta(days=1)
    return d


def bank_holidays(year: int) -> set[date]:
    """England and Wales bank holidays of a year under the standard rules.

    One-off holidays (coronation, jubilees, state funerals) are not included.
    """
    easter = easter_sunday(year)
    days = {
        easter - timedelta(days=2),  # Good Friday
        easter + timedelta(days=1),  # Easter Monday
        _first_monday(year, 5),
        _last_monday(year, 5),
        _last_monday(year, 8),
    }
    new_year = _substitute(date(year, 1, 1), set())
    days.add(new_year)
    christmas = _substitute(date(year, 12, 25), set())
    days.add(christmas)
    days.add(_substitute(date(year, 12, 26), {christmas}))
    return days


def calendar_rows(first: date, last: date) -> list[dict]:
    """Rows for calendar_day from first to last inclusive.

    working_day_number increases by one on each working day and stays flat over weekends
    and holidays, so (number at B) - (number at A) = working days after A up to B.
    """
    holidays: set[date] = set()
    for year in range(first.year, last.year + 1):
        holidays |= bank_holidays(year)
    rows = []
    number = 0
    day = first
    while day <= last:
        working = day.weekday() < 5 and day not in holidays
        number += working
        rows.append({"day": day, "is_working_day": working, "working_day_number": number})
        day += timedelta(days=1)
    return rows


def add_working_days(start: date, n: int) -> date:
    """The date n working days after start (start itself not counted)."""
    holidays = bank_holidays(start.year) | bank_holidays(start.year + 1)
    day = start
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            n -= 1
    return day
