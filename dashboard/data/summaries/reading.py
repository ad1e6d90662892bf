"""Reading the summaries: a summary table rolled up per office, then to a level (office,
area or region) with the office and area names joined."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, func, select

from dashboard.data.schema import area, office
from dashboard.data.sqlfuncs import month_text


def per_office(table: Table, measures: Sequence[tuple[str, str]], where: Sequence = (),
               by_month: bool = False, keys: Sequence[str] = (), fixed: Sequence[str] = ()):
    """SELECT office_id, [month], keys, SUM of each measure FROM a summary table, grouped
    by those keys: the summary rolled up per office (and month and keys) before any names
    are joined. measures: (output name, summary column). fixed: key columns that `where`
    pins to one value; when office, month, keys and fixed cover the primary key the rows
    are already one per group and are not grouped again."""
    groups = [table.c.office_id, *([table.c.month] if by_month else []),
              *[table.c[k] for k in keys]]
    covered = {c.name for c in groups} | set(fixed)
    if {c.name for c in table.primary_key.columns} <= covered:
        return select(*groups, *[table.c[column].label(name)
                                 for name, column in measures]).where(*where)
    return (select(*groups, *[func.sum(table.c[column]).label(name)
                              for name, column in measures])
            .where(*where).group_by(*groups))


def roll_up(per_office_select, names: Sequence[str], level_columns: Sequence,
            by_month: bool = False, keys: Sequence[str] = (), empty=0,
            one_row_per_office: bool = False):
    """SELECT [month], level columns, keys, SUM of each named column FROM a per-office
    select (office_id, [month], keys, names...), joined to the office and area names.

    one_row_per_office: the level is the office, so the per-office rows only get their
    names. Without any grouping the result is one row, with `empty` where there is
    nothing to add up, as an ungrouped SQL SUM wrapped in COALESCE gives.
    """
    inner = per_office_select.subquery()
    groups = [*([month_text(inner.c.month).label("month")] if by_month else []),
              *level_columns, *[inner.c[k].label(k) for k in keys]]
    if one_row_per_office:
        values = [inner.c[name] for name in names]
    else:
        values = [func.coalesce(func.sum(inner.c[name]), empty).label(name) for name in names]
    stmt = (select(*groups, *values)
            .select_from(inner)
            .join(office, office.c.id == inner.c.office_id)
            .join(area, area.c.id == office.c.area_id))
    if one_row_per_office:
        return stmt.order_by(*groups)
    return stmt.group_by(*groups).order_by(*groups) if groups else stmt


def rollup(table: Table, measures: Sequence[tuple[str, str]], level_columns: Sequence,
           where: Sequence = (), by_month: bool = False, keys: Sequence[str] = (),
           empty=0, fixed: Sequence[str] = (), office_level: bool = False):
    """A summary table summed to the level: per office and then named at the office level;
    in one GROUP BY over the table joined to its office and area otherwise (SQLite sorts
    fewer rows that way than by grouping twice)."""
    if office_level:
        return roll_up(per_office(table, measures, where, by_month, keys, fixed),
                       [name for name, _column in measures], level_columns, by_month, keys,
                       empty, one_row_per_office=True)
    groups = [*([table.c.month.label("month")] if by_month else []),
              *level_columns, *[table.c[k].label(k) for k in keys]]
    stmt = select(*groups, *[func.coalesce(func.sum(table.c[column]), empty).label(name)
                             for name, column in measures]).select_from(table)
    if level_columns:
        stmt = (stmt.join(office, office.c.id == table.c.office_id)
                .join(area, area.c.id == office.c.area_id))
    stmt = stmt.where(*where)
    if not groups:
        return stmt
    if not by_month:
        return stmt.group_by(*groups).order_by(*groups)
    # group on the month's date, then write it as 'YYYY-MM' on the grouped rows only
    grouped = stmt.group_by(*groups).subquery()
    outer = [month_text(grouped.c.month).label("month"),
             *[grouped.c[g.name] for g in groups[1:]]]
    return (select(*outer, *[grouped.c[name] for name, _column in measures])
            .order_by(*outer))


def in_period(table: Table, f) -> list:
    """WHERE clauses: a summary table's rows of the filters' months and offices."""
    return f.clauses(table.c.month, table.c.office_id)


def period_rollup(table: Table, names: Sequence[str], f, level_columns: Sequence,
                  office_level: bool, by_month: bool = False, keys: Sequence[str] = ()):
    """rollup of the summary columns `names` (shown under their own names) over the
    filters' months and offices."""
    return rollup(table, [(c, c) for c in names], level_columns, in_period(table, f),
                  by_month=by_month, keys=keys, office_level=office_level)


def period_per_office(table: Table, names: Sequence[str], f, by_month: bool = False,
                      keys: Sequence[str] = ()):
    """per_office of the summary columns `names` over the filters' months and offices."""
    return per_office(table, [(c, c) for c in names], in_period(table, f), by_month=by_month,
                      keys=keys)
