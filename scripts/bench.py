"""Benchmark: `make bench` (or `.venv/bin/python scripts/bench.py`); issue 16.

In one run, with the machine's load average at the start and the end:

1. makes the data if it is missing (cached in bench-results/ and PostgreSQL): for each
   scale (--scales, default region and national: ~8,400 and ~264,000 people on
   probation), bench-results/<scale>.sqlite, the PostgreSQL database bench_<scale> and, at
   the largest scale, a DuckDB copy of the raw rows; reports the generator's time and peak
   memory;
2. page server times: every page (all 16 of the navigation; each role's default view, an
   office view and a one-month view) run by a real server (`python -m dashboard serve`),
   timed from the request to the server's "script finished" message over a loopback
   websocket (scripts/stclient.py, the browser's own protocol). Cold: Streamlit's caches
   emptied just before (the browser's "Clear cache" message, as after a restart or a data
   refresh); warm: the median of the repeats that follow. At every scale, and how each
   page's time grows from the smallest to the largest scale; and the evidence pack for the
   whole country (the server run after pressing Prepare evidence pack);
3. the page queries at the largest scale (the pages whose figures DuckDB can compute):
   (a) this project's queries, (b) the naive approach (read the raw tables into pandas on
   every run) and (c) DuckDB over the raw rows; checks the three agree; peak memory;
4. throughput at 1, 2 and 3 replicas behind nginx (`serve --replicas N`): the stress
   load test's pages a second;
5. the load test (scripts/loadtest.py) at the largest scale on PostgreSQL: 20 paced
   sessions (2-8 s think time, --load-duration seconds), the no-think stress run, and the
   server's memory per session and after --combos distinct views.

Prints the tables and writes them to bench-results/results.md (and results.json);
--write-readme puts them into README.md between the bench markers. Options: --quick
(fewer repeats), --skip-pages, --skip-pack, --skip-queries, --skip-naive, --skip-replicas,
--skip-load, --render (also time pages drawn in headless Chromium), --pages.
Environment: BENCH_POSTGRES (default postgresql+psycopg://postgres@127.0.0.1:5432); the
databases are bench_<scale>.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

OUT = ROOT / "bench-results"
README = ROOT / "README.md"
MARKERS = ("<!-- bench:start (scripts/bench.py --write-readme) -->", "<!-- bench:end -->")
SEED = 20261123
AS_OF = date(2026, 10, 31)
PG_BASE = os.environ.get("BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
PAGES = ("overview", "staffing", "quality", "payback", "gate")  # (a)/(b)/(c) query pages
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
# page server times: who opens each page (a role whose navigation has it)
PAGE_USERS = {
    "chief.exec": ("overview", "compare", "staffing", "quality", "payback", "gate", "cases",
                   "caseload", "readiness"),
    "quality.lead": ("sample", "audit", "data_quality"),
    "admin": ("admin_import", "admin_users", "admin_targets", "admin_log"),
}
PASSWORDS = {"chief.exec": "demo-chief-2026!", "quality.lead": "demo-quality-2026!",
             "admin": "demo-users-2026!", "auditor": "demo-auditor-2026!"}


@dataclass(frozen=True)
class Dataset:
    """One scale's copies of the demo data."""

    scale: str

    @property
    def sqlite_path(self) -> Path:
        return OUT / f"{self.scale}.sqlite"

    @property
    def duckdb_path(self) -> Path:
        return OUT / f"{self.scale}.duckdb"

    @property
    def pg_url(self) -> str:
        return f"{PG_BASE}/bench_{self.scale}"

    def url(self, backend: str) -> str:
        return f"sqlite:///{self.sqlite_path}" if backend == "sqlite" else self.pg_url


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


def worker(data: Dataset, approach: str, backend: str, page: str, repeat: int) -> dict:
    """Run one page's queries `repeat` times after one warm-up run (in a process of its
    own, so its peak memory is the page's)."""
    from sqlalchemy import create_engine, text

    from dashboard.data import db

    if backend == "duckdb":
        _register_duckdb_functions()
        engine = create_engine(f"duckdb:///{data.duckdb_path}",
                               connect_args={"read_only": True})
    else:
        engine = db.make_engine(data.url(backend))
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


def run_worker(data: Dataset, approach: str, backend: str, page: str, repeat: int) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", data.scale, approach, backend, page,
         str(repeat)],
        cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {approach} {backend} {page} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- data ---------------------------------------------------------------------------------

def _has_dataset(url: str, scale: str) -> bool:
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
    return (facts.get("scale") == scale and facts.get("seed") == str(SEED)
            and facts.get("data_as_of") == AS_OF.isoformat() and bool(built))


# Runs `python -m dashboard ...`, then prints its peak resident memory (VmHWM, kB).
_MEASURED = ("import runpy, sys; sys.argv = ['dashboard', *sys.argv[1:]]\n"
             "try:\n    runpy.run_module('dashboard', run_name='__main__')\n"
             "except SystemExit as exc:\n    code = exc.code\nelse:\n    code = 0\n"
             "hwm = [line.split()[1] for line in open('/proc/self/status')\n"
             "       if line.startswith('VmHWM:')]\n"
             "print('PEAK_KB', hwm[0] if hwm else 0)\n"
             "sys.exit(code)")


def _generate(url: str, label: str, scale: str) -> dict:
    """python -m dashboard demo-data into url: its time and peak memory."""
    say(f"generating the {scale} dataset into {label} (one-off; a progress bar follows)")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, "--database-url", url, "demo-data", "--scale",
         scale, "--seed", str(SEED), "--as-of", AS_OF.isoformat(), "--replace"],
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


def ensure_data(data: Dataset, duckdb: bool, sqlite: bool = True) -> dict:
    """Make the SQLite (when `sqlite` or `duckdb`) and PostgreSQL copies, and the DuckDB
    one when `duckdb`, when missing; return generation facts (kept in
    bench-results/generation-<scale>.json)."""
    OUT.mkdir(exist_ok=True)
    record_path = OUT / f"generation-{data.scale}.json"
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    if (sqlite or duckdb) and not _has_dataset(data.url("sqlite"), data.scale):
        record["sqlite"] = _generate(data.url("sqlite"),
                                     str(data.sqlite_path.relative_to(ROOT)), data.scale)
        data.duckdb_path.unlink(missing_ok=True)
    if not _has_dataset(data.pg_url, data.scale):
        _create_pg_database(data.pg_url)
        record["postgresql"] = _generate(data.pg_url, data.pg_url.rsplit("/", 1)[-1],
                                         data.scale)
    if duckdb and not data.duckdb_path.exists():
        record["duckdb"] = _build_duckdb(data)
    record_path.write_text(json.dumps(record, indent=2))
    return record


def _create_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    base, name = url.rsplit("/", 1)
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": name}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _build_duckdb(data: Dataset) -> dict:
    """Copy the raw tables from the SQLite file into a DuckDB file, typed as the schema
    says (no indexes: DuckDB scans columns). The summary tables are left empty, so the
    queries take their raw-row path there."""
    import sqlite3

    import duckdb
    import pandas as pd
    from sqlalchemy import Boolean, Date, DateTime, Float, Integer

    from dashboard.data import schema
    from dashboard.data import summary_schema as ss

    say(f"copying the raw rows into {data.duckdb_path.relative_to(ROOT)} (one-off)")
    started = time.perf_counter()
    tmp = data.duckdb_path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    duck = duckdb.connect(str(tmp))
    source = sqlite3.connect(f"file:{data.sqlite_path}?mode=ro", uri=True)

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
    tmp.rename(data.duckdb_path)
    return {"seconds": time.perf_counter() - started, "rows": rows}


# --- page render times in Chromium ----------------------------------------------------------

def start_server(url: str, log_path: Path):
    """`python -m dashboard serve` on a free loopback port: (process, base URL)."""
    from dashboard.app import replicas

    OUT.mkdir(exist_ok=True)
    env = replicas.server_env(url, {"DASHBOARD_ALLOW_CLIENT_CACHE_CLEAR": "1"})  # cold runs
    return replicas.start_server(url, log_path, env=env)


def stop_server(proc: subprocess.Popen) -> None:
    from dashboard.app import replicas

    replicas.stop(proc, seconds=20)


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


# --- page server times (a real server, every page) ------------------------------------------

def _first(url: str, sql: str) -> str | None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(text(sql)).first()
    engine.dispose()
    return row[0] if row else None


def views(url: str) -> dict[str, str]:
    """The three views as URL query strings: default (the last 12 months, everything the
    role sees), one office (the first by area and office code) and one month (the last)."""
    office = _first(url, "SELECT a.code || '|' || o.code FROM office o JOIN area a "
                         "ON a.id = o.area_id ORDER BY a.code, o.code")
    area, office = office.split("|")
    month = f"{AS_OF:%Y-%m}"
    return {"default": "", "office": f"area={area}&office={office}",
            "month": f"from={month}&to={month}"}


def landing_accounts(url: str) -> list[tuple[str, str]]:
    """One account per role for its default view: an area manager, the quality lead, an
    auditor and the administrator (the chief executive's is the overview above)."""
    am = _first(url, "SELECT username FROM app_user WHERE role = 'area_manager' "
                     "ORDER BY username")
    auditor = _first(url, "SELECT username FROM app_user WHERE role = 'auditor' "
                          "ORDER BY username")
    out = [(am, f"demo-{am.split('.', 1)[1]}-2026!")] if am else []
    out += [("quality.lead", PASSWORDS["quality.lead"])]
    out += [(auditor, PASSWORDS["auditor"])] if auditor else []
    return [*out, ("admin", PASSWORDS["admin"])]


async def _page_runs(base: str, the_views: dict[str, str], repeat: int, accounts,
                     only: set[str] | None) -> list[dict]:
    from stclient import Session

    rows = []

    async def measure(s, user: str, page: str | None, view: str, query: str | None) -> None:
        await s.clear_cache()  # cold: Streamlit's caches empty, as after a restart
        cold = await s.run(page, query=query)
        warm = [await s.run(page) for _ in range(repeat)]
        bad = next((r for r in [cold, *warm] if not r.ok), None)
        rows.append({"user": user, "page": page or s.default_page, "view": view,
                     "title": cold.heading(), "cold_ms": 1000 * cold.seconds,
                     "warm_ms": median_ms([r.seconds for r in warm]),
                     "ok": bad is None, "problem": bad.problem if bad else ""})
        say(f"  {user} {page or s.default_page} {view}: cold {rows[-1]['cold_ms']:,.0f} ms, "
            f"warm {rows[-1]['warm_ms'] or 0:,.0f} ms{'' if bad is None else ' FAILED'}")

    for user, pages in PAGE_USERS.items():
        s = Session(base, timeout=900)
        first = await s.sign_in(user, PASSWORDS[user])
        if not first.ok:
            raise RuntimeError(f"{user} could not sign in: {first.problem}")
        for page in pages:
            if only and page not in only:
                continue
            if page not in s.pages:
                rows.append({"user": user, "page": page, "view": "default", "ok": False,
                             "problem": "not in the navigation", "title": ""})
                continue
            for view, query in the_views.items():
                if view != "default" and page.startswith("admin_"):
                    continue  # the admin pages do not follow the filters
                await measure(s, user, page, view, query)
        await s.close()
    for user, password in accounts:  # each role's default view: its landing page
        s = Session(base, timeout=900)
        first = await s.sign_in(user, password)
        if not first.ok:
            raise RuntimeError(f"{user} could not sign in: {first.problem}")
        await measure(s, user, None, "landing", "")
        await s.close()
    return rows


def page_times(data: Dataset, backend: str, repeat: int, only: set[str] | None) -> list[dict]:
    """Server time of every page's run on a fresh server on this dataset (see the module
    docstring): one row per (account, page, view) with cold_ms and warm_ms."""
    url = data.url(backend)
    proc, base = start_server(url, OUT / f"server-pages-{data.scale}.log")
    try:
        say(f"page server times at {data.scale} scale on {backend}")
        return asyncio.run(_page_runs(base, views(url), repeat, landing_accounts(url), only))
    finally:
        stop_server(proc)


PACK_BUTTON = "Prepare evidence pack (.xlsx and .pdf)"
_DOWNLOAD = re.compile(r"Download \S+\.(xlsx|pdf) \(([\d,]+) KB\)")


async def _pack_runs(base: str, repeat: int) -> dict:
    from stclient import Session

    s = Session(base, timeout=900)
    first = await s.sign_in(*CHIEF, page="readiness")
    if not first.ok:
        raise RuntimeError(f"chief.exec could not sign in: {first.problem}")
    await s.clear_cache()
    opened = await s.run("readiness", query="")
    runs = []
    for _ in range(1 + repeat):
        runs.append(await s.click(PACK_BUTTON))
    await s.close()
    sizes = {}
    for e in runs[-1].elements:
        if e.WhichOneof("type") == "download_button":
            found = _DOWNLOAD.search(e.download_button.label)
            if found:
                sizes[found.group(1)] = int(found.group(2).replace(",", ""))
    bad = next((r for r in [opened, *runs] if not r.ok), None)
    return {"page_cold_ms": 1000 * opened.seconds, "pack_first_ms": 1000 * runs[0].seconds,
            "pack_repeat_ms": median_ms([r.seconds for r in runs[1:]]), "kb": sizes,
            "ok": bad is None and set(sizes) == {"xlsx", "pdf"},
            "problem": bad.problem if bad else ("" if sizes else "no download buttons")}


def pack_times(data: Dataset, backend: str, repeat: int) -> dict:
    """The evidence pack for the whole country (readiness page, the chief executive's
    default view: completed audits of the last 12 months): the server run after pressing
    Prepare evidence pack, once just after the page's first (cold) view and `repeat`
    times more; sizes of the two files from the download buttons."""
    url = data.url(backend)
    proc, base = start_server(url, OUT / f"server-pack-{data.scale}.log")
    try:
        say(f"evidence pack at {data.scale} scale on {backend}")
        row = asyncio.run(_pack_runs(base, repeat))
        say(f"  pack: first {row['pack_first_ms']:,.0f} ms, repeat "
            f"{row['pack_repeat_ms'] or 0:,.0f} ms, {row['kb']}")
        return row
    finally:
        stop_server(proc)


# --- replicas and load -------------------------------------------------------------------------

def replica_throughput(data: Dataset, counts: list[int], sessions: int, rounds: int
                       ) -> list[dict]:
    """The stress load test (no think time) through nginx at 1, 2, 3 ... replicas."""
    import loadtest

    pool = loadtest.accounts(data.pg_url)
    rows = []
    for n in counts:
        say(f"throughput: {sessions} sessions x {rounds} rounds through nginx, {n} replica(s)")
        target = loadtest.Target(data.pg_url, None, replicas=n, log_name=f"bench-{n}")
        try:
            row = asyncio.run(loadtest.run_stress(target, pool, sessions, rounds, 600.0))
        finally:
            target.stop()
        rows.append({"replicas": n, **row})
    return rows


def load_test(data: Dataset, args) -> dict:
    """scripts/loadtest.py on PostgreSQL (paced, stress, distinct views): one server process,
    or --load-replicas N processes behind nginx."""
    say(f"load test: {args.load_sessions} sessions, paced for {args.load_duration:.0f} s, "
        f"stress, {args.combos} distinct views, {args.load_replicas or 'one'} server process(es)")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "loadtest.py"), "--database-url",
         data.pg_url, "--json", "--sessions", str(args.load_sessions), "--duration",
         str(args.load_duration), "--combos", str(args.combos),
         "--replicas", str(args.load_replicas)],
        cwd=ROOT, capture_output=True, text=True, timeout=7200)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"load test failed to run:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


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
                     f"{'–' if speed_b is None else fmt_ratio(speed_b) + ' faster'} | "
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


def page_table(pages: dict[str, list[dict]]) -> list[str]:
    """Per page and view: cold and warm server time at each scale, and the growth from the
    first scale to the last (x times)."""
    scales = list(pages)
    head = ["page", "view", "account"]
    for sc in scales:
        head += [f"{sc} cold ms", f"{sc} warm ms"]
    if len(scales) > 1:
        head += [f"growth cold ({scales[0]} → {scales[-1]})", "growth warm"]
    lines = ["| " + " | ".join(head) + " |", "|---|---|---|" + "---:|" * (len(head) - 3)]
    keyed = {sc: {(r["user"], r["page"], r["view"]): r for r in rows}
             for sc, rows in pages.items()}
    for key in dict.fromkeys(k for sc in scales for k in keyed[sc]):
        user, page, view = key
        cells, got = [], [keyed[sc].get(key) for sc in scales]
        for r in got:
            if r is None or not r.get("ok"):
                cells += ["FAILED" if r else "–", r.get("problem", "")[:40] if r else "–"]
            else:
                cells += [fmt_ms(r["cold_ms"]), fmt_ms(r["warm_ms"])]
        if len(scales) > 1:
            a, b = got[0], got[-1]
            for field in ("cold_ms", "warm_ms"):
                ok = a and b and a.get("ok") and b.get("ok") and a.get(field)
                cells.append(f"{b[field] / a[field]:.1f}x" if ok else "–")
        lines.append(f"| {page} | {view} | {user} | " + " | ".join(cells) + " |")
    return lines


def replica_table(rows: list[dict]) -> list[str]:
    lines = ["| replicas | sessions | page runs | pages/s | median ms | p95 ms | p99 ms | "
             "failed |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['replicas']} | {r['sessions']} | {r['requests']} | "
                     f"{r['pages_per_second'] or 0:.2f} | {fmt_ms(r['median_ms'])} | "
                     f"{fmt_ms(r['p95_ms'])} | {fmt_ms(r['p99_ms'])} | {r['failed']} |")
    return lines


def write_readme(report: list[str]) -> None:
    """Replace the text between the README's bench markers with the report."""
    text = README.read_text()
    start, end = MARKERS
    if start not in text or end not in text:
        raise RuntimeError(f"README.md has no {start} ... {end} markers")
    body = "\n".join(report).strip()
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    README.write_text(pattern.sub(lambda _m: f"{start}\n{body}\n{end}", text, count=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS,
                        metavar=("SCALE", "APPROACH", "BACKEND", "PAGE", "N"))
    parser.add_argument("--scales", default="region,national",
                        help="comma-separated, smallest first (small, region, national)")
    parser.add_argument("--backend", default="postgresql", choices=["postgresql", "sqlite"],
                        help="database of the page server times (default postgresql)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--skip-queries", action="store_true")
    parser.add_argument("--skip-pack", action="store_true", help="no evidence pack times")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-replicas", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--render", action="store_true",
                        help="also time the query pages drawn in headless Chromium")
    parser.add_argument("--pages", default="", help="only these pages (comma-separated)")
    parser.add_argument("--replica-counts", default="1,2,3")
    parser.add_argument("--replica-sessions", type=int, default=20)
    parser.add_argument("--replica-rounds", type=int, default=2)
    parser.add_argument("--load-sessions", type=int, default=20)
    parser.add_argument("--load-duration", type=float, default=300.0)
    parser.add_argument("--load-replicas", type=int, default=0,
                        help="load test through N server processes behind nginx (0: one "
                             "process, no proxy)")
    parser.add_argument("--combos", type=int, default=1000)
    parser.add_argument("--write-readme", action="store_true",
                        help="put the tables into README.md between the bench markers")
    args = parser.parse_args(argv)
    if args.worker:
        scale, approach, backend, page, n = args.worker
        print(json.dumps(worker(Dataset(scale), approach, backend, page, int(n))))
        return 0

    load_start = os.getloadavg()
    datasets = [Dataset(sc) for sc in args.scales.split(",") if sc]
    largest = datasets[-1]
    only = {p for p in args.pages.split(",") if p} or None
    query_pages = tuple(p for p in PAGES if not only or p in only)
    repeats = {"a": 5 if args.quick else 21, "b": 1 if args.quick else 3,
               "c": 3 if args.quick else 11}
    # the SQLite copy serves the query benchmark and the sqlite page backend only
    generation = {d.scale: ensure_data(d, duckdb=d is largest and not args.skip_queries,
                                       sqlite=not args.skip_queries
                                       or args.backend == "sqlite")
                  for d in datasets}
    pages: dict[str, list[dict]] = {}
    if not args.skip_pages:
        for d in datasets:
            pages[d.scale] = page_times(d, args.backend, 2 if args.quick else 5, only)
    packs: dict[str, dict] = {}
    if not args.skip_pack:
        for d in datasets:
            packs[d.scale] = pack_times(d, args.backend, 1 if args.quick else 3)
    results: dict[tuple[str, str, str], dict] = {}
    if not args.skip_queries:
        plan = [("a", "sqlite"), ("a", "postgresql"), ("c", "duckdb")]
        if not args.skip_naive:
            plan += [("b", "sqlite"), ("b", "postgresql")]
        for approach, backend in plan:
            for page in query_pages:
                say(f"timing {page}'s queries: ({approach}) on {backend}")
                results[(approach, backend, page)] = run_worker(largest, approach, backend,
                                                                page, repeats[approach])
    render = {}
    if args.render and not Path(CHROMIUM).exists():
        say(f"{CHROMIUM} is missing: skipping the page render times (apt-get install chromium)")
    elif args.render:
        rounds = 2 if args.quick else 5
        render["SQLite"] = render_times(largest.url("sqlite"), "sqlite", rounds, query_pages)
        render["PostgreSQL"] = render_times(largest.pg_url, "postgresql", rounds, query_pages)
    replicas = []
    if not args.skip_replicas:
        replicas = replica_throughput(largest, [int(n) for n in args.replica_counts.split(",")],
                                      args.replica_sessions, args.replica_rounds)
    load = None if args.skip_load else {**load_test(largest, args),
                                        "replicas": args.load_replicas}

    report = build_report(datasets, generation, pages, results, render, replicas, load,
                          query_pages, args.backend, load_start, os.getloadavg(), packs)
    print("\n".join(report))
    OUT.mkdir(exist_ok=True)
    (OUT / "results.md").write_text("\n".join(report) + "\n")
    (OUT / "results.json").write_text(json.dumps({
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "generation": generation, "pages": pages, "evidence_pack": packs,
        "queries": {"|".join(k): v for k, v in results.items()}, "render": render,
        "replicas": replicas, "load": load}, indent=2))
    if args.write_readme:
        write_readme(report)
        say("README.md updated between the bench markers")
    failed = [r for rows in pages.values() for r in rows if not r.get("ok")]
    failed += [p for p in packs.values() if not p["ok"]]
    return 1 if failed or (load and load.get("paced", {}).get("failed")) else 0


def _facts(data: Dataset) -> dict[str, int]:
    from sqlalchemy import create_engine, func, select

    from dashboard.data import schema

    # the same seed and as-of date make the same rows in either copy; SQLite when it exists
    engine = create_engine(data.url("sqlite") if data.sqlite_path.exists() else data.pg_url)
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
    return facts


def build_report(datasets, generation, pages, results, render, replicas, load, query_pages,
                 backend, load_start, load_end, packs=None) -> list[str]:
    largest = datasets[-1]
    backend_name = "PostgreSQL" if backend == "postgresql" else "SQLite"
    lines = [f"Benchmark run {datetime.now():%Y-%m-%d %H:%M}, {platform.machine()} with "
             f"{os.cpu_count()} cores, Python {platform.python_version()}; load average "
             f"(1, 5, 15 min) {', '.join(f'{x:.2f}' for x in load_start)} at the start and "
             f"{', '.join(f'{x:.2f}' for x in load_end)} at the end.", ""]
    for d in datasets:
        lines.append(f"- {d.scale.capitalize()} dataset (seed {SEED}, as of {AS_OF}): "
                     + ", ".join(f"{v:,} {k}" for k, v in _facts(d).items()) + ".")
        for key, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
            g = generation.get(d.scale, {}).get(key)
            if g:
                lines.append(f"  Generating it into {label}: {g['seconds']:,.0f} s, peak "
                             f"memory {g['peak_mb']:,.0f} MB ({g['when']}).")
    lines.append("")
    if pages:
        lines += [f"**Page server time** ({backend_name}; `python -m dashboard serve`, one "
                  "session at a time): from the request to the server's \"script finished\" "
                  "message over a loopback websocket, i.e. the whole script run (entry file "
                  "and page). Cold: Streamlit's caches emptied just before (the browser's "
                  "Clear cache message); warm: median of the repeats. Views: default (last 12 "
                  "months, all the account sees), one office, one month; each role's landing "
                  "page. Growth: how many times longer at the largest scale.", "",
                  *page_table(pages), ""]
    if packs:
        lines += ["**Evidence pack** for the whole country (readiness page, the chief "
                  "executive's default view: completed audits of the last 12 months): server "
                  "run after pressing *Prepare evidence pack*, which reads the case answers "
                  "and strata and writes the workbook and the PDF behind a progress bar. "
                  "First: just after the page's first view with emptied caches; repeat: "
                  "median of the presses that follow.", "",
                  "| scale | page first view ms | pack first ms | pack repeat ms | .xlsx KB "
                  "| .pdf KB | ok |", "|---|---:|---:|---:|---:|---:|:---:|"]
        for scale, p in packs.items():
            lines.append(f"| {scale} | {fmt_ms(p['page_cold_ms'])} | "
                         f"{fmt_ms(p['pack_first_ms'])} | {fmt_ms(p['pack_repeat_ms'])} | "
                         f"{p['kb'].get('xlsx', 0):,} | {p['kb'].get('pdf', 0):,} | "
                         f"{'yes' if p['ok'] else 'no: ' + p['problem']} |")
        lines.append("")
    if results:
        lines += [f"**Page queries at {largest.scale} scale**, default view (last 12 months, "
                  "whole country): median of warm runs, without Streamlit's cache. (a) this "
                  "project's queries; (b) naive: read the raw tables into pandas and "
                  "aggregate there, every run; (c) DuckDB running the same queries over the "
                  "raw rows. 'Same figures': all three results agree.", ""]
        for key, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
            lines += [f"*{label}*", "", *query_table(results, key, query_pages), ""]
    if render:
        lines += ["Page render in headless Chromium against `python -m dashboard serve`: from a "
                  "click in the navigation to the page fully drawn (charts included), median. "
                  "First view: empty query cache; repeat view: cached.", "",
                  *render_table(render, query_pages), ""]
    if replicas:
        lines += [f"**Replicas** (`python -m dashboard serve --replicas N`, nginx, "
                  f"PostgreSQL, {largest.scale} scale): the stress load (every session opens "
                  f"every page of its navigation {replicas[0]['rounds']}× back to back, "
                  f"no think time) through nginx.", "", *replica_table(replicas), ""]
    if load:
        import loadtest

        procs = load.get("replicas") or 0
        where = (f"{procs} server processes behind nginx" if procs
                 else "one server process")
        lines += [f"**Load test** (`scripts/loadtest.py`, {where}, PostgreSQL, "
                  f"{largest.scale} scale): paced = {load.get('paced', {}).get('sessions')} "
                  f"people signing in and following a scripted journey (pages and filter "
                  f"changes) with 2–8 s think time for "
                  f"{load.get('paced', {}).get('duration_s', 0):.0f} s; stress = the same "
                  f"sessions with no think time; RSS per session = (server memory with every "
                  f"session signed in − before) / sessions.", "", *loadtest.markdown(load), ""]
        walk = load.get("combos", {}).get("rss_mb")
        if walk:
            lines += ["Server memory (MB) after n distinct views (bounded st.cache_data): "
                      + ", ".join(f"{n:,}: {m:,.0f}" for n, m in walk if m is not None) + ".",
                      ""]
        bad = load.get("arrival", {}).get("failed", [])
        if "arrival" in load:
            lines += [f"Sessions opening the app in the same instant: {len(bad)} of "
                      f"{load['arrival']['sessions']} failed.", ""]
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
