"""Load test: many concurrent browser-less sessions against a running dashboard server.

    .venv/bin/python scripts/loadtest.py --database-url postgresql+psycopg://.../bench_national

Starts `python -m dashboard serve` on a free loopback port (or uses --url), then opens
--sessions websocket sessions at once, speaking Streamlit's own protocol (the messages the
browser sends): each signs in through the sign-in form as chief.exec, then opens every
page --rounds times, half of the sessions on the whole country and the others on one
region each (so both cached and uncached queries run). A page time is from the request
to the server's "script finished" message; a request fails when it errors, shows an
exception or an error box, or takes longer than --timeout seconds.

First, every session opens the app in the same instant (a server restart with tabs
open); then the load test proper, where sessions arrive one after another and then all
work at once. Bounded: loopback only, a fixed number of sessions and requests, one
server it stops.
Prints a summary (or one JSON line with --json). Exit status 1 when any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

PAGES = ("overview", "staffing", "quality", "payback", "gate")
DEFAULT_PAGE = "overview"  # chief.exec's first page
USER, PASSWORD = "chief.exec", "demo-chief-2026!"
ERROR_TEXTS = ("Something went wrong", "could not", "You do not have access")


@dataclass
class Run:
    """What one script run sent back."""

    seconds: float
    ok: bool
    problem: str = ""
    elements: list = field(default_factory=list)
    pages: dict = field(default_factory=dict)


async def _run(ws, client_state, timeout: float) -> Run:
    """Send a rerun request and read messages until the run has finished."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = BackMsg()
    msg.rerun_script.CopyFrom(client_state)
    started = time.perf_counter()
    await ws.send(msg.SerializeToString())
    run = Run(0.0, True)
    deadline = started + timeout
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return Run(time.perf_counter() - started, False, "timeout", run.elements)
        try:
            raw = await asyncio.wait_for(ws.recv(), remaining)
        except TimeoutError:
            return Run(time.perf_counter() - started, False, "timeout", run.elements)
        fwd = ForwardMsg.FromString(raw)
        kind = fwd.WhichOneof("type")
        if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
            element = fwd.delta.new_element
            run.elements.append(element)
            which = element.WhichOneof("type")
            if which == "exception":
                run.ok, run.problem = False, "exception: " + element.exception.message[:200]
            elif which == "alert" and any(t in element.alert.body for t in ERROR_TEXTS):
                run.ok, run.problem = False, "error box: " + element.alert.body[:200]
        elif kind == "navigation":  # the default page's URL path is empty
            run.pages = {p.url_pathname or DEFAULT_PAGE: p.page_script_hash
                         for p in fwd.navigation.app_pages}
        elif kind == "script_finished":
            status = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
            if status == "FINISHED_EARLY_FOR_RERUN":
                run.elements = []  # the app asked for a rerun (e.g. after signing in)
                continue
            run.seconds = time.perf_counter() - started
            if status != "FINISHED_SUCCESSFULLY":
                run.ok, run.problem = False, status
            return run


def _state(query: str = "", page_hash: str = "", widgets=()):
    from streamlit.proto.ClientState_pb2 import ClientState

    state = ClientState(query_string=query, page_script_hash=page_hash)
    state.context_info.timezone = "Europe/London"
    state.context_info.locale = "en-GB"
    state.widget_states.widgets.extend(widgets)
    return state


def _sign_in_widgets(elements):
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    inputs = {e.text_input.label: e.text_input.id for e in elements
              if e.WhichOneof("type") == "text_input"}
    submit = next(e.button.id for e in elements
                  if e.WhichOneof("type") == "button" and e.button.is_form_submitter)
    return [WidgetState(id=inputs["Username"], string_value=USER),
            WidgetState(id=inputs["Password"], string_value=PASSWORD),
            WidgetState(id=submit, trigger_value=True)]


async def session(number: int, ws_url: str, query: str, rounds: int, timeout: float,
                  results: list, arrival: asyncio.Lock | None = None) -> None:
    """One user: open the app (one at a time when `arrival` is given), sign in, then open
    every page `rounds` times."""
    import websockets

    try:
        async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None,
                                      open_timeout=timeout, ping_interval=None) as ws:
            if arrival is None:
                login = await _run(ws, _state(query), timeout)
            else:
                async with arrival:
                    login = await _run(ws, _state(query), timeout)
            if rounds == 0:
                results.append(("arrival", number, login))
                return
            if not login.ok:
                results.append(("sign-in", number, login))
                return
            signed_in = await _run(ws, _state(query, widgets=_sign_in_widgets(login.elements)),
                                   timeout)
            results.append(("sign-in", number, signed_in))
            if not signed_in.ok or not signed_in.pages:
                signed_in.ok, signed_in.problem = False, signed_in.problem or "not signed in"
                return
            for _round in range(rounds):
                for k in range(len(PAGES)):
                    page = PAGES[(number + k) % len(PAGES)]  # sessions start on other pages
                    run = await _run(ws, _state(query, signed_in.pages[page]), timeout)
                    results.append((page, number, run))
    except Exception as exc:  # noqa: BLE001 - a failed connection is a failed request
        results.append(("connect", number, Run(0.0, False, f"{type(exc).__name__}: {exc}")))


async def run_sessions(base_url: str, sessions: int, rounds: int, timeout: float,
                       areas: list[str], staggered: bool = True) -> list:
    """All sessions at once. staggered: their first page loads one after another (people
    arrive over time), everything after that concurrently. rounds=0: only open the app."""
    ws_url = base_url.replace("http://", "ws://") + "/_stcore/stream"
    results: list = []
    queries = ["" if i % 2 == 0 or not areas else f"area={areas[(i // 2) % len(areas)]}"
               for i in range(sessions)]
    arrival = asyncio.Lock() if staggered else None
    await asyncio.gather(*[session(i, ws_url, queries[i], rounds, timeout, results, arrival)
                           for i in range(sessions)])
    return results


def _areas(database_url: str) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        codes = [r[0] for r in conn.execute(text("SELECT code FROM area ORDER BY code"))]
    engine.dispose()
    return codes


def summarise(results: list, sessions: int, rounds: int, seconds: float) -> dict:
    page_runs = [run for kind, _n, run in results if kind in PAGES]
    times = sorted(1000 * run.seconds for run in page_runs if run.ok)
    failures = [f"{kind} (session {n}): {run.problem}" for kind, n, run in results
                if not run.ok]
    expected = sessions * rounds * len(PAGES)

    def pct(q: float) -> float | None:
        if not times:
            return None
        return times[min(len(times) - 1, int(round(q * (len(times) - 1))))]

    per_page = {}
    for page in PAGES:
        ms = [1000 * run.seconds for kind, _n, run in results if kind == page and run.ok]
        if ms:
            per_page[page] = {"median_ms": statistics.median(ms),
                              "p95_ms": sorted(ms)[int(round(0.95 * (len(ms) - 1)))]}
    sign_in = [1000 * run.seconds for kind, _n, run in results if kind == "sign-in" and run.ok]
    never_made = max(0, expected - len(page_runs))  # after a failed connection or sign-in
    return {
        "sessions": sessions, "rounds": rounds, "requests": len(page_runs),
        "expected_requests": expected, "failed": len(failures) + never_made,
        "failures": failures[:20], "median_ms": statistics.median(times) if times else None,
        "p95_ms": pct(0.95), "max_ms": times[-1] if times else None,
        "sign_in_median_ms": statistics.median(sign_in) if sign_in else None,
        "per_page": per_page, "wall_seconds": seconds,
        "pages_per_second": len(page_runs) / seconds if seconds else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="serve this database (starts a server)")
    parser.add_argument("--url", help="use an already running server on loopback instead")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (args.url or args.database_url):
        parser.error("give --database-url (a server is started) or --url")
    if args.url and not args.url.startswith(("http://127.0.0.1", "http://localhost")):
        parser.error("the load test only runs against loopback")

    proc = None
    if args.url:
        base = args.url.rstrip("/")
        areas: list[str] = []
    else:
        from bench import OUT, start_server

        OUT.mkdir(exist_ok=True)
        proc, base = start_server(args.database_url, OUT / "server-loadtest.log")
        areas = _areas(args.database_url)
    try:
        # 1. every session opens the app in the same instant (a restart with open tabs)
        arrivals = asyncio.run(run_sessions(base, args.sessions, 0, args.timeout, areas,
                                            staggered=False))
        # 2. the load test: sessions arrive one after another, then all work at once
        started = time.perf_counter()
        results = asyncio.run(run_sessions(base, args.sessions, args.rounds, args.timeout,
                                           areas))
        summary = summarise(results, args.sessions, args.rounds,
                            time.perf_counter() - started)
        summary["simultaneous_arrivals"] = len(arrivals)
        summary["simultaneous_arrival_failures"] = [
            f"session {n}: {run.problem}" for _k, n, run in arrivals if not run.ok]
    finally:
        if proc is not None:
            from bench import stop_server

            stop_server(proc)
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{summary['sessions']} sessions x {summary['rounds']} rounds x {len(PAGES)} "
              f"pages: {summary['requests']} page runs in {summary['wall_seconds']:.0f} s "
              f"({summary['pages_per_second']:.1f} pages a second)")
        print(f"median {summary['median_ms']:.0f} ms, 95th percentile {summary['p95_ms']:.0f} "
              f"ms, slowest {summary['max_ms']:.0f} ms; sign-in median "
              f"{summary['sign_in_median_ms']:.0f} ms; failed: {summary['failed']}")
        for page, row in summary["per_page"].items():
            print(f"  {page:10s} median {row['median_ms']:7.0f} ms   p95 {row['p95_ms']:7.0f} ms")
        for failure in summary["failures"]:
            print("  FAILED", failure)
        bad = summary["simultaneous_arrival_failures"]
        print(f"simultaneous first page loads: {len(bad)} of "
              f"{summary['simultaneous_arrivals']} failed")
        for failure in bad[:5]:
            print("  FAILED", failure)
    return 1 if summary["failed"] or summary["simultaneous_arrival_failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
