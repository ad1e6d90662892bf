"""Browser sessions (issue 20, item 2): the app_session rows, the /_bind and /_signout
routes, the /media/ guard and the redaction of session ids from the server log, on SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import select

from dashboard.access import sessions
from dashboard.app import serve
from dashboard.data import db
from dashboard.data.schema import app_session
from dashboard.data.schema import audit_log as audit_log_table

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
IDLE = timedelta(minutes=30)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path}/s.sqlite")
    else:
        engine = db.make_engine(request.getfixturevalue("new_pg_url")())
    db.upgrade(engine)
    yield engine
    engine.dispose()


def new_session(engine, username="chief.exec", now=T0) -> str:
    with engine.begin() as conn:
        code = sessions.start(conn, username, now)
        token = sessions.bind(conn, code, now)
    assert token
    return token


def check(engine, token, now=T0):
    with engine.begin() as conn:
        return sessions.check(conn, token, now, IDLE)


# --- the rows -------------------------------------------------------------------------


def test_only_hashes_are_stored(engine):
    with engine.begin() as conn:
        code = sessions.start(conn, "chief.exec", T0)
        token = sessions.bind(conn, code, T0)
        row = conn.execute(select(app_session)).one()
    stored = " ".join(str(v) for v in row)
    assert code not in stored and token not in stored
    assert row.token_sha256 == sessions._sha256(token) and row.bind_sha256 is None


def test_a_bind_code_works_once_and_only_before_it_expires(engine):
    with engine.begin() as conn:
        code = sessions.start(conn, "chief.exec", T0)
        late = sessions.start(conn, "am.kent", T0)
    with engine.begin() as conn:
        assert sessions.bind(conn, code, T0 + timedelta(seconds=5))
        assert sessions.bind(conn, code, T0 + timedelta(seconds=6)) is None  # used
        expired = T0 + timedelta(seconds=sessions.BIND_SECONDS + 1)
        assert sessions.bind(conn, late, expired) is None
        assert sessions.bind(conn, "made-up", T0) is None
        assert sessions.bind(conn, "", T0) is None


def test_check_gives_the_user_only_for_a_live_token(engine):
    token = new_session(engine)
    assert check(engine, token).username == "chief.exec"
    assert check(engine, token + "x").username is None
    assert check(engine, None).username is None
    assert check(engine, "a" * 5000).username is None


def test_idle_sessions_end_and_activity_keeps_them_alive(engine):
    token = new_session(engine)
    for minutes in (10, 20, 30, 40):  # a run every 10 minutes keeps it going
        assert check(engine, token, T0 + timedelta(minutes=minutes)).username == "chief.exec"
    gone = check(engine, token, T0 + timedelta(minutes=40) + IDLE + timedelta(seconds=1))
    assert gone.username is None and gone.timed_out
    assert check(engine, token, T0 + timedelta(minutes=41)).username is None  # stays ended
    with engine.connect() as conn:
        assert conn.execute(select(app_session.c.end_reason)).scalar_one() == "session_timeout"


def test_ending_a_session_ends_it_for_every_tab_and_only_that_one(engine):
    mine, other = new_session(engine), new_session(engine, "am.kent")
    with engine.begin() as conn:
        assert sessions.end(conn, mine, "logout", T0) == "chief.exec"
        assert sessions.end(conn, mine, "logout", T0) is None
    assert check(engine, mine).username is None
    assert check(engine, other).username == "am.kent"
    with engine.begin() as conn:
        assert sessions.end_all_for_user(conn, "am.kent", "user_disabled", T0) == 1
    assert check(engine, other).username is None


@pytest.mark.parametrize("path, expected", [
    ("/cases?area=KENT", "/cases?area=KENT"),
    ("/", "/"),
    ("//evil.example/x", "/"),
    ("/\\evil.example", "/"),
    ("https://evil.example/", "/"),
    ("javascript:alert(1)", "/"),
    ("/ok\r\nSet-Cookie: x=1", "/"),
    (None, "/"),
])
def test_safe_next_never_leaves_the_site(path, expected):
    assert sessions.safe_next(path) == expected


# --- the routes and the media guard (the ASGI app, no network) --------------------------


def call(app, path: str, cookie: str | None = None) -> tuple[int, dict[str, list[str]], bytes]:
    """One GET through an ASGI app: (status, headers, body)."""
    query = path.split("?", 1)[1] if "?" in path else ""
    headers = [(b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    scope = {"type": "http", "method": "GET", "path": path.split("?", 1)[0],
             "raw_path": path.split("?", 1)[0].encode(), "query_string": query.encode(),
             "headers": headers, "scheme": "http", "server": ("testserver", 80),
             "client": ("127.0.0.1", 1234), "root_path": "", "http_version": "1.1",
             "asgi": {"version": "3.0"}}
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    # in a thread of its own: the browser tests' Playwright keeps an event loop running in
    # the main thread of the same pytest process
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    out: dict[str, list[str]] = {}
    for k, v in start["headers"]:
        out.setdefault(k.decode().lower(), []).append(v.decode())
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], out, body


@pytest.fixture
def app(engine, monkeypatch):
    """Our routes plus a stand-in /media/ file behind the guard, on the test database."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    monkeypatch.setattr(serve, "_engine", engine)

    async def media(_request):
        return PlainTextResponse("crn,name\nX123456,someone\n")

    return Starlette(routes=[*serve._routes(), Route("/media/{name}", media)],
                     middleware=[Middleware(serve.MediaNeedsSession)])


def cookie_of(headers) -> SimpleCookie:
    jar = SimpleCookie()
    for line in headers.get("set-cookie", []):
        jar.load(line)
    return jar


def test_bind_route_sets_an_httponly_samesite_cookie_once(engine, app):
    with engine.begin() as conn:
        code = sessions.start(conn, "chief.exec", datetime.now(UTC))
    status, headers, _ = call(app, f"/_bind?code={code}&next=/cases%3Farea%3DKENT")
    assert status == 303 and headers["location"] == ["/cases?area=KENT"]
    raw = headers["set-cookie"][0].lower()
    assert "httponly" in raw and "samesite=lax" in raw and "path=/" in raw
    assert headers["cache-control"] == ["no-store"]
    token = cookie_of(headers)[sessions.COOKIE_NAME].value
    assert check(engine, token, datetime.now(UTC)).username == "chief.exec"
    # the same code again: no second cookie (a leaked link cannot be replayed)
    status, headers, _ = call(app, f"/_bind?code={code}")
    assert status == 303 and "set-cookie" not in headers


def test_bind_route_refuses_to_redirect_off_site(engine, app):
    with engine.begin() as conn:
        code = sessions.start(conn, "chief.exec", datetime.now(UTC))
    _, headers, _ = call(app, f"/_bind?code={code}&next=//evil.example/")
    assert headers["location"] == ["/"]


def test_media_needs_a_live_session_cookie(engine, app):
    """Before: /media/<id>.csv was served to any request, with no cookie."""
    assert call(app, "/media/abc.csv")[0] == 403
    assert b"X123456" not in call(app, "/media/abc.csv")[2]
    assert call(app, "/media/abc.csv", f"{sessions.COOKIE_NAME}=forged")[0] == 403
    token = new_session(engine, now=datetime.now(UTC))
    cookie = f"{sessions.COOKIE_NAME}={token}"
    status, _, body = call(app, "/media/abc.csv", cookie)
    assert status == 200 and b"X123456" in body
    status, headers, _ = call(app, "/_signout", cookie)
    assert status == 303 and 'max-age=0' in headers["set-cookie"][0].lower()
    assert call(app, "/media/abc.csv", cookie)[0] == 403
    with engine.connect() as conn:
        actions = conn.execute(select(audit_log_table.c.action)).scalars().all()
    assert actions == ["logout"]


def test_streamlit_log_lines_carry_no_session_id(caplog):
    serve.install_log_redaction()
    sid = "0b8f2a52-61c4-4bf3-9d2e-3f1f0a3c9d11"
    logger = logging.getLogger("streamlit.runtime.websocket_session_manager")
    logger.propagate = True  # let caplog see it; Streamlit's own handler does not
    with caplog.at_level(logging.WARNING):
        logger.warning("Session with id %s is already connected! Reconnecting.", sid)
    assert caplog.records and sid not in caplog.text and "<session>" in caplog.text


def test_disabling_or_resetting_an_account_ends_its_sessions(engine, monkeypatch):
    from argon2 import PasswordHasher

    from dashboard.access import auth
    from dashboard.commands.users import AddUser, DisableUser, ResetPassword

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=8192,
                                                        parallelism=1))
    with engine.begin() as conn:
        AddUser(conn, "admin", "Admin", "admin", password="Keeper of keys 2026").run()
        AddUser(conn, "quality.lead", "QL", "quality_lead", password="Quality 2026!").run()
    now = datetime.now(UTC)
    first = new_session(engine, "quality.lead", now)
    with engine.begin() as conn:
        ResetPassword(conn, "quality.lead", "Another pass 2027", actor="admin").run()
    assert check(engine, first, now).username is None
    second = new_session(engine, "quality.lead", now)
    with engine.begin() as conn:
        DisableUser(conn, "quality.lead", actor="admin").run()
    assert check(engine, second, now).username is None
