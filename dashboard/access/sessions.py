"""Browser sessions: the signed-in state lives in the app_session table, keyed by a secret
the browser holds in an HttpOnly, SameSite cookie (issue 20).

Signing in makes a pending row with a single-use bind code (valid BIND_SECONDS); the
browser is sent to the server's /_bind route (dashboard/app/serve.py), which exchanges the code
for a fresh random token, stores only its SHA-256 and sets the cookie. Every script run
checks the cookie against this table, so a Streamlit session id alone (a websocket client
replaying it) carries no identity, and ending the row in one tab ends every tab's access at
its next run. No streamlit import: the server routes and the UI share this module.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import Connection, insert, select, update

from dashboard.access.audit_log import utc
from dashboard.data.schema import app_session

COOKIE_NAME = "kss_session"
BIND_PATH = "/_bind"  # server routes (dashboard/app/serve.py)
SIGNOUT_PATH = "/_signout"
BIND_SECONDS = 60
# last_seen_at is written at most this often (a write on every click would queue writers)
TOUCH_EVERY = timedelta(seconds=60)
TOKEN_MAX = 200  # a cookie longer than any token we issue is not looked up


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SessionCheck:
    """The outcome of checking a browser's cookie: the username if the session is live;
    timed_out when it has just been ended for idleness."""

    username: str | None
    timed_out: bool = False


def start(conn: Connection, username: str, now: datetime) -> str:
    """A pending session for username; returns the single-use bind code for /_bind."""
    now = utc(now)
    code = secrets.token_urlsafe(32)
    conn.execute(
        insert(app_session).values(
            username=username,
            bind_sha256=_sha256(code),
            bind_expires_at=now + timedelta(seconds=BIND_SECONDS),
            created_at=now,
            last_seen_at=now,
        )
    )
    return code


def bind(conn: Connection, code: str, now: datetime) -> str | None:
    """Exchange a bind code for the session's cookie token (once, before it expires).

    One conditional UPDATE, so two requests with the same code cannot both get a token.
    Returns the token for the cookie, or None for an unknown, used or expired code.
    """
    if not code or len(code) > TOKEN_MAX:
        return None
    now = utc(now)
    token = secrets.token_urlsafe(32)
    result = conn.execute(
        update(app_session)
        .where(
            app_session.c.bind_sha256 == _sha256(code),
            app_session.c.bind_expires_at > now,
            app_session.c.token_sha256.is_(None),
            app_session.c.ended_at.is_(None),
        )
        .values(
            token_sha256=_sha256(token),
            bind_sha256=None,
            bind_expires_at=None,
            last_seen_at=now,
        )
    )
    return token if result.rowcount == 1 else None


def check(conn: Connection, token: str | None, now: datetime, idle: timedelta) -> SessionCheck:
    """Whose live session the cookie token opens. A session idle for longer than idle is
    ended here (end_reason "session_timeout") and reported as timed_out."""
    if not token or len(token) > TOKEN_MAX:
        return SessionCheck(None)
    now = utc(now)
    row = conn.execute(
        select(app_session.c.id, app_session.c.username, app_session.c.last_seen_at).where(
            app_session.c.token_sha256 == _sha256(token), app_session.c.ended_at.is_(None)
        )
    ).first()
    if row is None:
        return SessionCheck(None)
    last_seen = utc(row.last_seen_at)
    if now - last_seen > idle:
        _end_row(conn, row.id, "session_timeout", now)
        return SessionCheck(None, timed_out=True)
    if now - last_seen >= TOUCH_EVERY:
        conn.execute(
            update(app_session).where(app_session.c.id == row.id).values(last_seen_at=now)
        )
    return SessionCheck(row.username)


def end(conn: Connection, token: str | None, reason: str, now: datetime) -> str | None:
    """End the live session this token opens; returns its username (None if none was live)."""
    if not token or len(token) > TOKEN_MAX:
        return None
    row = conn.execute(
        select(app_session.c.id, app_session.c.username).where(
            app_session.c.token_sha256 == _sha256(token), app_session.c.ended_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    return row.username if _end_row(conn, row.id, reason, utc(now)) else None


def end_all_for_user(conn: Connection, username: str, reason: str, now: datetime) -> int:
    """End every live session of username (e.g. the account was disabled); returns how many."""
    result = conn.execute(
        update(app_session)
        .where(app_session.c.username == username, app_session.c.ended_at.is_(None))
        .values(ended_at=utc(now), end_reason=reason[:24], bind_sha256=None)
    )
    return result.rowcount


def _end_row(conn: Connection, session_id: int, reason: str, now: datetime) -> bool:
    result = conn.execute(
        update(app_session)
        .where(app_session.c.id == session_id, app_session.c.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason[:24])
    )
    return result.rowcount == 1


def safe_next(path: str | None) -> str:
    """path if it is a path on this site ("/cases?area=KENT"), else "/": the bind route
    redirects there, and must never redirect to another host."""
    if not path or not path.startswith("/") or path.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or any(c in path for c in "\r\n\\"):
        return "/"
    return path


def idle() -> timedelta:
    """How long a session may go without a script run (SESSION_IDLE_MINUTES, default 30)."""
    return timedelta(minutes=int(os.environ.get("SESSION_IDLE_MINUTES", "30")))
