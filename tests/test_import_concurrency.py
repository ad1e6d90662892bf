"""Imports never lock users out (issue 20, item 6).

A 400,000-row import runs on the background import worker, the way the upload page runs
it, while five sessions keep signing in, reading and writing their audit rows (as pages
do). On SQLite (write-ahead log, busy timeout, the import's writes prepared outside the
one short write transaction) and on PostgreSQL: no request may fail.
"""

from __future__ import annotations

import shutil
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from dashboard.access import audit_log, auth
from dashboard.app import import_worker
from dashboard.commands.users import AddUser
from dashboard.data import db, schema
from tests.import_helpers import load_examples

ROWS = 400_000
SESSIONS = 5
PASSWORD = "Correct-Horse-Battery-42"


def _big_file(path):
    with open(path, "w") as fh:
        fh.write("appointment_ref,crn,appointment_date,outcome,enforcement_action\n")
        for i in range(ROWS):
            fh.write(f"BIG{i},X0010000001,2026-{1 + i % 10:02d}-{1 + i % 28:02d},"
                     f"{'kept' if i % 3 else 'failed'},false\n")
    return path


def _session(eng, username: str, stop: threading.Event, log: list) -> None:
    """Sign in, read like a page, write a view row like a page; again until stop."""
    while not stop.is_set():
        started = time.perf_counter()
        try:
            result = auth.authenticate_engine(eng, username, PASSWORD, datetime.now(UTC))
            assert result.ok, result.message
            with eng.connect() as conn:
                conn.execute(select(func.count()).select_from(schema.appointment)).scalar()
                conn.execute(select(schema.office.c.name)).all()
            db.write_retrying(eng, lambda conn: audit_log.record(
                conn, username, "view_person_rows", target="overview"))
            log.append(("ok", time.perf_counter() - started))
        except Exception as exc:  # noqa: BLE001 - every failure is counted, not raised here
            log.append((f"{type(exc).__name__}: {str(exc)[:200]}",
                        time.perf_counter() - started))
        stop.wait(0.3)  # a person reads the page before the next click


def _run(eng, tmp_path) -> dict:
    with eng.begin() as conn:
        for n in range(SESSIONS):
            AddUser(conn, f"reader{n}", f"Reader {n}", "chief_executive",
                    password=PASSWORD).run()
    folder = tmp_path / "upload"
    folder.mkdir()
    path = _big_file(folder / "big.csv")
    stop = threading.Event()
    log: list = []
    threads = [threading.Thread(target=_session, args=(eng, f"reader{n}", stop, log))
               for n in range(SESSIONS)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # sessions already busy when the import starts
    started = time.perf_counter()
    job = import_worker.submit(eng, path, "appointment", username="admin",
                               keep_valid=False, sheet=None, check_only=False)
    seen_writing = False
    while not job.done:
        seen_writing |= job.progress[1].startswith("Wrote")
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    time.sleep(0.5)  # and still busy just after it
    stop.set()
    for t in threads:
        t.join(timeout=120)
    failures = [m for m, _ in log if m != "ok"]
    slowest = max(s for _, s in log)
    assert job.failed is None, job.failed
    assert job.report.status == "succeeded" and job.report.inserted == ROWS
    with eng.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM appointment WHERE source_ref LIKE "
                                 "'BIG%'")).scalar() == ROWS
    assert seen_writing
    assert failures == [], failures[:5]
    assert len(log) >= 2 * SESSIONS, len(log)  # the sessions really ran during the import
    return {"requests": len(log), "failed": len(failures), "slowest_s": round(slowest, 2),
            "import_s": round(seconds, 1)}


def test_sign_ins_and_pages_go_on_during_a_large_import_on_sqlite(tmp_path):
    path = tmp_path / "live.sqlite"
    eng = db.make_engine(f"sqlite:///{path}")
    db.upgrade(eng)
    assert all(r.status == "succeeded" for r in load_examples(eng))
    outcome = _run(eng, tmp_path)
    print("sqlite", outcome)
    eng.dispose()
    shutil.rmtree(tmp_path / "upload", ignore_errors=True)


@pytest.mark.postgres
def test_sign_ins_and_pages_go_on_during_a_large_import_on_postgresql(new_pg_url, tmp_path):
    eng = db.make_engine(new_pg_url())
    db.upgrade(eng)
    assert all(r.status == "succeeded" for r in load_examples(eng))
    outcome = _run(eng, tmp_path)
    print("postgresql", outcome)
    eng.dispose()
