"""Bank holidays and the working-day calendar (dashboard/core/workdays.py)."""

from __future__ import annotations

from datetime import date

from dashboard.core.workdays import add_working_days, bank_holidays, calendar_rows


def test_one_off_holidays_2022_and_2023():
    y2022, y2023 = bank_holidays(2022), bank_holidays(2023)
    # Platinum Jubilee: the spring bank holiday moved from Mon 30 May to Thu 2 June, plus
    # Fri 3 June; the Queen's state funeral on Mon 19 Sept 2022; the coronation 8 May 2023
    for one_off in (date(2022, 6, 2), date(2022, 6, 3), date(2022, 9, 19)):
        assert one_off in y2022
    assert date(2022, 5, 30) not in y2022
    assert date(2023, 5, 8) in y2023
    assert date(2023, 5, 29) in y2023  # the ordinary spring bank holiday that year


def test_ordinary_years_have_the_standard_eight_weekday_holidays():
    weekday = sorted(d for d in bank_holidays(2025) if d.weekday() < 5)
    assert weekday == [date(2025, 1, 1), date(2025, 4, 18), date(2025, 4, 21),
                       date(2025, 5, 5), date(2025, 5, 26), date(2025, 8, 25),
                       date(2025, 12, 25), date(2025, 12, 26)]
    # Christmas 2022 fell on a Sunday: Tuesday 27 December was the substitute day
    assert date(2022, 12, 27) in bank_holidays(2022)


def test_calendar_numbers_skip_the_jubilee_weekend():
    rows = {r["day"]: r for r in calendar_rows(date(2022, 5, 30), date(2022, 6, 7))}
    assert [d.day for d, r in rows.items() if r["is_working_day"]] == [30, 31, 1, 6, 7]
    # Wed 1 June to Mon 6 June: one working day after it (the 6th), not three
    assert rows[date(2022, 6, 6)]["working_day_number"] - rows[date(2022, 6, 1)][
        "working_day_number"] == 1


def test_add_working_days_across_the_coronation():
    # Fri 5 May 2023 + 1 working day: Mon 8 May is the coronation holiday -> Tue 9 May
    assert add_working_days(date(2023, 5, 5), 1) == date(2023, 5, 9)
    assert add_working_days(date(2023, 5, 5), 5) == date(2023, 5, 15)
