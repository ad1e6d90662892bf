"""Session takeover (issue 20, item 2), against the real server: a raw websocket client that
replays a signed-in chief executive's live Streamlit session id gets the sign-in form and
none of the case rows; the same client holding the browser's cookie gets them (so the
replay itself works, and the cookie is what makes the difference). The session id is not
in the server log, and /media/ refuses a request without the cookie."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

from dashboard.access import sessions
from tests.browser.helpers import sign_in, wait_for_heading

pytestmark = pytest.mark.browser


def session_ids(frames: list[bytes]) -> list[str]:
    """Streamlit session ids announced to the browser, in order."""
    out = []
    for payload in frames:
        msg = ForwardMsg()
        try:
            msg.ParseFromString(payload)
        except Exception:  # noqa: BLE001 - not every frame is a whole ForwardMsg
            continue
        if msg.HasField("new_session") and msg.new_session.initialize.session_id:
            out.append(msg.new_session.initialize.session_id)
    return out


def replay(base_url: str, session_id: str, cookie: str | None, page: str) -> bytes:
    """Attach to session_id over a raw websocket, ask for a run of `page` and return
    every byte the server sends back until that run finishes (or 30 s pass)."""
    host = base_url.split("://", 1)[1].rstrip("/")
    headers = {"Cookie": cookie} if cookie else {}
    received = b""
    with connect(f"ws://{host}/_stcore/stream", origin=base_url.rstrip("/"),
                 subprotocols=["streamlit", "x", session_id], additional_headers=headers,
                 open_timeout=10, max_size=None) as ws:
        back = BackMsg()
        back.rerun_script.query_string = ""
        back.rerun_script.page_name = page
        ws.send(back.SerializeToString())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                frame = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            if isinstance(frame, bytes):
                received += frame
                msg = ForwardMsg()
                try:
                    msg.ParseFromString(frame)
                except Exception:  # noqa: BLE001
                    continue
                if msg.HasField("script_finished"):
                    break
    return received


def test_replayed_session_id_without_the_cookie_gets_no_rows(page, app):
    frames: list[bytes] = []
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda f: frames.append(f if isinstance(f, bytes) else b"")))
    sign_in(page, "chief.exec", "/cases")
    wait_for_heading(page, "Cases behind the figures")
    crns = [r[0] for r in app.rows("SELECT crn FROM person_on_probation ORDER BY id")]
    shown = page.locator("[data-testid='stDataFrame']").first
    assert shown.is_visible()
    shown.hover()  # the table's toolbar appears on hover: no unlogged "Download as CSV"
    page.get_by_role("button", name="Search").first.wait_for()  # the toolbar is shown
    assert page.get_by_role("button", name="Download as CSV").count() == 0
    victim = session_ids(frames)[-1]  # the session of the signed-in tab (after /_bind)
    cookie = next(c for c in page.context.cookies() if c["name"] == sessions.COOKIE_NAME)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    stolen = replay(app.url, victim, None, "cases")
    leaked = [c for c in crns if c.encode() in stolen]
    assert not leaked, f"{len(leaked)} CRNs reached a client without the cookie"
    assert b"Username" in stolen  # it got the sign-in form instead

    # Positive control: the same replay with the browser's cookie does reach the rows.
    with_cookie = replay(app.url, victim, f"{cookie['name']}={cookie['value']}", "cases")
    assert sum(c.encode() in with_cookie for c in crns) > 0

    assert victim not in app.log_tail(200_000), "the session id is in the server log"


def test_media_is_refused_without_the_session_cookie(app):
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{app.url.rstrip('/')}/media/anything.csv", timeout=10)
    assert refused.value.code == 403
