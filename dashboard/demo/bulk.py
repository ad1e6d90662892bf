"""Writing the demo rows: bulk inserts of frames (PostgreSQL COPY, SQLite executemany),
running primary keys, and small date helpers shared by the demo generators."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Date, Float, Integer, Table


def _column_values(column, values: pd.Series) -> list:
    """A column's values as the plain Python values SQLAlchemy would bind for its type:
    dates as ISO text, booleans, ints, floats, text; None for missing."""
    missing = values.isna().to_numpy()
    if isinstance(column.type, Date):
        if pd.api.types.is_datetime64_any_dtype(values):
            out = values.dt.strftime("%Y-%m-%d").to_numpy(dtype=object, copy=True)
        else:
            out = np.array([None if m else v.isoformat() for v, m in zip(values, missing,
                                                                         strict=True)],
                           dtype=object)
    elif isinstance(column.type, Boolean):
        out = np.array([None if m else bool(v) for v, m in zip(values, missing, strict=True)],
                       dtype=object)
    elif isinstance(column.type, Integer):
        if not missing.any():
            return values.astype(np.int64).tolist()
        out = np.array([None if m else int(v) for v, m in zip(values, missing, strict=True)],
                       dtype=object)
    elif isinstance(column.type, Float):
        out = values.astype(float).to_numpy(dtype=object, copy=True)
    else:
        out = values.astype(object).to_numpy(dtype=object, copy=True)
    if missing.any():
        out[missing] = None
    return out.tolist()


def _rows(table: Table, df: pd.DataFrame) -> list[tuple]:
    columns = [_column_values(table.c[name], df[name]) for name in df.columns]
    return list(zip(*columns, strict=True))


def insert_frame(conn, table: Table, df: pd.DataFrame, chunk: int = 100_000) -> int:
    """Bulk-insert a frame whose columns are table columns: PostgreSQL COPY, SQLite
    executemany on the driver (the values stored are those SQLAlchemy would store)."""
    if df.empty:
        return 0
    names = ", ".join(f'"{c}"' for c in df.columns)
    raw = conn.connection.driver_connection
    for start in range(0, len(df), chunk):
        rows = _rows(table, df.iloc[start:start + chunk])
        if conn.dialect.name == "postgresql":
            with raw.cursor() as cur, cur.copy(
                    f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in df.columns)
            raw.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', rows)
    return len(df)


class Ids:
    """Running primary keys, so rows can reference each other before they are written."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def take(self, table: str, n: int) -> np.ndarray:
        start = self.next.get(table, 1)
        self.next[table] = start + n
        return np.arange(start, start + n, dtype=np.int64)


def as_days(values: np.ndarray) -> np.ndarray:
    """Whole numbers of days as numpy timedelta64[D] values."""
    return np.asarray(values).astype("timedelta64[D]")


def first_date(values: pd.Series) -> date | None:
    """The earliest date in a column (None when empty)."""
    if values.empty:
        return None
    return pd.Timestamp(values.min()).date()
