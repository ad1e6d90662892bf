"""Query results as typed frames: the documented columns with fixed dtypes, rows or not.

Under pandas 3 an empty ``read_sql`` result has text-typed columns, so a page that adds
up numeric columns (``sum(numeric_only=True)``) silently loses them and then fails on a
quiet office-month. Every query in this package reads through `read_frame`, so pages
never special-case emptiness: the column types come from the statement's SQL types.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Connection, Date, DateTime, Float, Integer, Numeric, String
from sqlalchemy.sql.type_api import TypeEngine

TEXT = pd.StringDtype(na_value=np.nan)  # pandas 3's default "str" dtype


def dtype_of(sql_type: TypeEngine) -> object:
    """The pandas dtype a column of this SQL type gets in an empty result.

    Counts (INTEGER) are int64; amounts, rates and untyped expressions (literal zeros,
    COALESCE of a sum) float64; text the string dtype; dates stay Python objects, as
    SQLAlchemy returns them.
    """
    if isinstance(sql_type, Boolean):
        return "bool"
    if isinstance(sql_type, Integer):
        return "int64"
    if isinstance(sql_type, (Float, Numeric)):
        return "float64"
    if isinstance(sql_type, String):
        return TEXT
    if isinstance(sql_type, (Date, DateTime)):
        return "object"
    return "float64"


def _numeric(dtype: object) -> bool:
    return dtype in ("int64", "float64")


def read_frame(stmt, conn: Connection) -> pd.DataFrame:
    """Run a SQLAlchemy Core select and return its rows as a DataFrame whose columns are
    the statement's labels, typed from their SQL types when there are no rows.

    With rows, a numeric column that came back as objects (every value NULL) is made
    numeric too, so arithmetic on it works the same as on a filled one.
    """
    df = pd.read_sql(stmt, conn)
    types = {c.key: dtype_of(c.type) for c in stmt.selected_columns}
    if df.empty:
        return pd.DataFrame({name: pd.Series(dtype=types.get(name, "float64"))
                             for name in list(df.columns) or list(types)})
    for name, dtype in types.items():
        if name in df.columns and _numeric(dtype) and df[name].dtype == object:
            df[name] = pd.to_numeric(df[name], errors="coerce")
    return df
