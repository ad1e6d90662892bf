"""The rows of a CSV or XLSX extract, read within the bounds of ImportLimits: the file size
first, a workbook's zip directory and declared sheet size before any cell, each CSV line
and cell as it is read, each row's position and width as it streams, and the wall clock.
Row numbers count the header as row 1, as a spreadsheet does."""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dashboard.ingest.format_spec import IGNORED_COLUMNS, ExtractFormat
from dashboard.ingest.limits import LIMITS, ImportLimits
from dashboard.ingest.report import ExtractError, HeaderError, ImportTooSlow, Problem

CHUNK_ROWS = 20_000
FIELD_SIZE_LIMIT = 10 * 1024 * 1024  # a CSV cell larger than this stops the read


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


class Deadline:
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


class FileRows:
    """The rows of a CSV or XLSX file as (row number, list of cell texts), header first.

    Every bound of ImportLimits is checked before or while reading, never after: the file
    size first, a workbook's zip directory and declared sheet size before any cell, each
    CSV line and cell as it is read, each row's position and width as it streams."""

    def __init__(self, path: Path, table: str, sheet: str | None = None,
                 limits: ImportLimits = LIMITS, deadline: Deadline | None = None) -> None:
        self.path = Path(path)
        self.size = self.path.stat().st_size
        self.limits = limits
        self.deadline = deadline or Deadline(limits.max_seconds)
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
                # quoted value: chunks.parse_chunk flags it unless its column allows one
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


def check_header(fmt: ExtractFormat, cells: list[str], row: int) -> list[str]:
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
        raise HeaderError(problems)
    return header


def header_and_batches(rows: FileRows, fmt: ExtractFormat, chunk_rows: int
                       ) -> tuple[int, list[str], Iterator[list[tuple[int, list[str]]]]]:
    """(header row number, header, batches of data rows); blank rows are skipped."""
    iterator = iter(rows)
    for number, cells in iterator:
        if any(cells):
            header = check_header(fmt, cells, number)
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


def refusals(path: Path, fmt: ExtractFormat, sheet: str | None = None,
             limits: ImportLimits = LIMITS) -> list[Problem]:
    """The problems that refuse the file before any data row is read: empty or too big,
    a workbook beyond the bounds, damaged or without the sheet, no header or a header we
    cannot use. An empty list when the file can be read row by row."""
    rows = None
    try:
        rows = FileRows(path, fmt.table, sheet, limits, Deadline(limits.max_seconds))
        header_and_batches(rows, fmt, CHUNK_ROWS)
    except ExtractError as exc:
        return [exc.problem]
    except HeaderError as exc:
        return exc.problems
    finally:
        if rows is not None:
            rows.close()
    return []
