"""Counts of dated events by office and month: the one query shape behind the monthly
summaries and the raw-row queries of the measure pages.

An ``EventCounts`` names the event rows (already joined to the person and to the
allocation open on the event's date, see dashboard.data.allocations), the event's date
and the counts. The summaries group it by office id and month (``per_office_month``);
a page query by the area and office names at its level, and by month if asked
(``by_level``). Both count the same rows with the same expressions, so the two paths
cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, FromClause, Select, select

from dashboard.data.allocations import office_held
from dashboard.data.schema import area, office
from dashboard.data.sqlfuncs import month_of, month_text


@dataclass(frozen=True)
class EventCounts:
    """One kind of event and what is counted of it.

    source: the event rows with their joins; day: the event's own date (its month and the
    office holding the case that day); measures: output name -> aggregate expression;
    where: which rows are events at all; office: the office id an event counts for;
    keys: further columns the summary table is keyed by (besides office and month).
    """

    source: FromClause
    day: ColumnElement
    measures: Mapping[str, ColumnElement]
    where: Sequence[ColumnElement] = ()
    office: ColumnElement = field(default=office_held)
    keys: Sequence[ColumnElement] = ()

    def per_office_month(self, *where: ColumnElement) -> Select:
        """SELECT office_id, month ('YYYY-MM'), keys, measures, for the rows meeting
        `where` too, grouped by office, month and keys (a summary table's rows)."""
        month = month_text(self.day)
        return (select(self.office.label("office_id"), month.label("month"), *self.keys,
                       *[expr.label(name) for name, expr in self.measures.items()])
                .select_from(self.source)
                .where(*self.where, *where)
                .group_by(self.office, month, *self.keys))

    def by_level(self, f, level_columns: Sequence[ColumnElement], by_month: bool = False,
                 keys: Sequence[ColumnElement] = (), where: Sequence[ColumnElement] = (),
                 names: Mapping[str, str] | None = None) -> Select:
        """SELECT [month ('YYYY-MM')], level columns, keys, measures for the events dated
        in the filters' period in their offices, grouped and ordered by all but the
        measures (one row when there is nothing to group by). names: output name ->
        the name to show it under."""
        names = names or {}
        groups = [*([month_of(self.day).label("month")] if by_month else []),
                  *level_columns, *keys]
        stmt = (select(*groups, *[expr.label(names.get(name, name))
                                  for name, expr in self.measures.items()])
                .select_from(self.source
                             .join(office, office.c.id == self.office)
                             .join(area, area.c.id == office.c.area_id))
                .where(*self.where, *where, *f.clauses(self.day, self.office)))
        return stmt.group_by(*groups).order_by(*groups) if groups else stmt
