"""National-scale benchmark: `make bench` (or `.venv/bin/python scripts/bench.py`).

In one run, on a national dataset (~264,000 people on probation, 12 regions, 96 offices,
11.6 million appointments, 4.7 million unpaid work sessions over the 24-month history):

1. makes the data if it is missing (cached): bench-results/national.sqlite, the
   PostgreSQL database ``bench_national`` and a DuckDB copy of the raw rows, and reports
   how long the generator took and its peak memory;
2. times each page's queries (the default view: last 12 months, whole country), median
   of warm runs, for (a) this project's queries (monthly summaries, SQL), (b) the naive
   approach (read the raw tables into pandas on every page run and aggregate there) and
   (c) DuckDB running the same queries over the raw rows; checks that the three give the
   same figures; peak memory of each;
3. times each page in headless Chromium against a running server, from a click in the
   navigation to the page fully drawn (first view with an empty cache, and repeat view);
4. runs the load test (scripts/loadtest.py): 20 concurrent sessions against PostgreSQL.

Prints the tables and writes them to bench-results/results.md (and results.json).
Options: --quick (fewer repeats), --skip-render, --skip-load, --skip-naive, --pages.
Environment: BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/
bench_national); BENCH_SCALE=region for a fast trial run of the script itself.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

OUT = ROOT / "bench-results"
SCALE = os.environ.get("BENCH_SCALE", "national")
SEED = 20261123
AS_OF = date(2026, 10, 31)
SQLITE_PATH = OUT / f"{SCALE}.sqlite"
DUCKDB_PATH = OUT / f"{SCALE}.duckdb"
PG_URL = os.environ.get("BENCH_POSTGRES_URL",
                        f"postgresql+psycopg://postgres@127.0.0.1:5432/bench_{SCALE}")
PAGES = ("overview", "staffing", "quality", "payback", "gate")
TITLES = {"overview": ("Overview", "Overview"), "staffing": ("Staffing gaps", "Staffing gaps"),
          "quality": ("Case quality", "Case quality"),
          "payback": ("Unpaid work", "Unpaid work (Community Payback)"),
          "gate": ("Through the Gate", "Through the Gate")}
RAW_TABLES = ("area", "office", "target", "dataset_info", "calendar_day", "staff_member",
              "staff_absence", "establishment", "person_on_probation", "appointment",
              "upw_order", "upw_session", "custody_release", "case_audit", "audit_answer",
              "team", "case_allocation")
CHROMIUM = os.environ.get("BENCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
CHIEF = ("chief.exec", "demo-chief-2026!")


def say(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- the page's queries -------------------------------------------------------------------

def page_calls(page: str, naive: bool = False) -> list[tuple]:
    """(function, which filters, kwargs) for every query the page runs through ui.query,
    with the pages' default filters: the last 12 months, whole country."""
    if naive:
        import bench_naive as m

        overview = staffing = quality = payback = gate = reference = m
    else:
        from queries import gate, overview, payback, quality, reference, staffing
    scheme = {"scheme": "crc_2018"}
    if page == "flags":  # the overview's special-cause flags: statistics, not a query
        from queries import flags

        return [(flags.current_flags, "f", {})]
    calls = {
        "overview": [(overview.measure_frame, "f", {"level": "region"}),
                     (overview.measure_frame, "previous", {"level": "region"}),
                     (overview.measure_frame, "f", {"level": "office"})],
        "staffing": [(staffing.gaps_by_month, "f", {"level": "office", "by_grade": True}),
                     (staffing.gaps_by_month, "f", {"level": "area", "by_grade": False}),
                     (staffing.caseload_by_month, "f", {"level": "office"}),
                     (staffing.absence, "f", {"level": "office"})],
        "quality": [(quality.key_question_counts, "f", {"level": "region", **scheme}),
                    (quality.key_question_counts, "f", {"level": "office", **scheme}),
                    (quality.key_question_counts, "f",
                     {"level": "area", "by_month": True, **scheme}),
                    (quality.audits_completed, "f", {"level": "region"})],
        "payback": [(payback.hours_worked, "f", {"level": "office"}),
                    (payback.orders_made, "f", {"level": "office"}),
                    (payback.outstanding, "f", {"level": "office"}),
                    (payback.completions, "f", {"level": "office"}),
                    (payback.start_times, "f", {"level": "office"}),
                    (payback.hours_worked, "f", {"level": "area", "by_month": True}),
                    (payback.orders_made, "f", {"level": "area", "by_month": True})],
        "gate": [(gate.coverage, "f", {"level": "office"}),
                 (gate.coverage, "f", {"level": "area", "by_month": True})],
    }[page]
    return [*calls, (reference.targets, None, {})]


def default_filters():
    from dashboard.core.filters import Filters

    return Filters(date(AS_OF.year - 1, AS_OF.month + 1, 1) if AS_OF.month < 12
                   else date(AS_OF.year, 1, 1), AS_OF)


def digest(frames) -> str:
    """A fingerprint of query results that ignores row order, dtypes and float noise."""
    import pandas as pd

    h = hashlib.sha1()
    for df in frames:
        df = df.copy()
        for col in df.columns:
            numeric = pd.to_numeric(df[col].astype(object), errors="coerce")
            if numeric.notna().sum() == df[col].notna().sum():
                df[col] = numeric.astype(float).round(6)
            else:
                df[col] = df[col].astype(str)
        df = df[sorted(df.columns)]
        df = df.sort_values(list(df.columns)).reset_index(drop=True)
        h.update(df.to_csv(index=False).encode())
    return h.hexdigest()[:12]


def _status_kb(field: str) -> int:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in kB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    """Start the peak-RSS high-water mark (VmHWM) again from the current RSS (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def _register_duckdb_functions() -> None:
    from sqlalchemy.ext.compiler import compiles

    from dashboard.data.sqlfuncs import days_between

    @compiles(days_between, "duckdb")
    def _days_duckdb(element, compiler, **kw):
        first, second = list(element.clauses)
        return f"({compiler.process(second, **kw)} - {compiler.process(first, **kw)})"


def worker(approach: str, backend: str, page: str, repeat: int) -> dict:
    """Run one page's queries `repeat` times after one warm-up run (in a process of its
    own, so its peak memory is the page's)."""
    from sqlalchemy import create_engine, text

    from dashboard.data import db

    if backend == "duckdb":
        _register_duckdb_functions()
        engine = create_engine(f"duckdb:///{DUCKDB_PATH}",
                               connect_args={"read_only": True})
    else:
        engine = db.make_engine(f"sqlite:///{SQLITE_PATH}" if backend == "sqlite" else PG_URL)
    import bench_naive  # noqa: F401 - imported before the baseline, like the queries

    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    f = default_filters()
    calls = page_calls(page, naive=approach == "b")
    baseline = _status_kb("VmRSS")
    _reset_peak()

    def run_page():
        with engine.connect() as conn:
            source = bench_naive.Raw(conn) if approach == "b" else conn
            out = []
            for fn, which, kwargs in calls:
                if which is None:
                    out.append(fn(source))
                else:
                    out.append(fn(source, f if which == "f" else f.previous(), **kwargs))
            return out

    times, results = [], None
    if approach != "b":
        results = run_page()  # warm-up: database caches, compiled statements
    for _ in range(repeat):
        # (b) reads every table on every run anyway: its median of 3 is its warm figure
        started = time.perf_counter()
        out = run_page()
        times.append(time.perf_counter() - started)
        results = results if results is not None else out
    peak = _status_kb("VmHWM")  # not ru_maxrss: that keeps the parent's peak across exec
    return {"times": times, "peak_mb": max(0.0, (peak - baseline) / 1024),
            "digest": digest(results)}


def run_worker(approach: str, backend: str, page: str, repeat: int) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", approach, backend, page, str(repeat)],
        cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {approach} {backend} {page} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- data ---------------------------------------------------------------------------------

def _has_dataset(url: str) -> bool:
    from sqlalchemy import create_engine, inspect, text

    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            if "summary_state" not in inspect(conn).get_table_names():
                return False
            facts = dict(conn.execute(text("SELECT key, value FROM dataset_info")).all())
            built = conn.execute(text("SELECT COUNT(*) FROM summary_state")).scalar()
        engine.dispose()
    except Exception:  # noqa: BLE001 - missing database or tables: make it again
        return False
    return (facts.get("scale") == SCALE and facts.get("seed") == str(SEED)
            and facts.get("data_as_of") == AS_OF.isoformat() and bool(built))


# Runs `python -m dashboard ...`, then prints its peak resident memory (VmHWM, kB).
_MEASURED = ("import runpy, sys; sys.argv = ['dashboard', *sys.argv[1:]]\n"
             "try:\n    runpy.run_module('dashboard', run_name='__main__')\n"
             "except SystemExit as exc:\n    code = exc.code\nelse:\n    code = 0\n"
             "hwm = [line.split()[1] for line in open('/proc/self/status')\n"
             "       if line.startswith('VmHWM:')]\n"
             "print('PEAK_KB', hwm[0] if hwm else 0)\n"
             "sys.exit(code)")


def _generate(url: str, label: str) -> dict:
    """python -m dashboard demo-data into url: its time and peak memory."""
    say(f"generating the {SCALE} dataset into {label} (one-off; a progress bar follows)")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, "--database-url", url, "demo-data", "--scale",
         SCALE, "--seed", str(SEED), "--as-of", AS_OF.isoformat(), "--replace"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"demo-data failed for {label}")
    seconds = time.perf_counter() - started
    counts, peak_kb = {}, 0
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "PEAK_KB":
            peak_kb = int(parts[1])
        elif len(parts) == 2 and parts[1].replace(",", "").isdigit():
            counts[parts[0]] = int(parts[1].replace(",", ""))
    return {"seconds": seconds, "peak_mb": peak_kb / 1024, "rows": counts,
            "when": datetime.now().isoformat(timespec="seconds")}


def ensure_data() -> dict:
    """Make the SQLite, PostgreSQL and DuckDB copies when missing; return generation facts
    (recorded in bench-results/generation.json when the data was made)."""
    OUT.mkdir(exist_ok=True)
    record_path = OUT / f"generation-{SCALE}.json"
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    sqlite_url = f"sqlite:///{SQLITE_PATH}"
    if not _has_dataset(sqlite_url):
        record["sqlite"] = _generate(sqlite_url, str(SQLITE_PATH.relative_to(ROOT)))
        DUCKDB_PATH.unlink(missing_ok=True)
    if not _has_dataset(PG_URL):
        _create_pg_database()
        record["postgresql"] = _generate(PG_URL, PG_URL.rsplit("/", 1)[-1])
    if not DUCKDB_PATH.exists():
        record["duckdb"] = _build_duckdb()
    record_path.write_text(json.dumps(record, indent=2))
    return record


def _create_pg_database() -> None:
    from sqlalchemy import create_engine, text

    base, name = PG_URL.rsplit("/", 1)
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": name}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _build_duckdb() -> dict:
    """Copy the raw tables from the SQLite file into a DuckDB file, typed as the schema
    says (no indexes: DuckDB scans columns). The summary tables are left empty, so the
    queries take their raw-row path there."""
    import sqlite3

    import duckdb
    import pandas as pd
    from sqlalchemy import Boolean, Date, DateTime, Float, Integer

    from dashboard.data import schema
    from dashboard.data import summary_schema as ss

    say(f"copying the raw rows into {DUCKDB_PATH.relative_to(ROOT)} (one-off)")
    started = time.perf_counter()
    tmp = DUCKDB_PATH.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    duck = duckdb.connect(str(tmp))
    source = sqlite3.connect(f"file:{SQLITE_PATH}?mode=ro", uri=True)

    def ddl(table) -> str:
        def kind(col) -> str:
            t = col.type
            return ("DATE" if isinstance(t, Date) else "TIMESTAMP" if isinstance(t, DateTime)
                    else "BOOLEAN" if isinstance(t, Boolean) else "DOUBLE"
                    if isinstance(t, Float) else "BIGINT" if isinstance(t, Integer)
                    else "VARCHAR")
        cols = ", ".join(f'"{c.name}" {kind(c)}' for c in table.c)
        return f'CREATE TABLE "{table.name}" ({cols})'

    rows = 0
    for name in RAW_TABLES:
        table = schema.metadata.tables[name]
        duck.execute(ddl(table))
        names = ", ".join(f'"{c.name}"' for c in table.c)
        for chunk in pd.read_sql_query(f'SELECT {names} FROM "{name}"', source,
                                       chunksize=1_000_000):
            duck.register("chunk", chunk)
            duck.execute(f'INSERT INTO "{name}" SELECT * FROM chunk')
            duck.unregister("chunk")
            rows += len(chunk)
    duck.execute(ddl(ss.summary_state))
    duck.execute("CHECKPOINT")
    duck.close()
    source.close()
    tmp.rename(DUCKDB_PATH)
    return {"seconds": time.perf_counter() - started, "rows": rows}


# --- page render times in Chromium ----------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, log_path: Path) -> tuple[subprocess.Popen, str]:
    """`python -m dashboard serve` on a free loopback port; returns (process, base URL)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AUTH_BACKEND")}
    env.update(PYTHONUNBUFFERED="1", AUTH_BACKEND="local")
    for _attempt in range(3):
        port = _free_port()
        log = log_path.open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "--database-url", url, "serve",
             "--server.headless=true", f"--server.port={port}", "--server.address=127.0.0.1",
             "--server.fileWatcherType=none", "--browser.gatherUsageStats=false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2) as resp:
                    if resp.read().decode().strip() == "ok":
                        return proc, f"http://127.0.0.1:{port}"
            except OSError:
                pass
            time.sleep(0.1)  # polling while the server starts
        stop_server(proc)
    raise RuntimeError(f"the server did not start; see {log_path}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


RUN_DONE = "[data-testid='stApp'][data-test-script-state='notRunning']"
DRAWN_JS = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector("[data-testid='stStatusWidget'], [data-stale='true'], "
      + "[data-testid='stSkeleton'], [data-testid='stSkeletonElement']")) return false;
  const charts = document.querySelectorAll("[data-testid='stPlotlyChart']");
  const drawn = document.querySelectorAll("[data-testid='stPlotlyChart'] .js-plotly-plot");
  return charts.length === drawn.length
    && Array.from(drawn).every(g => g._fullData && g.querySelector('.main-svg'));
}"""


def _wait_drawn(page, title: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("h1").first).to_have_text(title, timeout=120_000)
    page.wait_for_selector(RUN_DONE, state="attached", timeout=120_000)
    page.wait_for_function(DRAWN_JS, timeout=120_000, polling=20)


def _open(page, key: str) -> float:
    """Click the page's link in the sidebar; seconds until it is fully drawn."""
    link, title = TITLES[key]
    nav = page.locator("[data-testid='stSidebarNav']")
    started = time.perf_counter()
    nav.get_by_role("link", name=link, exact=True).click()
    _wait_drawn(page, title)
    return time.perf_counter() - started


def render_times(url: str, label: str, rounds: int, pages: tuple[str, ...]) -> dict:
    """Per page: first view (empty query cache: a fresh server) and repeat view (cached),
    from a click in the sidebar navigation to the page fully drawn. Each round starts a
    server, signs in on a landing page, then opens every other page once (first views)
    and every page again (repeat views); the landing page rotates between rounds."""
    from playwright.sync_api import sync_playwright

    first: dict[str, list[float]] = {p: [] for p in pages}
    repeat: dict[str, list[float]] = {p: [] for p in pages}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for r in range(rounds):
            landing = pages[r % len(pages)]
            proc, base = start_server(url, OUT / f"server-{label}.log")
            try:
                context = browser.new_context(base_url=base, viewport={"width": 1366,
                                                                       "height": 2000})
                page = context.new_page()
                page.goto(f"/{landing}")
                page.wait_for_selector(RUN_DONE, state="attached", timeout=120_000)
                page.get_by_role("textbox", name="Username", exact=True).fill(CHIEF[0])
                page.get_by_role("textbox", name="Password", exact=True).fill(CHIEF[1])
                page.get_by_role("button", name="Sign in", exact=True).click()
                _wait_drawn(page, TITLES[landing][1])
                for key in pages:
                    if key != landing:
                        first[key].append(_open(page, key))
                for key in pages:
                    if key == landing:
                        continue
                    repeat[key].append(_open(page, key))
                repeat[landing].append(_open(page, landing))
                context.close()
            finally:
                stop_server(proc)
            say(f"render round {r + 1}/{rounds} on {label} done")
        browser.close()
    return {p: {"first": first[p], "repeat": repeat[p]} for p in pages}


# --- report -------------------------------------------------------------------------------

def median_ms(values: list[float]) -> float | None:
    return 1000 * statistics.median(values) if values else None


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def fmt_ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}x" if value >= 10 else f"{value:.1f}x"


def query_table(results: dict, backend: str, pages: tuple[str, ...]) -> list[str]:
    lines = ["| page | (a) ms | (b) naive ms | (c) DuckDB ms | a vs b | a vs c | "
             "peak MB a / b / c | same figures |",
             "|---|---:|---:|---:|---:|---:|---:|:---:|"]
    for page in pages:
        a = results.get(("a", backend, page))
        b = results.get(("b", backend, page))
        c = results.get(("c", "duckdb", page))
        ma, mb, mc = (median_ms(x["times"]) if x else None for x in (a, b, c))
        speed_b = mb / ma if ma and mb else None
        speed_c = mc / ma if ma and mc else None
        peaks = " / ".join("–" if x is None else f"{x['peak_mb']:,.0f}" for x in (a, b, c))
        same = {x["digest"] for x in (a, b, c) if x}
        lines.append(f"| {page} | {fmt_ms(ma)} | {fmt_ms(mb)} | {fmt_ms(mc)} | "
                     f"{fmt_ratio(speed_b)} faster | "
                     f"{'–' if speed_c is None else (fmt_ratio(speed_c) + ' faster') if speed_c >= 1 else fmt_ratio(1 / speed_c) + ' slower'} | "  # noqa: E501
                     f"{peaks} | {'yes' if len(same) == 1 else 'NO'} |")
    return lines


def render_table(render: dict, pages) -> list[str]:
    backends = list(render)
    head = "| page | " + " | ".join(f"{b} first view ms | {b} repeat view ms"
                                    for b in backends) + " |"
    lines = [head, "|---|" + "---:|" * (2 * len(backends))]
    for page in pages:
        cells = []
        for b in backends:
            r = render[b].get(page, {})
            cells += [fmt_ms(median_ms(r.get("first", []))),
                      fmt_ms(median_ms(r.get("repeat", [])))]
        lines.append(f"| {page} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", nargs=4, metavar=("APPROACH", "BACKEND", "PAGE", "N"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--skip-render", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--pages", default=",".join(PAGES))
    args = parser.parse_args(argv)
    if args.worker:
        approach, backend, page, n = args.worker
        print(json.dumps(worker(approach, backend, page, int(n))))
        return 0

    pages = tuple(p for p in args.pages.split(",") if p)
    repeats = {"a": 5 if args.quick else 21, "b": 1 if args.quick else 3,
               "c": 3 if args.quick else 11}
    generation = ensure_data()
    results: dict[tuple[str, str, str], dict] = {}
    plan = [("a", "sqlite"), ("a", "postgresql"), ("c", "duckdb")]
    if not args.skip_naive:
        plan += [("b", "sqlite"), ("b", "postgresql")]
    for approach, backend in plan:
        for page in pages:
            say(f"timing {page}: ({approach}) on {backend}")
            results[(approach, backend, page)] = run_worker(approach, backend, page,
                                                            repeats[approach])
    if "overview" in pages:
        for backend in ("sqlite", "postgresql"):
            say(f"timing the overview's special-cause flags on {backend}")
            results[("a", backend, "flags")] = run_worker("a", backend, "flags",
                                                          max(3, repeats["a"] // 4))
    render = {}
    if not args.skip_render and not Path(CHROMIUM).exists():
        say(f"{CHROMIUM} is missing: skipping the page render times (apt-get install chromium)")
    elif not args.skip_render:
        rounds = 2 if args.quick else 5
        render["SQLite"] = render_times(f"sqlite:///{SQLITE_PATH}", "sqlite", rounds, pages)
        render["PostgreSQL"] = render_times(PG_URL, "postgresql", rounds, pages)
    load = None
    if not args.skip_load:
        say("load test: 20 concurrent sessions against PostgreSQL")
        proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "loadtest.py"),
                               "--database-url", PG_URL, "--json"],
                              cwd=ROOT, capture_output=True, text=True, timeout=3600)
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"load test failed to run:\n{proc.stderr[-3000:]}")
        load = json.loads(proc.stdout.strip().splitlines()[-1])

    report = build_report(generation, results, render, load, pages)
    print("\n".join(report))
    (OUT / "results.md").write_text("\n".join(report) + "\n")
    (OUT / "results.json").write_text(json.dumps({
        "generation": generation,
        "queries": {"|".join(k): v for k, v in results.items()},
        "render": render, "load": load}, indent=2))
    return 0


def build_report(generation, results, render, load, pages) -> list[str]:
    from sqlalchemy import create_engine, func, select

    from dashboard.data import schema

    engine = create_engine(f"sqlite:///{SQLITE_PATH}")
    with engine.connect() as conn:
        def count(table):
            return conn.execute(select(func.count()).select_from(table)).scalar()
        people_open = conn.execute(select(func.count()).where(
            schema.person.c.start_date <= AS_OF, schema.person.c.end_date >= AS_OF)).scalar()
        facts = {"people on probation on the as-of date": people_open,
                 "case records": count(schema.person), "offices": count(schema.office),
                 "areas (regions)": count(schema.area),
                 "appointments": count(schema.appointment),
                 "unpaid work sessions": count(schema.upw_session)}
    engine.dispose()
    cpu = os.cpu_count()
    lines = [f"Benchmark run {datetime.now():%Y-%m-%d %H:%M}, {platform.machine()} with {cpu} "
             f"cores, load average {os.getloadavg()[0]:.1f} at the end; Python "
             f"{platform.python_version()}.", "",
             "Dataset (" + SCALE + " scale, seed " + str(SEED) + ", as of "
             + AS_OF.isoformat() + "): " + ", ".join(f"{v:,} {k}" for k, v in facts.items())
             + ".", ""]
    for backend, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        g = generation.get(backend)
        if g:
            lines.append(f"- Generating it into {label}: {g['seconds']:,.0f} s, peak memory "
                         f"{g['peak_mb']:,.0f} MB ({g['when']}).")
    if generation.get("duckdb"):
        lines.append(f"- Copying the raw rows into DuckDB: {generation['duckdb']['seconds']:,.0f}"
                     " s.")
    lines += ["", "Page queries, default view (last 12 months, whole country): median of warm "
              "runs, without Streamlit's cache. (a) this project's queries; (b) naive: read "
              "the raw tables into pandas and aggregate there, every run; (c) DuckDB running "
              "the same queries over the raw rows. 'Same figures': all three results agree.",
              ""]
    for backend, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        lines += [f"**{label}**", "", *query_table(results, backend, pages), ""]
    spc = [results.get(("a", b, "flags")) for b in ("sqlite", "postgresql")]
    if all(spc):
        lines += [f"The overview page also draws special-cause flags "
                  f"(queries.flags.current_flags): control limits computed in Python over "
                  f"the monthly counts, {fmt_ms(median_ms(spc[0]['times']))} ms on SQLite and "
                  f"{fmt_ms(median_ms(spc[1]['times']))} ms on PostgreSQL, almost all of it "
                  f"statistics rather than the query. It is the same work whichever way the "
                  f"counts are fetched, so it is not in the tables above; st.cache_data keeps "
                  f"it for later views. It is most of the overview's first-view time below.",
                  ""]
    if render:
        lines += ["Page render in headless Chromium against `python -m dashboard serve`: from a "
                  "click in the navigation to the page fully drawn (charts included), median. "
                  "First view: empty query cache; repeat view: cached.", "",
                  *render_table(render, pages), ""]
    if load:
        arrivals = load.get("simultaneous_arrival_failures", [])
        lines += [f"Load test (scripts/loadtest.py): {load['sessions']} concurrent sessions "
                  f"over the Streamlit websocket against PostgreSQL, each signing in and then "
                  f"opening every page {load['rounds']} times back to back, no think time "
                  f"({load['requests']} page runs in {load['wall_seconds']:.0f} s, "
                  f"{load['pages_per_second']:.1f} pages a second): median "
                  f"{fmt_ms(load['median_ms'])} ms, 95th percentile {fmt_ms(load['p95_ms'])} "
                  f"ms, slowest {fmt_ms(load['max_ms'])} ms; failed requests: "
                  f"{load['failed']}. Sessions opening the app in the same instant: "
                  f"{len(arrivals)} of {load.get('simultaneous_arrivals', 0)} failed.", "",
                  "| page | median ms | 95th percentile ms |", "|---|---:|---:|",
                  *[f"| {page} | {fmt_ms(row['median_ms'])} | {fmt_ms(row['p95_ms'])} |"
                    for page, row in load["per_page"].items()], ""]
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
