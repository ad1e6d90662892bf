"""The audit log: one row per record(), JSON with sorted keys, UTC times, newest first."""

from __future__ import annotations

import ast
import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from dashboard.access import audit_log
from dashboard.data.schema import audit_log as audit_log_table
from tests.accounts import ENGINES, log_count
from tests.backend_engines import migrated_engine

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(params=ENGINES)
def engine(request, tmp_path_factory):
    """A freshly migrated, empty database: SQLite, and PostgreSQL when the test server runs."""
    engine = migrated_engine(request, tmp_path_factory, "audit_log")
    yield engine
    engine.dispose()


def _string_constants_outside_the_log() -> set[str]:
    """Every string literal in the application's code, audit_log.py itself left out."""
    root = Path(__file__).resolve().parents[1]
    files = [root / "streamlit_app.py"]
    for folder in ("dashboard", "pages", "queries"):
        files += sorted((root / folder).rglob("*.py"))
    found: set[str] = set()
    for path in files:
        if path.name == "audit_log.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def test_every_action_is_written_somewhere_and_has_words():
    """No dead action names, no duplicates, and each one reads as words on the log page."""
    assert len(audit_log.ACTIONS) == len(set(audit_log.ACTIONS))
    unused = set(audit_log.ACTIONS) - _string_constants_outside_the_log()
    assert not unused, f"actions nothing writes: {sorted(unused)}"
    assert set(audit_log.ACTION_LABELS) == set(audit_log.ACTIONS)
    for action in audit_log.ACTIONS:
        assert "_" not in audit_log.describe_action(action)


def test_record_writes_one_row_with_sorted_json(engine):
    with engine.begin() as conn:
        audit_log.record(
            conn,
            "am.kent",
            "export",
            target="caseload.xlsx",
            filters={"office": "ASH", "area": "KENT", "start": date(2026, 1, 1)},
            detail={"rows": 120},
            now=T0,
        )
    assert log_count(engine) == 1
    with engine.connect() as conn:
        row = conn.execute(select(audit_log_table)).one()
    assert row.username == "am.kent"
    assert row.action == "export"
    assert row.target == "caseload.xlsx"
    assert row.filters == '{"area": "KENT", "office": "ASH", "start": "2026-01-01"}'
    assert json.loads(row.detail) == {"rows": 120}


def test_times_are_stored_and_read_as_utc(engine):
    one_hour_east = timezone(timedelta(hours=1))
    with engine.begin() as conn:
        audit_log.record(
            conn, "a.user", "logout", now=datetime(2026, 6, 1, 10, 0, tzinfo=one_hour_east)
        )
        audit_log.record(conn, "a.user", "logout", now=datetime(2026, 6, 1, 10, 0))  # naive
    with engine.connect() as conn:
        log = audit_log.read_log(conn)
    assert str(log["at"].dt.tz) == "UTC"
    assert list(log["at"]) == [
        datetime(2026, 6, 1, 10, 0, tzinfo=UTC),
        datetime(2026, 6, 1, 9, 0, tzinfo=UTC),
    ]


def test_record_defaults_to_the_current_time(engine):
    before = datetime.now(UTC)
    with engine.begin() as conn:
        audit_log.record(conn, "a.user", "logout")
        at = audit_log.read_log(conn)["at"].iloc[0]
    assert before - timedelta(seconds=1) <= at <= datetime.now(UTC) + timedelta(seconds=1)


def test_unknown_action_is_refused_and_writes_nothing(engine):
    with engine.begin() as conn, pytest.raises(ValueError, match="Unknown audit action"):
        audit_log.record(conn, "a.user", "looked_around")
    assert log_count(engine) == 0


def test_long_username_and_target_are_cut_to_column_width(engine):
    with engine.begin() as conn:
        audit_log.record(conn, "x" * 300, "download", target="t" * 400, now=T0)
        row = conn.execute(select(audit_log_table)).one()
    assert row.username == "x" * 64
    assert row.target == "t" * 255


def test_record_joins_the_callers_transaction(engine):
    with pytest.raises(RuntimeError), engine.begin() as conn:
        audit_log.record(conn, "a.user", "export", now=T0)
        raise RuntimeError("the export failed")
    assert log_count(engine) == 0


def test_read_log_filters_and_orders_newest_first(engine):
    with engine.begin() as conn:
        for minutes, user, action in [
            (0, "am.kent", "login_success"),
            (5, "am.kent", "export"),
            (10, "chief.exec", "login_success"),
            (15, "am.kent", "logout"),
        ]:
            audit_log.record(conn, user, action, now=T0 + timedelta(minutes=minutes))
    with engine.connect() as conn:
        everything = audit_log.read_log(conn)
        kent = audit_log.read_log(conn, username="am.kent")
        logins = audit_log.read_log(conn, action="login_success")
        window = audit_log.read_log(
            conn, since=T0 + timedelta(minutes=5), until=T0 + timedelta(minutes=15)
        )
        newest_two = audit_log.read_log(conn, limit=2)
        nobody = audit_log.read_log(conn, username="nobody")
    assert list(everything.columns) == [
        "id",
        "at",
        "username",
        "action",
        "target",
        "filters",
        "detail",
    ]
    assert list(everything["action"]) == ["logout", "login_success", "export", "login_success"]
    assert list(kent["action"]) == ["logout", "export", "login_success"]
    assert list(logins["username"]) == ["chief.exec", "am.kent"]
    assert list(window["action"]) == ["login_success", "export"]  # since <= at < until
    assert list(newest_two["action"]) == ["logout", "login_success"]
    assert nobody.empty and list(nobody.columns) == list(everything.columns)


def test_read_log_rejects_a_non_positive_limit(engine):
    with engine.connect() as conn, pytest.raises(ValueError):
        audit_log.read_log(conn, limit=0)
