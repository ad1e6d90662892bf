"""Local accounts: argon2id password hashes, the password policy, reading accounts and
signing in with lock-out.

Every sign-in attempt writes one audit_log row in the same transaction as its counter.
Callers pass a Connection opened with ``engine.begin()``; nothing here commits. Changes to
accounts (add, disable, enable, reset a password, change a role) are commands in
dashboard/commands/users.py. No streamlit import: the login page and the ``users`` command
line share this module.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, Row, case, func, or_, select, update

from dashboard.access import audit_log
from dashboard.access.audit_log import utc
from dashboard.core.labels import ROLE_LABELS
from dashboard.data.schema import app_user, area

# argon2id with the library's defaults (t=3, m=64 MiB, p=4): about 0.1 s per hash.
_hasher = PasswordHasher()

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)

USERNAME_RE = re.compile(r"^[a-z0-9._-]{3,64}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PASSWORD_MIN = 12
PASSWORD_MAX = 1024  # argon2 takes any length; the cap stops multi-megabyte "passwords"
DISPLAY_NAME_MAX = 120

# One text for an unknown username, a wrong password and a locked account, so the login
# form does not tell anyone which usernames exist.
# A locked account gets these words too (README: messages never reveal whether a username
# exists): unknown names cannot be locked, so a distinct "locked" text would tell.
MSG_FAILED = (
    "Username or password not recognised, or the account is locked for 15 minutes "
    "after 5 failed sign-ins."
)
MSG_DISABLED = "This account is disabled; ask an administrator to enable it."
MSG_OK = "Signed in."

# Words that make a long password weak however it is decorated ("Password2026!").
_COMMON_WORDS = frozenset(
    {
        "password",
        "passw0rd",
        "qwerty",
        "qwertyuiop",
        "letmein",
        "welcome",
        "changeme",
        "probation",
        "admin",
        "iloveyou",
        "abc",
        "abcdef",
        "monkey",
        "dragon",
    }
)


@dataclass(frozen=True)
class User:
    """An account as the app sees it (never the password hash)."""

    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    area_id: int | None
    disabled: bool


@dataclass(frozen=True)
class AuthResult:
    """The outcome of one sign-in attempt; message is safe to show on the login form."""

    ok: bool
    user: User | None
    message: str


@dataclass(frozen=True)
class DemoUser:
    """A demo account: username, role, password and what the account can see."""

    username: str
    role: str
    password: str
    sees: str


# The demo accounts dashboard.demo.accounts.create_demo_users() makes (for the README).
# Demo mode only: these passwords are published.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        "chief.exec",
        "chief_executive",
        "demo-chief-2026!",
        "every page of figures for the whole region; case lists for every office",
    ),
    DemoUser(
        "am.<area>",
        "area_manager",
        "demo-<area>-2026!",
        "one per area (am.kent, am.surrey, am.sussex); case lists for that area only",
    ),
    DemoUser(
        "quality.lead",
        "quality_lead",
        "demo-quality-2026!",
        "all figures, case samples and audits for every office",
    ),
    DemoUser(
        "auditor.<name>",
        "auditor",
        "demo-auditor-2026!",
        "the audit screens; only the cases in audits assigned to them "
        "(one account per auditor in the demo audits, e.g. auditor.ken1; "
        "auditor.kent1 if none)",
    ),
    DemoUser(
        "admin",
        "admin",
        "demo-users-2026!",
        "users, targets, imports, audit log and data quality; no case lists",
    ),
)


def demo_users_markdown() -> str:
    """DEMO_USERS as a Markdown table for the README."""
    lines = ["| Username | Role | Password | Sees |", "|---|---|---|---|"]
    lines += [f"| `{u.username}` | {ROLE_LABELS[u.role]} | `{u.password}` | {u.sees} |"
              for u in DEMO_USERS]
    return "\n".join(lines)


# --- passwords --------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """An argon2id hash of password (a "$argon2id$..." string with its own salt)."""
    return _hasher.hash(password)


def password_problems(password: str, username: str | None = None) -> list[str]:
    """What is wrong with password as a new password; an empty list means it is acceptable.

    The policy, after NCSC guidance that length beats complexity rules:
    - 12 to 1024 characters;
    - not all from one character class (lower case, upper case, digits, other): a
      passphrase with spaces or a digit passes, "aaaaaaaaaaaa" and "123456789012" do not;
    - at least 5 different characters;
    - does not contain the username;
    - is not a common word (password, qwerty, probation, ...) with digits and symbols added.
    """
    problems: list[str] = []
    if len(password) < PASSWORD_MIN:
        problems.append(f"must be at least {PASSWORD_MIN} characters long")
    if len(password) > PASSWORD_MAX:
        problems.append(f"must be at most {PASSWORD_MAX} characters long")
    classes = {
        "lower" if c.islower() else "upper" if c.isupper() else "digit" if c.isdigit() else "other"
        for c in password
    }
    if len(classes) < 2:
        problems.append(
            "must mix at least two of: lower case, upper case, digits, spaces or symbols"
        )
    if len(set(password)) < 5:
        problems.append("must use at least 5 different characters")
    if username and len(username) >= 3 and username.lower() in password.lower():
        problems.append("must not contain the username")
    letters = re.sub(r"[^a-z]", "", password.lower())
    if letters in _COMMON_WORDS:
        problems.append("must not be a common word with digits or symbols added")
    return problems


_dummy: tuple[PasswordHasher, str] | None = None


def _dummy_verify(password: str) -> None:
    """Spend as long as a real verify, so unknown usernames are not faster to reject."""
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash(secrets.token_urlsafe(24)))
    with contextlib.suppress(VerificationError):
        _hasher.verify(_dummy[1], password)


# --- reading users ----------------------------------------------------------------------

_USER_COLUMNS = tuple(app_user.c[name] for name in User.__dataclass_fields__)


def _user(row: Row) -> User:
    """The User of a row that holds _USER_COLUMNS (disabled as a bool on every backend)."""
    values = {name: row._mapping[name] for name in User.__dataclass_fields__}
    return User(**{**values, "disabled": bool(row.disabled)})


def get_user(conn: Connection, username: str) -> User | None:
    """The account with this username, or None."""
    row = conn.execute(select(*_USER_COLUMNS).where(app_user.c.username == username)).first()
    return _user(row) if row else None


def get_user_by_email(conn: Connection, email: str) -> User | None:
    """The account whose email matches (case-insensitive), or None: maps a single sign-on
    identity to a local account and its role."""
    email = (email or "").strip().lower()
    if not email:
        return None
    row = conn.execute(select(*_USER_COLUMNS).where(func.lower(app_user.c.email) == email)).first()
    return _user(row) if row else None


def list_users(conn: Connection) -> pd.DataFrame:
    """Every account, by username; never the password hashes.

    Columns: id, username, display_name, email, role, area_code, disabled, has_password
    (False for single-sign-on-only accounts), failed_logins, locked_until (UTC or NaT),
    created_at (UTC).
    """
    stmt = (
        select(
            app_user.c.id,
            app_user.c.username,
            app_user.c.display_name,
            app_user.c.email,
            app_user.c.role,
            area.c.code.label("area_code"),
            app_user.c.disabled,
            app_user.c.password_hash.is_not(None).label("has_password"),
            app_user.c.failed_logins,
            app_user.c.locked_until,
            app_user.c.created_at,
        )
        .outerjoin(area, area.c.id == app_user.c.area_id)
        .order_by(app_user.c.username)
    )
    result = conn.execute(stmt)
    df = pd.DataFrame(result.all(), columns=list(result.keys()))
    for col in ("disabled", "has_password"):
        df[col] = df[col].astype(bool)
    for col in ("locked_until", "created_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    return df


# --- signing in -------------------------------------------------------------------------


def authenticate(conn: Connection, username: str, password: str, now: datetime) -> AuthResult:
    """Check a username and password in the caller's transaction; write one audit row.

    The attempt is reserved before the password is verified (see _reserve_attempt): one
    conditional UPDATE counts it, and the fifth attempt in a row sets the lock, so
    concurrent attempts cannot verify more than MAX_FAILED_LOGINS passwords between
    locks. While locked, even the right password fails. A success resets the counter and
    rehashes the password if the hasher's parameters have changed. Every failure gets
    the same words (MSG_FAILED), whether the name is unknown, the password wrong or the
    account locked, so the form never tells which usernames exist. Run inside
    ``engine.begin()``: the counter and the audit row are committed together.
    """
    now = utc(now)
    password, given, name = _clean(username, password)
    row = _reserve_attempt(conn, name, now)
    verified = _verify(row, password)
    return _finish(conn, row, given, name, verified, password, now)


def authenticate_engine(
    engine: Engine, username: str, password: str, now: datetime | None = None
) -> AuthResult:
    """authenticate() in two short transactions (now defaults to the current UTC time).

    The attempt is reserved and committed first, then the password is verified with no
    transaction open (argon2 takes ~0.1-0.3 s; holding a write lock that long would
    queue every other sign-in on SQLite), then the outcome and its audit row are
    committed. A crash between the two leaves the attempt counted, never uncounted.
    """
    now = utc(now or datetime.now(UTC))
    password, given, name = _clean(username, password)
    with engine.begin() as conn:
        row = _reserve_attempt(conn, name, now)
    verified = _verify(row, password)
    with engine.begin() as conn:
        return _finish(conn, row, given, name, verified, password, now)


def _clean(username: str, password: str) -> tuple[str, str, str]:
    """(password, username as given for the log, normalised username)."""
    if not isinstance(password, str) or len(password) > PASSWORD_MAX:
        password = ""  # cannot match any stored password; still verified for even timing
    given = (username or "")[: audit_log.USERNAME_MAX]
    return password, given, (username or "").strip().lower()


def _reserve_attempt(conn: Connection, name: str, now: datetime) -> Row | None:
    """Count one attempt on the account called name, atomically; the account row if it
    was counted, None for an unknown or locked name.

    One UPDATE ... WHERE not locked both checks and counts: PostgreSQL's row lock and
    SQLite's write lock serialise concurrent attempts on the row, and a second attempt
    re-evaluates the WHERE after the first commits. The fifth attempt in a row sets
    locked_until (and restarts the counter) before its password is verified.
    """
    if not USERNAME_RE.match(name):
        return None
    counted = app_user.c.failed_logins + 1
    locks = counted >= MAX_FAILED_LOGINS
    result = conn.execute(
        update(app_user)
        .where(
            app_user.c.username == name,
            # single-sign-on-only accounts have no password to guess, so nothing to count
            app_user.c.password_hash.is_not(None),
            or_(app_user.c.locked_until.is_(None), app_user.c.locked_until <= now),
        )
        .values(
            failed_logins=case((locks, 0), else_=counted),
            locked_until=case((locks, now + LOCKOUT), else_=None),
        )
    )
    if result.rowcount != 1:
        return None
    return conn.execute(
        select(*_USER_COLUMNS, app_user.c.password_hash, app_user.c.locked_until).where(
            app_user.c.username == name
        )
    ).first()


def _verify(row: Row | None, password: str) -> bool:
    """True when password matches row's hash; spends a verify's time in every case."""
    if row is None or row.password_hash is None:
        _dummy_verify(password)
        return False
    try:
        return bool(_hasher.verify(row.password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def _finish(
    conn: Connection,
    row: Row | None,
    given: str,
    name: str,
    verified: bool,
    password: str,
    now: datetime,
) -> AuthResult:
    """Record the outcome of a reserved (or refused) attempt: the audit row, and on a
    success the reset counter (and a rehash if the hasher's parameters changed)."""

    def fail(reason: str, message: str = MSG_FAILED, **detail: Any) -> AuthResult:
        audit_log.record(
            conn,
            row.username if row else given,
            "login_failure",
            detail={"reason": reason, **detail},
            now=now,
        )
        return AuthResult(False, None, message)

    if row is None:
        # Only the log says why; the form shows the same words for both.
        locked = None
        if USERNAME_RE.match(name):
            locked = conn.execute(
                select(app_user.c.locked_until, app_user.c.password_hash).where(
                    app_user.c.username == name
                )
            ).first()
        if locked is None:
            return fail("unknown_user")
        if locked.password_hash is None:
            audit_log.record(
                conn, name, "login_failure", detail={"reason": "no_password"}, now=now
            )
            return AuthResult(False, None, MSG_FAILED)
        until = utc(locked.locked_until).isoformat() if locked.locked_until else None
        audit_log.record(
            conn,
            name,
            "login_failure",
            detail={"reason": "locked", "locked_until": until},
            now=now,
        )
        return AuthResult(False, None, MSG_FAILED)
    if not verified:
        detail = {}
        if row.locked_until is not None and utc(row.locked_until) > now:
            detail["locked_until"] = utc(row.locked_until).isoformat()
        return fail("wrong_password", **detail)
    if row.disabled:  # only someone holding the password learns this
        return fail("disabled", MSG_DISABLED)
    values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
    rehashed = _hasher.check_needs_rehash(row.password_hash)
    if rehashed:
        values["password_hash"] = _hasher.hash(password)
    conn.execute(update(app_user).where(app_user.c.id == row.id).values(**values))
    audit_log.record(conn, row.username, "login_success", detail={"rehashed": rehashed}, now=now)
    return AuthResult(True, _user(row), MSG_OK)
