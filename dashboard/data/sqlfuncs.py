"""Date functions that compile to each database's own SQL, so queries stay dialect-neutral,
and the small CASE expressions every count and interval uses."""

from __future__ import annotations

from sqlalchemy import Date, Integer, String, case, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine


def sql_function(name: str, type_: TypeEngine, doc: str, **sql: str) -> type[FunctionElement]:
    """A SQL function element compiled from one template per dialect (keyword: the
    dialect's name, or ``default`` for any other). Templates name the arguments {0}, {1}.
    """
    element = type(name, (FunctionElement,),
                   {"type": type_, "inherit_cache": True, "name": name, "__doc__": doc})
    for dialect, template in sql.items():
        def render(element, compiler, _template=template, **kw):
            return _template.format(*[compiler.process(c, **kw) for c in element.clauses])
        compiles(element, *([] if dialect == "default" else [dialect]))(render)
    return element


_MONTH = {"postgresql": "to_char({0}, 'YYYY-MM')", "duckdb": "strftime({0}, '%Y-%m')"}

month_of = sql_function(
    "month_of", String(),
    "The month of a date as text 'YYYY-MM' (sorts and groups the same on every dialect).",
    sqlite="strftime('%Y-%m', {0})", **_MONTH)

month_text = sql_function(
    "month_text", String(),
    "A date's month as 'YYYY-MM' text, as month_of gives, but with substr on SQLite's ISO "
    "date text (several times cheaper than strftime there).",
    sqlite="substr({0}, 1, 7)", **_MONTH)

days_between = sql_function(
    "days_between", Integer(),
    "Whole calendar days from the first date to the second (second - first).",
    sqlite="CAST(julianday({1}) - julianday({0}) AS INTEGER)", postgresql="({1} - {0})")

one_year_after = sql_function(
    "one_year_after", Date(),
    "The calendar anniversary of a date one year on; 29 February goes to 28 February (as "
    "PostgreSQL's interval arithmetic and pandas.DateOffset(years=1) do).",
    # SQLite's '+1 year' rolls 29 Feb over to 1 March: step back a day for that date only
    sqlite="CASE WHEN strftime('%m-%d', {0}) = '02-29' THEN date({0}, '+1 year', '-1 day') "
           "ELSE date({0}, '+1 year') END",
    postgresql="CAST({0} + INTERVAL '1 year' AS DATE)",
    duckdb="CAST({0} + INTERVAL 1 YEAR AS DATE)")

day_after = sql_function(
    "day_after", Date(),
    "The day after a date (NULL stays NULL): where an allocation ending on a date hands the "
    "case over. A date on both dialects (SQLite's ISO text, PostgreSQL's date).",
    sqlite="date({0}, '+1 day')", default="({0} + 1)")


def count_where(condition):
    """SQL: how many rows meet `condition` (0, never NULL, when none do)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def later_of(first, second):
    """SQL: the later of two dates; `second` when `first` is NULL (e.g. no allocation)."""
    return case((first > second, first), else_=second)


def earlier_of(first, second):
    """SQL: the earlier of two dates; `second` when `first` is NULL (an open end)."""
    return case((first < second, first), else_=second)


def first_of(first, second):
    """SQL: the earlier of two dates where NULL means 'never' (NULL only when both are)."""
    return case((first.is_(None), second), (second.is_(None), first),
                (first < second, first), else_=second)


__all__ = ["count_where", "day_after", "days_between", "earlier_of", "first_of", "later_of",
           "month_of", "month_text", "one_year_after", "sql_function", "Date"]
