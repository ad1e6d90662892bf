"""Export our tables as CSV extracts in the documented formats (extract_formats).

What comes out can be imported again unchanged: natural keys instead of ids, references to
other tables by their natural keys, dates as YYYY-MM-DD, months as YYYY-MM, booleans as
true/false; a text cell a spreadsheet would run as a formula is written with an apostrophe
in front (dashboard.core.spreadsheet_safe). A row stored without a source reference is given
"dashboard-<id>", which the importer matches back to the same row. Rows are streamed,
never all held in memory.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Connection, Engine, Select, String, cast, func, literal, select

from dashboard.core.spreadsheet_safe import neutralise
from dashboard.data import schema
from dashboard.data.schema import NATURAL_REF_COLUMNS
from dashboard.ingest.extract_formats import FORMATS, LOAD_ORDER, get
from dashboard.ingest.format_spec import GENERATED_REF_PREFIX


def _with_generated(table, column: str):
    """The stored reference, or "dashboard-<id>" when there is none."""
    return func.coalesce(table.c[column],
                         literal(GENERATED_REF_PREFIX, String) + cast(table.c.id, String))


def export_select(table_name: str) -> Select:
    """The SELECT that yields table_name's rows in its extract format, oldest id first
    (allocations: by person and start date);
    its columns are labelled with the extract's column names."""
    fmt = get(table_name)
    t = fmt.db_table
    columns = []
    joined = t
    for f in fmt.fields:
        ref = f.references
        if ref is not None:
            parent = schema.metadata.tables[ref.table].alias(f"ref_{f.name}")
            joined = joined.outerjoin(parent, parent.c.id == t.c[ref.id_column])
            if NATURAL_REF_COLUMNS.get(ref.table) == ref.key:
                expr = _with_generated(parent, ref.key)
            else:
                expr = parent.c[ref.key]
        elif f.name == fmt.ref_field:
            expr = _with_generated(t, f.db_column)
        else:
            expr = t.c[f.db_column]
        columns.append(expr.label(f.name))
    # allocations by person and date: an import gives each new person an allocation
    # before the allocation extract arrives, so ids need not follow the history's order
    order = ([t.c.person_id, t.c.start_date] if table_name == "case_allocation"
             else [t.c.id])
    return select(*columns).select_from(joined).order_by(*order)


def _text(value: Any, kind: str) -> str:
    if kind in ("text", "code", "list"):  # a stored '=HYPERLINK(…)' must not run in Excel
        return neutralise("" if value is None else str(value))
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.strftime("%Y-%m") if kind == "month" else value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def export_table(conn: Connection, table_name: str, out: TextIO) -> int:
    """Write table_name as CSV (header + rows) to out; returns the number of rows."""
    fmt = get(table_name)
    kinds = [f.kind for f in fmt.fields]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fmt.names)
    rows = 0
    result = conn.execution_options(yield_per=10_000).execute(export_select(table_name))
    for partition in result.partitions():
        writer.writerows([_text(v, k) for v, k in zip(row, kinds, strict=True)]
                         for row in partition)
        rows += len(partition)
    return rows


def export_all(engine: Engine, directory: Path, tables: Iterable[str] = LOAD_ORDER
               ) -> dict[str, tuple[Path, int]]:
    """Write <directory>/<table>.csv for each table; {table: (path, rows)}."""
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    with engine.connect() as conn:
        for table in tables:
            path = directory / f"{table}.csv"
            with open(path, "w", newline="", encoding="utf-8") as fh:
                out[table] = (path, export_table(conn, table, fh))
    return out


def export_zip(engine: Engine, tables: Iterable[str] = LOAD_ORDER) -> bytes:
    """Every table's extract in one ZIP file (for the admin download)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, engine.connect() as conn:
        for table in tables:
            with archive.open(f"{table}.csv", "w") as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                export_table(conn, table, text)
                text.flush()
                text.detach()
    return buffer.getvalue()


def example_csv(table_name: str) -> str:
    """The example file of a table (examples/<table>.csv) as text."""
    fmt = get(table_name)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fmt.names), lineterminator="\n")
    writer.writeheader()
    writer.writerows(fmt.examples)
    return out.getvalue()


def write_examples(directory: Path) -> list[Path]:
    """Write one small valid example file per table; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for table in FORMATS:
        path = directory / f"{table}.csv"
        path.write_text(example_csv(table), encoding="utf-8")
        paths.append(path)
    return paths
