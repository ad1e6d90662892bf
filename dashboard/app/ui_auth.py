"""Sign-in, sign-out, idle timeout and page guards for the Streamlit app.

Two backends, chosen by AUTH_BACKEND (default "local"):
- local: the app_user table with argon2id hashes and lock-out (dashboard.access.auth);
- oidc: Streamlit's st.login against the organisation's identity provider (configured
  under [auth] in .streamlit/secrets.toml); the identity's e-mail must match an enabled
  app_user row, which gives the role and scope.

Local sign-ins are bound to the browser (dashboard.access.sessions): the signed-in state is an
app_session row whose secret the browser holds in an HttpOnly cookie, checked on every
run. Nothing in session_state is trusted as an identity, so a websocket client that
replays someone's Streamlit session id runs the script without the cookie and gets the
sign-in screen; signing out ends the row, so every other tab is signed out at its next
run. Every run reloads the user row, so disabling a user or changing a role takes effect
on their next click.
"""

from __future__ import annotations

import html
import json
import logging
import os
import time
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

import streamlit as st

from dashboard.access import audit_log, auth, sessions
from dashboard.access.scope import Scope, scope_for
from dashboard.app import ui
from dashboard.app.ui import engine, facts

log = logging.getLogger("dashboard.access.auth")
IDLE_SECONDS = int(sessions.idle().total_seconds())
SESSION_KEY = "auth_username"  # for display and per-user bookkeeping only, never trusted
BIND_PATH = sessions.BIND_PATH
SIGNOUT_PATH = sessions.SIGNOUT_PATH


def backend() -> str:
    return os.environ.get("AUTH_BACKEND", "local").strip().lower()


def _record(username: str, action: str, **detail) -> None:
    with engine().begin() as conn:
        audit_log.record(conn, username, action, detail=detail or None)


def _browser_token() -> str | None:
    """The session secret from the browser's cookie (sent with the websocket handshake)."""
    return st.context.cookies.get(sessions.COOKIE_NAME)


def _forget(reason_notice: str | None = None) -> None:
    """Drop this Streamlit session's per-user state (views logged, last seen)."""
    for key in (SESSION_KEY, "auth_last_seen", "_logged_views"):
        st.session_state.pop(key, None)
    if reason_notice:
        st.session_state["auth_notice"] = reason_notice


def sign_out(reason: str = "logout") -> None:
    """End the browser's session (every tab of it) and log it; the next run signs in anew."""
    username = st.session_state.get(SESSION_KEY)
    if backend() == "oidc":
        _forget()
        if username:
            _record(username, reason)
        if getattr(st.user, "is_logged_in", False):
            st.logout()
        return
    with engine().begin() as conn:
        ended = sessions.end(conn, _browser_token(), reason, datetime.now(UTC))
        if ended:
            audit_log.record(conn, ended, reason)
    _forget()
    st.session_state["auth_clear_cookie"] = True


def current() -> tuple[auth.User, Scope] | None:
    """The signed-in user and their scope, or None. Applies the idle timeout."""
    username = _oidc_user() if backend() == "oidc" else _cookie_user()
    if not username:
        return None
    if st.session_state.get(SESSION_KEY) != username:
        _forget()  # another account signed in in this tab: its views are not ours
        st.session_state[SESSION_KEY] = username
    with engine().connect() as conn:
        user = auth.get_user(conn, username)
        if user is None or user.disabled:
            _forget()
            return None
        return user, scope_for(conn, user)


def _cookie_user() -> str | None:
    with engine().begin() as conn:
        found = sessions.check(conn, _browser_token(), datetime.now(UTC), sessions.idle())
        if found.timed_out:
            audit_log.record(conn, st.session_state.get(SESSION_KEY) or "unknown",
                             "session_timeout")
    if found.timed_out:
        _forget(f"You were signed out after {IDLE_SECONDS // 60} minutes without activity.")
        st.session_state["auth_clear_cookie"] = True
    return found.username


def _oidc_user() -> str | None:
    if not getattr(st.user, "is_logged_in", False):
        return None
    username = st.session_state.get(SESSION_KEY) or _sign_in_oidc()
    if not username:
        return None
    now = time.monotonic()
    last = st.session_state.get("auth_last_seen", now)
    if now - last > IDLE_SECONDS:
        sign_out("session_timeout")
        st.session_state["auth_notice"] = (
            f"You were signed out after {IDLE_SECONDS // 60} minutes without activity.")
        return None
    st.session_state["auth_last_seen"] = now
    return username


def _sign_in_oidc() -> str | None:
    email = str(getattr(st.user, "email", "") or "")
    with engine().begin() as conn:
        user = auth.get_user_by_email(conn, email) if email else None
        if user is None or user.disabled:
            audit_log.record(conn, email[:64] or "unknown", "login_failure",
                             detail={"backend": "oidc", "reason": "no enabled user row"})
            st.session_state["auth_notice"] = (
                "Your organisation account is not set up for this dashboard (or is "
                "disabled). Ask an administrator to add your e-mail address.")
            return None
        audit_log.record(conn, user.username, "login_success", detail={"backend": "oidc"})
    st.session_state[SESSION_KEY] = user.username
    return user.username


def login_screen() -> None:
    """The sign-in form (or single sign-on button); stops the script until signed in.

    The page and parameters of the link that was opened are remembered, so a shared link
    opens its page once the user has signed in (the bind route redirects back to it)."""
    if st.session_state.pop("auth_clear_cookie", False):
        _go(SIGNOUT_PATH)  # drop the dead cookie; the route redirects back here
    if "auth_requested" not in st.session_state:
        path = urlsplit(str(st.context.url or "")).path.strip("/").split("/")[-1]
        st.session_state["auth_requested"] = (path, st.query_params.to_dict())
    _left, middle, _right = st.columns([1, 2, 1])
    with middle:
        _login_form()
    st.stop()


def _go(path: str) -> None:
    """Send the browser to a server route on this site (a plain link too, if scripts are
    off). path is built here from fixed routes and URL-encoded values only."""
    st.html(f"<script>window.location.replace({json.dumps(path)});</script>",
            unsafe_allow_javascript=True)
    st.markdown(f'<a href="{html.escape(path, quote=True)}" target="_self">Continue</a>',
                unsafe_allow_html=True)


def _next_path() -> str:
    """Where the bind route sends the browser back to: the link opened before signing in."""
    page, params = st.session_state.get("auth_requested") or ("", {})
    path = "/" + (page if page and page.replace("_", "").isalnum() else "")
    return path + ("?" + urlencode(params, doseq=True) if params else "")


def _login_form() -> None:
    st.title("Probation performance dashboard")
    st.caption("Kent, Surrey and Sussex · sign in to continue")
    notice = st.session_state.pop("auth_notice", None)
    if notice:
        st.info(notice, icon=":material/info:")
    if backend() == "oidc":
        st.button("Sign in with your organisation account", type="primary",
                  on_click=st.login, icon=":material/login:")
        return
    with st.form("login", clear_on_submit=True):
        username = st.text_input("Username", max_chars=64, autocomplete="username")
        password = st.text_input("Password", type="password", max_chars=1024,
                                 autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            result = auth.authenticate_engine(engine(), username.strip().lower(), password,
                                              datetime.now(UTC))
        except Exception as exc:
            if not ui.busy_notice(exc):  # busy: "try again", not a crash; else a real fault
                raise
            return
        if result.ok and result.user is not None:
            with engine().begin() as conn:
                code = sessions.start(conn, result.user.username, datetime.now(UTC))
            st.success("Signed in; opening the dashboard…", icon=":material/login:")
            _go(BIND_PATH + "?" + urlencode({"code": code, "next": _next_path()}))
            st.stop()
        st.error(result.message, icon=":material/lock:")
    if facts().get("mode") == "demo":
        with st.expander("Demo accounts (demo data only)", icon=":material/science:"):
            st.markdown(auth.demo_users_markdown())


def record_person_view(scope: Scope, target: str, filters: dict, rows: int) -> None:
    """One audit_log row per distinct view of person-level rows by this user in this
    browser session (a rerun that shows the same rows again is not a new view). The set
    of logged views is keyed by user and dropped at sign-out or when another user signs
    in in the same tab."""
    key = (scope.username, target, tuple(sorted((k, str(v)) for k, v in filters.items())))
    seen = st.session_state.setdefault("_logged_views", set())
    if key in seen:
        return
    with engine().begin() as conn:
        audit_log.record(conn, scope.username, "view_person_rows", target=target,
                         filters=filters, detail={"rows": rows})
    seen.add(key)


def home_area(scope: Scope, offices) -> str | None:
    """The area code a user lands on: for an area manager the one area holding every
    office of their scope; None for other roles (they land on the region)."""
    if scope.role != "area_manager" or not scope.person_office_ids:
        return None
    codes = set(offices.loc[offices["office_id"].isin(scope.person_office_ids), "area_code"])
    return codes.pop() if len(codes) == 1 else None


def take_requested_page() -> tuple[str, dict[str, str]] | None:
    """The (url path, query params) of the link opened before signing in, once."""
    return st.session_state.pop("auth_requested", None)
