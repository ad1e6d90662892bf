"""Imports run on a background worker thread, so the upload page (and every other user's
page) keeps answering while a large file is checked and written. The worker runs the
import command (dashboard.commands.imports) and maps its errors to a plain reason; it lives
in app/ because it serves the web server's pages (one worker per server process, polled by
the upload page), above the commands it runs; the command line runs the command directly.

One worker per server process: imports run one after another, never two at once, so two
administrators loading files cannot fight over the database's write lock. The page submits
a job and polls ``Job.progress`` (fraction, message) until ``Job.done``; the job keeps its
report, its rejects and problems files' bytes, or the plain reason it failed. No streamlit
here: the page draws, this module only runs.
"""

from __future__ import annotations

import logging
import shutil
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from dashboard.commands.imports import ImportExtract, public_message
from dashboard.ingest.report import ImportReport

log = logging.getLogger("dashboard.app.import_worker")
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-worker")
_JOBS: dict[str, Job] = {}
_LOCK = threading.Lock()
KEEP_JOBS = 50  # finished jobs kept for their pages to collect


@dataclass
class Job:
    """One import or check submitted by a user; updated by the worker thread."""

    job_id: str
    username: str
    file_name: str
    table: str
    check_only: bool
    fraction: float = 0.0
    message: str = "Waiting for the import before it to finish"
    done: bool = False
    report: ImportReport | None = None
    rejects: bytes | None = None
    problems: bytes | None = None  # every problem as CSV, when not all are listed
    failed: str | None = None  # a plain reason, never SQL or row values
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, fraction: float, message: str) -> None:
        """The import's progress callback."""
        with self._lock:
            self.fraction = min(max(fraction, 0.0), 1.0)
            self.message = message

    @property
    def progress(self) -> tuple[float, str]:
        """(fraction 0..1, message) as last reported."""
        with self._lock:
            return self.fraction, self.message


def submit(engine: Engine, path: Path, table: str, *, username: str, keep_valid: bool,
           sheet: str | None, check_only: bool) -> Job:
    """Queue an import (or a check) of the file at path, which the job owns and deletes
    with its folder when done. Returns the job at once."""
    job = Job(uuid.uuid4().hex, username, path.name, table, check_only)
    with _LOCK:
        _JOBS[job.job_id] = job
        finished = [k for k, j in _JOBS.items() if j.done]
        for key in finished[:-KEEP_JOBS]:
            del _JOBS[key]
    _EXECUTOR.submit(_run, job, engine, path, keep_valid, sheet)
    return job


def get(job_id: str | None) -> Job | None:
    """The job with that id, if this process still has it."""
    with _LOCK:
        return _JOBS.get(job_id) if job_id else None


def _run(job: Job, engine: Engine, path: Path, keep_valid: bool, sheet: str | None) -> None:
    try:
        command = ImportExtract(
            engine, path, job.table, username=job.username, keep_valid=keep_valid,
            file_name=path.name, sheet=sheet, progress=job.update,
            rejects_path=path.with_suffix(".rejects.csv"))
        report = command.check() if job.check_only else command.run()
        if report.rejects_path and report.rejects_path.exists():
            job.rejects = report.rejects_path.read_bytes()
        if report.problems_path and report.problems_path.exists():
            job.problems = report.problems_path.read_bytes()
            report.problems_path.unlink()
        job.report = report
    except BaseException as exc:  # recorded as failed and rolled back by the command
        log.exception("import of %s into %s failed", path.name, job.table)
        job.failed = public_message(exc)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
        job.update(1.0, "Done")
        job.done = True
