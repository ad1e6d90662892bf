"""Date functions that compile to each database's own SQL, so queries stay dialect-neutral."""

from __future__ import annotations

from sqlalchemy import Date, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class month_of(FunctionElement):  # noqa: N801 - reads like a SQL function
    """The month of a date as text 'YYYY-MM' (sorts and groups the same on every dialect)."""

    type = String()
    inherit_cache = True
    name = "month_of"


@compiles(month_of, "sqlite")
def _month_of_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(month_of, "postgresql")
def _month_of_pg(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


@compiles(month_of, "duckdb")
def _month_of_duckdb(element, compiler, **kw):
    return f"strftime({compiler.process(element.clauses, **kw)}, '%Y-%m')"


class days_between(FunctionElement):  # noqa: N801
    """Whole calendar days from the first date to the second (second - first)."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw):
    first, second = list(element.clauses)
    second_sql, first_sql = compiler.process(second, **kw), compiler.process(first, **kw)
    return f"CAST(julianday({second_sql}) - julianday({first_sql}) AS INTEGER)"


@compiles(days_between, "postgresql")
def _days_pg(element, compiler, **kw):
    first, second = list(element.clauses)
    return f"({compiler.process(second, **kw)} - {compiler.process(first, **kw)})"


class one_year_after(FunctionElement):  # noqa: N801
    """The calendar anniversary of a date one year on; 29 February goes to 28 February
    (as PostgreSQL's interval arithmetic and pandas.DateOffset(years=1) do)."""

    type = Date()
    inherit_cache = True
    name = "one_year_after"


@compiles(one_year_after, "sqlite")
def _year_after_sqlite(element, compiler, **kw):
    d = compiler.process(element.clauses, **kw)
    # SQLite's '+1 year' rolls 29 Feb over to 1 March: step back a day for that date only
    return (f"CASE WHEN strftime('%m-%d', {d}) = '02-29' THEN date({d}, '+1 year', '-1 day') "
            f"ELSE date({d}, '+1 year') END")


@compiles(one_year_after, "postgresql")
def _year_after_pg(element, compiler, **kw):
    return f"CAST({compiler.process(element.clauses, **kw)} + INTERVAL '1 year' AS DATE)"


@compiles(one_year_after, "duckdb")
def _year_after_duckdb(element, compiler, **kw):
    return f"CAST({compiler.process(element.clauses, **kw)} + INTERVAL 1 YEAR AS DATE)"


__all__ = ["month_of", "days_between", "one_year_after", "Date"]
