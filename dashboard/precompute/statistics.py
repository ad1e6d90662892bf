"""Compute the stored statistics (the stat_* tables of dashboard.data.summary_schema) when the
monthly summaries change, so the compare and overview pages only read them.

What is stored, for every month L users can pick (history_start .. data_as_of):

- the monthly counts of every comparable measure per office (queries.monthly.monthly_counts),
  for the months from 11 months before the first L to the last;
- for the windows "12 months ending L" and "the month L": the funnel of every measure
  (benchmark theta and phi, each office's limits, position and signal, and the limit lines
  to draw), plain and, where phi > 1, widened for over-dispersion;
- for the windows "12 months ending L": every office's control chart of every measure and
  the special-cause flags on it (queries.flags.chart_for and flags_from_counts).

The figures are exactly those of the view-time functions (dashboard.stats.funnel.assess and
funnel_curve, queries.flags.chart_for and flags_from_counts); the limits come from the
array twins in dashboard.stats.batch. tests/test_stored_statistics.py checks the stored rows
against the view-time functions on SQLite and PostgreSQL.

``refresh(conn)`` first recounts the data quality page's stored counts when they are out of
date (dashboard.precompute.data_checks), then recomputes what dashboard.data.stat_state marks
pending: the monthly
counts of the pending months (every office: they are cheap), then every window containing
one of them (funnels for every office, as the benchmark is regional; control charts for the
pending offices only). Runs in the caller's transaction.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, and_, delete, or_, select, text

from dashboard.core.filters import Filters, add_months, month_end, month_start
from dashboard.data import stat_state
from dashboard.data import summary_schema as ss
from dashboard.data.schema import area, dataset_info, office
from dashboard.data.summaries.months import month_range
from dashboard.precompute import data_checks
from dashboard.stats import batch, funnel, spc
from queries import monthly

log = logging.getLogger("dashboard.precompute")
LONG = stat_state.WINDOW_MONTHS
LOCK_KEY = 16_0007  # the advisory lock that keeps refreshes one at a time
LIMITS = ("low_95", "high_95", "low_998", "high_998")


@dataclass(frozen=True)
class Refreshed:
    """What a refresh recomputed: months of counts, windows of funnels and charts, and the
    rows written."""

    months: int = 0
    windows: int = 0
    rows: int = 0


def span(conn: Connection) -> tuple[date, date] | None:
    """(first, last) month users can pick (dataset_info history_start .. data_as_of), or
    None without data."""
    facts = dict(conn.execute(select(dataset_info.c.key, dataset_info.c.value)).all())
    if not facts.get("data_as_of"):
        return None
    last = month_start(date.fromisoformat(facts["data_as_of"]))
    first = month_start(date.fromisoformat(facts.get("history_start") or facts["data_as_of"]))
    return min(first, last), last


def refresh_all(conn: Connection) -> Refreshed:
    """Recompute every stored statistic (and the stored data-quality counts), in the
    caller's transaction."""
    stat_state.mark_stale(conn, None)
    stat_state.mark_checks_stale(conn)
    return refresh(conn)


def catch_up(engine: Engine) -> Refreshed | None:
    """refresh() in a transaction of its own, after a write that refreshed the summaries
    (an audit saved, a file imported). A failure is logged and leaves the months pending:
    the pages then compute those figures at view time, so nothing is shown wrong."""
    try:
        with engine.begin() as conn:
            return refresh(conn)
    except Exception:  # noqa: BLE001 - the write it follows has succeeded; say so in the log
        log.exception("recomputing the stored statistics failed; they stay pending")
        return None


def refresh(conn: Connection) -> Refreshed:
    """Recompute the pending statistics (see the module docstring); nothing when none is
    pending and the months users can pick have not moved. In the caller's transaction;
    one refresh at a time (PostgreSQL: an advisory lock; SQLite: its write lock)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    data_checks.refresh(conn)  # the data quality page's counts, when marked out of date
    up_to, months = stat_state.pending(conn)
    picked = span(conn)
    stored = stat_state.coverage(conn)
    if picked is None:
        for table in ss.STAT_TABLES:
            conn.execute(delete(table))
        stat_state.clear_pending(conn, up_to)
        return Refreshed()
    first, last = picked
    counted = month_range(add_months(first, -(LONG - 1)), last)
    everything = months is None or stored is None or stored[0] != first or stored[1] > last
    if everything:
        months, known = set(counted), first
    else:
        # months pending, and months new at the end (their windows are new)
        months = {m for m in months if counted[0] <= m <= last}
        months |= {m for m in counted if m > stored[1]}
        known = add_months(stored[1], 1)  # window ends from here on are new
    if not months and stored == picked:
        stat_state.clear_pending(conn, up_to)
        return Refreshed()
    rows, changed = _store_counts(conn, months, everything)
    ends = sorted({e for m in months for e in month_range(m, add_months(m, LONG - 1))
                   if first <= e <= last})
    single = sorted(m for m in months if first <= m <= last)
    counts = _read_counts(conn, add_months(ends[0], -(LONG - 1)) if ends else first, last)
    measures = {m for _o, m in changed}
    old = [e for e in ends if e < known]
    new = [e for e in ends if e >= known]
    rows += _store_funnels(conn, counts, _windows(old, [m for m in single if m < known]),
                           None if everything else measures)
    rows += _store_funnels(conn, counts, _windows(new, [m for m in single if m >= known]))
    rows += _store_charts(conn, counts, old, None if everything else changed)
    rows += _store_charts(conn, counts, new)
    stat_state.set_coverage(conn, first, last)
    stat_state.clear_pending(conn, up_to)
    return Refreshed(months=len(months), windows=len(ends) + len(single), rows=rows)


def _windows(ends: list[date], single: list[date]) -> list[tuple[date, date]]:
    """(first, last month) of the 12-month windows ending in `ends` and of the one-month
    windows `single`."""
    return [(add_months(e, -(LONG - 1)), e) for e in ends] + [(m, m) for m in single]


# --- monthly counts ------------------------------------------------------------------------

def _store_counts(conn: Connection, months: set[date], everything: bool
                  ) -> tuple[int, set[tuple[int, str]]]:
    """Recompute the monthly counts of these months (every office) and store them. Returns
    (rows written, the (office_id, measure) series whose counts changed)."""
    t = ss.stat_measure_month
    key = [t.c.office_id, t.c.month, t.c.measure]
    where = [] if everything else [t.c.month.in_(sorted(months))]
    before = {(int(o), _as_date(m), k): (x, n) for o, m, k, x, n in conn.execute(
        select(*key, t.c.numerator, t.c.denominator).where(*where)).all()}
    conn.execute(delete(t).where(*where))
    ids = dict(conn.execute(select(office.c.code, office.c.id)).all())
    rows = []
    for lo, hi in _runs(sorted(months)):
        found = monthly.monthly_counts(conn, Filters(start=lo, end=month_end(hi)))
        rows += [{"office_id": int(ids[code]), "month": date.fromisoformat(m + "-01"),
                  "measure": k, "numerator": float(x), "denominator": float(n)}
                 for m, code, k, x, n in zip(
                     found["month"], found["office_code"], found["measure"],
                     found["numerator"], found["denominator"], strict=True)]
    _insert(conn, t, rows)
    after = {(r["office_id"], r["month"], r["measure"]): (r["numerator"], r["denominator"])
             for r in rows}
    changed = {(o, k) for (o, m, k) in before.keys() | after.keys()
               if before.get((o, m, k)) != after.get((o, m, k))}
    return len(rows), changed


def _read_counts(conn: Connection, first: date, last: date) -> pd.DataFrame:
    """Stored monthly counts first..last with office names, in monthly_counts' order.
    Columns: office_id, area, office, office_code, month ('YYYY-MM'), measure, numerator,
    denominator."""
    t = ss.stat_measure_month
    stmt = (select(t.c.office_id, area.c.name.label("area"), office.c.name.label("office"),
                   office.c.code.label("office_code"), t.c.month, t.c.measure, t.c.numerator,
                   t.c.denominator)
            .join(office, office.c.id == t.c.office_id)
            .join(area, area.c.id == office.c.area_id)
            .where(t.c.month >= first, t.c.month <= last))
    df = pd.DataFrame(conn.execute(stmt).all(), columns=[
        "office_id", "area", "office", "office_code", "month", "measure", "numerator",
        "denominator"])
    df["month"] = [str(m)[:7] for m in df["month"]]
    df["numerator"] = df["numerator"].astype(float)
    df["denominator"] = df["denominator"].astype(float)
    return df.sort_values(["month", "area", "office", "office_code", "measure"],
                          kind="stable").reset_index(drop=True)


# --- funnels -------------------------------------------------------------------------------

def period_counts(counts: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    """queries.monthly.period_counts for first..last from monthly counts: flows summed over
    the months, vacancy the last month's snapshot. Columns: office_id, area, office,
    office_code, measure, numerator, denominator, in period_counts' order."""
    keys = ["office_id", "area", "office", "office_code", "measure"]
    lo, hi = f"{first:%Y-%m}", f"{last:%Y-%m}"
    inside = counts[(counts["month"] >= lo) & (counts["month"] <= hi)]
    snapshot = inside["measure"] == "vacancy_rate"
    flows = inside[~snapshot].groupby(keys, as_index=False)[["numerator", "denominator"]].sum()
    vacancy = inside[snapshot & (inside["month"] == hi)][[*keys, "numerator", "denominator"]]
    out = pd.concat([flows, vacancy], ignore_index=True)
    out = out[out["denominator"] > 0]
    return out.sort_values(["area", "office", "office_code", "measure"],
                           kind="stable").reset_index(drop=True)


def _position(row: dict) -> str:
    """funnel.position from the row's limits, already computed (on a limit is within)."""
    return funnel.position_within(row["rate"], row["low_95"], row["high_95"], row["low_998"],
                                  row["high_998"])


def _exact(denominators: list[float], thetas: list[float]) -> dict[str, np.ndarray]:
    """The exact funnel limits of every (denominator, theta) pair, in one batch."""
    out = {}
    for coverage in funnel.COVERAGES:
        low, high = funnel.limit_columns(coverage)
        out[low], out[high] = batch.funnel_limits(denominators, thetas, coverage)
    return out


def _widened(denominators: list[float], theta: float, phi: float) -> dict[str, np.ndarray]:
    """The over-dispersed (normal) funnel limits at these denominators."""
    out = {}
    for coverage in funnel.COVERAGES:
        low, high = funnel.limit_columns(coverage)
        out[low], out[high] = batch.normal_limits(denominators, theta, coverage, phi)
    return out


def _store_funnels(conn: Connection, counts: pd.DataFrame,
                   windows: Iterable[tuple[date, date]], measures: set[str] | None = None
                   ) -> int:
    """Recompute and store the funnels of these windows (of `measures` only, or all)."""
    windows = sorted(set(windows))
    if not windows or measures is not None and not measures:
        return 0
    only = [] if measures is None else [sorted(measures)]
    for t in (ss.stat_funnel_benchmark, ss.stat_funnel_office, ss.stat_funnel_curve):
        for part in _chunks(windows, 200):
            conn.execute(delete(t).where(
                or_(*[and_(t.c.window_start == a, t.c.window_end == b) for a, b in part]),
                *[t.c.measure.in_(m) for m in only]))
    bench, offices, curves = [], [], []
    if measures is not None:
        counts = counts[counts["measure"].isin(measures)]
    for first, last in windows:
        period = period_counts(counts, first, last)
        for measure, rows in period.groupby("measure", sort=True):
            num, den = list(rows["numerator"]), list(rows["denominator"])
            theta = funnel.pooled_rate(num, den)
            phi = funnel.overdispersion(num, den, theta)
            key = {"window_start": first, "window_end": last, "measure": measure}
            bench.append(key | {"theta": _or_none(theta), "phi": _or_none(phi)})
            if math.isnan(theta):
                continue
            better = monthly.higher_is_better(measure)
            for adjusted in (False, True):
                if adjusted and not phi > 1.0:
                    continue
                offices += [key | {"adjusted": adjusted, "office_id": int(i), "numerator": x,
                                   "denominator": n, "rate": x / n, "theta": theta,
                                   "phi": phi if adjusted else None, "better": better}
                            for i, x, n in zip(rows["office_id"], num, den, strict=True)]
                curves += [key | {"adjusted": adjusted, "denominator": n, "theta": theta,
                                  "phi": phi if adjusted else None}
                           for n in funnel.curve_grid(max(den))]
    for rows in (offices, curves):
        _fill_limits(rows)
    for row in offices:
        row["position"] = _position(row)
        row["signal"] = funnel.signal(row["position"], row.pop("better"))
    for t, rows in ((ss.stat_funnel_benchmark, bench), (ss.stat_funnel_office, offices),
                    (ss.stat_funnel_curve, curves)):
        _insert(conn, t, [{k: v for k, v in r.items() if k not in ("theta", "phi")}
                          if t is not ss.stat_funnel_benchmark else r for r in rows])
    return len(bench) + len(offices) + len(curves)


def _fill_limits(rows: list[dict]) -> None:
    """Add the four limit columns to each row (keys denominator, theta, phi: None for the
    exact limits, else the over-dispersion factor): exact ones in one batch."""
    plain = [r for r in rows if r["phi"] is None]
    lim = _exact([r["denominator"] for r in plain], [r["theta"] for r in plain])
    for j, row in enumerate(plain):
        row.update({c: _or_none(lim[c][j]) for c in LIMITS})
    for row in rows:
        if row["phi"] is not None:
            wide = _widened([row["denominator"]], row["theta"], row["phi"])
            row.update({c: _or_none(wide[c][0]) for c in LIMITS})


# --- control charts ------------------------------------------------------------------------

def _store_charts(conn: Connection, counts: pd.DataFrame, ends: list[date],
                  series: set[tuple[int, str]] | None = None) -> int:
    """Recompute and store the control charts and flags of the 12-month windows ending in
    `ends`, for the (office_id, measure) `series` only, or all."""
    if not ends or series is not None and not series:
        return 0
    chart_t, flag_t = ss.stat_control_chart, ss.stat_control_flag
    for t in (chart_t, flag_t):
        if series is None:
            conn.execute(delete(t).where(t.c.window_end.in_(ends)))
            continue
        for part in _chunks(sorted(series), 200):
            conn.execute(delete(t).where(t.c.window_end.in_(ends), or_(*[
                and_(t.c.office_id == o, t.c.measure == m) for o, m in part])))
    if series is not None:
        counts = counts[[(int(o), m) in series for o, m in zip(
            counts["office_id"], counts["measure"], strict=True)]]
    charts, flags = [], []
    for end in ends:
        lo, hi = f"{add_months(end, -(LONG - 1)):%Y-%m}", f"{end:%Y-%m}"
        window = counts[(counts["month"] >= lo) & (counts["month"] <= hi)]
        chart = _charts(window.sort_values(["office_id", "measure", "month"], kind="stable"))
        text: dict[tuple[int, str, str], list[str]] = {}
        for (office_id, measure), one in _flaggable(chart):
            for flag in spc.flags(one):
                text.setdefault((office_id, measure, flag.month), []).append(
                    spc.RULE_TEXT[flag.rule])
                flags.append({"window_end": end, "measure": measure,
                              "office_id": int(office_id),
                              "month": date.fromisoformat(flag.month + "-01"),
                              "rule": flag.rule, "side": flag.side, "rate": flag.rate,
                              "centre": flag.centre,
                              "z": None if math.isinf(flag.z) else flag.z,
                              "run_length": flag.run_length, "run_start": flag.run_start})
        charts += [{"window_end": end, "measure": measure, "office_id": int(i),
                    "month": date.fromisoformat(m + "-01"), "numerator": x, "denominator": n,
                    "rate": r, "centre": c, "sigma": sd, "lcl": lcl, "ucl": ucl,
                    "flag": "; ".join(text.get((i, measure, m), []))}
                   for i, measure, m, x, n, r, c, sd, lcl, ucl in zip(
                       *(chart[col] for col in ("office_id", "measure", *spc.CHART_COLUMNS)),
                       strict=True)]
    _insert(conn, chart_t, charts)
    _insert(conn, flag_t, flags)
    return len(charts) + len(flags)


def _flaggable(chart: pd.DataFrame):
    """(office_id, measure), chart of every series that can break a rule: a month outside
    its limits, or at least spc.RUN_LENGTH months on one side of the centre line (needed
    for a run). spc.flags then finds the flags themselves; the rest have none."""
    if chart.empty:
        return []
    side = np.sign(chart["rate"] - chart["centre"])
    marks = pd.DataFrame({
        "office_id": chart["office_id"], "measure": chart["measure"],
        "beyond": (chart["rate"] > chart["ucl"]) | (chart["rate"] < chart["lcl"]),
        "above": side > 0, "below": side < 0})
    by = marks.groupby(["office_id", "measure"], sort=False)[["beyond", "above", "below"]]
    found = by.sum()
    keep = found[(found["beyond"] > 0) | (found["above"] >= spc.RUN_LENGTH)
                 | (found["below"] >= spc.RUN_LENGTH)].index
    wanted = set(keep)
    return [(key, one) for key, one in chart.groupby(["office_id", "measure"], sort=False)
            if key in wanted]


def _charts(window: pd.DataFrame) -> pd.DataFrame:
    """spc.p_chart (exact limits, every month a baseline) of every office and measure in
    `window` (sorted by office_id, measure, month; denominators positive). Columns:
    office_id, measure, and spc.CHART_COLUMNS."""
    if window.empty:
        return pd.DataFrame(columns=["office_id", "measure", *spc.CHART_COLUMNS])
    centre: dict[tuple[int, str], float] = {}
    for key, x, n in zip(zip(window["office_id"], window["measure"], strict=True),
                         window["numerator"], window["denominator"], strict=True):
        sx, sn = centre.get(key, (0.0, 0.0))
        centre[key] = (sx + x, sn + n)  # in month order, as p_chart sums them
    centres = np.array([centre[k][0] / centre[k][1] for k in zip(
        window["office_id"], window["measure"], strict=True)])
    n = window["denominator"].to_numpy(float)
    lcl, ucl = batch.control_limits(n, centres)
    sigma = [math.sqrt(c * (1.0 - c) / d) for c, d in zip(centres, n, strict=True)]
    return window[["office_id", "measure", "month", "numerator", "denominator"]].assign(
        rate=window["numerator"].to_numpy(float) / n, centre=centres, sigma=sigma,
        lcl=lcl, ucl=ucl)


# --- helpers -------------------------------------------------------------------------------

def _runs(months: list[date]) -> list[tuple[date, date]]:
    """Consecutive months merged into (first month, last month) pairs."""
    runs: list[tuple[date, date]] = []
    for m in months:
        if runs and m == add_months(runs[-1][1], 1):
            runs[-1] = (runs[-1][0], m)
        else:
            runs.append((m, m))
    return runs


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _insert(conn: Connection, table, rows: list[dict]) -> None:
    for part in _chunks(rows, 20_000):
        conn.execute(table.insert(), part)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _or_none(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value
