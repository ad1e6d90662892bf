"""A websocket client cannot empty the server's caches (every user's) unless the server was
started for the benchmark (dashboard.app.serve.refuse_client_cache_clears)."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.app_session import AppSession

from dashboard.app import serve


class _Session:
    """Stands in for an AppSession: the handler only touches its session state."""

    def __init__(self) -> None:
        self._session_state = {"kept": True}


def _cached_calls():
    calls: list[int] = []

    @st.cache_data
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    return square, calls


def test_a_client_cannot_clear_the_caches(monkeypatch):
    monkeypatch.delenv(serve.ALLOW_CLIENT_CACHE_CLEAR, raising=False)
    monkeypatch.setattr(AppSession, "_handle_clear_cache_request",
                        AppSession._handle_clear_cache_request)  # undone after the test
    square, calls = _cached_calls()
    square(3)
    serve.refuse_client_cache_clears()
    session = _Session()
    AppSession._handle_clear_cache_request(session)
    square(3)
    assert calls == [3]  # still cached
    assert session._session_state == {"kept": True}


def test_streamlits_own_handler_would_clear_them(monkeypatch):
    """The positive control: without the guard the same request empties the cache."""
    monkeypatch.setenv(serve.ALLOW_CLIENT_CACHE_CLEAR, "1")
    monkeypatch.setattr(AppSession, "_handle_clear_cache_request",
                        AppSession._handle_clear_cache_request)
    square, calls = _cached_calls()
    square(3)
    serve.refuse_client_cache_clears()  # allowed: leaves Streamlit's handler in place
    AppSession._handle_clear_cache_request(_Session())
    square(3)
    assert calls == [3, 3]
