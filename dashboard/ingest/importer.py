"""Validated import of case-management extracts (CSV or XLSX) into the dashboard's tables.

Two passes over the file, in chunks, so memory stays bounded whatever the file's size:

1. **Validate** every row: types, required values, allowed values, lengths (from the
   schema), dates in order, references to other tables (by natural key), duplicate keys
   inside the file. Problems go to a temporary SQLite file on disk, not to memory.
2. **Write**, only if pass 1 found nothing wrong (or the caller chose to keep the valid
   rows): one transaction inserts new rows and updates changed ones by natural key, then
   records the run, bumps ``data_version`` and moves ``data_as_of``. Any failure rolls the
   whole transaction back, so nothing stored is ever lost or half-replaced.

Every attempt is kept in ``import_run`` (user, time, file name, SHA-256, counts), including
rejected and failed ones. Row numbers count the header as row 1, as a spreadsheet does.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import logging
import math
import os
import pickle
import re
import socket
import sqlite3
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update

from dashboard.access import audit_log
from dashboard.core.spreadsheet_safe import SafeWriter, formula_like
from dashboard.core.workdays import calendar_rows
from dashboard.data import allocations, db, schema, summaries
from dashboard.data.schema import NATURAL_REF_COLUMNS, calendar_day, dataset_info, import_run
from dashboard.ingest.extract_formats import (
    GENERATED_REF_PREFIX,
    IGNORED_COLUMNS,
    LIMITS,
    ExtractFormat,
    Field,
    ImportLimits,
    get,
)

Progress = Callable[[float, str], None]
log = logging.getLogger("dashboard.ingest.importer")

CHUNK_ROWS = 20_000
IN_LIST = 5_000  # values per IN (...) list: well inside SQLite's and PostgreSQL's limits
MAX_PROBLEMS_SHOWN = 1_000
FIELD_SIZE_LIMIT = 10 * 1024 * 1024  # a CSV cell larger than this stops the read
FIRST_YEAR, LAST_YEAR = 1950, 2099  # plausible dates; also bounds the calendar table
VALIDATE_SHARE = 0.45  # of the progress bar; preparing the writes takes it to PLAN_END,
PLAN_END = 0.8  # writing them to WRITE_END
WRITE_END = 0.95
PROBLEMS_PER_KIND = 20  # problems listed per kind (column and message); all are in the file
TRUE = {"true", "t", "yes", "y", "1"}
FALSE = {"false", "f", "no", "n", "0"}
CODE_RE = r"^[A-Z0-9][A-Z0-9_-]*$"  # never a leading '-', which a spreadsheet would run
GENERATED_RE = re.compile(rf"^{re.escape(GENERATED_REF_PREFIX)}(\d{{1,18}})$")


class ExtractError(Exception):
    """A problem with the whole file (unreadable, wrong columns): no row can be checked."""

    def __init__(self, message: str, row: int | None = None, column: str = "",
                 value: str = "") -> None:
        super().__init__(message)
        self.problem = Problem(row, column, value, message)


class DatabaseChanged(Exception):
    """Rows valid in pass 1 became invalid before pass 2 (another change happened)."""


@dataclass(frozen=True)
class Problem:
    row: int | None  # spreadsheet row number (header = 1); None for the whole file
    column: str
    value: str
    message: str


@dataclass
class ImportReport:
    """What an import (or a validation) found and did."""

    table: str
    file_name: str
    file_sha256: str
    mode: str  # all_or_nothing | keep_valid
    status: str = "running"  # see schema.IMPORT_STATUSES; "valid"/"invalid" for checks
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[Problem] = field(default_factory=list)  # the first of each kind
    problem_count: int = 0
    # by kind (column and message): column, problem, example, count, first_rows
    problem_kinds: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["column", "problem", "example", "count", "first_rows"]))
    problems_path: Path | None = None  # every problem as CSV, when not all are listed
    rejects_path: Path | None = None
    run_id: int | None = None
    max_date: date | None = None
    seconds: float = 0.0
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.problem_count == 0 and self.status in ("succeeded", "valid")

    def problems_frame(self) -> pd.DataFrame:
        """Columns: file, row, column, value, problem (row blank for the whole file)."""
        return pd.DataFrame(
            {"file": [self.file_name] * len(self.problems),
             "row": pd.array([p.row for p in self.problems], dtype="Int64"),
             "column": [p.column for p in self.problems],
             "value": [p.value for p in self.problems],
             "problem": [p.message for p in self.problems]},
            columns=["file", "row", "column", "value", "problem"])

    def counts(self) -> dict[str, int]:
        return {"rows_read": self.rows_read, "inserted": self.inserted,
                "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected}

    def summary(self) -> str:
        """One line for the console or the page."""
        head = (f"{self.table}: {self.status}; {self.rows_read:,} rows read, "
                f"{self.inserted:,} inserted, {self.updated:,} updated, "
                f"{self.unchanged:,} unchanged, {self.rejected:,} rejected")
        if self.problem_count:
            head += f"; {self.problem_count:,} problem(s)"
        return head + (f" ({self.seconds:.1f} s)" if self.seconds else "")


# --- reading files --------------------------------------------------------------------

def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cell_text(value: Any) -> str:
    """An XLSX cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value).strip()


class ImportTooSlow(Exception):
    """The import ran past its wall-clock limit (ImportLimits.max_seconds)."""


class _Deadline:
    """The wall-clock limit of one import, checked as rows go by."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise ImportTooSlow(f"The import took longer than its limit of "
                                f"{self.seconds / 60:g} minutes and was stopped; nothing "
                                "was written. Split the file into smaller ones.")


def _check_workbook_zip(path: Path, limits: ImportLimits) -> None:
    """Refuse a workbook whose zip would unpack beyond the limits: read from the zip's
    directory, before any part is decompressed. zipfile never yields more than a part's
    declared size, so a part lying about its size cannot get past this either."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise ExtractError("The file is neither CSV text nor an XLSX workbook that can be "
                           "opened.") from None
    if len(parts) > limits.max_xlsx_parts:
        raise ExtractError(f"The workbook holds {len(parts):,} parts; at most "
                           f"{limits.max_xlsx_parts:,} are allowed.")
    total = sum(p.file_size for p in parts)
    mb = 1024 * 1024
    if total > limits.max_xlsx_uncompressed_bytes:
        raise ExtractError(f"The workbook unpacks to {total / mb:,.0f} MB; at most "
                           f"{limits.max_xlsx_uncompressed_bytes // mb} MB are allowed "
                           "(is it a compression bomb?).")
    for part in parts:
        if part.file_size > 1024 * 1024 and \
                part.file_size > limits.max_xlsx_ratio * max(part.compress_size, 1):
            raise ExtractError(f"The workbook part {part.filename[:60]} unpacks to "
                               f"{part.file_size / max(part.compress_size, 1):,.0f} times "
                               f"its size; at most {limits.max_xlsx_ratio} times is allowed "
                               "(is it a compression bomb?).")


def _size(n: int) -> str:
    """A byte count in words: '1,024 MB', '3 KB'."""
    return f"{n / 1048576:,.0f} MB" if n >= 1048576 else f"{max(n // 1024, 1):,} KB"


class _Rows:
    """The rows of a CSV or XLSX file as (row number, list of cell texts), header first.

    Every bound of ImportLimits is checked before or while reading, never after: the file
    size first, a workbook's zip directory and declared sheet size before any cell, each
    CSV line and cell as it is read, each row's position and width as it streams."""

    def __init__(self, path: Path, table: str, sheet: str | None = None,
                 limits: ImportLimits = LIMITS, deadline: _Deadline | None = None) -> None:
        self.path = Path(path)
        self.size = self.path.stat().st_size
        self.limits = limits
        self.deadline = deadline or _Deadline(limits.max_seconds)
        self._handle: Any = None
        self._fraction: Callable[[], float] = lambda: 0.0
        if self.size == 0:
            raise ExtractError("The file is empty (0 bytes).")
        if self.size > limits.max_file_bytes:
            raise ExtractError(f"The file is {_size(self.size)}; at most "
                               f"{_size(limits.max_file_bytes)} are allowed. Split it into "
                               "smaller files.")
        if zipfile.is_zipfile(self.path):
            _check_workbook_zip(self.path, limits)
            self._rows = self._xlsx(table, sheet)
        else:
            self._rows = self._csv()

    def fraction(self) -> float:
        """How far through the file the reader is, 0..1 (approximate)."""
        return min(1.0, self._fraction())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return self._bounded(self._rows)

    def _bounded(self, rows: Iterator[tuple[int, list[str]]]
                 ) -> Iterator[tuple[int, list[str]]]:
        limits = self.limits
        for number, cells in rows:
            if number > limits.max_rows + 1:
                raise ExtractError(f"The file has more than {limits.max_rows:,} data rows "
                                   "(the most one import takes). Split it into smaller "
                                   "files.", row=number)
            if len(cells) > limits.max_cells_per_row:
                raise ExtractError(f"Row {number} has {len(cells):,} values; at most "
                                   f"{limits.max_cells_per_row} are allowed in a row.",
                                   row=number)
            if number % 1000 == 0:
                self.deadline.check()
            yield number, cells

    def _csv(self) -> Iterator[tuple[int, list[str]]]:
        binary = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        self._handle = binary
        self._fraction = lambda: binary.tell() / self.size if not binary.closed else 1.0
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        return self._csv_rows(text)

    def _lines(self, text: io.TextIOWrapper, state: dict[str, int]
               ) -> Iterator[str]:
        """Physical lines, each read with a bound, so one endless line cannot fill memory."""
        limit = self.limits.max_line_chars
        while True:
            line = text.readline(limit + 1)
            if not line:
                return
            state["line"] += 1
            if len(line) > limit:
                raise ExtractError(f"Line {state['line']:,} of the file is longer than "
                                   f"{limit // (1024 * 1024)} MB, the most one line may "
                                   "hold; the file cannot be read.", row=state["record"] + 1)
            yield line

    def _csv_rows(self, text: io.TextIOWrapper) -> Iterator[tuple[int, list[str]]]:
        csv.field_size_limit(min(FIELD_SIZE_LIMIT, self.limits.max_cell_chars))
        state = {"line": 0, "record": 0}
        number = 0
        try:
            first = text.readline(self.limits.max_line_chars + 1)
            counts = {d: first.count(d) for d in (",", ";", "\t")}
            delimiter = max(counts, key=counts.get) if any(counts.values()) else ","
            text.seek(0)  # read the header again through the bounded reader
            # strict: a quote never closed or text after a closing quote is an error, not a
            # silent merge of the lines that follow
            reader = csv.reader(self._lines(text, state), delimiter=delimiter, strict=True)
            started = 1  # the physical line where the record being read begins
            for number, cells in enumerate(reader, start=1):
                state["record"] = number
                started = state["line"] + 1
                # a record spread over several physical lines holds a line break in a
                # quoted value: _convert flags it unless its column allows one
                yield number, [c.strip() for c in cells]
        except UnicodeDecodeError:
            raise ExtractError(f"The file is not UTF-8 text (the problem is at or after "
                               f"row {number + 1}). Save it from Excel as 'CSV UTF-8'.",
                               row=number + 1 if number else None) from None
        except csv.Error as exc:
            row = number + 1
            if "unexpected end of data" in str(exc):
                raise ExtractError(f"Row {row} (from line {started:,}) opens a quote that "
                                   "is never closed, so it would swallow every line after "
                                   "it; nothing after it was read. Close the quote or "
                                   "remove it.", row=row) from None
            raise ExtractError(f"Row {row} cannot be read as CSV (from line {started:,}): "
                               f"{exc}.", row=row) from None

    def _xlsx(self, table: str, sheet: str | None) -> Iterator[tuple[int, list[str]]]:
        from openpyxl import load_workbook
        from openpyxl.worksheet._reader import WorkSheetParser

        try:
            book = load_workbook(self.path, read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - any failure means "not a workbook we can read"
            raise ExtractError("The file is neither CSV text nor an XLSX workbook that "
                               "can be opened.") from None
        self._handle = book
        names = book.sheetnames
        if sheet is None:
            if table in names:
                sheet = table
            elif len(names) == 1:
                sheet = names[0]
            else:
                raise ExtractError(
                    f"The workbook has {len(names)} sheets ({', '.join(names)}) and none is "
                    f"called '{table}'. Name the sheet to import '{table}' or remove the "
                    "others.")
        if sheet not in names:
            raise ExtractError(f"The workbook has no sheet called '{sheet}' (it has "
                               f"{', '.join(names)}).")
        ws = book[sheet]
        limits = self.limits
        # the size the sheet declares (its <dimension>), read from its first bytes: a sheet
        # claiming a million rows by 16,384 columns is refused before any cell is parsed
        declared_rows, declared_columns = ws.max_row or 0, ws.max_column or 0
        if declared_rows > limits.max_rows + 1 or declared_columns > limits.max_cells_per_row:
            raise ExtractError(
                f"The sheet '{sheet}' declares {declared_rows:,} rows by "
                f"{declared_columns:,} columns; at most {limits.max_rows + 1:,} rows and "
                f"{limits.max_cells_per_row} columns are allowed (is it a dimension bomb?).")
        total = declared_rows
        state = {"row": 0}
        self._fraction = lambda: state["row"] / total if total else 0.0

        def rows() -> Iterator[tuple[int, list[str]]]:
            # openpyxl's own row iterator pads every row to the widest column and fills
            # every missing row: a cell at XFD1048576 would make 17 billion cells. The sheet
            # parser yields only the cells present, so the bounds apply before any padding.
            with ws._get_source() as source:
                parser = WorkSheetParser(source, ws._shared_strings, data_only=True,
                                         epoch=book.epoch, date_formats=book._date_formats,
                                         timedelta_formats=book._timedelta_formats)
                try:
                    yield from sheet_rows(parser)
                except (zipfile.BadZipFile, SyntaxError, EOFError, OSError) as exc:
                    # a part longer than its declared size ends in a CRC error; broken XML
                    # in a ParseError (a SyntaxError)
                    raise ExtractError(f"The sheet cannot be read after row {state['row']}: "
                                       "the workbook is damaged or not a real XLSX file "
                                       f"({type(exc).__name__}).") from None

        def sheet_rows(parser: Any) -> Iterator[tuple[int, list[str]]]:
            for number, cells in parser.parse():
                if number > limits.max_rows + 1:
                    raise ExtractError(f"The sheet has a row numbered {number:,}; at "
                                       f"most {limits.max_rows + 1:,} rows are allowed.",
                                       row=number)
                width = max((c["column"] for c in cells), default=0)
                if width > limits.max_cells_per_row:
                    raise ExtractError(f"Row {number} has a value in column {width:,}; "
                                       f"at most {limits.max_cells_per_row} columns are "
                                       "allowed.", row=number)
                state["row"] = number
                values = [""] * width
                for c in cells:
                    values[c["column"] - 1] = _cell_text(c["value"])
                yield number, values

        return rows()


def _normalise_header(name: str) -> str:
    return re.sub(r"\s+", "_", name.strip().lower())


def _check_header(fmt: ExtractFormat, cells: list[str], row: int) -> list[str]:
    """The header's column names, normalised; ExtractError for a header we cannot use."""
    header = [_normalise_header(c) for c in cells]
    while header and header[-1] == "":
        header.pop()
    problems = []
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if name == "":
            problems.append(Problem(row, f"column {position}", "", "has no name"))
        elif name in seen:
            problems.append(Problem(row, name, name, "appears twice in the header"))
        elif name not in fmt.names and name not in IGNORED_COLUMNS:
            close = difflib.get_close_matches(name, fmt.names, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(Problem(row, name, name, f"is not a column of the {fmt.table} "
                                    f"format{hint}"))
        seen.add(name)
    for name in fmt.required:
        if name not in seen:
            problems.append(Problem(row, name, "", "required column is missing"))
    if problems:
        raise _HeaderError(problems)
    return header


class _HeaderError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.column}: {p.message}" for p in problems))
        self.problems = problems


# --- parsing a chunk ------------------------------------------------------------------

def _show(value: Any) -> str:
    """A cell value for a problems table: long values cut, with their length."""
    text = "" if value is None else str(value)
    if len(text) > 60:
        return f"{text[:60]}… ({len(text):,} characters)"
    return text


@dataclass
class _Chunk:
    """One chunk of rows: raw cells, parsed values (our column names), problems."""

    rows: np.ndarray  # row numbers
    raw: pd.DataFrame  # cell texts by extract column, index 0..n-1
    values: pd.DataFrame = field(default_factory=pd.DataFrame)
    problems: list[pd.DataFrame] = field(default_factory=list)

    def flag(self, mask: pd.Series | np.ndarray, column: str, shown: pd.Series | str,
             message: pd.Series | str | Callable[[Any], str]) -> None:
        """Record a problem for each row in mask. message may be a function of the
        flagged cell's value, called only for flagged rows."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        if isinstance(shown, pd.Series):
            cells = shown.iloc[idx].tolist()
            value = [_show(v) for v in cells]
        else:
            cells = value = [shown] * len(idx)
        if callable(message):
            text = [message(v) for v in cells]
        elif isinstance(message, pd.Series):
            text = message.iloc[idx].to_numpy()
        else:
            text = message
        self.problems.append(pd.DataFrame({"row": self.rows[idx], "column": column,
                                           "value": value, "message": text}))


def _convert(chunk: _Chunk, f: Field) -> None:
    """Parse one column of the chunk into chunk.values[f.name]; flag bad cells."""
    s = chunk.raw[f.name].astype(str)
    blank = (s == "").to_numpy()
    out = pd.Series([None] * len(s), dtype=object)
    if f.required:
        chunk.flag(blank, f.name, "", "is required")
    nul = s.str.contains("\x00", regex=False).to_numpy()
    chunk.flag(nul, f.name, s, "contains a NUL character")
    present = ~blank & ~nul
    if not f.multiline:  # a quoted value spanning lines: flagged, never merged silently
        broken = present & s.str.contains(r"[\r\n]", regex=True).to_numpy()
        chunk.flag(broken, f.name, s, "contains a line break, which this column does not "
                   "allow (is a quote left open on the row before?)")
        present &= ~broken
    elif len(s):  # line breaks allowed, but not whole rows swallowed by an open quote
        separators = max(len(chunk.raw.columns) - 1, 1)
        swallowed = present & s.map(lambda v: _holds_rows(v, separators)).to_numpy(dtype=bool)
        chunk.flag(swallowed, f.name, s, "holds lines that look like rows of their own (a "
                   "quote left open?); the file's rows and lines disagree")
        present &= ~swallowed
    kind = f.kind
    if kind in ("text", "code", "list"):
        too_long = present & (s.str.len() > f.max_length).to_numpy()
        chunk.flag(too_long, f.name, s,
                   lambda v: f"is {len(v):,} characters long; at most {f.max_length} allowed")
        ok = present & ~too_long
        if kind == "text" and not f.allowed:  # free text: no spreadsheet formulas
            formula = present & s.map(formula_like).to_numpy(dtype=bool)
            chunk.flag(formula, f.name, s,
                       lambda v: f"starts with {v[:1]!r}, so a spreadsheet would run it as "
                       "a formula; remove the sign or put an apostrophe in front")
            ok &= ~formula
        text = s.str.upper() if kind == "code" else s
        if kind == "code":
            bad = ok & ~text.str.match(CODE_RE).to_numpy()
            chunk.flag(bad, f.name, s, "may hold only letters, digits, '-' and '_' (and "
                       "may not start with '-')")
            ok &= ~bad
        if kind == "list":
            out[:] = ""  # an empty list is stored as ""
            parsed = text[ok].map(lambda v: _parse_list(v, f.allowed))
            wrong = parsed.map(lambda p: isinstance(p, tuple))
            messages = pd.Series("", index=s.index, dtype=object)
            messages[parsed.index[wrong]] = [p[0] for p in parsed[wrong]]
            chunk.flag(_mask(len(s), parsed.index[wrong]), f.name, s, messages)
            out[parsed.index[~wrong]] = list(parsed[~wrong])
        elif f.allowed:
            canon = {v.lower(): v for v in f.allowed}
            mapped = text.str.lower().map(canon)
            bad = ok & mapped.isna().to_numpy()
            chunk.flag(bad, f.name, s, "is not one of: " + ", ".join(f.allowed))
            good = ok & ~bad
            out[good] = mapped[good]
        else:
            out[ok] = text[ok]
    elif kind in ("integer", "number"):
        numbers = pd.to_numeric(s.where(present, None), errors="coerce").astype(float)
        bad = present & ~np.isfinite(numbers.to_numpy(na_value=np.nan))
        if kind == "integer":
            bad |= present & ~bad & (numbers.round() != numbers).to_numpy()
            chunk.flag(bad, f.name, s, "is not a whole number")
        else:
            chunk.flag(bad, f.name, s, "is not a number")
        ok = present & ~bad
        for limit, test, words in ((f.minimum, lambda v, m: v < m, "at least"),
                                   (f.maximum, lambda v, m: v > m, "at most"),
                                   (f.above, lambda v, m: v <= m, "more than")):
            if limit is not None:
                out_of_range = ok & test(numbers, limit).to_numpy()
                chunk.flag(out_of_range, f.name, s, f"must be {words} {limit:g}")
                ok &= ~out_of_range
        cast = int if kind == "integer" else float
        out[ok] = [cast(v) for v in numbers[ok]]
    elif kind in ("date", "month"):
        parsed, bad_message = _parse_dates(s, present, month=kind == "month")
        bad = present & (bad_message != "").to_numpy()
        chunk.flag(bad, f.name, s, bad_message)
        ok = present & ~bad
        out[ok] = parsed[ok]
    elif kind == "boolean":
        lower = s.str.lower()
        value = [True if v in TRUE else False if v in FALSE else None for v in lower]
        bad = present & np.array([v is None for v in value], dtype=bool)
        chunk.flag(bad, f.name, s, "is not true or false")
        ok = present & ~bad
        out[ok] = [v for v, good in zip(value, ok, strict=True) if good]
    else:  # pragma: no cover - formats are data; a typo shows at once
        raise ValueError(f"unknown kind {kind!r}")
    chunk.values[f.name] = out


def _holds_rows(value: str, separators: int) -> bool:
    """True when a multi-line value has a later line with a row's worth of separators."""
    if "\n" not in value and "\r" not in value:
        return False
    return any(max(line.count(","), line.count(";"), line.count("\t")) >= separators
               for line in re.split(r"\r\n|\r|\n", value)[1:])


def _mask(n: int, index: pd.Index) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[np.asarray(index, dtype=int)] = True
    return mask


def _parse_list(value: str, allowed: tuple[str, ...] | None) -> str | tuple[str]:
    """A comma-separated list in canonical spelling, or (message,) for a bad item."""
    canon = {v.lower(): v for v in allowed or ()}
    items = [v.strip() for v in value.split(",") if v.strip()]
    out = []
    for item in items:
        if allowed and item.lower() not in canon:
            return (f"'{_show(item)}' is not one of: " + ", ".join(allowed),)
        out.append(canon.get(item.lower(), item))
    return ",".join(out)


def _parse_dates(s: pd.Series, present: np.ndarray, month: bool) -> tuple[pd.Series, pd.Series]:
    """(dates as datetime.date objects, message per row: "" when fine)."""
    formats = (["%Y-%m"] if month else []) + ["%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"]
    parsed = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    todo = pd.Series(present, index=s.index)
    for fmt in formats:
        if not todo.any():
            break
        attempt = pd.to_datetime(s[todo], format=fmt, errors="coerce")
        parsed[todo] = attempt
        todo &= parsed.isna()
    message = pd.Series("", index=s.index, dtype=object)
    form = "a month written YYYY-MM" if month else "a date written YYYY-MM-DD or DD/MM/YYYY"
    message[todo] = f"is not {form}"
    found = parsed.notna()
    has_time = found & (parsed != parsed.dt.normalize())
    message[has_time] = "has a time of day; give the date only"
    years = parsed.dt.year
    out_of_range = found & ((years < FIRST_YEAR) | (years > LAST_YEAR))
    message[out_of_range] = f"is outside the years {FIRST_YEAR} to {LAST_YEAR}"
    if month:
        message[found & (parsed.dt.day != 1) & (message == "")] = (
            "is not the first day of a month (write the month as YYYY-MM)")
    dates = pd.Series([None] * len(s), dtype=object, index=s.index)
    good = found & (message == "")
    dates[good] = parsed[good].dt.date
    return dates, message


# --- looking rows up by natural key ---------------------------------------------------

def _chunks(values: list, size: int = IN_LIST) -> Iterator[list]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _generated_ids(values: list[str]) -> dict[int, str]:
    out = {}
    for v in values:
        m = GENERATED_RE.match(v)
        if m:
            out[int(m.group(1))] = v
    return out


def lookup(conn: Connection, table_name: str, key: str, values: list,
           columns: tuple[str, ...] = ()) -> dict[Any, dict[str, Any]]:
    """Rows of table_name whose natural key column `key` is in values:
    {key value: {"id": id, column: value, ...}}. A source reference "dashboard-<id>"
    (as exported for a row stored without one) finds the row with that id."""
    table = schema.metadata.tables[table_name]
    cols = [table.c.id, table.c[key], *(table.c[c] for c in columns)]
    found: dict[Any, dict[str, Any]] = {}
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    for part in _chunks(distinct):
        for row in conn.execute(select(*cols).where(table.c[key].in_(part))).mappings():
            found[row[key]] = dict(row)
    if NATURAL_REF_COLUMNS.get(table_name) == key:
        generated = _generated_ids([v for v in distinct if v not in found])
        for part in _chunks(list(generated)):
            stmt = select(*cols).where(table.c.id.in_(part), table.c[key].is_(None))
            for row in conn.execute(stmt).mappings():
                found[generated[row["id"]]] = {**row, key: generated[row["id"]],
                                               "_generated": True}
    return found


def _resolve_references(conn: Connection, fmt: ExtractFormat, chunk: _Chunk) -> None:
    """Replace each reference column's natural key by our id; flag unknown keys."""
    for f in fmt.fields:
        ref = f.references
        if ref is None or f.name not in chunk.values:
            continue
        keys = chunk.values[f.name]
        known = lookup(conn, ref.table, ref.key, keys.dropna().tolist(), ref.fetch)
        ids = pd.Series([known[k]["id"] if k in known else None for k in keys],
                        index=keys.index, dtype=object)
        unknown = (keys.notna() & ids.isna()).to_numpy()
        chunk.flag(unknown, f.name, chunk.raw[f.name],
                   lambda v, r=ref: f"no {r.table.replace('_', ' ')} with {r.key} "
                   f"'{_show(v)}' is stored; load the {r.table} extract first")
        chunk.values[f.name] = ids
        for column in ref.fetch:
            chunk.values[f"{f.name}.{column}"] = pd.Series(
                [known[k][column] if k in known else None for k in keys],
                index=keys.index, dtype=object)


def _row_rules(fmt: ExtractFormat, chunk: _Chunk) -> None:
    v = chunk.values
    for rule in fmt.date_order:
        if rule.later not in v or rule.earlier not in v:
            continue
        later, earlier = v[rule.later], v[rule.earlier]
        both = later.notna() & earlier.notna()
        bad = both & pd.Series([a < b if ok else False for a, b, ok in
                                zip(later, earlier, both, strict=True)], index=v.index)
        shown = chunk.raw[rule.later].astype(str) + " < " + earlier.map(
            lambda d: d.isoformat() if d is not None else "")
        chunk.flag(bad.to_numpy(), rule.later, shown, rule.message)
    for check in fmt.row_checks:
        if not all(c in v for c in check.columns):
            continue
        complete = v[list(check.columns)].notna().all(axis=1)
        if not complete.any():
            continue
        bad = pd.Series(False, index=v.index)
        bad[complete] = check.bad(v.loc[complete, list(check.columns)]).to_numpy()
        shown = pd.DataFrame({c: chunk.raw[c] if c in chunk.raw else v[c].astype(str)
                              for c in check.columns}).agg(", ".join, axis=1)
        chunk.flag(bad.to_numpy(), check.report_on or "+".join(check.columns), shown,
                   check.message)


def _parse_chunk(conn: Connection, fmt: ExtractFormat, header: list[str],
                 batch: list[tuple[int, list[str]]]) -> _Chunk:
    width = len(header)
    rows = np.array([n for n, _ in batch], dtype=np.int64)
    cells = [c if len(c) == width else c[:width] + [""] * (width - len(c)) for _, c in batch]
    raw = pd.DataFrame(cells, columns=header, dtype=str) if cells else pd.DataFrame(
        columns=header, dtype=str)
    chunk = _Chunk(rows=rows, raw=raw, values=pd.DataFrame(index=raw.index))
    lengths = np.array([len(c) for _, c in batch])
    extra = np.array([any(x != "" for x in c[width:]) for _, c in batch], dtype=bool)
    chunk.flag(extra, "", pd.Series(lengths).astype(str) + " values",
               f"has more values than the header's {width} columns")
    short = lengths < width
    chunk.flag(short, "", pd.Series(lengths).astype(str) + " values",
               f"has fewer values than the header's {width} columns")
    for f in fmt.fields:
        if f.name in header:
            _convert(chunk, f)
    _resolve_references(conn, fmt, chunk)
    _row_rules(fmt, chunk)
    return chunk


def _key_texts(fmt: ExtractFormat, chunk: _Chunk, names: tuple[str, ...]) -> pd.Series:
    """The natural key of each row as one text (None when a part failed to parse)."""
    parts = []
    for name in names:
        if name in chunk.raw.columns:
            raw_ok = chunk.values[name].notna() | (chunk.raw[name] == "")
            text = chunk.values[name].map(lambda x: "" if x is None else str(x))
            if fmt.field(name).references is not None:  # compare the key as written
                text = chunk.raw[name].str.upper() if fmt.field(name).kind == "code" \
                    else chunk.raw[name]
            parts.append([t if ok else None for t, ok in zip(text, raw_ok, strict=True)])
        else:
            parts.append([""] * len(chunk.raw))
    joined = [None if any(p is None for p in key) else "\x1f".join(key)
              for key in zip(*parts, strict=True)]
    return pd.Series(joined, index=chunk.raw.index, dtype=object)


# --- the staging file (pass 1's findings, on disk) --------------------------------------

@lru_cache(maxsize=8192)  # messages repeat (a flood of one duplicate key): parse once
def problem_kind(message: str) -> str:
    """A problem's message with its particulars (quoted values, numbers) replaced by '…',
    so problems of one kind group together: 'is 5,000 characters long' -> 'is … long'."""
    return re.sub(r"'[^']*'|\d[\d,.]*", "…", message)


class _Staging:
    """A temporary SQLite file holding every problem and every key seen in pass 1, and
    the planned writes of pass 2 (so the database's write transaction stays short)."""

    def __init__(self) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="dashboard-import-")
        self.db = sqlite3.connect(os.path.join(self.dir.name, "staging.sqlite"))
        self.db.create_function("problem_kind", 1, problem_kind, deterministic=True)
        self.db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE problem (seq INTEGER PRIMARY KEY, row INTEGER, col TEXT,"
            " value TEXT, message TEXT, kind TEXT);"
            "CREATE TABLE seen (kind TEXT, key TEXT, row INTEGER);"
            "CREATE TABLE plan (seq INTEGER PRIMARY KEY, batch BLOB);")

    def add_problems(self, problems: list[Problem] | pd.DataFrame) -> None:
        if isinstance(problems, pd.DataFrame):
            rows = list(problems[["row", "column", "value", "message"]].itertuples(
                index=False, name=None))
            rows = [(int(r), c, v, m) for r, c, v, m in rows]
        else:
            rows = [(p.row, p.column, p.value, p.message) for p in problems]
        self.db.executemany("INSERT INTO problem (row, col, value, message, kind) VALUES "
                            "(?, ?, ?, ?, problem_kind(?4))", rows)

    def add_keys(self, kind: str, keys: pd.Series, rows: np.ndarray) -> None:
        mask = keys.notna().to_numpy()
        self.db.executemany("INSERT INTO seen VALUES (?, ?, ?)",
                            zip([kind] * int(mask.sum()), keys[mask], rows[mask].tolist(),
                                strict=True))

    def flag_duplicates(self, fmt: ExtractFormat) -> None:
        """One problem per row whose key (or unique value) another row repeats, naming at
        most five of the others: linear in the rows, however many share one key."""
        self.db.execute("CREATE INDEX seen_key ON seen (kind, key, row)")
        dup = self.db.execute(
            "SELECT s.kind, s.key, s.row FROM seen s JOIN (SELECT kind, key FROM seen "
            "GROUP BY kind, key HAVING COUNT(*) > 1) d ON d.kind = s.kind AND d.key = s.key "
            "ORDER BY s.kind, s.key, s.row")
        group: tuple[str, str] | None = None
        rows: list[int] = []
        out: list[Problem] = []

        def emit() -> None:
            kind, key = group
            shown = _show(key.replace("\x1f", ", "))
            what = "key" if kind == "+".join(fmt.natural_key) else "value"
            head = rows[:6]  # enough to name five others of any row
            for row in rows:
                others = [r for r in head if r != row][:5]
                more = len(rows) - 1 - len(others)
                listed = ", ".join(str(r) for r in others) + (
                    f" and {more:,} more" if more > 0 else "")
                out.append(Problem(row, kind, shown,
                                   f"duplicate {what} in the file: also on row(s) {listed}"))
            if len(out) >= 50_000:
                self.add_problems(out)
                out.clear()

        for kind, key, row in dup:
            if (kind, key) != group:
                if group is not None:
                    emit()
                group, rows = (kind, key), []
            rows.append(row)
        if group is not None:
            emit()
        self.add_problems(out)

    def problem_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM problem").fetchone()[0]

    def rejected_count(self, header_row: int) -> int:
        return self.db.execute("SELECT COUNT(DISTINCT row) FROM problem WHERE row > ?",
                               (header_row,)).fetchone()[0]

    def first_problems(self, per_kind: int, limit: int = MAX_PROBLEMS_SHOWN
                       ) -> list[Problem]:
        """The first per_kind problems of each kind (by column and kind), at most limit in
        all, whole-file problems first, then by row."""
        self.db.execute("CREATE INDEX IF NOT EXISTS problem_kind ON problem (col, kind, "
                        "row, seq)")
        cur = self.db.execute(
            "SELECT row, col, value, message FROM (SELECT *, ROW_NUMBER() OVER (PARTITION "
            "BY col, kind ORDER BY row IS NOT NULL, row, seq) AS n FROM problem) WHERE n <= ? "
            "ORDER BY row IS NOT NULL, row, seq LIMIT ?", (per_kind, limit))
        return [Problem(*r) for r in cur]

    def kinds(self) -> pd.DataFrame:
        """Columns: column, problem (the kind), count, rows (the first few row numbers)."""
        cur = self.db.execute(
            "SELECT col, kind, COUNT(*), MIN(message) FROM problem GROUP BY col, kind "
            "ORDER BY COUNT(*) DESC, col, kind")
        out = []
        for col, kind, count, example in cur:
            first = [r for (r,) in self.db.execute(
                "SELECT row FROM problem WHERE col = ? AND kind = ? AND row IS NOT NULL "
                "ORDER BY row LIMIT 5", (col, kind))]
            out.append({"column": col, "problem": kind, "example": example, "count": count,
                        "first_rows": ", ".join(str(r) for r in first)})
        return pd.DataFrame(out, columns=["column", "problem", "example", "count",
                                          "first_rows"])

    def write_problems(self, path: Path, file_name: str) -> None:
        """Every problem, streamed to a CSV file (file, row, column, value, problem)."""
        with open(path, "w", newline="", encoding="utf-8-sig") as fh:
            writer = SafeWriter(fh)
            writer.writerow(["file", "row", "column", "value", "problem"])
            cur = self.db.execute("SELECT row, col, value, message FROM problem "
                                  "ORDER BY row IS NOT NULL, row, seq")
            while batch := cur.fetchmany(10_000):
                writer.writerows((file_name, "" if r is None else r, c, v, m)
                                 for r, c, v, m in batch)

    def problems_between(self, first: int, last: int) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        cur = self.db.execute("SELECT row, col, message FROM problem WHERE row BETWEEN ? AND ? "
                              "ORDER BY row, seq", (first, last))
        for row, col, message in cur:
            out.setdefault(row, []).append(f"{col}: {message}" if col else message)
        return out

    def add_plan(self, batch: Any) -> None:
        """Keep one chunk's planned inserts and updates until the write transaction."""
        self.db.execute("INSERT INTO plan (batch) VALUES (?)",
                        (pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL),))

    def plans(self) -> Iterator[Any]:
        """The planned chunks in the order they were made (our own file, not user input)."""
        last = 0
        while True:
            row = self.db.execute("SELECT seq, batch FROM plan WHERE seq > ? ORDER BY seq "
                                  "LIMIT 1", (last,)).fetchone()
            if row is None:
                return
            last = row[0]
            yield pickle.loads(row[1])  # noqa: S301 - written by this process just before

    def close(self) -> None:
        self.db.close()
        self.dir.cleanup()


# --- the two passes -------------------------------------------------------------------

def _batches(rows: _Rows, fmt: ExtractFormat, chunk_rows: int
             ) -> tuple[int, list[str], Iterator[list[tuple[int, list[str]]]]]:
    """(header row number, header, batches of data rows); blank rows are skipped."""
    iterator = iter(rows)
    for number, cells in iterator:
        if any(cells):
            header = _check_header(fmt, cells, number)
            break
    else:
        raise ExtractError("The file has no header row and no data.")

    def batches() -> Iterator[list[tuple[int, list[str]]]]:
        batch: list[tuple[int, list[str]]] = []
        chars = 0  # a chunk is bounded by its text too, so huge cells cannot pile up
        for number, cells in iterator:
            if not any(cells):
                continue
            batch.append((number, cells))
            chars += sum(map(len, cells))
            if len(batch) >= chunk_rows or chars >= rows.limits.chunk_chars:
                yield batch
                batch, chars = [], 0
        if batch:
            yield batch

    return number, header, batches()


def _validate(engine: Engine, fmt: ExtractFormat, path: Path, sheet: str | None,
              staging: _Staging, report: ImportReport, say: Progress,
              chunk_rows: int, limits: ImportLimits, deadline: _Deadline
              ) -> tuple[bool, int]:
    """Pass 1. Returns (file-level problem?, header row number)."""
    try:
        rows = _Rows(path, fmt.table, sheet, limits, deadline)
    except ExtractError as exc:
        staging.add_problems([exc.problem])
        return True, 1
    try:
        header_row, header, batches = _batches(rows, fmt, chunk_rows)
        unique = [f for f in fmt.fields if f.unique and f.name in header]
        key_kind = "+".join(fmt.natural_key)
        file_rows: list[pd.DataFrame] = []  # what the file checks read, chunk by chunk
        with engine.connect() as conn:
            for batch in batches:
                deadline.check()
                chunk = _parse_chunk(conn, fmt, header, batch)
                if fmt.file_checks:
                    file_rows.append(_file_check_rows(fmt, chunk))
                report.rows_read += len(batch)
                for problems in chunk.problems:
                    staging.add_problems(problems)
                staging.add_keys(key_kind, _key_texts(fmt, chunk, fmt.natural_key),
                                 chunk.rows)
                for f in unique:
                    staging.add_keys(f.name, _key_texts(fmt, chunk, (f.name,)), chunk.rows)
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
    except _HeaderError as exc:
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


def _file_check_rows(fmt: ExtractFormat, chunk: _Chunk) -> pd.DataFrame:
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
                     staging: _Staging) -> None:
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


def _flag_taken(conn: Connection, fmt: ExtractFormat, f: Field, chunk: _Chunk,
                staging: _Staging) -> None:
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
            Problem(int(chunk.rows[i]), f.name, _show(values.iloc[i]),
                    f"is already the {f.name} of {table.name} "
                    f"{held[values.iloc[i]][key]}") for i in idx])


@dataclass
class Touched:
    """What the written rows touched, for the calendar and the monthly summaries."""

    months: set[date] = field(default_factory=set)  # months of changed rows' dates
    earliest: date | None = None  # over every date loaded, changed or not
    latest: date | None = None
    office_moved: bool = False  # a stored person or staff member changed office
    offices: set[int] = field(default_factory=set)  # office ids of changed rows, old and new
    people: set[int] = field(default_factory=set)  # person ids of changed rows

    def add_dates(self, values: list[Any], changed: bool = True) -> None:
        """Note a column of dates (None allowed) of rows that changed or not."""
        present = [v for v in values if v is not None]
        if not present:
            return
        lo, hi = min(present), max(present)
        self.earliest = lo if self.earliest is None else min(self.earliest, lo)
        self.latest = hi if self.latest is None else max(self.latest, hi)
        if changed:
            self.months.update(date(y, m, 1) for y, m in {(d.year, d.month) for d in present})


def _plan(engine: Engine, fmt: ExtractFormat, path: Path, sheet: str | None,
          staging: _Staging, report: ImportReport, say: Progress, chunk_rows: int,
          rejects: SafeWriter | None, limits: ImportLimits, deadline: _Deadline) -> Touched:
    """Pass 2, outside any write transaction: parse the valid rows again, match them to
    stored rows and keep the planned inserts and updates in the staging file (the rejected
    rows go to the rejects file). Readers and sign-ins are never held up by this part.
    Returns what the planned rows touch."""
    rows = _Rows(path, fmt.table, sheet, limits, deadline)
    touched = Touched()
    done = 0
    try:
        _, header, batches = _batches(rows, fmt, chunk_rows)
        kept = [i for i, name in enumerate(header) if name not in IGNORED_COLUMNS]
        if rejects is not None:
            rejects.writerow([*(header[i] for i in kept), *IGNORED_COLUMNS])
        with engine.connect() as conn:
            for batch in batches:
                deadline.check()
                problems = staging.problems_between(batch[0][0], batch[-1][0])
                if rejects is not None:
                    for number, cells in batch:
                        if number in problems:
                            padded = cells[:len(header)] + [""] * (len(header) - len(cells))
                            rejects.writerow([*(padded[i] for i in kept), number,
                                              "; ".join(problems[number])])
                valid = [(n, c) for n, c in batch if n not in problems]
                done += len(batch)
                if valid:
                    chunk = _parse_chunk(conn, fmt, header, valid)
                    if chunk.problems:
                        first = pd.concat(chunk.problems).iloc[0]
                        raise DatabaseChanged(
                            f"Row {first['row']} ({first['column']}) was valid when "
                            "checked but is not now: the database changed during the "
                            "import. Nothing was written; import the file again.")
                    inserts, updates, same = plan_chunk(conn, fmt, header, chunk, touched)
                    staging.add_plan((inserts, updates))
                    report.inserted += len(inserts)
                    report.updated += len(updates)
                    report.unchanged += same
                    for name in fmt.as_of_fields:
                        if name in chunk.values:
                            present = chunk.values[name].dropna()
                            if len(present):
                                top = present.max()
                                report.max_date = top if report.max_date is None else max(
                                    report.max_date, top)
                say(VALIDATE_SHARE + (PLAN_END - VALIDATE_SHARE) * rows.fraction(),
                    f"Prepared {done:,} of {report.rows_read:,} rows")
    finally:
        rows.close()
    return touched


def _apply(conn: Connection, fmt: ExtractFormat, staging: _Staging, report: ImportReport,
           say: Progress, deadline: _Deadline) -> None:
    """Inside the one write transaction: execute the planned inserts and updates."""
    written = 0
    total = report.inserted + report.updated
    for inserts, updates in staging.plans():
        deadline.check()
        write_chunk(conn, fmt, inserts, updates)
        written += len(inserts) + len(updates)
        say(PLAN_END + (WRITE_END - PLAN_END) * (written / total if total else 1.0),
            f"Wrote {written:,} of {total:,} changed rows")


def plan_chunk(conn: Connection, fmt: ExtractFormat, header: list[str], chunk: _Chunk,
               touched: Touched | None = None) -> tuple[list[dict], list[dict], int]:
    """The inserts (new natural keys) and updates (changed rows) of a parsed, valid chunk,
    matched by natural key against the stored rows: (insert rows, update rows, unchanged
    count). Notes the dates of changed rows (old and new values) in touched."""
    touched = touched if touched is not None else Touched()
    present = [f for f in fmt.fields if f.name in header]
    key_fields = [fmt.field(n) for n in fmt.natural_key]
    key_cols = [f.db_column for f in key_fields]
    data_cols = [f.db_column for f in present if f.name not in fmt.natural_key]
    v = chunk.values
    values = pd.DataFrame({f.db_column: v[f.name] if f.name in v else None
                           for f in [*key_fields, *present]})
    existing = _existing(conn, fmt, key_cols, data_cols, values)
    columns = {c: [_plain(x) for x in values[c].tolist()] for c in values.columns}
    keys = list(zip(*(columns[c] for c in key_cols), strict=True))
    written = list(dict.fromkeys(key_cols + data_cols))
    date_cols = [f.db_column for f in [*key_fields, *present]
                 if f.kind in ("date", "month")]
    # dates of the referenced rows (an answer's audit date): they date this row too
    parent_dates = [[_as_date(d) for d in v[c].tolist()] for c in v.columns
                    if "." in c and c.endswith("date")]
    inserts, updates, same = [], [], []
    old_dates: list[date | None] = []
    for position, key in enumerate(keys):
        stored = existing.get(key)
        if stored is None:
            inserts.append({c: columns[c][position] for c in written})
        elif all(_same(stored[c], columns[c][position]) for c in data_cols):
            same.append(position)
        else:
            updates.append({"_id": stored["id"],
                            **{f"v_{c}": columns[c][position] for c in data_cols}})
            old_dates += [_as_date(stored[c]) for c in date_cols]
            if "office_id" in data_cols and not _same(stored["office_id"],
                                                      columns["office_id"][position]):
                touched.office_moved = True
            if "office_id" in data_cols and stored.get("office_id") is not None:
                touched.offices.add(int(stored["office_id"]))
    same_set = set(same)
    for name, ids in (("office_id", touched.offices), ("person_id", touched.people)):
        if name in columns:  # the offices and people of rows inserted or changed
            ids.update(int(x) for i, x in enumerate(columns[name])
                       if x is not None and i not in same_set)
    for dates in [*(columns[c] for c in date_cols), *parent_dates]:
        touched.add_dates([d for i, d in enumerate(dates) if i not in same_set])
        touched.add_dates([dates[i] for i in same], changed=False)
    touched.add_dates(old_dates)
    return inserts, updates, len(same)


def write_chunk(conn: Connection, fmt: ExtractFormat, inserts: list[dict],
                updates: list[dict]) -> None:
    """Execute one chunk's planned inserts and updates (from plan_chunk)."""
    table = fmt.db_table
    for part in _chunks(inserts, 5_000):
        conn.execute(insert(table), part)
    if updates:
        columns = [k[2:] for k in updates[0] if k.startswith("v_")]
        stmt = (update(table).where(table.c.id == bindparam("_id"))
                .values({c: bindparam(f"v_{c}") for c in columns}))
        for part in _chunks(updates, 5_000):
            conn.execute(stmt, part)


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])


def _same(stored: Any, new: Any) -> bool:
    stored, new = _plain(stored), _plain(new)
    if isinstance(stored, datetime):
        stored = stored.date()
    if isinstance(stored, float) or isinstance(new, float):
        return stored is not None and new is not None and float(stored) == float(new)
    return stored == new


def _existing(conn: Connection, fmt: ExtractFormat, key_cols: list[str],
              data_cols: list[str], values: pd.DataFrame) -> dict[tuple, dict[str, Any]]:
    """Stored rows matching the chunk's natural keys: {key tuple: {"id", columns...}}."""
    table = fmt.db_table
    columns = [c for c in dict.fromkeys(key_cols + data_cols)]
    if len(key_cols) == 1:
        found = lookup(conn, fmt.table, key_cols[0], values[key_cols[0]].tolist(),
                       tuple(c for c in columns if c != key_cols[0]))
        return {(k,): row for k, row in found.items()}
    selector = key_cols[0]
    out = {}
    wanted = list(dict.fromkeys(values[selector].dropna().tolist()))
    cols = [table.c.id, *(table.c[c] for c in columns)]
    parts = list(_chunks(wanted)) if wanted else []
    if values[selector].isna().any():
        parts.append(None)
    for part in parts:
        cond = table.c[selector].is_(None) if part is None else table.c[selector].in_(part)
        for row in conn.execute(select(*cols).where(cond)).mappings():
            out[tuple(_plain(row[c]) for c in key_cols)] = dict(row)
    return out


# --- after the write: dataset facts and the calendar ----------------------------------

def _ensure_calendar(conn: Connection, earliest: date | None, latest: date | None) -> bool:
    """Make calendar_day cover every date loaded (whole years, one spare year ahead).
    Returns True when the calendar had to change."""
    if earliest is None or latest is None:
        return False
    first, last = date(earliest.year, 1, 1), date(latest.year + 1, 12, 31)
    have_first, have_last = conn.execute(
        select(func.min(calendar_day.c.day), func.max(calendar_day.c.day))).one()
    have_first, have_last = _as_date(have_first), _as_date(have_last)
    if have_first is not None and have_first <= first and have_last >= last:
        return False
    if have_first is not None:
        first, last = min(first, have_first), max(last, have_last)
    # renumbered from the new first day: queries only subtract two numbers, so the
    # differences (working days between two dates) stay the same
    conn.execute(delete(calendar_day))
    rows = calendar_rows(first, last)
    for part in _chunks(rows, 5_000):
        conn.execute(insert(calendar_day), part)
    return True


def _follow_allocations(conn: Connection, table: str, touched: Touched) -> None:
    """Keep people and their allocation history in step after a write: an allocation
    import sets each person's office and officer to their latest allocation; a people
    import gives new people an allocation and starts a new one (the day after the data's
    as-of date) for people whose office or officer changed."""
    if table == "case_allocation":
        allocations.sync_current(conn, touched.people)
    elif table == "person_on_probation":
        as_of = conn.execute(select(dataset_info.c.value)
                             .where(dataset_info.c.key == "data_as_of")).scalar()
        allocations.follow_person_import(conn, date.fromisoformat(as_of) + timedelta(days=1)
                                         if as_of else date.today())


def _refresh_summaries(conn: Connection, table: str, touched: Touched,
                       calendar_changed: bool) -> None:
    """Bring the monthly summary tables (dashboard.data.summaries) up to date with the rows
    just written, in the same transaction: the months touched, or everything when the
    calendar changed or a person or staff member moved office; for allocations, both
    offices' months from the earliest date changed."""
    state = summaries.coverage(conn)
    if table == "case_allocation" and not calendar_changed and touched.months and state:
        # an allocation moves every figure dated in it: both offices' months from the
        # earliest date changed to the last month summarised (none outside the months
        # summarised: those are read from the raw rows)
        first = max(min(touched.months), state[0])
        if first <= state[1]:
            summaries.refresh_months(conn, summaries.month_range(first, state[1]),
                                     touched.offices, tables=[table])
    elif calendar_changed or touched.office_moved or (table == "case_allocation"
                                                      and touched.months):
        summaries.refresh_all(conn)
    elif table in summaries.DEPENDS and touched.months:
        summaries.refresh_months(conn, touched.months, None, tables=[table])


def _set_facts(conn: Connection, report: ImportReport, changed: bool) -> None:
    """Move data_as_of to the latest date loaded (never past today) and bump
    data_version, so every cached figure is recomputed."""
    facts = dict(conn.execute(select(dataset_info.c.key, dataset_info.c.value)).all())
    new: dict[str, str] = {}
    if report.max_date is not None:
        latest = min(report.max_date, date.today())
        if "data_as_of" not in facts or latest > date.fromisoformat(facts["data_as_of"]):
            new["data_as_of"] = latest.isoformat()
    as_of = new.get("data_as_of", facts.get("data_as_of"))
    if as_of is None:  # nothing dated loaded yet: the dashboard has no figures to show
        return
    first = conn.execute(select(func.min(schema.appointment.c.appointment_date))).scalar()
    if first is None:
        first = conn.execute(select(func.min(schema.establishment.c.month))).scalar()
    start = (first or date.fromisoformat(as_of)).replace(day=1)
    if "history_start" in facts:
        start = min(start, date.fromisoformat(facts["history_start"]))
    start = min(start, date.fromisoformat(as_of).replace(day=1))
    if facts.get("history_start") != start.isoformat():
        new["history_start"] = start.isoformat()
    if changed or new or "data_version" not in facts:
        new["data_version"] = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    for key, value in new.items():
        if key in facts:
            conn.execute(update(dataset_info).where(dataset_info.c.key == key)
                         .values(value=value))
        else:
            conn.execute(insert(dataset_info).values(key=key, value=value))


# --- the public entry points ----------------------------------------------------------

def validate_file(engine: Engine, path: str | Path, table: str, *,
                  file_name: str | None = None, sheet: str | None = None,
                  progress: Progress | None = None,
                  chunk_rows: int = CHUNK_ROWS, limits: ImportLimits = LIMITS) -> ImportReport:
    """Check a file without writing anything (not even import history).

    report.status is "valid" or "invalid"; report.problems holds the first problems of
    each kind, report.problem_kinds a summary by kind, report.problem_count all of them
    and report.problems_path (when there are more than are listed) every one as CSV.
    """
    fmt = get(table)
    path = Path(path)
    report = ImportReport(fmt.table, file_name or path.name, file_sha256(path),
                          "all_or_nothing")
    started = time.perf_counter()
    staging = _Staging()
    try:
        _, header_row = _validate(engine, fmt, path, sheet, staging, report,
                                  progress or _quiet, chunk_rows, limits,
                                  _Deadline(limits.max_seconds))
        _collect(staging, report, header_row)
    finally:
        staging.close()
    report.status = "valid" if report.problem_count == 0 else "invalid"
    report.message = "Checked only; nothing was written."
    report.seconds = time.perf_counter() - started
    return report


def _collect(staging: _Staging, report: ImportReport, header_row: int) -> None:
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


def _quiet(_fraction: float, _message: str) -> None:
    return None


def _running_message() -> str:
    return f"Running in process {os.getpid()} on {socket.gethostname()[:64]}."


def public_message(exc: BaseException) -> str:
    """What a failed import says in its history and on the page: the kind of failure in
    plain words, never SQL or the values of a row (those go to the server log only)."""
    from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

    if isinstance(exc, DatabaseChanged | ImportTooSlow):
        return str(exc)
    if isinstance(exc, IntegrityError):
        return ("The database refused a row that was valid when checked: another import or "
                "an edit changed the same rows at the same time. Nothing was written; "
                "import the file again.")
    if isinstance(exc, OperationalError) and db.is_busy(exc):
        return ("The database stayed busy (another import or a long task was writing) and "
                "the import gave up. Nothing was written; import the file again.")
    if isinstance(exc, DBAPIError):
        return (f"The database failed during the import ({type(exc.orig).__name__}). "
                "Nothing was written; the details are in the server log.")
    return (f"The import failed ({type(exc).__name__}). Nothing was written; the details "
            "are in the server log.")


def import_file(engine: Engine, path: str | Path, table: str, *, username: str = "cli",
                keep_valid: bool = False, rejects_path: str | Path | None = None,
                file_name: str | None = None, sheet: str | None = None,
                progress: Progress | None = None,
                chunk_rows: int = CHUNK_ROWS, limits: ImportLimits = LIMITS) -> ImportReport:
    """Validate and load one extract into `table` (a name in extract_formats.FORMATS).

    All or nothing by default: a file with any problem writes nothing (status
    "rejected"). With keep_valid, the valid rows are loaded and the rejected ones written
    to rejects_path (default: a temporary file, in report.rejects_path) with their
    problems (status "partial"). Rows are matched by natural key: inserted, updated or
    left unchanged. progress(fraction 0..1, message) is called as chunks go by.

    Checking and preparing the writes happen outside any write transaction; then one
    short transaction writes every row, the summaries, the run's outcome and the audit
    row, so a crash or a kill at any moment leaves the tables as they were. The run is
    recorded in import_run whatever happens; an unexpected error marks it "failed" (in
    plain words, see public_message), rolls back every row and is raised again. A run
    whose process was killed is marked failed by fail_abandoned_runs at the next start.
    """
    fmt = get(table)
    path = Path(path)
    say = progress or _quiet
    mode = "keep_valid" if keep_valid else "all_or_nothing"
    report = ImportReport(fmt.table, (file_name or path.name)[:255], file_sha256(path), mode)
    started = time.perf_counter()
    deadline = _Deadline(limits.max_seconds)
    now = datetime.now(UTC)

    def start_run(conn: Connection) -> int:
        return conn.execute(insert(import_run).values(
            table_name=fmt.table, file_name=report.file_name, file_sha256=report.file_sha256,
            username=username[:64], started_at=now, status="running", mode=mode,
            rows_read=0, inserted=0, updated=0, unchanged=0, rejected=0,
            message=_running_message(),
        )).inserted_primary_key[0]

    report.run_id = db.write_retrying(engine, start_run)
    staging = _Staging()
    try:
        say(0.0, "Checking the file")
        fatal, header_row = _validate(engine, fmt, path, sheet, staging, report, say,
                                      chunk_rows, limits, deadline)
        _collect(staging, report, header_row)
        if fatal or (report.problem_count and not keep_valid):
            report.status = "rejected"
            report.message = ("Nothing was written: the file has problems."
                              if not fatal else "Nothing was written: the file cannot be "
                              "read as this table's format.")
            with engine.begin() as conn:  # the run and its audit row together
                _finish(conn, report, started)
                _log_run(conn, username, report)
            return report
        rejects_file = None
        writer = None
        if report.problem_count:
            if rejects_path is None:
                handle, name = tempfile.mkstemp(prefix=f"{fmt.table}-rejects-", suffix=".csv")
                os.close(handle)
                rejects_path = name
            report.rejects_path = Path(rejects_path)
            rejects_file = open(report.rejects_path, "w", newline="",  # noqa: SIM115
                                encoding="utf-8-sig")
            writer = SafeWriter(rejects_file)  # a hostile cell must not run in Excel
        try:
            touched = _plan(engine, fmt, path, sheet, staging, report, say, chunk_rows,
                            writer, limits, deadline)
        finally:
            if rejects_file is not None:
                rejects_file.close()
        say(PLAN_END, "Writing")
        with engine.begin() as conn:
            _apply(conn, fmt, staging, report, say, deadline)
            changed = report.inserted + report.updated > 0
            _set_facts(conn, report, changed)
            if changed:
                _follow_allocations(conn, fmt.table, touched)
                say(0.97, "Updating the monthly summaries")
                calendar_changed = _ensure_calendar(conn, touched.earliest, touched.latest)
                _refresh_summaries(conn, fmt.table, touched, calendar_changed)
            report.status = "succeeded" if not report.rejected else (
                "partial" if report.inserted + report.updated + report.unchanged
                else "rejected")
            report.message = _outcome(report)
            _finish(conn, report, started)
            _log_run(conn, username, report)
        say(1.0, "Done")
        return report
    except BaseException as exc:  # KeyboardInterrupt too: the run must not stay "running"
        log.exception("import run %s of %s into %s failed", report.run_id,
                      report.file_name, fmt.table)
        report.status = "failed"
        report.inserted = report.updated = report.unchanged = 0
        report.message = public_message(exc)
        try:  # retried while busy, so a run is never left "running" by a busy moment
            db.write_retrying(engine, lambda conn: (_finish(conn, report, started),
                                                    _log_run(conn, username, report)))
        except Exception:  # noqa: BLE001 - keep the original error, not this one
            log.exception("could not record the failed import run %s", report.run_id)
        raise
    finally:
        staging.close()


def fail_abandoned_runs(engine: Engine, limits: ImportLimits = LIMITS) -> int:
    """Mark failed every run still "running" whose process is gone: one started on this
    host by a process that no longer exists, or one older than the wall-clock limit (no
    live import runs that long). Call at start-up. Returns how many were marked."""
    host = socket.gethostname()[:64]
    oldest = datetime.now(UTC) - timedelta(seconds=limits.max_seconds + 600)
    with engine.connect() as conn:
        running = conn.execute(select(import_run.c.id, import_run.c.started_at,
                                      import_run.c.message)
                               .where(import_run.c.status == "running")).all()
    dead = []
    for run_id, started_at, message in running:
        started_at = started_at if started_at.tzinfo else started_at.replace(tzinfo=UTC)
        m = re.fullmatch(r"Running in process (\d+) on (.*)\.", message or "")
        if started_at < oldest or (m and m.group(2) == host and not _alive(int(m.group(1)))):
            dead.append(run_id)
    if dead:
        stmt = (update(import_run).where(import_run.c.id.in_(dead),
                                         import_run.c.status == "running")
                .values(status="failed", finished_at=datetime.now(UTC), inserted=0,
                        updated=0, unchanged=0,
                        message="The import stopped without finishing (its process ended "
                        "or was killed). Nothing from it was written."))
        db.write_retrying(engine, lambda conn: conn.execute(stmt))
    return len(dead)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _log_run(conn: Connection, username: str, report: ImportReport) -> None:
    """The import_run audit row, for every outcome (rejected and failed runs too)."""
    audit_log.record(conn, username, "import_run", target=report.file_name,
                     detail={"table": report.table, "run_id": report.run_id,
                             "status": report.status, "sha256": report.file_sha256,
                             **report.counts()})


def _outcome(report: ImportReport) -> str:
    if report.status == "succeeded":
        return "Imported."
    if report.status == "partial":
        return (f"Loaded the valid rows; {report.rejected:,} rejected row(s) are in the "
                "rejects file.")
    return "No row was valid; the rejected rows are in the rejects file."


def _finish(target: Engine | Connection, report: ImportReport, started: float) -> None:
    """Record the run's outcome: in the write transaction, or on its own (retried while
    the database is busy, so a run is never left "running" by a busy moment)."""
    report.seconds = time.perf_counter() - started
    stmt = (update(import_run).where(import_run.c.id == report.run_id).values(
        finished_at=datetime.now(UTC), status=report.status, max_date=report.max_date,
        message=report.message[:1000] or None, **report.counts()))
    if isinstance(target, Connection):
        target.execute(stmt)
    else:
        db.write_retrying(target, lambda conn: conn.execute(stmt))
