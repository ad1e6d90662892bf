"""The audit log: who did what, when, with which filters. One row per action.

Rows are written in the caller's transaction, so an action and its log row are stored
together or not at all. Times are stored in UTC.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select

from dashboard.core.labels import display_date, plain_value
from dashboard.data.schema import audit_log

# Every action name the app writes; record() refuses others so a typo cannot hide a row.
ACTIONS: tuple[str, ...] = (
    "login_success",
    "login_failure",
    "logout",
    "session_timeout",
    "view_person_rows",
    "export",
    "download",
    "user_created",
    "user_disabled",
    "user_enabled",
    "password_reset",
    "role_changed",
    "target_changed",
    "audit_saved",
    "sample_drawn",
    "import_run",
    "judgement_recorded",
)

USERNAME_MAX = 64  # audit_log.username is String(64)
TARGET_MAX = 255  # audit_log.target is String(255)

LOG_COLUMNS = ["id", "at", "username", "action", "target", "filters", "detail"]


def utc(moment: datetime) -> datetime:
    """moment as a timezone-aware UTC datetime; a naive value is taken to be UTC already.

    SQLite hands back naive datetimes for DateTime(timezone=True) columns, so every
    comparison of stored times goes through here.
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _text(value: object, width: int) -> str:
    # PostgreSQL text cannot hold NUL; a login form can send one, and the row must still land
    return str(value).replace("\x00", "\ufffd")[:width]


def _as_json(value: Mapping[str, Any] | None) -> str | None:
    if value is None:
        return None
    # sort_keys: the same filters always give the same text, so the log can be grouped on it
    return json.dumps(value, sort_keys=True, default=str)


def record(
    conn: Connection,
    username: str,
    action: str,
    target: str | None = None,
    filters: Mapping[str, Any] | None = None,
    detail: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> int:
    """Insert one audit_log row in conn's transaction; returns the new row's id.

    username and target are cut to their column widths (NUL characters replaced);
    filters and detail are stored as JSON with sorted keys. Raises ValueError for an
    action not in ACTIONS.
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}; add it to audit_log.ACTIONS.")
    at = utc(now) if now is not None else datetime.now(UTC)
    result = conn.execute(
        insert(audit_log).values(
            at=at,
            username=_text(username or "", USERNAME_MAX),
            action=action,
            target=None if target is None else _text(target, TARGET_MAX),
            filters=_as_json(filters),
            detail=_as_json(detail),
        )
    )
    return int(result.inserted_primary_key[0])


def logged_file(
    engine: Engine,
    username: str,
    target: str,
    build: Callable[[], bytes],
    rows: int | None = None,
    filters: Mapping[str, Any] | None = None,
    action: str = "download",
) -> Callable[[], bytes]:
    """A zero-argument callable for ``st.download_button(data=...)``: each call builds the
    file and writes one audit row (user, file name, filters, rows) in its own transaction.

    Streamlit runs it only when the button is clicked (deferred download), so the file
    exists on the server only for a logged download: there is no earlier /media/ copy to
    fetch unlogged. Everything is captured now, because the call runs outside the script.
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}; add it to audit_log.ACTIONS.")

    def build_and_log() -> bytes:
        payload = build()
        with engine.begin() as conn:
            record(conn, username, action, target=target, filters=filters,
                   detail=None if rows is None else {"rows": rows})
        return payload

    return build_and_log


def read_log(
    conn: Connection,
    username: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """Audit log rows, newest first, at most limit of them.

    since is inclusive and until exclusive (since <= at < until); naive times are UTC.
    Columns: id, at (timezone-aware UTC), username, action, target, filters (JSON text),
    detail (JSON text).
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    stmt = select(*(audit_log.c[name] for name in LOG_COLUMNS))
    if username is not None:
        stmt = stmt.where(audit_log.c.username == username)
    if action is not None:
        stmt = stmt.where(audit_log.c.action == action)
    if since is not None:
        stmt = stmt.where(audit_log.c.at >= utc(since))
    if until is not None:
        stmt = stmt.where(audit_log.c.at < utc(until))
    stmt = stmt.order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit)
    rows = conn.execute(stmt).all()
    df = pd.DataFrame(rows, columns=LOG_COLUMNS)
    df["at"] = pd.to_datetime(df["at"], utc=True)
    return df


# --- readable descriptions for the log page (storage above is unchanged) ----------------

ACTION_LABELS: dict[str, str] = {
    "login_success": "Signed in",
    "login_failure": "Sign-in failed",
    "logout": "Signed out",
    "session_timeout": "Session timed out",
    "view_person_rows": "Viewed case-level rows",
    "export": "Exported a report",
    "download": "Downloaded a table",
    "user_created": "User added",
    "user_disabled": "User disabled",
    "user_enabled": "User enabled",
    "password_reset": "Password reset",
    "role_changed": "Role changed",
    "target_changed": "Target changed",
    "audit_saved": "Case audit saved",
    "sample_drawn": "Sample drawn",
    "import_run": "Data imported",
    "judgement_recorded": "Judgement recorded",
}
_KEY_WORDS = {"from": "from", "to": "to", "area": "area", "office": "office",
              "rows": "rows", "has_password": "password set", "area_id": "area",
              "audit_id": "audit", "role": "role", "email": "email"}


def describe_action(action: str) -> str:
    """The action in plain words ("user_created" -> "User added")."""
    return ACTION_LABELS.get(action, str(action).replace("_", " ").capitalize())


def describe_json(text: str | None) -> str:
    """A stored filters/detail JSON object as plain "key: value" text, "" when empty;
    ISO dates as dd Mmm yyyy, codes as words, blanks left out."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return str(text)
    if not isinstance(data, dict):
        return plain_value(data)
    parts = []
    for key, value in data.items():
        if value is None or value == "":
            continue
        if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
            value = display_date(value)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, (dict, list)):
            value = "; ".join(f"{k} {v}" for k, v in value.items()) if isinstance(
                value, dict) else ", ".join(map(str, value))
        else:
            value = plain_value(value)
        parts.append(f"{_KEY_WORDS.get(key, key.replace('_', ' '))}: {value}")
    return "; ".join(parts)


def readable_log(rows: pd.DataFrame) -> pd.DataFrame:
    """A display copy of read_log rows: when (dd Mmm yyyy hh:mm, UTC), who, what (plain
    words), target, filters and detail as plain text. Downloads keep read_log's rows."""
    return pd.DataFrame({
        "When (UTC)": rows["at"].map(lambda v: display_date(v, with_time=True)),
        "User": rows["username"],
        "Action": rows["action"].map(describe_action),
        "Target": rows["target"].fillna(""),
        "Filters": rows["filters"].map(describe_json),
        "Detail": rows["detail"].map(describe_json),
    })
