"""What an import found and did: a problem (row, column, value, message), the errors that
stop a file before or while it is read, and the report an import or a check returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

# progress(fraction 0..1, message), called as chunks go by
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Problem:
    row: int | None  # spreadsheet row number (header = 1); None for the whole file
    column: str
    value: str
    message: str


class ExtractError(Exception):
    """A problem with the whole file (unreadable, wrong columns): no row can be checked."""

    def __init__(self, message: str, row: int | None = None, column: str = "",
                 value: str = "") -> None:
        super().__init__(message)
        self.problem = Problem(row, column, value, message)


class HeaderError(Exception):
    """The header row cannot be used (a column unnamed, twice, unknown or missing)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.column}: {p.message}" for p in problems))
        self.problems = problems


class DatabaseChanged(Exception):
    """Rows valid in pass 1 became invalid before pass 2 (another change happened)."""


class ImportTooSlow(Exception):
    """The import ran past its wall-clock limit (ImportLimits.max_seconds)."""


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


def show_value(value: Any) -> str:
    """A cell value for a problems table: long values cut, with their length."""
    text = "" if value is None else str(value)
    if len(text) > 60:
        return f"{text[:60]}… ({len(text):,} characters)"
    return text


def quiet(_fraction: float, _message: str) -> None:
    """A progress callback that shows nothing."""
    return None
