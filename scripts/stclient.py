"""A browser-less dashboard client speaking the browser's own Streamlit websocket protocol,
for the load test, the benchmark and the replica test (issue 16).

It signs in the way a browser does: the sign-in form's run answers with a link to
/_bind?code=..., the client follows it over HTTP and keeps the HttpOnly session cookie, then
opens a new websocket (the browser reloads) that carries the cookie. Behind nginx
(`python -m dashboard serve --replicas N`) it also keeps the affinity cookie from its first
HTTP response, so all its requests reach one server process, and records which process
answered (the X-Dashboard-Replica header). Filters change the way a person changes them:
a new value of the sidebar's select box, sent as a widget state.

A run's time is from the request to the server's "script finished" message: the server's
time for the whole script run (entry file and page), plus loopback transfer.
"""

from __future__ import annotations

import ast
import asyncio
import http.client
import re
import time
from dataclasses import dataclass, field
from functools import cache
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

AFFINITY_COOKIE = "kss_replica"
REPLICA_HEADER = "X-Dashboard-Replica"
ERROR_TEXTS = ("Something went wrong", "could not", "You do not have access")
# content, not failure: the overview lists measures off target in a red box
NOT_ERRORS = ("Off target (Red)",)
ERROR_FORMAT = 1  # streamlit.proto.Alert_pb2.Alert.ERROR: st.error (warnings are content)
_BIND = re.compile(r"(/_bind\?code=[^\"'<>\s]+)")
ENTRY = Path(__file__).resolve().parent.parent / "streamlit_app.py"


@cache
def page_keys() -> tuple[str, ...]:
    """The url paths of the app's pages: the keys of PAGES in streamlit_app.py (read, not
    imported: importing would run the app)."""
    for node in ast.parse(ENTRY.read_text()).body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
                and any(isinstance(t, ast.Name) and t.id == "PAGES" for t in node.targets)):
            return tuple(k.value for k in node.value.keys if isinstance(k, ast.Constant))
    return ()


def _key_of(page_hash: str) -> str:
    """The url path whose script hash this is ("" when none is known): the navigation
    message names the default page by an empty url path."""
    from streamlit.util import calc_hash

    return next((k for k in page_keys() if calc_hash(k) == page_hash), "")


@dataclass
class Run:
    """What one script run sent back."""

    seconds: float
    ok: bool
    problem: str = ""
    elements: list = field(default_factory=list)
    pages: dict = field(default_factory=dict)  # url path -> page script hash, in order

    def text(self) -> str:
        """The markdown, heading, alert and html texts of the run, joined (for checks)."""
        out = []
        for e in self.elements:
            kind = e.WhichOneof("type")
            if kind in ("markdown", "heading", "alert", "html"):
                out.append(getattr(e, kind).body)
        return "\n".join(out)

    def heading(self) -> str:
        """The first heading of the run (the page title), or ""."""
        return next((e.heading.body for e in self.elements
                     if e.WhichOneof("type") == "heading"), "")


class Session:
    """One browser tab: its cookies, its websocket, its Streamlit session."""

    def __init__(self, base_url: str, timeout: float = 120.0):
        parts = urlsplit(base_url)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise ValueError("this client only talks to a server on loopback")
        self.base = base_url.rstrip("/")
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.ws = None
        self.replica: str | None = None  # which process holds the websocket (behind nginx)
        self.pages: dict[str, str] = {}
        self.query = ""  # the URL's query string, as the server last set it
        self.last: Run | None = None
        self.choices: dict[str, str] = {}  # select box id -> the value the tab holds
        self.page: str | None = None
        self.default_page = ""  # the url path of the page a signed-in tab opens on

    # --- HTTP ---------------------------------------------------------------------------

    def http_get(self, path: str) -> tuple[int, dict[str, str]]:
        """GET path without following redirects, keeping any cookies set; returns
        (status, headers)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request("GET", path, headers=self._cookie_header())
            resp = conn.getresponse()
            resp.read()
            for value in resp.headers.get_all("Set-Cookie") or []:
                jar = SimpleCookie()
                jar.load(value)
                for name, morsel in jar.items():
                    if morsel.value:
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
            if resp.headers.get(REPLICA_HEADER):
                self.replica = resp.headers[REPLICA_HEADER]
            return resp.status, dict(resp.headers)
        finally:
            conn.close()

    def _cookie_header(self) -> dict[str, str]:
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    # --- the websocket ------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the websocket, as a page load does (first fetching the page itself, which
        gives the affinity cookie behind nginx)."""
        import websockets

        if AFFINITY_COOKIE not in self.cookies:
            await asyncio.to_thread(self.http_get, "/")
        ws_url = self.base.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = await websockets.connect(
            ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=self.timeout,
            ping_interval=None, additional_headers=self._cookie_header())
        header = self.ws.response.headers.get(REPLICA_HEADER)
        self.replica = header or self.replica

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def run(self, page: str | None = None, widgets=(), query: str | None = None) -> Run:
        """Ask for a script run (of page, a url path such as "staffing"; None: the current
        one) and read messages until it has finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        if page is not None and page != self.page and query is None:
            query = _filters_only(self.query)  # a link in the navigation keeps the filters
        given = {w.id for w in widgets}
        held = [WidgetState(id=i, string_value=v) for i, v in self.choices.items()
                if i not in given]  # a browser sends every widget's value on every run
        msg = BackMsg()
        msg.rerun_script.CopyFrom(self._state(page, [*held, *widgets], query))
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        self.last = await self._read(started)
        self.page = page if page is not None else self.page
        shown = {e.selectbox.id: e.selectbox for e in self.last.elements
                 if e.WhichOneof("type") == "selectbox"}
        if self.last.ok:  # forget widgets no longer drawn; take values the app set
            self.choices = {i: v for i, v in self.choices.items() if i in shown}
            self.choices.update({i: b.raw_value for i, b in shown.items() if b.set_value})
        return self.last

    async def clear_cache(self) -> None:
        """The browser's "Clear cache" message: Streamlit empties st.cache_data and
        st.cache_resource for the whole process (every user), as after a restart."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        msg.clear_cache = True
        await self.ws.send(msg.SerializeToString())
        self.choices = {}  # the session's state is cleared too: filters come from the URL

    def _state(self, page: str | None, widgets, query: str | None):
        from streamlit.proto.ClientState_pb2 import ClientState

        if query is not None:
            self.query = query
        state = ClientState(query_string=self.query)
        page = self.page if page is None else page  # a rerun stays on the page, as in a browser
        if page is not None:
            if page in self.pages:
                state.page_script_hash = self.pages[page]
            else:
                state.page_name = page  # a deep link before the navigation is known
        state.context_info.timezone = "Europe/London"
        state.context_info.locale = "en-GB"
        state.widget_states.widgets.extend(widgets)
        return state

    async def _read(self, started: float) -> Run:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        run = Run(0.0, True)
        deadline = started + self.timeout
        while True:
            remaining = deadline - time.perf_counter()
            try:
                if remaining <= 0:
                    raise TimeoutError
                raw = await asyncio.wait_for(self.ws.recv(), remaining)
            except TimeoutError:
                return Run(time.perf_counter() - started, False, "timeout", run.elements)
            fwd = ForwardMsg.FromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                run.elements.append(element)
                which = element.WhichOneof("type")
                if which == "exception":
                    run.ok = False
                    run.problem = "exception: " + element.exception.message[:200]
                elif (which == "alert" and element.alert.format == ERROR_FORMAT
                      and any(t in element.alert.body for t in ERROR_TEXTS)
                      and not element.alert.body.startswith(NOT_ERRORS)):
                    run.ok, run.problem = False, "error box: " + element.alert.body[:200]
            elif kind == "navigation":
                self.pages = {}
                for p in fwd.navigation.app_pages:
                    key = p.url_pathname or _key_of(p.page_script_hash)
                    self.pages[key] = p.page_script_hash
                    if p.is_default:
                        self.default_page = key
                run.pages = dict(self.pages)
            elif kind == "page_info_changed":
                self.query = fwd.page_info_changed.query_string
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    run.elements = []  # the app asked for a rerun (e.g. st.switch_page)
                    run.ok, run.problem = True, ""
                    continue
                run.seconds = time.perf_counter() - started
                if status != "FINISHED_SUCCESSFULLY":
                    run.ok, run.problem = False, status
                return run

    # --- what a person does ---------------------------------------------------------------

    async def sign_in(self, user: str, password: str, page: str | None = None,
                      query: str = "") -> Run:
        """Open the app (at page, with the URL's query), sign in through the form, follow
        the bind link and reload; returns the first signed-in run (ok=False with the
        reason when it did not work)."""
        await self.connect()
        form = await self.run(page, query=query)
        if not form.ok:
            return form
        try:
            widgets = _form_widgets(form.elements, user, password)
        except (StopIteration, KeyError):
            return Run(form.seconds, False, "no sign-in form", form.elements)
        submitted = await self.run(widgets=widgets)
        found = _BIND.search(submitted.text())
        if not submitted.ok or not found:
            submitted.ok = False
            submitted.problem = submitted.problem or "not signed in (no bind link)"
            return submitted
        link = found.group(1).replace("&amp;", "&")
        status, _headers = await asyncio.to_thread(self.http_get, link)
        if status != 303 or "kss_session" not in self.cookies:
            return Run(submitted.seconds, False, f"bind answered {status} without a cookie")
        await self.close()  # the browser follows the redirect: a new page, a new session
        await self.connect()
        first = await self.run(page, query=query)
        if first.ok and not first.pages:
            first.ok, first.problem = False, "signed in, but no navigation"
        return first

    def selectbox(self, label: str):
        """The select box with this label in the last run."""
        return next(e.selectbox for e in (self.last.elements if self.last else [])
                    if e.WhichOneof("type") == "selectbox" and e.selectbox.label == label)

    async def choose(self, label: str, option: str | int) -> Run:
        """Pick an option (its shown text, or its position) in a select box of the last
        run, as a click does: a rerun carrying the new widget value."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        box = self.selectbox(label)
        value = box.options[option] if isinstance(option, int) else option
        self.choices[box.id] = value
        return await self.run(widgets=[WidgetState(id=box.id, string_value=value)])

    async def click(self, label: str) -> Run:
        """Press the button with this label in the last run, as a click does: a rerun in
        which the button's trigger is set for that one run."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        button = next(e.button for e in (self.last.elements if self.last else [])
                      if e.WhichOneof("type") == "button" and e.button.label == label)
        return await self.run(widgets=[WidgetState(id=button.id, trigger_value=True)])


FILTER_PARAMS = ("area", "office", "from", "to")


def _filters_only(query: str) -> str:
    """The query string with only the shared filters (what a navigation link keeps)."""
    from urllib.parse import parse_qsl, urlencode

    return urlencode([(k, v) for k, v in parse_qsl(query) if k in FILTER_PARAMS])


def _form_widgets(elements, user: str, password: str):
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    inputs = {e.text_input.label: e.text_input.id for e in elements
              if e.WhichOneof("type") == "text_input"}
    submit = next(e.button.id for e in elements
                  if e.WhichOneof("type") == "button" and e.button.is_form_submitter)
    return [WidgetState(id=inputs["Username"], string_value=user),
            WidgetState(id=inputs["Password"], string_value=password),
            WidgetState(id=submit, trigger_value=True)]
