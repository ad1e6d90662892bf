"""Start the Streamlit server for streamlit_app.py, with the routes that bind a sign-in to
the browser (issue 20).

Streamlit switches on its legacy "pages/ folder" mode for a server's first script run when
a pages/ folder sits beside the entry file, until some session calls st.navigation. A
fresh server whose first request is a deep link (/staffing?area=KENT) would then run the
page file on its own, without the login gate and shared filters. We keep the page files
in pages/ (the project layout) and switch that mode off before the server starts.

Streamlit's script cannot set an HttpOnly cookie, so the server gets three additions:
- GET /_bind?code=...&next=/path exchanges a sign-in's single-use code for the session
  cookie (HttpOnly, SameSite=Lax, Secure over HTTPS) and redirects back;
- GET /_signout ends the session and clears the cookie;
- /media/ (download files) is served only to a request carrying a live session cookie.
Session ids are redacted from Streamlit's log lines (a logged id was enough to attach a
websocket client to someone's session before the cookie was required).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from datetime import UTC, datetime

from dashboard.core.config import PROJECT_ROOT

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def redact_session_ids(value: object) -> object:
    """value with any UUID (Streamlit's session id format) replaced by "<session>"."""
    return _UUID.sub("<session>", value) if isinstance(value, str) else value


def install_log_redaction() -> None:
    """Redact session ids from every log record made by Streamlit's loggers."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_redacts_sessions", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if record.name.startswith("streamlit"):
            record.msg = redact_session_ids(record.msg)
            if isinstance(record.args, tuple):
                record.args = tuple(redact_session_ids(a) for a in record.args)
        return record

    factory._redacts_sessions = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_engine = None


def _db():
    global _engine
    if _engine is None:
        from dashboard.data import db

        _engine = db.make_engine()
    return _engine


def _bind(code: str) -> str | None:
    from dashboard.access import sessions

    with _db().begin() as conn:
        return sessions.bind(conn, code, datetime.now(UTC))


def _live(token: str) -> bool:
    from dashboard.access import sessions

    with _db().begin() as conn:
        return sessions.check(conn, token, datetime.now(UTC), sessions.idle()).username is not None


def _signout(token: str) -> None:
    from dashboard.access import audit_log, sessions

    with _db().begin() as conn:
        username = sessions.end(conn, token, "logout", datetime.now(UTC))
        if username:
            audit_log.record(conn, username, "logout", detail={"via": "signout_route"})


def _routes() -> list:
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import RedirectResponse
    from starlette.routing import Route

    from dashboard.access import sessions

    def _no_store(response):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"  # the code is in this URL
        return response

    async def bind_route(request):
        token = await run_in_threadpool(_bind, request.query_params.get("code", ""))
        response = RedirectResponse(sessions.safe_next(request.query_params.get("next")), 303)
        if token:
            response.set_cookie(sessions.COOKIE_NAME, token, httponly=True, samesite="lax",
                                secure=request.url.scheme == "https", path="/")
        return _no_store(response)

    async def signout_route(request):
        token = request.cookies.get(sessions.COOKIE_NAME)
        if token:
            await run_in_threadpool(_signout, token)
        response = RedirectResponse("/", 303)
        response.delete_cookie(sessions.COOKIE_NAME, path="/")
        return _no_store(response)

    return [Route(sessions.BIND_PATH, bind_route, methods=["GET"]),
            Route(sessions.SIGNOUT_PATH, signout_route, methods=["GET"])]


class MediaNeedsSession:
    """ASGI middleware: /media/ files (CSV and other downloads) only for a request that
    carries a live session cookie; anything else gets 403 and no bytes."""

    def __init__(self, app, prefix: str = "/media/"):
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("path", "").startswith(self.prefix):
            from starlette.concurrency import run_in_threadpool
            from starlette.requests import Request
            from starlette.responses import PlainTextResponse

            from dashboard.access import sessions

            token = Request(scope).cookies.get(sessions.COOKIE_NAME)
            if not token or not await run_in_threadpool(_live, token):
                response = PlainTextResponse("Sign in to download this file.", 403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _add_routes_and_guard() -> None:
    """Put our routes ahead of Streamlit's (its static catch-all would answer them) and
    the media guard right after Streamlit's path-security middleware."""
    from starlette.middleware import Middleware
    from streamlit import config as st_config
    from streamlit.web.server.starlette import starlette_app

    make_routes = starlette_app.create_streamlit_routes
    make_middleware = starlette_app.create_streamlit_middleware
    if getattr(make_routes, "_dashboard", False):
        return

    def routes(runtime):
        return _routes() + make_routes(runtime)

    def middleware():
        base = (st_config.get_option("server.baseUrlPath") or "").strip("/")
        prefix = f"/{base}/media/" if base else "/media/"
        stack = make_middleware()
        return [*stack[:1], Middleware(MediaNeedsSession, prefix=prefix), *stack[1:]]

    routes._dashboard = True  # type: ignore[attr-defined]
    starlette_app.create_streamlit_routes = routes
    starlette_app.create_streamlit_middleware = middleware


# Only the benchmark, on its own server, may empty the caches from a client (its "cold"
# timings); a production server ignores the request.
ALLOW_CLIENT_CACHE_CLEAR = "DASHBOARD_ALLOW_CLIENT_CACHE_CLEAR"


def refuse_client_cache_clears() -> None:
    """Streamlit empties every cache of the process (all users') when any websocket client,
    signed in or not, sends "clear cache": a cheap way to make every page slow for everyone.
    Ignore that request unless ALLOW_CLIENT_CACHE_CLEAR is "1" in the environment."""
    from streamlit.runtime.app_session import AppSession

    if os.environ.get(ALLOW_CLIENT_CACHE_CLEAR) == "1":
        return
    if getattr(AppSession._handle_clear_cache_request, "_dashboard", False):
        return

    def ignore(self) -> None:
        logging.getLogger("dashboard").warning("a client asked to clear the caches; ignored")

    ignore._dashboard = True  # type: ignore[attr-defined]
    AppSession._handle_clear_cache_request = ignore


# Imported before the server starts, then frozen. Not dashboard.app (or pages/): their
# st.cache_data decorators must run inside the Streamlit runtime to share its caches.
WARM_PACKAGES = ("dashboard.access", "dashboard.commands", "dashboard.core", "dashboard.data",
                 "dashboard.hmip", "dashboard.ingest", "dashboard.precompute",
                 "dashboard.stats", "queries")
WARM_MODULES = ("numpy", "pandas", "plotly.graph_objects", "plotly.express", "plotly.io",
                "sqlalchemy", "scipy.stats", "streamlit.elements.plotly_chart",
                "streamlit.elements.arrow")


def warm_and_freeze_heap() -> int:
    """Import the modules every script run uses, then gc.freeze() the heap they made.

    Streamlit runs gc.collect(2) after every script run (runner.postScriptGC). With pandas,
    plotly, scipy and SQLAlchemy loaded that full collection walks ~220,000 long-lived
    objects: about 150 ms of CPU per run, more than a simple page's own work, and all of it
    holding the GIL that every other session waits on. Frozen objects are left out of
    collections; garbage made by the runs is still collected after each one. Returns how
    many objects were frozen."""
    import gc
    import importlib
    import pkgutil

    for name in WARM_MODULES:
        importlib.import_module(name)
    for package_name in WARM_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, package_name + "."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    from dashboard.hmip import ratings

    for scheme_id in ratings.available_schemes():  # parsed once, kept (ratings.load_scheme)
        ratings.load_scheme(scheme_id)
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def main(extra_args: list[str]) -> int:
    """Run the dashboard server (extra_args are streamlit's own --option flags)."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    warm_and_freeze_heap()
    install_log_redaction()
    refuse_client_cache_clears()
    _add_routes_and_guard()
    sys.argv = ["streamlit", "run", str(PROJECT_ROOT / "streamlit_app.py"),
                "--browser.gatherUsageStats=false", *extra_args]
    return cli.main()
