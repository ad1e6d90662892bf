"""What the import tests share: a database holding exactly the example extracts (and a
private copy per test), files and workbooks written for a test, every row of every table
before and after, the import history, the audit log, and the check that a report names
the expected problems."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from openpyxl import Workbook
from sqlalchemy import inspect, text

from dashboard.commands.imports import import_file
from dashboard.core.config import PROJECT_ROOT
from dashboard.data import db
from dashboard.ingest import extract_formats
from dashboard.ingest.report import ImportReport

EXAMPLES = PROJECT_ROOT / "examples"
APPT_HEADER = "appointment_ref,crn,appointment_date,outcome,enforcement_action\n"


def load_examples(engine) -> list[ImportReport]:
    return [import_file(engine, EXAMPLES / f"{t}.csv", t, username="tester")
            for t in extract_formats.LOAD_ORDER]


def snapshot(engine, skip: tuple[str, ...] = ("import_run", "audit_log")) -> dict[str, list]:
    """Every row of every table (but `skip`), in a stable order. The import history and
    the audit log record every attempt, rejected and failed ones too (issue 20)."""
    out = {}
    with engine.connect() as conn:
        for name in sorted(inspect(conn).get_table_names()):
            if name not in skip:
                rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()
                out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def runs(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(
            "SELECT * FROM import_run ORDER BY id")).mappings()]


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def audit_rows(eng) -> list[dict]:
    with eng.connect() as conn:
        return [dict(r) for r in conn.execute(text(
            "SELECT action, target, detail FROM audit_log ORDER BY id")).mappings()]


def last_import_audit(engine) -> tuple:
    """(user, file, status, run id) of the newest import_run row in the audit log."""
    with engine.connect() as conn:
        row = conn.execute(text("SELECT username, target, detail FROM audit_log WHERE "
                                "action = 'import_run' ORDER BY id DESC LIMIT 1")).one()
    detail = json.loads(row.detail)
    return row.username, row.target, detail["status"], detail["run_id"]


@pytest.fixture(scope="module")
def example_db(tmp_path_factory):
    """A SQLite file holding exactly the example extracts (examples/*.csv)."""
    path = tmp_path_factory.mktemp("importer") / "examples.sqlite"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    reports = load_examples(engine)
    assert [r.status for r in reports] == ["succeeded"] * len(reports), [
        r.problems for r in reports]
    engine.dispose()
    return path


@pytest.fixture
def engine(example_db, tmp_path):
    """A private copy of the example database, so a test may write to it."""
    path = tmp_path / "copy.sqlite"
    shutil.copy(example_db, path)
    eng = db.make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


def write(tmp_path, name: str, content: bytes | str) -> str:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return str(path)


def workbook_bytes(sheets: dict[str, list[list]]) -> bytes:
    """An XLSX workbook with these sheets (title: rows), as bytes."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    raw = io.BytesIO()
    book.save(raw)
    return raw.getvalue()


def workbook(tmp_path, name: str, sheets: dict[str, list[list]]) -> str:
    return write(tmp_path, name, workbook_bytes(sheets))


def assert_problems(report: ImportReport, expected: list[tuple]) -> list[tuple]:
    """Every (row, column, words) of expected is a problem of report (its message holding
    the words); returns the report's problems as (row, column, message)."""
    found = [(p.row, p.column, p.message) for p in report.problems]
    for row, column, words in expected:
        assert any(r == row and c == column and words in m for r, c, m in found), (
            f"no problem ({row}, {column!r}, {words!r}) in {found}")
    return found

