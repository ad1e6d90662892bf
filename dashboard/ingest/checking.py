"""Pass 1 of an import: every row of the file checked, chunk by chunk (types, required
values, allowed values, lengths, dates in order, references, duplicates inside the file
and against stored unique values, the format's checks over the whole file). Problems go
to the staging file; nothing is written to the database."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine

from dashboard.ingest.chunks import Chunk, key_texts, parse_chunk
from dashboard.ingest.format_spec import ExtractFormat, Field
from dashboard.ingest.limits import ImportLimits
from dashboard.ingest.natural_keys import lookup
from dashboard.ingest.reading import Deadline, FileRows, header_and_batches
from dashboard.ingest.report import (
    ExtractError,
    HeaderError,
    ImportReport,
    ImportTooSlow,
    Problem,
    Progress,
    show_value,
)
from dashboard.ingest.staging import Staging

VALIDATE_SHARE = 0.45  # of the progress bar; planning.PLAN_END and writing.WRITE_END follow
PROBLEMS_PER_KIND = 20  # problems listed per kind (column and message); all are in the file


def check_rows(engine: Engine, fmt: ExtractFormat, path: Path, sheet: str | None,
               staging: Staging, report: ImportReport, say: Progress,
               chunk_rows: int, limits: ImportLimits, deadline: Deadline
               ) -> tuple[bool, int]:
    """Pass 1: every row checked, its problems staged, report.rows_read counted. A problem
    with the whole file (unreadable, beyond the bounds, a header we cannot use, too slow) is
    staged too. Returns (file-level problem?, header row number)."""
    try:
        rows = FileRows(path, fmt.table, sheet, limits, deadline)
    except ExtractError as exc:
        staging.add_problems([exc.problem])
        return True, 1
    try:
        header_row, header, batches = header_and_batches(rows, fmt, chunk_rows)
        unique = [f for f in fmt.fields if f.unique and f.name in header]
        key_kind = "+".join(fmt.natural_key)
        file_rows: list[pd.DataFrame] = []  # what the file checks read, chunk by chunk
        with engine.connect() as conn:
            for batch in batches:
                deadline.check()
                chunk = parse_chunk(conn, fmt, header, batch)
                if fmt.file_checks:
                    file_rows.append(_file_check_rows(fmt, chunk))
                report.rows_read += len(batch)
                for problems in chunk.problems:
                    staging.add_problems(problems)
                staging.add_keys(key_kind, key_texts(fmt, chunk, fmt.natural_key),
                                 chunk.rows)
                for f in unique:
                    staging.add_keys(f.name, key_texts(fmt, chunk, (f.name,)), chunk.rows)
                    _flag_taken(conn, fmt, f, chunk, staging)
                say(VALIDATE_SHARE * rows.fraction(),
                    f"Checked {report.rows_read:,} rows")
        if report.rows_read == 0:
            staging.add_problems([Problem(None, "", "", "The file has a header but no data "
                                          "rows.")])
            return True, header_row
        staging.flag_duplicates(fmt)
        if fmt.file_checks:
            with engine.connect() as conn:
                _run_file_checks(conn, fmt, file_rows, staging)
        return False, header_row
    except HeaderError as exc:
        staging.add_problems(exc.problems)
        return True, 1
    except ExtractError as exc:
        staging.add_problems([exc.problem])
        return True, 1
    except ImportTooSlow as exc:
        staging.add_problems([Problem(None, "", "", str(exc))])
        return True, 1
    finally:
        rows.close()


def _file_check_rows(fmt: ExtractFormat, chunk: Chunk) -> pd.DataFrame:
    """The columns the format's file checks read (parsed, and the cell texts as
    raw.<name>), with the row numbers; None where a column is not in the file."""
    names = sorted({c for check in fmt.file_checks for c in check.columns})
    frame = pd.DataFrame({"row": chunk.rows})
    for name in names:
        frame[name] = (chunk.values[name].to_numpy() if name in chunk.values
                       else None)
        frame[f"raw.{name}"] = (chunk.raw[name].to_numpy() if name in chunk.raw
                                else "")
    return frame


def _run_file_checks(conn: Connection, fmt: ExtractFormat, file_rows: list[pd.DataFrame],
                     staging: Staging) -> None:
    """Run the format's file checks over the rows without other problems (a rejected
    row is not written, so the rows it would have replaced stay as stored)."""
    rows = pd.concat(file_rows, ignore_index=True)
    bad = {r for (r,) in staging.db.execute("SELECT DISTINCT row FROM problem "
                                             "WHERE row IS NOT NULL")}
    rows = rows[~rows["row"].isin(bad)]
    for check in fmt.file_checks:
        problems = check.check(conn, rows)
        if len(problems):
            staging.add_problems(problems)


def _flag_taken(conn: Connection, fmt: ExtractFormat, f: Field, chunk: Chunk,
                staging: Staging) -> None:
    """A unique value (an office name) already held by another row of the table."""
    table = fmt.db_table
    key = fmt.natural_key[0]
    values = chunk.values[f.name]
    held = lookup(conn, fmt.table, f.db_column, values.dropna().tolist(), (key,))
    taken = values.map(lambda v: v in held) & (
        values.map(lambda v: held[v][key] if v in held else None)
        != chunk.values[key])
    if taken.any():
        idx = np.flatnonzero(taken.to_numpy())
        staging.add_problems([
            Problem(int(chunk.rows[i]), f.name, show_value(values.iloc[i]),
                    f"is already the {f.name} of {table.name} "
                    f"{held[values.iloc[i]][key]}") for i in idx])


def collect_problems(staging: Staging, report: ImportReport, header_row: int) -> None:
    """Counts, the capped list and the summary of pass 1's problems; the complete list
    goes to a CSV file when the capped list does not hold it all."""
    report.problem_count = staging.problem_count()
    if not report.problem_count:
        return
    report.problems = staging.first_problems(PROBLEMS_PER_KIND)
    report.problem_kinds = staging.kinds()
    report.rejected = staging.rejected_count(header_row)
    if len(report.problems) < report.problem_count:
        handle, name = tempfile.mkstemp(prefix=f"{report.table}-problems-", suffix=".csv")
        os.close(handle)
        report.problems_path = Path(name)
        staging.write_problems(report.problems_path, report.file_name)
