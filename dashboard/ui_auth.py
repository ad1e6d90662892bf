"""Sign-in, sign-out, idle timeout and page guards for the Streamlit app.

Two backends, chosen by AUTH_BACKEND (default "local"):
- local: the app_user table with argon2id hashes and lock-out (dashboard.auth);
- oidc: Streamlit's st.login against the organisation's identity provider (configured
  under [auth] in .streamlit/secrets.toml); the identity's e-mail must match an enabled
  app_user row, which gives the role and scope.

The signed-in username lives only in server-side session state; every run reloads the
user row, so disabling a user or changing a role takes effect on their next click.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import streamlit as st

from dashboard import audit_log, auth, ui
from dashboard.scope import Scope, scope_for
from dashboard.ui import engine, facts

log = logging.getLogger("dashboard.auth")
IDLE_SECONDS = int(os.environ.get("SESSION_IDLE_MINUTES", "30")) * 60
SESSION_KEY = "auth_username"


def backend() -> str:
    return os.environ.get("AUTH_BACKEND", "local").strip().lower()


def _record(username: str, action: str, **detail) -> None:
    with engine().begin() as conn:
        audit_log.record(conn, username, action, detail=detail or None)


def sign_out(reason: str = "logout") -> None:
    username = st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop("auth_last_seen", None)
    if username:
        _record(username, reason)
    if backend() == "oidc" and getattr(st.user, "is_logged_in", False):
        st.logout()


def current() -> tuple[auth.User, Scope] | None:
    """The signed-in user and their scope, or None. Applies the idle timeout."""
    username = st.session_state.get(SESSION_KEY)
    if backend() == "oidc" and not username and getattr(st.user, "is_logged_in", False):
        username = _sign_in_oidc()
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
    with engine().connect() as conn:
        user = auth.get_user(conn, username)
        if user is None or user.disabled:
            st.session_state.pop(SESSION_KEY, None)
            return None
        return user, scope_for(conn, user)


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
    opens its page once the user has signed in (see take_requested_page)."""
    if "auth_requested" not in st.session_state:
        path = urlsplit(str(st.context.url or "")).path.strip("/").split("/")[-1]
        st.session_state["auth_requested"] = (path, st.query_params.to_dict())
    _left, middle, _right = st.columns([1, 2, 1])
    with middle:
        _login_form()
    st.stop()


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
    with st.form("login", clear_on_submit=False):
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
            st.session_state[SESSION_KEY] = result.user.username
            st.session_state["auth_last_seen"] = time.monotonic()
            st.rerun()
        st.error(result.message, icon=":material/lock:")
    if facts().get("mode") == "demo":
        with st.expander("Demo accounts (demo data only)", icon=":material/science:"):
            st.markdown(auth.demo_users_markdown())


def record_person_view(scope: Scope, target: str, filters: dict, rows: int) -> None:
    """One audit_log row per distinct view of person-level rows in a session (a rerun
    that shows the same rows again is not a new view)."""
    key = (target, tuple(sorted((k, str(v)) for k, v in filters.items())))
    seen = st.session_state.setdefault("_logged_views", set())
    if key in seen:
        return
    with engine().begin() as conn:
        audit_log.record(conn, scope.username, "view_person_rows", target=target,
                         filters=filters, detail={"rows": rows})
    seen.add(key)


def take_requested_page() -> tuple[str, dict[str, str]] | None:
    """The (url path, query params) of the link opened before signing in, once."""
    return st.session_state.pop("auth_requested", None)
