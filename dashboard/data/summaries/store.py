"""Writing summary rows: replace the refreshed months' rows, and carry levels over."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, delete, select

from dashboard.core.filters import add_months
from dashboard.data.event_counts import EventCounts
from dashboard.data.schema import office
from dashboard.data.summaries.months import Months, key_dates, month_range, ts


def known_offices(conn: Connection, ids: tuple[int, ...] | None) -> list[int]:
    """The ids of the offices `ids` (None: every office), sorted."""
    stmt = select(office.c.id).order_by(office.c.id)
    if ids is not None:
        stmt = stmt.where(office.c.id.in_(ids))
    return [int(i) for i in conn.execute(stmt).scalars()]


def office_clause(col, ids: tuple[int, ...] | None) -> list:
    """WHERE clause keeping the offices `ids` (none for every office)."""
    return [] if ids is None else [col.in_(ids)]


def replace(conn: Connection, table: Table, rows: pd.DataFrame, months: Months,
            ids: tuple[int, ...] | None, month_col: str = "month") -> None:
    """Delete the table's rows for these months and offices, then insert `rows`."""
    conn.execute(delete(table).where(*months.delete_clauses(table.c[month_col]),
                                     *office_clause(table.c.office_id, ids)))
    if rows.empty:
        return
    rows = rows.copy()
    rows[month_col] = pd.to_datetime(rows[month_col]).dt.date
    records = rows[[c.name for c in table.c]].astype(object).to_dict("records")
    for start in range(0, len(records), 20_000):
        conn.execute(table.insert(), records[start:start + 20_000])


def refresh_events(conn: Connection, months: Months, ids, table: Table,
                   counts: EventCounts) -> None:
    """Recompute a summary of events keyed by their own date for these months and
    offices."""
    stmt = counts.per_office_month(*months.date_clauses(counts.day),
                                   *office_clause(counts.office, ids))
    rows = pd.read_sql(stmt, conn)
    rows["month"] = key_dates(rows["month"])
    replace(conn, table, rows[months.keep(rows["month"])], months, ids)


def write_levels(conn: Connection, table: Table, changes: pd.DataFrame,
                 pairs: list[tuple[str, str]], start: date, last: date,
                 offices: list[int], first: date) -> None:
    """Store each office's monthly changes from `start` to `last` and the running levels
    (level = level of the month before `start` + changes so far).

    pairs: (change column, level column). `changes` has office_id, month and the change
    columns, one row per office and month at most.
    """
    grid = pd.MultiIndex.from_product(
        [offices, ts(pd.Series(month_range(start, last)))], names=["office_id", "month"])
    change_cols = [c for c, _lvl in pairs]
    changes = changes.assign(month=ts(changes["month"]))
    frame = (changes.set_index(["office_id", "month"])[change_cols]
             .reindex(grid, fill_value=0).reset_index())
    opening = pd.DataFrame(columns=["office_id", *[lvl for _c, lvl in pairs]])
    if start > first:
        opening = pd.read_sql(
            select(table.c.office_id, *[table.c[lvl] for _c, lvl in pairs])
            .where(table.c.month == add_months(start, -1),
                   table.c.office_id.in_(offices)), conn)
    opening = opening.set_index("office_id")
    for change, level in pairs:
        carried = frame["office_id"].map(opening[level]).fillna(0)
        frame[level] = (frame.groupby("office_id")[change].cumsum() + carried).astype(
            frame[change].dtype)
    replace(conn, table, frame, Months(start=start), tuple(offices))


def sum_changes(parts: list[pd.DataFrame], cols: list[str], start: date,
                last: date) -> pd.DataFrame:
    """The changes per office and month from `start` to `last`: counts as integers,
    amounts as floats."""
    rows = pd.concat([p[["office_id", "month", *cols]] for p in parts], ignore_index=True)
    rows["month"] = ts(rows["month"])
    rows = rows[(rows["month"] >= pd.Timestamp(start)) & (rows["month"] <= pd.Timestamp(last))]
    out = rows.groupby(["office_id", "month"], as_index=False)[cols].sum()
    for col in cols:
        if col.startswith(("open_cases", "live_orders")):
            out[col] = out[col].astype(np.int64)
        else:
            out[col] = out[col].astype(float)
    return out
