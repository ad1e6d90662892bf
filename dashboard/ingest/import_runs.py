"""The import history (import_run): every attempt's outcome recorded, and runs whose
process was killed marked failed at the next start."""

from __future__ import annotations

import os
import re
import socket
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, insert, select, update

from dashboard.data import db
from dashboard.data.schema import import_run
from dashboard.ingest.limits import LIMITS, ImportLimits
from dashboard.ingest.report import ImportReport


def running_message() -> str:
    """The message of a running run: this process and host, for fail_abandoned_runs."""
    return f"Running in process {os.getpid()} on {socket.gethostname()[:64]}."


def start_run(conn: Connection, report: ImportReport, username: str,
              started_at: datetime) -> int:
    """Record the run as "running" before the file is read; returns its id."""
    return conn.execute(insert(import_run).values(
        table_name=report.table, file_name=report.file_name, file_sha256=report.file_sha256,
        username=username[:64], started_at=started_at, status="running", mode=report.mode,
        rows_read=0, inserted=0, updated=0, unchanged=0, rejected=0,
        message=running_message(),
    )).inserted_primary_key[0]


def record_outcome(target: Engine | Connection, report: ImportReport, started: float) -> None:
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
