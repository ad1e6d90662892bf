"""Every view renders: a sweep of the pages over every unit and period (AppTest).

As the chief executive, every measure page, the overview, compare, cases and readiness
are run for the region, each area and each office, and for each of them every single
month of the history, one quarter and the default twelve months. Every page of every
other role is run at its default view and at one small office in a quiet month (Woking,
September 2026: no sickness absence and no releases). A view fails on an exception, an
error box other than the overview's own off-target list, a missing scope/period line, or
a chart drawn without any data point.

Cost: one shared generated database (tests.conftest.demo_sqlite_url, the small scale:
two areas, four offices, 24 months, with quiet office-months) and one AppTest per page,
moved from view to view by changing the filter keys in its session state and rerunning,
so each view costs one script run (~0.1-0.4 s) instead of a fresh app.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import sys
import time
import types
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text

from tests.pages.apphelp import open_app

CHIEF_PAGES = ("overview", "compare", "staffing", "quality", "payback", "gate", "cases",
               "readiness")
COST_ORDER = ("readiness", "staffing", "compare", "overview", "quality", "payback", "gate",
              "cases")
# content, not failure: the overview lists measures off target in a red box
ERROR_CONTENT = ("Off target (Red):",)
QUIET = ("SURREY", "WOK", "2026-09")  # small office, quiet month (see module docstring)
OTHER_ROLES = {
    "am.kent": ("overview", "compare", "staffing", "quality", "payback", "gate", "cases",
                "readiness"),
    "quality.lead": ("overview", "compare", "staffing", "quality", "payback", "gate",
                     "cases", "readiness", "sample", "audit", "data_quality"),
    "auditor.ken1": ("overview", "audit"),
    "admin": ("overview", "admin_users", "admin_log", "admin_targets", "admin_import",
              "data_quality"),
}


@dataclass(frozen=True)
class View:
    area: str  # area code or "ALL"
    office: str  # office code or "ALL"
    start: str  # YYYY-MM
    end: str
    label: str  # what the page's scope line must name

    def __str__(self) -> str:
        return f"{self.label} {self.start}..{self.end}"


@pytest.fixture(scope="module")
def sweep_views(demo_sqlite_url) -> list[View]:
    """Region, areas and offices x every month, a quarter and the default 12 months."""
    eng = create_engine(demo_sqlite_url)
    with eng.connect() as conn:
        facts = dict(conn.execute(text("SELECT key, value FROM dataset_info")).all())
        units = [("ALL", "ALL", "Region")]
        units += [(code, "ALL", name) for code, name in conn.execute(text(
            "SELECT code, name FROM area ORDER BY code")).all()]
        units += [(a, o, name) for a, o, name in conn.execute(text(
            "SELECT a.code, o.code, o.name FROM office o JOIN area a ON a.id = o.area_id "
            "ORDER BY a.code, o.code")).all()]
    eng.dispose()
    months = _months(facts["history_start"][:7], facts["data_as_of"][:7])
    periods = [(m, m) for m in months] + [(months[-4], months[-2]), (months[-12], months[-1])]
    return [View(a, o, s, e, label) for a, o, label in units for s, e in periods]


def _months(first: str, last: str) -> list[str]:
    out, (y, m) = [], map(int, first.split("-"))
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def chart_points(spec: dict) -> int:
    """How many data points the traces of a Plotly figure spec hold (x, y or values)."""
    total = 0
    for trace in spec.get("data", []):
        counts = []
        for axis in ("x", "y", "values", "z"):
            value = trace.get(axis)
            if isinstance(value, list):
                counts.append(len(value))
            elif isinstance(value, dict) and value.get("bdata"):  # base64-packed array
                shape = value.get("shape")
                counts.append(int(str(shape).split(",")[0]) if shape else 1)
        total += max(counts, default=0)
    return total


def problems(at, label: str | None) -> list[str]:
    """What is wrong with the view the AppTest last ran (empty list: it rendered)."""
    found = [f"exception: {e.value}" for e in at.exception]
    found += [f"error box: {e.value}" for e in at.error
              if not str(e.value).startswith(ERROR_CONTENT)]
    if label is not None and not any(f"**{label}**" in c.value for c in at.caption):
        found.append(f"no scope line naming {label!r}")
    for i, chart in enumerate(at.get("plotly_chart")):
        if chart_points(json.loads(chart.proto.spec)) == 0:
            found.append(f"chart {i} has no data")
    return found


def show(at, view: View) -> None:
    """Rerun the page at this view. The filters go in the way a drill-down asks for them
    (dashboard.app.ui.request_filters): set before the sidebar widgets are drawn, so an
    office outside the previous view's area is not rejected by the office select box."""
    at.session_state["_pending_filters"] = {"area": view.area, "office": view.office,
                                            "from": view.start, "to": view.end}
    at.run()


def sweep_page(url: str, page: str, views: list[View]) -> tuple[str, list[str], float]:
    """Run one page over every view in one AppTest: (page, failures, seconds). A module
    function, so a worker process can run it."""
    at = open_app(url, page=f"pages/{page}.py")
    started, failures = time.perf_counter(), []
    for view in views:
        show(at, view)
        failures += [f"{page} {view}: {p}" for p in problems(at, view.label)]
    return page, failures, time.perf_counter() - started


@contextmanager
def _bare_main():
    """AppTest leaves the app script registered as __main__ in this process, and spawn
    would run it again in every worker (which then dies): workers start under a bare
    __main__ instead."""
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = saved


def workers() -> int:
    """Processes for the sweep: one per core, at most two (SWEEP_WORKERS overrides)."""
    return max(1, int(os.environ.get("SWEEP_WORKERS", min(2, os.cpu_count() or 1))))


def test_every_view_renders_for_the_chief_executive(demo_sqlite_url, sweep_views, tmp_path):
    # the worker processes read their own copy (SQLite's backup API), so no other process
    # ever holds the shared file's WAL while the tests after this one use it
    own = tmp_path / "sweep.sqlite"
    src, dst = sqlite3.connect(demo_sqlite_url.split("///", 1)[1]), sqlite3.connect(own)
    src.backup(dst)
    src.close()
    dst.close()
    url = f"sqlite:///{own}"
    # costliest pages first, so two workers finish at about the same time
    pages = sorted(CHIEF_PAGES, key=lambda p: COST_ORDER.index(p))
    jobs = [(url, page, sweep_views) for page in pages]
    started = time.perf_counter()
    if workers() == 1:
        results = [sweep_page(*job) for job in jobs]
    else:  # spawn: a fresh interpreter per worker, no forked Streamlit threads; a worker
        # that dies raises BrokenProcessPool here instead of leaving the sweep waiting
        with _bare_main(), ProcessPoolExecutor(
                workers(), mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(sweep_page, *zip(*jobs, strict=True)))
    failures = []
    for page, found, took in results:
        print(f"{page}: {len(sweep_views)} views in {took:.1f} s")
        failures += found
    print(f"sweep: {len(jobs) * len(sweep_views)} views in "
          f"{time.perf_counter() - started:.1f} s on {workers()} worker(s)")
    assert len(sweep_views) == 7 * 26  # region, 2 areas, 4 offices x 26 periods
    assert not failures, f"{len(failures)} failing views:\n" + "\n".join(failures[:40])


@pytest.mark.parametrize("user", list(OTHER_ROLES))
def test_every_page_of_every_role_renders(demo_sqlite_url, user):
    failures = []
    area, office, month = QUIET
    for page in OTHER_ROLES[user]:
        at = open_app(demo_sqlite_url, page=f"pages/{page}.py", user=user)
        failures += [f"{user} {page} default: {p}" for p in problems(at, None)]
        assert at.title, f"{user} {page}: nothing drawn"
        show(at, View(area, office, month, month, "Woking"))
        failures += [f"{user} {page} Woking {month}: {p}" for p in problems(at, None)]
    assert not failures, "\n".join(failures)
