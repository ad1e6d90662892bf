"""Sign-in, lock-out, user management, demo accounts and the ``users`` command line."""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, insert, select

from dashboard.__main__ import main
from dashboard.access import audit_log, auth
from dashboard.commands.users import (
    AddUser,
    ChangeRole,
    DisableUser,
    EnableUser,
    ResetPassword,
    UserError,
)
from dashboard.data.schema import app_user, case_audit, person
from dashboard.data.schema import audit_log as audit_log_table
from dashboard.demo.accounts import create_demo_users
from tests.accounts import (  # noqa: F401
    OTHER_PASSWORD,
    PASSWORD,
    engine_fixture,
    fast_hasher_fixture,
    kent_fixture,
    log_count,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def url(engine):
    return engine.url.render_as_string(hide_password=False)


def stored(engine, username: str):
    with engine.connect() as conn:
        return conn.execute(select(app_user).where(app_user.c.username == username)).one()


def sign_in(engine, username: str, password: str, now: datetime = T0) -> auth.AuthResult:
    with engine.begin() as conn:
        return auth.authenticate(conn, username, password, now)


# --- hashing and the password policy ----------------------------------------------------


def test_real_default_hasher_stores_argon2id(engine):
    assert auth._hasher.time_cost == 3 and auth._hasher.memory_cost == 65536
    with engine.begin() as conn:
        AddUser(conn, "chief.exec", "Chief", "chief_executive", password=PASSWORD).run()
    hashed = stored(engine, "chief.exec").password_hash
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert hashed != PASSWORD and PASSWORD not in hashed
    assert sign_in(engine, "chief.exec", PASSWORD).ok


def test_hashes_are_salted_argon2id(fast_hasher):
    first, second = auth.hash_password(PASSWORD), auth.hash_password(PASSWORD)
    assert first.startswith("$argon2id$") and second.startswith("$argon2id$")
    assert first != second != PASSWORD


@pytest.mark.parametrize(
    "password",
    [
        "Kent-office-2026",
        "correct horse battery",
        "tunbridge wells 1",
        "Abcdefghijk1",
    ],
)
def test_password_policy_accepts(password):
    assert auth.password_problems(password, "am.kent") == []


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Short-1", "at least 12 characters"),
        ("correcthorsebattery", "mix at least two"),
        ("123456789012345", "mix at least two"),
        ("ab" * 8, "5 different characters"),
        ("my-am.kent-password", "contain the username"),
        ("Password2026!", "common word"),
        ("Probation-2026", "common word"),
        ("aB1!" * 300, "at most 1024"),
    ],
)
def test_password_policy_rejects(password, problem):
    problems = auth.password_problems(password, "am.kent")
    assert any(problem in p for p in problems), problems


def test_demo_passwords_meet_the_policy():
    for user in auth.DEMO_USERS:
        if "<" not in user.password:
            assert auth.password_problems(user.password, user.username) == []
    assert "| `chief.exec` | Chief executive | `demo-chief-2026!` |" in auth.demo_users_markdown()


# --- signing in -------------------------------------------------------------------------


def test_right_password_signs_in_and_logs_success(engine, kent):
    result = sign_in(engine, "am.kent", PASSWORD)
    assert result == auth.AuthResult(True, kent, auth.MSG_OK)
    with engine.connect() as conn:
        log = audit_log.read_log(conn, action="login_success")
    assert list(log["username"]) == ["am.kent"]


def test_username_is_matched_case_and_space_insensitively(engine, kent):
    assert sign_in(engine, "  AM.Kent ", PASSWORD).ok


def test_five_failures_lock_until_the_window_passes(engine, kent):
    for attempt in range(1, 5):
        result = sign_in(engine, "am.kent", "wrong password 1", T0 + timedelta(seconds=attempt))
        assert not result.ok and result.message == auth.MSG_FAILED
        assert stored(engine, "am.kent").failed_logins == attempt
    fifth = sign_in(engine, "am.kent", "wrong password 1", T0 + timedelta(seconds=5))
    assert not fifth.ok and fifth.message == auth.MSG_FAILED
    row = stored(engine, "am.kent")
    assert audit_log.utc(row.locked_until) == T0 + timedelta(seconds=5) + auth.LOCKOUT

    # While locked, even the right password fails, and does not extend the lock.
    for later in (timedelta(minutes=1), timedelta(minutes=15)):
        locked = sign_in(engine, "am.kent", PASSWORD, T0 + later)
        assert locked == auth.AuthResult(False, None, auth.MSG_FAILED)
    assert audit_log.utc(stored(engine, "am.kent").locked_until) == audit_log.utc(row.locked_until)

    after = sign_in(engine, "am.kent", PASSWORD, T0 + timedelta(minutes=15, seconds=6))
    assert after.ok
    row = stored(engine, "am.kent")
    assert row.failed_logins == 0 and row.locked_until is None
    with engine.connect() as conn:
        reasons = audit_log.read_log(conn, action="login_failure")["detail"].tolist()
    assert sum('"reason": "locked"' in r for r in reasons) == 2


def test_a_success_resets_the_failure_count(engine, kent):
    for i in range(4):
        sign_in(engine, "am.kent", "wrong password 1", T0 + timedelta(seconds=i))
    assert sign_in(engine, "am.kent", PASSWORD, T0 + timedelta(seconds=5)).ok
    assert stored(engine, "am.kent").failed_logins == 0
    for i in range(4):
        result = sign_in(engine, "am.kent", "wrong password 1", T0 + timedelta(seconds=10 + i))
        assert result.message == auth.MSG_FAILED
    assert stored(engine, "am.kent").locked_until is None


def test_after_a_lock_expires_the_user_gets_five_fresh_tries(engine, kent):
    for i in range(5):
        sign_in(engine, "am.kent", "wrong password 1", T0 + timedelta(seconds=i))
    later = T0 + timedelta(minutes=20)
    assert sign_in(engine, "am.kent", "wrong password 1", later).message == auth.MSG_FAILED
    assert sign_in(engine, "am.kent", PASSWORD, later + timedelta(seconds=1)).ok


def test_disabled_user_cannot_sign_in(engine, kent):
    with engine.begin() as conn:
        admin = AddUser(conn, "admin", "Admin", "admin", password=OTHER_PASSWORD).run()
        DisableUser(conn, "am.kent", actor=admin.username).run()
    right = sign_in(engine, "am.kent", PASSWORD)
    assert right == auth.AuthResult(False, None, auth.MSG_DISABLED)
    wrong = sign_in(engine, "am.kent", "wrong password 1")
    assert wrong == auth.AuthResult(False, None, auth.MSG_FAILED)
    with engine.begin() as conn:
        EnableUser(conn, "am.kent", actor="admin").run()
    assert sign_in(engine, "am.kent", PASSWORD).ok


def test_unknown_user_gets_the_same_message_as_a_wrong_password(engine, kent):
    unknown = sign_in(engine, "no.such.user", PASSWORD)
    wrong = sign_in(engine, "am.kent", "wrong password 1")
    assert unknown == wrong == auth.AuthResult(False, None, auth.MSG_FAILED)
    with engine.connect() as conn:
        log = audit_log.read_log(conn, action="login_failure")
    assert list(log["username"]) == ["am.kent", "no.such.user"]
    assert '"reason": "unknown_user"' in log["detail"].iloc[1]


def test_unknown_long_username_is_logged_cut_to_64_characters(engine, fast_hasher):
    result = sign_in(engine, "x" * 500, PASSWORD)
    assert result.message == auth.MSG_FAILED
    with engine.connect() as conn:
        assert audit_log.read_log(conn)["username"].tolist() == ["x" * 64]


@pytest.mark.parametrize(
    "username",
    [
        "' OR 1=1 --",
        "am.kent' --",
        'am.kent" OR "1"="1',
        "x'; DROP TABLE app_user; --",
        "",
        "am.kent\x00",
    ],
)
def test_injection_looking_usernames_fail_cleanly(engine, kent, username):
    result = sign_in(engine, username, PASSWORD)
    assert result == auth.AuthResult(False, None, auth.MSG_FAILED)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(app_user)).scalar_one() == 1
        failures = audit_log.read_log(conn, action="login_failure")
    assert failures["username"].tolist() == [username.replace("\x00", "\ufffd")]
    with engine.begin() as conn, pytest.raises(UserError):
        AddUser(conn, username, "Someone", "quality_lead", password=PASSWORD).run()


def test_overlong_password_fails_without_error(engine, kent):
    assert sign_in(engine, "am.kent", PASSWORD * 1000).message == auth.MSG_FAILED


def test_sso_only_account_cannot_sign_in_with_a_password(engine, fast_hasher):
    with engine.begin() as conn:
        AddUser(conn, "sso.user", "SSO", "quality_lead", email="sso@example.org").run()
    for password in ("", PASSWORD):
        assert sign_in(engine, "sso.user", password).message == auth.MSG_FAILED
    assert stored(engine, "sso.user").failed_logins == 0  # no password, nothing to guess


def test_outdated_hash_is_upgraded_on_sign_in(engine, kent, monkeypatch):
    old = stored(engine, "am.kent").password_hash
    assert ",t=1," in old
    monkeypatch.setattr(
        auth, "_hasher", PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1)
    )
    assert sign_in(engine, "am.kent", PASSWORD).ok
    new = stored(engine, "am.kent").password_hash
    assert new != old and ",t=2," in new
    assert sign_in(engine, "am.kent", PASSWORD).ok


def test_counter_and_log_row_share_the_callers_transaction(engine, kent):
    before = log_count(engine)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        assert not auth.authenticate(conn, "am.kent", "wrong password 1", T0).ok
        raise RuntimeError("the page crashed")
    assert stored(engine, "am.kent").failed_logins == 0
    assert log_count(engine) == before


def test_authenticate_engine_opens_its_own_transaction(engine, kent):
    assert auth.authenticate_engine(engine, "am.kent", PASSWORD).ok
    assert not auth.authenticate_engine(engine, "am.kent", "wrong password 1", T0).ok
    assert stored(engine, "am.kent").failed_logins == 1


# --- one audit row per action -----------------------------------------------------------


def _create(conn):
    AddUser(
        conn, "quality.lead", "QL", "quality_lead", password=OTHER_PASSWORD, actor="admin"
    ).run()


def _lock(engine):
    for i in range(5):
        sign_in(engine, "am.kent", "wrong password 1", T0 + timedelta(seconds=i))


AUDITED = {
    "login_success": (None, lambda conn: auth.authenticate(conn, "am.kent", PASSWORD, T0)),
    "login_failure": (None, lambda conn: auth.authenticate(conn, "am.kent", "nope nope 1", T0)),
    "login_failure unknown": (None, lambda conn: auth.authenticate(conn, "ghost", "x", T0)),
    "login_failure locked": (
        _lock,
        lambda conn: auth.authenticate(conn, "am.kent", PASSWORD, T0 + timedelta(minutes=1)),
    ),
    "user_created": (None, _create),
    "user_disabled": (None, lambda conn: DisableUser(conn, "am.kent", actor="admin").run()),
    "user_enabled": (
        None,
        lambda conn: (DisableUser(conn, "am.kent").run(), EnableUser(conn, "am.kent").run()),
    ),
    "password_reset": (None, lambda conn: ResetPassword(conn, "am.kent", OTHER_PASSWORD).run()),
    "role_changed": (None, lambda conn: ChangeRole(conn, "am.kent", "quality_lead").run()),
}


@pytest.mark.parametrize("case", AUDITED)
def test_each_audited_action_writes_exactly_one_row(engine, kent, case):
    setup, action = AUDITED[case]
    if setup:
        setup(engine)
    expected = 2 if case == "user_enabled" else 1  # that case disables first
    before = log_count(engine)
    with engine.begin() as conn:
        action(conn)
    assert log_count(engine) == before + expected
    with engine.connect() as conn:  # the newest row by id: logins carry an injected time
        last = conn.execute(
            select(audit_log_table.c.action).order_by(audit_log_table.c.id.desc()).limit(1)
        ).scalar_one()
    assert last == case.split()[0]


def test_password_reset_clears_lock_and_never_logs_the_password(engine, kent):
    _lock(engine)
    with engine.begin() as conn:
        ResetPassword(conn, "am.kent", OTHER_PASSWORD, actor="admin").run()
        log = audit_log.read_log(conn, action="password_reset")
    assert log["username"].tolist() == ["admin"] and log["target"].tolist() == ["am.kent"]
    assert OTHER_PASSWORD not in str(log.to_dict())
    assert sign_in(engine, "am.kent", OTHER_PASSWORD, T0 + timedelta(minutes=1)).ok


# --- user management --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"username": "AB"}, "3 to 64 characters"),
        ({"username": "Jo.Bloggs"}, "3 to 64 characters"),
        ({"username": "a" * 65}, "3 to 64 characters"),
        ({"role": "superuser"}, "Unknown role"),
        ({"role": "area_manager"}, "needs an area"),
        ({"area_id": 99}, "No area with id 99"),
        ({"password": "short"}, "at least 12 characters"),
        ({"email": "not-an-email"}, "not an email"),
        ({"email": "am.kent@EXAMPLE.org"}, "already has the email"),
        ({"username": "am.kent"}, "already exists"),
        ({"display_name": "  "}, "display name"),
    ],
)
def test_create_user_rejects_bad_input_without_writing(engine, kent, kwargs, message):
    args = {
        "username": "new.user",
        "display_name": "New",
        "role": "quality_lead",
        "password": OTHER_PASSWORD,
    } | kwargs
    before = log_count(engine)
    with engine.begin() as conn, pytest.raises(UserError, match=message):
        AddUser(conn, **args).run()
    assert log_count(engine) == before
    assert isinstance(UserError("x"), ValueError)


def test_get_user_by_email_is_case_insensitive(engine, kent):
    with engine.connect() as conn:
        assert auth.get_user_by_email(conn, " am.kent@example.ORG ") == kent
        assert auth.get_user_by_email(conn, "someone@example.org") is None
        assert auth.get_user_by_email(conn, "") is None
    assert kent.email == "am.kent@example.org"


def test_list_users_never_returns_hashes(engine, kent):
    with engine.begin() as conn:
        AddUser(conn, "sso.user", "SSO", "quality_lead", email="sso@example.org").run()
        users = auth.list_users(conn)
    assert users["username"].tolist() == ["am.kent", "sso.user"]
    assert not any("hash" in c for c in users.columns)
    assert not users.astype(str).apply(lambda col: col.str.contains(r"\$argon2")).any().any()
    assert users.set_index("username").loc["am.kent", "area_code"] == "KENT"
    assert users["has_password"].tolist() == [True, False]


def test_set_role_checks_the_area_and_logs_the_change(engine, kent):
    with engine.begin() as conn:
        ql = AddUser(conn, "quality.lead", "QL", "quality_lead", password=None).run()
        with pytest.raises(UserError, match="needs an area"):
            ChangeRole(conn, ql.username, "area_manager").run()
        moved = ChangeRole(conn, ql.username, "area_manager", area_id=2, actor="admin").run()
        with pytest.raises(UserError, match="already has"):
            ChangeRole(conn, ql.username, "area_manager").run()
        log = audit_log.read_log(conn, action="role_changed")
    assert (moved.role, moved.area_id) == ("area_manager", 2)
    assert '"from_role": "quality_lead"' in log["detail"].iloc[0]


def test_the_last_enabled_admin_cannot_be_removed(engine, fast_hasher):
    with engine.begin() as conn:
        AddUser(conn, "admin", "Admin", "admin").run()
    with engine.begin() as conn, pytest.raises(UserError, match="last enabled admin"):
        DisableUser(conn, "admin").run()
    with engine.begin() as conn, pytest.raises(UserError, match="last enabled admin"):
        ChangeRole(conn, "admin", "auditor").run()
    with engine.begin() as conn:
        AddUser(conn, "admin2", "Second admin", "admin").run()
        DisableUser(conn, "admin").run()
        assert auth.get_user(conn, "admin").disabled


def test_changes_to_missing_users_are_refused(engine, fast_hasher):
    with engine.begin() as conn:
        for change in (DisableUser, EnableUser):
            with pytest.raises(UserError, match="No user called 'ghost'"):
                change(conn, "ghost").run()
        with pytest.raises(UserError, match="No user"):
            ResetPassword(conn, "ghost", OTHER_PASSWORD).run()


# --- demo accounts ----------------------------------------------------------------------


def test_demo_users_one_per_role_and_area(engine, fast_hasher):
    with engine.begin() as conn:
        conn.execute(
            insert(person).values(
                id=1,
                crn="X000001",
                office_id=10,
                sentence_type="licence",
                start_date=date(2025, 1, 1),
                end_date=date(2027, 1, 1),
                tier="B",
                rosh_level="medium",
                gender="male",
            )
        )
        conn.execute(
            insert(case_audit).values(
                person_id=1,
                auditor="auditor.ken1",
                audit_date=date(2026, 1, 5),
                status="complete",
                scheme="regional_2023",
            )
        )
        created = create_demo_users(conn)
    assert [(u, r) for u, _p, r in created] == [
        ("chief.exec", "chief_executive"),
        ("am.kent", "area_manager"),
        ("am.surrey", "area_manager"),
        ("quality.lead", "quality_lead"),
        ("auditor.ken1", "auditor"),
        ("admin", "admin"),
    ]
    for username, password, _role in created:
        assert sign_in(engine, username, password).ok, username
    with engine.connect() as conn:
        assert auth.get_user(conn, "am.surrey").area_id == 2
    with engine.begin() as conn:
        assert create_demo_users(conn) == []  # existing accounts are left alone


def test_demo_auditor_without_audits_is_auditor_kent1(engine, fast_hasher):
    with engine.begin() as conn:
        created = create_demo_users(conn)
    assert ("auditor.kent1", "demo-auditor-2026!", "auditor") in created


# --- the users command line -------------------------------------------------------------


def run_cli(monkeypatch, url, *args, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["--database-url", url, "users", *args])


def test_cli_add_then_list(engine, url, fast_hasher, monkeypatch, capsys):
    code = run_cli(
        monkeypatch,
        url,
        "add",
        "am.kent",
        "--role",
        "area_manager",
        "--area",
        "kent",
        "--name",
        "Kent Manager",
        "--email",
        "am.kent@example.org",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert code == 0
    assert "Created am.kent (area_manager)." in capsys.readouterr().out
    assert sign_in(engine, "am.kent", PASSWORD).ok
    with engine.connect() as conn:
        created = audit_log.read_log(conn, action="user_created")
    assert created["username"].iloc[0].startswith("cli")

    assert run_cli(monkeypatch, url, "list") == 0
    out = capsys.readouterr().out
    assert "am.kent" in out and "Kent Manager" in out and "KENT" in out
    assert "argon2" not in out and PASSWORD not in out


def test_cli_disable_enable_and_reset_password(engine, url, kent, monkeypatch, capsys):
    with engine.begin() as conn:
        AddUser(conn, "admin", "Admin", "admin", password=OTHER_PASSWORD).run()
    assert run_cli(monkeypatch, url, "disable", "am.kent") == 0
    assert sign_in(engine, "am.kent", PASSWORD).message == auth.MSG_DISABLED
    assert run_cli(monkeypatch, url, "enable", "am.kent") == 0
    assert (
        run_cli(
            monkeypatch,
            url,
            "reset-password",
            "am.kent",
            "--password-stdin",
            stdin="Brand new pass 9\r\n",
        )
        == 0
    )
    assert sign_in(engine, "am.kent", "Brand new pass 9").ok
    out = capsys.readouterr().out
    assert "Disabled am.kent." in out and "Enabled am.kent." in out


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["add", "Bad Name", "--role", "admin", "--password-stdin"], PASSWORD, "3 to 64"),
        (["add", "am.x", "--role", "area_manager", "--password-stdin"], PASSWORD, "needs an area"),
        (
            ["add", "am.x", "--role", "area_manager", "--area", "MARS", "--password-stdin"],
            PASSWORD,
            "No area with code 'MARS'; known codes: KENT, SURREY",
        ),
        (["add", "weak.user", "--role", "admin", "--password-stdin"], "short\n", "at least 12"),
        (
            ["add", "Two Wrongs", "--role", "area_manager", "--password-stdin"],
            PASSWORD,
            "dot, underscore or hyphen. An area manager needs an area (--area CODE).",
        ),
        (["add", "tty.user", "--role", "admin"], "", "--password-stdin"),
        (["disable", "ghost"], "", "No user called 'ghost'"),
        (["reset-password", "ghost", "--password-stdin"], PASSWORD, "No user called 'ghost'"),
    ],
)
def test_cli_user_errors_exit_2_with_one_line(
    engine, url, fast_hasher, monkeypatch, capsys, args, stdin, message
):
    assert run_cli(monkeypatch, url, *args, stdin=stdin) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_cli_takes_no_password_on_the_command_line(url, monkeypatch):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(monkeypatch, url, "add", "x.user", "--role", "admin", "--password", PASSWORD)
    assert exit_info.value.code == 2


def test_cli_list_with_no_users(url, monkeypatch, capsys):
    assert run_cli(monkeypatch, url, "list") == 0
    assert capsys.readouterr().out.strip() == "No users."


# --- lock-out under concurrency (issue 20, finding 1) -----------------------------------


class _CountingHasher:
    """The fast hasher, slowed down and counting verifies of one stored hash, so a test can
    tell how many real password checks an attacker got and hold them in flight."""

    def __init__(self, real: PasswordHasher, watched_hash: str, started_enough: int):
        self.real = real
        self.watched_hash = watched_hash
        self.verified: list[str] = []
        self._lock = threading.Lock()
        self.enough_started = threading.Event()
        self._enough = started_enough

    def verify(self, hashed: str, password: str):
        if hashed == self.watched_hash:
            with self._lock:
                self.verified.append(password)
                if len(self.verified) >= self._enough:
                    self.enough_started.set()
        time.sleep(0.05)  # keep verifications in flight, as argon2 does for ~0.1-0.3 s
        return self.real.verify(hashed, password)

    def hash(self, password: str) -> str:
        return self.real.hash(password)

    def check_needs_rehash(self, hashed: str) -> bool:
        return self.real.check_needs_rehash(hashed)


def test_forty_parallel_wrong_passwords_verify_at_most_five_and_never_sign_in(
    engine, kent, fast_hasher, monkeypatch
):
    """40 wrong passwords at once, then the right one while 5 verifications are still in
    flight: before the fix every attempt passed the not-locked check and the right
    password signed in; now at most MAX_FAILED_LOGINS passwords are ever verified."""
    counting = _CountingHasher(fast_hasher, stored(engine, "am.kent").password_hash,
                               auth.MAX_FAILED_LOGINS)
    monkeypatch.setattr(auth, "_hasher", counting)
    start = threading.Barrier(40)
    results: list[auth.AuthResult] = []

    def wrong(i: int) -> None:
        start.wait()
        results.append(auth.authenticate_engine(engine, "am.kent", f"wrong password {i}"))

    def right() -> None:
        assert counting.enough_started.wait(20)
        results.append(auth.authenticate_engine(engine, "am.kent", PASSWORD))

    threads = [threading.Thread(target=wrong, args=(i,)) for i in range(40)]
    threads.append(threading.Thread(target=right))
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 41
    assert len(counting.verified) <= auth.MAX_FAILED_LOGINS
    assert PASSWORD not in counting.verified
    assert not any(r.ok for r in results)
    assert {r.message for r in results} == {auth.MSG_FAILED}
    row = stored(engine, "am.kent")
    assert row.locked_until is not None
    with engine.connect() as conn:
        log = audit_log.read_log(conn, username="am.kent")
    assert (log["action"] == "login_failure").sum() == 41
    assert (log["action"] == "login_success").sum() == 0


def test_locked_unknown_and_wrong_get_the_same_words(engine, kent):
    """README: messages never reveal whether a username exists, so a locked account must
    not answer differently from a name that does not exist (unknown names never lock)."""
    for i in range(auth.MAX_FAILED_LOGINS):
        sign_in(engine, "am.kent", "wrong password 1", T0 + timedelta(seconds=i))
        sign_in(engine, "no.such.user", "wrong password 1", T0 + timedelta(seconds=i))
    later = T0 + timedelta(seconds=10)
    locked = sign_in(engine, "am.kent", "wrong password 1", later)
    locked_right = sign_in(engine, "am.kent", PASSWORD, later)
    unknown = sign_in(engine, "no.such.user", "wrong password 1", later)
    assert locked == locked_right == unknown == auth.AuthResult(False, None, auth.MSG_FAILED)
    assert stored(engine, "am.kent").locked_until is not None
