"""Load test: many browser-less sessions against the dashboard, with and without think time.

    .venv/bin/python scripts/loadtest.py --database-url postgresql+psycopg://.../bench_national

Starts the server (`python -m dashboard serve` on a free loopback port; with --replicas N,
N processes behind nginx as `serve --replicas N` does), or uses --url. Each session speaks
the browser's own websocket protocol (scripts/stclient.py): it signs in through the form
and the bind route with a demo account (the chief executive, area managers and the quality
lead in turn), then works. Phases (--phases, all by default):

- arrival: every session opens the app in the same instant (a restart with tabs open);
- paced: --sessions people for --duration seconds, each on a scripted journey (open a page,
  change the area, the office or the months, open the next page, ...) with a think time
  drawn from --think seconds (2-8) before every step;
- stress: the same number of sessions opening every page of their navigation --rounds
  times back to back, no think time;
- combos: one session walks --combos distinct views (page x area x office x months, each
  step one change), and the server's memory is read every 100 views, to show that the
  bounded caches (st.cache_data max_entries/ttl/max_size) keep it flat.

A page time is from the request to the server's "script finished" message; a request
fails when it errors, shows an exception or an error box, or takes longer than --timeout.
Server memory is the resident set (VmRSS) of the server process(es). Bounded: loopback only,
a fixed number of sessions and a fixed duration, servers it started are stopped.
Prints a summary (or one JSON line with --json). Exit status 1 when any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from stclient import Run, Session  # noqa: E402 - after the path set-up above

PHASES = ("arrival", "paced", "stress", "combos")
FILTERS = ("Area", "Office", "From", "To")
OUT = ROOT / "bench-results"


# --- accounts and servers ---------------------------------------------------------------

def accounts(database_url: str | None) -> list[tuple[str, str]]:
    """The demo accounts a load is spread over (username, password): the chief executive,
    each area manager and the quality lead, chief first. Demo databases only."""
    if not database_url:
        return [("chief.exec", "demo-chief-2026!")]
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT username, role FROM app_user WHERE role IN "
                                 "('chief_executive', 'area_manager', 'quality_lead') "
                                 "ORDER BY role, username")).all()
    engine.dispose()
    out = []
    for username, role in rows:
        if role == "chief_executive":
            out.insert(0, (username, "demo-chief-2026!"))
        elif role == "quality_lead":
            out.append((username, "demo-quality-2026!"))
        else:
            out.append((username, f"demo-{username.split('.', 1)[1]}-2026!"))
    return out or [("chief.exec", "demo-chief-2026!")]


def account_for(number: int, pool: list[tuple[str, str]]) -> tuple[str, str]:
    """Half the sessions are the chief executive, the rest the other accounts in turn."""
    return pool[0] if number % 2 == 0 or len(pool) == 1 else pool[1 + (number // 2) % (
        len(pool) - 1)]


class Target:
    """The server(s) under test: one process, N replicas behind nginx, or a given URL."""

    def __init__(self, database_url: str | None, url: str | None, replicas: int = 0,
                 log_name: str = "loadtest"):
        from dashboard.app import replicas as rep

        self.proc = self.set = None
        if url:
            self.url = url.rstrip("/")
        elif replicas:
            self.set = rep.ReplicaSet(replicas, database_url, f"127.0.0.1:{rep.free_port()}",
                                      OUT / f"replicas-{log_name}").start()
            self.url = self.set.url
        else:
            OUT.mkdir(exist_ok=True)
            self.proc, self.url = rep.start_server(database_url, OUT / f"server-{log_name}.log")

    def rss_mb(self) -> float | None:
        """Resident memory of the server process(es), MB (None for a given URL)."""
        from dashboard.app import replicas as rep

        if self.set is not None:
            return self.set.rss_mb()
        return rep.rss_mb(self.proc.pid) if self.proc is not None else None

    def stop(self) -> None:
        from dashboard.app import replicas as rep

        if self.set is not None:
            self.set.stop()
        if self.proc is not None:
            rep.stop(self.proc)


# --- what sessions do -------------------------------------------------------------------

async def _guard(results: list, kind: str, number: int, work) -> Session | None:
    """Run work(); a connection or protocol failure is one failed request."""
    try:
        return await work
    except Exception as exc:  # noqa: BLE001 - a failed connection is a failed request
        results.append((kind, number, Run(0.0, False, f"{type(exc).__name__}: {exc}")))
        return None


async def arrive_at_once(url: str, sessions: int, timeout: float) -> list:
    """Every session opens the app (sign-in screen) in the same instant."""
    results: list = []

    async def one(number: int) -> None:
        s = Session(url, timeout)
        await s.connect()
        results.append(("arrival", number, await s.run()))
        await s.close()

    await asyncio.gather(*[_guard(results, "arrival", i, one(i)) for i in range(sessions)])
    return results


async def signed_in(url: str, number: int, pool, results: list, timeout: float,
                    arrival: asyncio.Lock | None = None) -> Session | None:
    """A new session signed in with its account (one at a time when `arrival` is given);
    None (and a failure recorded) when sign-in did not work."""
    user, password = account_for(number, pool)
    s = Session(url, timeout)
    if arrival is not None:
        async with arrival:
            run = await s.sign_in(user, password)
    else:
        run = await s.sign_in(user, password)
    results.append(("sign-in", number, run))
    if not run.ok:
        await s.close()
        return None
    return s


def _pages(s: Session) -> list[str]:
    """The session's pages (url paths) in navigation order."""
    return [p for p in s.pages if p]


async def _step(s: Session, rng: random.Random, step: int) -> tuple[str, Run]:
    """One step of the journey: every third step changes a filter, the others open the
    next page. Returns (what, run)."""
    if step % 3 == 2:
        shown = [b for b in FILTERS if _has_box(s, b)]
        label = rng.choice(shown) if shown else None
        if label:
            box = s.selectbox(label)
            if label == "From":  # one month, or a quarter, or back to the last year
                option = rng.choice([len(box.options) - 1, len(box.options) - 3,
                                     len(box.options) - 12])
            else:
                option = rng.randrange(len(box.options))
            return "filter", await s.choose(label, max(0, option))
    pages = _pages(s)
    page = pages[(step // 3 * 2 + step % 3) % len(pages)]
    return page, await s.run(page)


def _has_box(s: Session, label: str) -> bool:
    try:
        s.selectbox(label)
        return True
    except StopIteration:
        return False


async def paced_session(url: str, number: int, pool, results: list, timeout: float,
                        until: float, think: tuple[float, float],
                        started: asyncio.Event) -> None:
    """One person: arrives within the first think time, signs in, then one journey step
    after every think time until `until` (time.monotonic)."""
    rng = random.Random(number)
    try:
        await asyncio.sleep(rng.uniform(0, think[1]))  # people do not arrive in step
        s = await signed_in(url, number, pool, results, timeout)
    except Exception as exc:  # noqa: BLE001 - a failed connection is a failed request
        results.append(("sign-in", number, Run(0.0, False, f"{type(exc).__name__}: {exc}")))
        s = None
    finally:
        started.set()
    if s is None:
        return
    step = 0
    try:
        while True:
            pause = rng.uniform(*think)
            if time.monotonic() + pause >= until:
                break
            await asyncio.sleep(pause)
            what, run = await _step(s, rng, step)
            results.append((what, number, run))
            step += 1
    except Exception as exc:  # noqa: BLE001 - e.g. the server went away mid-journey
        results.append(("connect", number, Run(0.0, False, f"{type(exc).__name__}: {exc}")))
    finally:
        await s.close()


async def stress_session(url: str, number: int, pool, results: list, timeout: float,
                         rounds: int, arrival: asyncio.Lock) -> None:
    s = await signed_in(url, number, pool, results, timeout, arrival)
    if s is None:
        return
    try:
        pages = _pages(s)
        for _round in range(rounds):
            for k in range(len(pages)):
                page = pages[(number + k) % len(pages)]  # sessions start on other pages
                results.append((page, number, await s.run(page)))
    finally:
        await s.close()


async def filter_walk(url: str, pool, combos: int, timeout: float, target: Target,
                      results: list, seed: int = 16) -> list[tuple[int, float | None]]:
    """One chief-executive session visits `combos` distinct views, each one change away
    from the last; returns (views so far, server RSS MB) every 100 views and at the end."""
    rng = random.Random(seed)
    s = await signed_in(url, 0, pool[:1], results, timeout)
    if s is None:
        return []
    pages = [p for p in _pages(s) if p not in ("cases", "caseload")]  # no person rows
    seen, memory, page = set(), [(0, target.rss_mb())], pages[0]
    try:
        while len(seen) < combos:
            for _attempt in range(50):
                change = rng.choice(["page", *FILTERS])
                if change == "page":
                    page_next, label, option = rng.choice(pages), None, None
                else:
                    box = s.selectbox(change)
                    page_next, label = page, change
                    option = box.options[rng.randrange(len(box.options))]
                view = _view(s, page_next, label, option)
                if view not in seen:
                    break
            else:
                break  # nothing new within reach of this view
            run = await (s.run(page_next) if label is None else s.choose(label, option))
            page = page_next
            results.append(("combo", 0, run))
            seen.add(_view(s, page, None, None))
            if len(seen) % 100 == 0:
                memory.append((len(seen), target.rss_mb()))
    finally:
        await s.close()
    if memory[-1][0] != len(seen):
        memory.append((len(seen), target.rss_mb()))
    return memory


def _view(s: Session, page: str, label: str | None, option: str | None) -> tuple:
    """The view (page and filter values) shown after changing `label` to `option`."""
    values = {b: s.selectbox(b).options[s.selectbox(b).default] for b in FILTERS
              if _has_box(s, b)}
    values.update({b: v for b, v in ((b, s.choices.get(s.selectbox(b).id)) for b in values)
                   if v})
    if label:
        values[label] = option
        if label == "Area":
            values["Office"] = "All offices"
    return page, tuple(sorted(values.items()))


# --- phases and summary -----------------------------------------------------------------

def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) of values by the nearest rank, or None."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))]


def summarise(results: list, seconds: float) -> dict:
    """Median, 95th and 99th percentile (ms) of page runs, per page and in all, failures,
    sign-in times and pages a second."""
    page_kinds = {k for k, _n, _r in results if k not in ("sign-in", "connect", "arrival")}
    runs = [r for k, _n, r in results if k in page_kinds]
    ms = [1000 * r.seconds for r in runs if r.ok]
    failures = [f"{k} (session {n}): {r.problem}" for k, n, r in results if not r.ok]
    sign_in = [1000 * r.seconds for k, _n, r in results if k == "sign-in" and r.ok]
    per_page = {}
    for kind in sorted(page_kinds):
        times = [1000 * r.seconds for k, _n, r in results if k == kind and r.ok]
        if times:
            per_page[kind] = {"runs": len(times), "median_ms": statistics.median(times),
                              "p95_ms": percentile(times, 0.95)}
    return {"requests": len(runs), "failed": len(failures), "failures": failures[:20],
            "median_ms": statistics.median(ms) if ms else None,
            "p95_ms": percentile(ms, 0.95), "p99_ms": percentile(ms, 0.99),
            "max_ms": max(ms) if ms else None,
            "sign_in_median_ms": statistics.median(sign_in) if sign_in else None,
            "sign_ins": len(sign_in), "per_page": per_page, "wall_seconds": seconds,
            "pages_per_second": len(runs) / seconds if seconds else None}


async def _sample_memory(target: Target, samples: list, stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append(target.rss_mb() or 0.0)
        try:
            await asyncio.wait_for(stop.wait(), 5)
        except TimeoutError:
            pass


async def run_paced(target: Target, pool, sessions: int, duration: float,
                    think: tuple[float, float], timeout: float) -> dict:
    results: list = []
    before = target.rss_mb()
    until = time.monotonic() + duration
    events = [asyncio.Event() for _ in range(sessions)]
    samples: list[float] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample_memory(target, samples, stop))
    started = time.perf_counter()
    tasks = [asyncio.create_task(paced_session(target.url, i, pool, results, timeout, until,
                                               think, events[i]))
             for i in range(sessions)]
    await asyncio.gather(*[e.wait() for e in events])
    await asyncio.sleep(1)
    all_in = target.rss_mb()
    await asyncio.gather(*tasks)
    stop.set()
    await sampler
    out = summarise(results, time.perf_counter() - started)
    out.update(sessions=sessions, duration_s=duration, think_s=list(think))
    if before is not None:
        out.update(rss_before_mb=before, rss_signed_in_mb=all_in,
                   rss_peak_mb=max(samples, default=all_in),
                   rss_per_session_mb=(all_in - before) / sessions,
                   rss_per_session_peak_mb=(max(samples, default=all_in) - before) / sessions)
    return out


async def run_stress(target: Target, pool, sessions: int, rounds: int, timeout: float) -> dict:
    results: list = []
    before = target.rss_mb()
    arrival = asyncio.Lock()  # first pages one after another, then everyone at once
    started = time.perf_counter()
    await asyncio.gather(*[_guard(results, "connect", i, stress_session(
        target.url, i, pool, results, timeout, rounds, arrival)) for i in range(sessions)])
    out = summarise(results, time.perf_counter() - started)
    out.update(sessions=sessions, rounds=rounds)
    after = target.rss_mb()
    if before is not None:
        out.update(rss_before_mb=before, rss_after_mb=after)
    return out


def run_all(target: Target, pool, args) -> dict:
    phases = [p for p in args.phases.split(",") if p]
    summary: dict = {"url": target.url, "replicas": args.replicas or 1,
                     "rss_start_mb": target.rss_mb()}
    if "arrival" in phases:
        arrivals = asyncio.run(arrive_at_once(target.url, args.sessions, args.timeout))
        summary["arrival"] = {"sessions": len(arrivals), "failed": [
            f"session {n}: {r.problem}" for _k, n, r in arrivals if not r.ok]}
    if "paced" in phases:
        summary["paced"] = asyncio.run(run_paced(target, pool, args.sessions, args.duration,
                                                 args.think, args.timeout))
    if "stress" in phases:
        summary["stress"] = asyncio.run(run_stress(target, pool, args.sessions, args.rounds,
                                                   args.timeout))
    if "combos" in phases and args.combos:
        results: list = []
        started = time.perf_counter()
        memory = asyncio.run(filter_walk(target.url, pool, args.combos, args.timeout, target,
                                         results))
        walk = summarise(results, time.perf_counter() - started)
        walk.update(views=memory[-1][0] if memory else 0, rss_mb=memory)
        summary["combos"] = walk
    return summary


def failed(summary: dict) -> int:
    """How many requests failed in every phase together."""
    return (len(summary.get("arrival", {}).get("failed", []))
            + sum(summary.get(p, {}).get("failed", 0) for p in ("paced", "stress", "combos")))


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def markdown(summary: dict) -> list[str]:
    """The summary as Markdown lines (the README's load-test table)."""
    lines = ["| run | sessions | page runs | median ms | p95 ms | p99 ms | failed | "
             "pages/s | server RSS MB | RSS per session MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key, label in (("paced", "paced (think {think})"), ("stress", "stress (no think time)"),
                       ("combos", "{views} distinct views, one session")):
        row = summary.get(key)
        if not row:
            continue
        name = label.format(think="–".join(f"{t:g}" for t in row.get("think_s", [])) + " s",
                            views=row.get("views"))
        rss = row.get("rss_peak_mb") or row.get("rss_after_mb") or (
            row["rss_mb"][-1][1] if row.get("rss_mb") else None)
        per = row.get("rss_per_session_mb")
        lines.append(f"| {name} | {row.get('sessions', 1)} | {row['requests']} | "
                     f"{_ms(row['median_ms'])} | {_ms(row['p95_ms'])} | {_ms(row['p99_ms'])} | "
                     f"{row['failed']} | {row['pages_per_second'] or 0:.1f} | "
                     f"{'–' if rss is None else f'{rss:,.0f}'} | "
                     f"{'–' if per is None else f'{per:.1f}'} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="serve this database (starts the server)")
    parser.add_argument("--url", help="use an already running server on loopback instead")
    parser.add_argument("--replicas", type=int, default=0,
                        help="start N server processes behind nginx (serve --replicas N)")
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=300.0,
                        help="seconds of the paced run (default 300)")
    parser.add_argument("--think", type=float, nargs=2, default=(2.0, 8.0),
                        metavar=("MIN", "MAX"), help="think time in seconds (default 2 8)")
    parser.add_argument("--rounds", type=int, default=3, help="stress: rounds of every page")
    parser.add_argument("--combos", type=int, default=1000,
                        help="distinct views for the memory walk (0: skip)")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (args.url or args.database_url):
        parser.error("give --database-url (a server is started) or --url")
    if args.url and not args.url.startswith(("http://127.0.0.1", "http://localhost")):
        parser.error("the load test only runs against loopback")
    target = Target(args.database_url, args.url, args.replicas)
    try:
        summary = run_all(target, accounts(args.database_url), args)
    finally:
        target.stop()
    if args.json:
        print(json.dumps(summary))
    else:
        print("\n".join(markdown(summary)))
        for key in ("paced", "stress", "combos"):
            for failure in summary.get(key, {}).get("failures", []):
                print(f"  FAILED ({key})", failure)
        if "arrival" in summary:
            bad = summary["arrival"]["failed"]
            print(f"simultaneous first page loads: {len(bad)} of "
                  f"{summary['arrival']['sessions']} failed")
        if summary.get("combos", {}).get("rss_mb"):
            print("server RSS MB after n distinct views: " + ", ".join(
                f"{n}: {'–' if m is None else f'{m:,.0f}'}"
                for n, m in summary["combos"]["rss_mb"]))
    return 1 if failed(summary) else 0


if __name__ == "__main__":
    raise SystemExit(main())
