"""Importing a case-management extract (CSV or XLSX) into one table, as a command.

``ImportExtract(engine, path, table, ...)``: ``validate()`` raises a typed error for an
import that cannot start (UnknownTable, FileMissing) or a file refused before any row is
read (FileRefused: empty, too big, a workbook bomb, no such sheet, a header we cannot use);
``check()`` checks every row and writes nothing; ``run()`` imports.

Two passes over the file, in chunks, so memory stays bounded whatever the file's size:

1. **Check** every row (dashboard.ingest.checking): problems go to a temporary SQLite
   file on disk, not to memory.
2. **Plan**, only if pass 1 found nothing wrong (or the caller chose to keep the valid
   rows), outside any write transaction (dashboard.ingest.planning); then **write** in
   one short transaction (dashboard.ingest.writing) together with the run's outcome and
   its audit-log row. Any failure rolls the whole transaction back, so nothing stored is
   ever lost or half-replaced.

Every attempt is kept in ``import_run`` (user, time, file name, SHA-256, counts) with its
one ``import_run`` audit-log row, rejected and failed ones too. Row numbers count the
header as row 1, as a spreadsheet does.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine

from dashboard.access import audit_log
from dashboard.core.spreadsheet_safe import SafeWriter
from dashboard.data import db
from dashboard.ingest import import_runs, writing
from dashboard.ingest.checking import check_rows, collect_problems
from dashboard.ingest.extract_formats import FORMATS
from dashboard.ingest.format_spec import ExtractFormat
from dashboard.ingest.limits import LIMITS, ImportLimits
from dashboard.ingest.planning import PLAN_END, Touched, plan_writes
from dashboard.ingest.reading import CHUNK_ROWS, Deadline, file_sha256, refusals
from dashboard.ingest.report import (
    DatabaseChanged,
    ImportReport,
    ImportTooSlow,
    Problem,
    Progress,
    quiet,
)
from dashboard.ingest.staging import Staging

log = logging.getLogger("dashboard.commands.imports")


class ImportRefused(Exception):
    """The import cannot go ahead; nothing was written. str() is a plain message."""


class UnknownTable(ImportRefused):
    """No extract format has that table name."""

    def __init__(self, table: str) -> None:
        super().__init__(f"No extract format called {table!r}; choose one of: "
                         + ", ".join(FORMATS))


class FileMissing(ImportRefused):
    """The path names no file."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no file {path}")


class FileRefused(ImportRefused):
    """The file is refused before any row is read: .problems says why (empty, beyond the
    bounds, not a workbook that can be opened, no such sheet, a header we cannot use)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(" ".join(p.message if not p.column else f"{p.column}: {p.message}"
                                  for p in problems))
        self.problems = problems


class ImportExtract:
    """Import one extract into `table` (a name in extract_formats.FORMATS).

    All or nothing by default: a file with any problem writes nothing (status
    "rejected"). With keep_valid, the valid rows are loaded and the rejected ones written
    to rejects_path (default: a temporary file, in report.rejects_path) with their
    problems (status "partial"). Rows are matched by natural key: inserted, updated or
    left unchanged. progress(fraction 0..1, message) is called as chunks go by.
    """

    def __init__(self, engine: Engine, path: str | Path, table: str, *,
                 username: str = "cli", keep_valid: bool = False,
                 rejects_path: str | Path | None = None, file_name: str | None = None,
                 sheet: str | None = None, progress: Progress | None = None,
                 chunk_rows: int = CHUNK_ROWS, limits: ImportLimits = LIMITS) -> None:
        self.engine = engine
        self.path = Path(path)
        self.table = table
        self.username = username
        self.keep_valid = keep_valid
        self.rejects_path = rejects_path
        self.file_name = file_name
        self.sheet = sheet
        self.progress = progress or quiet
        self.chunk_rows = chunk_rows
        self.limits = limits

    @property
    def format(self) -> ExtractFormat:
        """The table's extract format; UnknownTable if it has none."""
        try:
            return FORMATS[self.table]
        except KeyError:
            raise UnknownTable(self.table) from None

    def validate(self) -> None:
        """Raise UnknownTable, FileMissing or FileRefused (a file refused by its size, its
        workbook's zip directory or sheet, or its header row) before anything is written.
        Reads at most the file's header row; never touches the database."""
        fmt = self.format
        if not self.path.is_file():
            raise FileMissing(self.path)
        if problems := refusals(self.path, fmt, self.sheet, self.limits):
            raise FileRefused(problems)

    def _check(self, fmt: ExtractFormat, staging: Staging, report: ImportReport,
               deadline: Deadline) -> tuple[bool, int]:
        """Pass 1, after validate(): (file-level problem?, header row number). A refused
        file is staged as the file's problem, as pass 1 stages one found later."""
        try:
            self.validate()
        except FileRefused as exc:
            staging.add_problems(exc.problems)
            return True, 1
        return check_rows(self.engine, fmt, self.path, self.sheet, staging, report,
                          self.progress, self.chunk_rows, self.limits, deadline)

    def check(self) -> ImportReport:
        """Check the file without writing anything (not even import history).

        report.status is "valid" or "invalid"; report.problems holds the first problems of
        each kind, report.problem_kinds a summary by kind, report.problem_count all of them
        and report.problems_path (when there are more than are listed) every one as CSV.
        Raises UnknownTable or FileMissing.
        """
        fmt = self.format
        if not self.path.is_file():
            raise FileMissing(self.path)
        report = ImportReport(fmt.table, self.file_name or self.path.name,
                              file_sha256(self.path), "all_or_nothing")
        started = time.perf_counter()
        staging = Staging()
        try:
            _, header_row = self._check(fmt, staging, report, Deadline(self.limits.max_seconds))
            collect_problems(staging, report, header_row)
        finally:
            staging.close()
        report.status = "valid" if report.problem_count == 0 else "invalid"
        report.message = "Checked only; nothing was written."
        report.seconds = time.perf_counter() - started
        return report

    def run(self) -> ImportReport:
        """Validate, check, plan and write; returns the report (status "succeeded",
        "partial" or "rejected"). Raises UnknownTable or FileMissing before anything is
        written; a refused file is a rejected run like any file with problems.

        Checking and preparing the writes happen outside any write transaction; then one
        short transaction writes every row, the summaries, the run's outcome and the audit
        row, so a crash or a kill at any moment leaves the tables as they were. The run is
        recorded in import_run whatever happens; an unexpected error marks it "failed" (in
        plain words, see public_message), rolls back every row and is raised again. A run
        whose process was killed is marked failed by fail_abandoned_runs at the next start.
        """
        fmt = self.format
        if not self.path.is_file():
            raise FileMissing(self.path)
        say = self.progress
        mode = "keep_valid" if self.keep_valid else "all_or_nothing"
        report = ImportReport(fmt.table, (self.file_name or self.path.name)[:255],
                              file_sha256(self.path), mode)
        started = time.perf_counter()
        deadline = Deadline(self.limits.max_seconds)
        now = datetime.now(UTC)
        report.run_id = db.write_retrying(
            self.engine, lambda conn: import_runs.start_run(conn, report, self.username, now))
        staging = Staging()
        try:
            say(0.0, "Checking the file")
            fatal, header_row = self._check(fmt, staging, report, deadline)
            collect_problems(staging, report, header_row)
            if fatal or (report.problem_count and not self.keep_valid):
                report.status = "rejected"
                report.message = ("Nothing was written: the file has problems."
                                  if not fatal else "Nothing was written: the file cannot be "
                                  "read as this table's format.")
                with self.engine.begin() as conn:  # the run and its audit row together
                    self._finish(conn, report, started)
                return report
            touched = self._plan(fmt, staging, report, deadline)
            say(PLAN_END, "Writing")
            with self.engine.begin() as conn:
                writing.write_planned(conn, fmt, staging, report, touched, say, deadline)
                report.status = "succeeded" if not report.rejected else (
                    "partial" if report.inserted + report.updated + report.unchanged
                    else "rejected")
                report.message = _outcome(report)
                self._finish(conn, report, started)
            say(1.0, "Done")
            return report
        except BaseException as exc:  # KeyboardInterrupt too: the run must not stay "running"
            log.exception("import run %s of %s into %s failed", report.run_id,
                          report.file_name, fmt.table)
            report.status = "failed"
            report.inserted = report.updated = report.unchanged = 0
            report.message = public_message(exc)
            try:  # retried while busy, so a run is never left "running" by a busy moment
                db.write_retrying(self.engine, lambda conn: self._finish(conn, report, started))
            except Exception:  # noqa: BLE001 - keep the original error, not this one
                log.exception("could not record the failed import run %s", report.run_id)
            raise
        finally:
            staging.close()

    def _plan(self, fmt: ExtractFormat, staging: Staging, report: ImportReport,
              deadline: Deadline) -> Touched:
        """Pass 2, with the rejected rows written to the rejects file (keep_valid)."""
        rejects_file = None
        writer = None
        if report.problem_count:
            rejects_path = self.rejects_path
            if rejects_path is None:
                handle, rejects_path = tempfile.mkstemp(prefix=f"{fmt.table}-rejects-",
                                                        suffix=".csv")
                os.close(handle)
            report.rejects_path = Path(rejects_path)
            rejects_file = open(report.rejects_path, "w", newline="",  # noqa: SIM115
                                encoding="utf-8-sig")
            writer = SafeWriter(rejects_file)  # a hostile cell must not run in Excel
        try:
            return plan_writes(self.engine, fmt, self.path, self.sheet, staging, report,
                               self.progress, self.chunk_rows, writer, self.limits, deadline)
        finally:
            if rejects_file is not None:
                rejects_file.close()

    def _finish(self, conn: Connection, report: ImportReport, started: float) -> None:
        """The run's outcome and its one import_run audit row, in conn's transaction."""
        import_runs.record_outcome(conn, report, started)
        audit_log.record(conn, self.username, "import_run", target=report.file_name,
                         detail={"table": report.table, "run_id": report.run_id,
                                 "status": report.status, "sha256": report.file_sha256,
                                 **report.counts()})


def import_file(engine: Engine, path: str | Path, table: str, **options) -> ImportReport:
    """ImportExtract(engine, path, table, **options).run(): the report of one import."""
    return ImportExtract(engine, path, table, **options).run()


def _outcome(report: ImportReport) -> str:
    if report.status == "succeeded":
        return "Imported."
    if report.status == "partial":
        return (f"Loaded the valid rows; {report.rejected:,} rejected row(s) are in the "
                "rejects file.")
    return "No row was valid; the rejected rows are in the rejects file."


def public_message(exc: BaseException) -> str:
    """What a failed import says in its history and on the page: the kind of failure in
    plain words, never SQL or the values of a row (those go to the server log only)."""
    from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

    if isinstance(exc, DatabaseChanged | ImportTooSlow | ImportRefused):
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
