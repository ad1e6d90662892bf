"""The thin Streamlit layer shared by every page: engine, cached queries, filters in the
URL, headers, tables with downloads, number formatting and friendly errors.

This is the one module under dashboard/ that imports streamlit.
"""

from __future__ import annotations

import importlib
import logging
import math
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from dashboard.access import audit_log
from dashboard.app import charts
from dashboard.core import config, display, labels, spreadsheet_safe
from dashboard.core.filters import Filters, add_months, month_end, month_start, parse_filters
from dashboard.core.glossary import MEASURES
from dashboard.core.plain_text import plain
from dashboard.data import db
from dashboard.demo import accounts, demo_data
from dashboard.ingest import import_runs

log = logging.getLogger("dashboard")
ALL = "ALL"


# --- database -------------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return db.make_engine(url)


def engine() -> Engine:
    return _engine(config.database_url())


_SETUP_LOCK = threading.Lock()  # alembic's command API is not thread-safe
_READY_URLS: set[str] = set()


def ensure_database() -> None:
    """Migrate the schema once per process; on the embedded SQLite demo, generate the data
    on first run. Sessions starting at the same instant wait for one another."""
    if st.session_state.get("_db_ready"):
        return
    url = config.database_url()
    with _SETUP_LOCK:
        if url not in _READY_URLS:
            _prepare_database()
            _READY_URLS.add(url)
    st.session_state["_db_ready"] = True


def _prepare_database() -> None:
    eng = engine()
    db.upgrade(eng)
    if import_runs.fail_abandoned_runs(eng):  # a killed import must not stay "running"
        log.warning("import runs left running by a stopped process were marked failed")
    if not db.has_data(eng):
        if not config.is_sqlite(config.database_url()):
            st.info("This database has no data yet. An administrator can load extracts "
                    "with `python -m dashboard import`, or demo data with "
                    "`python -m dashboard demo-data`.")
            st.stop()
        bar = st.progress(0.0, text="Creating the demo database (first run only)…")
        demo_data.generate(eng, progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
        with eng.begin() as conn:
            for username, password, role in accounts.create_demo_users(conn):
                log.warning("Demo account %s (%s), password %s", username, role, password)
        bar.empty()
        st.cache_data.clear()


@st.cache_data(ttl=60, max_entries=16, show_spinner=False)
def _facts(url: str) -> dict[str, str]:
    return db.read_dataset_info(_engine(url))


def facts() -> dict[str, str]:
    """dataset_info: data_as_of, history_start, mode, data_version, ..."""
    return _facts(config.database_url())


# bounded in time, entries and bytes (issue 16): memory cannot grow with distinct views
@st.cache_data(ttl=900, max_entries=2000, max_size="256MB", show_spinner=False)
def _run(url: str, version: str, module: str, name: str, filters: Filters | None,
         kwargs: tuple[tuple[str, Any], ...]) -> pd.DataFrame:
    fn = getattr(importlib.import_module(module), name)
    with _engine(url).connect() as conn:
        if filters is None:
            return fn(conn, **dict(kwargs))
        return fn(conn, filters, **dict(kwargs))


def query(fn: Callable[..., pd.DataFrame], filters: Filters | None = None,
          **kwargs: Any) -> pd.DataFrame:
    """Run a query function, cached per database, data version, filters and arguments.

    Person-level query functions take the user's Scope as an argument, so it is part of
    the cache key and one user's rows can never be served to another.
    """
    f = facts()
    version = f.get("data_version", f.get("data_as_of", ""))
    return _run(config.database_url(), version, fn.__module__, fn.__name__, filters,
                tuple(sorted(kwargs.items())))


# --- filters ---------------------------------------------------------------------------

def _month_options(history_start: date, as_of: date) -> list[str]:
    out, m = [], month_start(history_start)
    while m <= as_of:
        out.append(m.strftime("%Y-%m"))
        m = add_months(m, 1)
    return out


def _month_label(value: str) -> str:
    return date.fromisoformat(value + "-01").strftime("%b %Y")


def filter_sidebar(offices: pd.DataFrame, home: str | None = None) -> Filters:
    """Area, office and period widgets in the sidebar, initialised from the URL once per
    session and written back to the URL on every run, so a view can be sent as a link.
    home: the area code a user lands on when the URL names no view (no parameter but the
    period: an area manager's own area); 'area=ALL' in the URL asks for the region."""
    info = facts()
    as_of = date.fromisoformat(info["data_as_of"])
    history_start = date.fromisoformat(info["history_start"])
    ss = st.session_state
    pending = ss.pop("_pending_filters", None)
    if pending:  # a drill-down asked for these filters before switching page
        ss.update({f"flt_{k}": v for k, v in pending.items() if v is not None})
    if "flt_area" not in ss:
        url = st.query_params.to_dict()
        if str(url.get("area", "")).strip().upper() == ALL:
            url.pop("area")
        elif home and set(url) <= {"from", "to"}:  # a link naming a view keeps it
            url["area"] = home
        parsed = parse_filters(url, offices, as_of, history_start)
        ss["flt_problems"] = parsed.problems
        pf = parsed.filters
        ss["flt_area"] = pf.area_code or ALL
        ss["flt_office"] = pf.office_code or ALL
        ss["flt_from"] = pf.start.strftime("%Y-%m")
        ss["flt_to"] = pf.end.strftime("%Y-%m")
    areas = offices.drop_duplicates("area_code")
    area_names = dict(zip(areas["area_code"], areas["area"], strict=True))
    sb = st.sidebar
    sb.selectbox("Area", [ALL, *area_names], key="flt_area",
                 format_func=lambda c: "All areas (region)" if c == ALL else area_names[c],
                 on_change=lambda: ss.update(flt_office=ALL))
    in_area = offices if ss["flt_area"] == ALL else offices[
        offices["area_code"] == ss["flt_area"]]
    office_names = dict(zip(in_area["office_code"], in_area["office"], strict=True))
    if ss["flt_office"] not in office_names:
        ss["flt_office"] = ALL
    sb.selectbox("Office", [ALL, *office_names], key="flt_office",
                 format_func=lambda c: "All offices" if c == ALL else office_names[c])
    months = _month_options(history_start, as_of)
    left, right = sb.columns(2)
    left.selectbox("From", months, key="flt_from", format_func=_month_label)
    right.selectbox("To", months, key="flt_to", format_func=_month_label)
    for problem in ss.get("flt_problems", ()):
        st.warning(f"Link filter not used: {plain(problem)}", icon=":material/warning:")
    first, last = sorted((ss["flt_from"], ss["flt_to"]))
    params = {"from": first, "to": last}
    if ss["flt_area"] != ALL:
        params["area"] = ss["flt_area"]
    if ss["flt_office"] != ALL:
        params["office"] = ss["flt_office"]
    parsed = parse_filters(params, offices, as_of, history_start)
    url = params | ({"area": ALL} if home and ss["flt_area"] == ALL else {})
    for key in FILTER_PARAMS:  # leave page-specific parameters (e.g. measure) alone
        if key in url and st.query_params.get(key) != url[key]:
            st.query_params[key] = url[key]
        elif key not in url and key in st.query_params:
            del st.query_params[key]
    return parsed.filters


FILTER_PARAMS = ("area", "office", "from", "to")


def request_filters(area: str | None = None, office: str | None = None,
                    start: str | None = None, end: str | None = None) -> None:
    """Ask for new filter values on the next run (e.g. before st.switch_page on a
    drill-down). Values are codes and 'YYYY-MM' months; ALL clears area or office."""
    st.session_state["_pending_filters"] = {"area": area, "office": office, "from": start,
                                            "to": end}


def filter_query_params() -> dict[str, str]:
    """The current filters as URL parameters, for st.switch_page / st.page_link."""
    return {k: v for k, v in st.query_params.to_dict().items() if k in FILTER_PARAMS}


def current_filters() -> Filters:
    return st.session_state["_filters"]


# --- page furniture --------------------------------------------------------------------

def require_page(page_key: str) -> Any:
    """Refuse (and stop) unless the signed-in user's role opens this page; returns the
    user's Scope. Pages outside a role are not in its navigation either: this is the
    second lock, for a page file reached some other way."""
    scope = st.session_state.get("_scope")
    if scope is None or not scope.may_open(page_key):
        st.error("You do not have access to this page.", icon=":material/block:")
        st.stop()
    return scope


def page_header(page_key: str, title: str, how_to_read: str, measures: list[str]) -> Filters:
    """Access check, title, scope and period line, 'data as of', and the page's help with
    definitions of its measures."""
    require_page(page_key)
    f = current_filters()
    info = facts()
    st.title(title)
    as_of = date.fromisoformat(info["data_as_of"])
    st.caption(f"**{plain(f.label)}** · {f.period_text()} · data as of {as_of:%d %b %Y}")
    with st.expander("How to read this page", icon=":material/help:"):
        st.markdown(how_to_read)
        st.markdown("\n".join(f"- {MEASURES[m].definition()}" for m in measures))
    return f


def busy_notice(exc: BaseException) -> bool:
    """When exc says the database is busy (an import writing, a lock held), show the plain
    "busy, try again" notice and return True; otherwise False (a real fault: re-raise)."""
    if not db.is_busy(exc):
        return False
    log.warning("database busy: %s", type(exc).__name__)
    st.warning(db.BUSY_MESSAGE, icon=":material/hourglass_top:")
    return True


EMPTY_HINT = "Widen the period or choose another area or office in the sidebar."


def empty_state(what: str, hint: str = EMPTY_HINT) -> None:
    st.info(f"No {what} for this selection. {hint}", icon=":material/search_off:")


def stop_when_empty(empty: bool, what: str, hint: str = EMPTY_HINT) -> None:
    """When there is nothing to show, say so in words (what is missing, how to widen the
    view) and end the page's run there, so no card or chart is drawn over no rows."""
    if empty:
        empty_state(what, hint)
        st.stop()


def table_with_download(df: pd.DataFrame, file_stem: str, column_config: dict | None = None,
                        key: str | None = None) -> None:
    """Show a table and offer exactly those rows and columns as CSV. Columns without a
    configured label get a readable one ('hours_worked' -> 'Hours worked')."""
    st.dataframe(yes_no(df), hide_index=True, column_config=column_words(df, column_config),
                 width="stretch")
    name = safe_file_name(file_stem) + ".csv"
    logged_download_button("Download this table (CSV)",
                           lambda: spreadsheet_safe.csv_bytes(df), name, "text/csv",
                           rows=len(df), key=key)


YES, NO = "✓ Yes", "✗ No"


def yes_no(df: pd.DataFrame) -> pd.DataFrame:
    """True/false columns as "✓ Yes" / "✗ No" for display: st.dataframe would draw a
    bare tick box, a state shown by a glyph alone (WCAG 1.4.1). Missing text is blank."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map({True: YES, False: NO}).astype(object)
    return labels.display_frame(out)  # and codes as words, dates dd Mmm yyyy, no "None"


def logged_download_button(label: str, build: Callable[[], bytes], file_name: str, mime: str,
                           rows: int | None = None, key: str | None = None,
                           action: str = "download", container: Any = None,
                           icon: str = ":material/download:") -> None:
    """A download button whose file is built on click and logged exactly once per
    download (user, file, rows, filters): see audit_log.logged_file."""
    scope = st.session_state.get("_scope")
    data = audit_log.logged_file(engine(), scope.username if scope else "anonymous",
                                 file_name, build, rows=rows,
                                 filters=filters_for_log(st.session_state.get("_filters")),
                                 action=action)
    (container or st).download_button(label, data, file_name=file_name, mime=mime, key=key,
                                      icon=icon, on_click="ignore")


def readable(column: str) -> str:
    """A display label for a column name (labels.column_label)."""
    return labels.column_label(column)


def _is_count(df: pd.DataFrame, column: str) -> bool:
    """A whole-number column that counts something (not an id, a seed or a year)."""
    return (pd.api.types.is_integer_dtype(df[column])
            and not pd.api.types.is_bool_dtype(df[column])
            and column not in ("id", "seed", "year") and not column.endswith("_id"))


def column_words(df: pd.DataFrame, column_config: dict | None = None) -> dict:
    """st.dataframe's column_config for df: every column under its readable label
    (readable), then the given configs and labels over them; a count given only a label
    is shown with thousands separators ('12,345', as the captions and cards write it)."""
    config = {**{c: readable(c) for c in df.columns}, **(column_config or {})}
    for c in df.columns:
        if isinstance(config.get(c), str) and _is_count(df, c):
            config[c] = st.column_config.NumberColumn(config[c], format="%,d")
    return config


def filters_for_log(f: Filters | None) -> dict | None:
    if f is None:
        return None
    return {"from": f.start.isoformat(), "to": f.end.isoformat(), "area": f.area_code,
            "office": f.office_code}


def safe_file_name(stem: str) -> str:
    """A file name from letters, digits, '-' and '_' only (at most 80 characters)."""
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)
    return cleaned.strip("_")[:80] or "export"


def file_stem(name: str, f: Filters) -> str:
    scope = f.office_code or f.area_code or "region"
    return f"{name}_{scope}_{f.start:%Y-%m}_{f.end:%Y-%m}"


# --- number formatting -----------------------------------------------------------------

def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def pct(value: float | None, digits: int = 0) -> str:
    return "–" if is_missing(value) else f"{value:.{digits}f} %"


def num(value: float | None, digits: int = 0, unit: str = "") -> str:
    if is_missing(value):
        return "–"
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".strip()


def percent_column(label: str, help: str | None = None) -> Any:
    """A percent column shown to one decimal (for values not judged against anything)."""
    return st.column_config.NumberColumn(label, format="%.1f %%", help=help)


def judged_column(label: str, help: str | None = None, unit: str = "%") -> Any:
    """A column of values judged against a target or band, already rounded by
    dashboard.core.display.shown: no fixed format, so 79.64 stays 79.64 beside its status
    (a fixed '%.1f' would show 80.0). The unit goes in the heading."""
    return st.column_config.NumberColumn(f"{label} ({unit})" if unit else label, help=help)


def last_month_label(f: Filters) -> str:
    return month_end(f.end).strftime("%b %Y")


# --- measures against target ----------------------------------------------------------

def format_measure(key: str, value: float | None, target: Any = None) -> str:
    """A figure for a card: '58 %', '1,234' (hours) or '40.3'; the unit is in the label.
    Against a target, with as many more decimals as keep the figure on the same side of
    its thresholds as the status (dashboard.core.display): '79.6 %' beside Red, not '80 %'."""
    return display.measure_text(MEASURES[key].unit, value, target)


COMPACT_UNITS = {"cases per FTE": "cases/FTE", "working days per FTE": "days/FTE"}


def card_label(key: str) -> str:
    measure = MEASURES[key]
    if measure.unit == "%":
        return measure.label
    return f"{measure.label} ({COMPACT_UNITS.get(measure.unit, measure.unit)})"


def measure_card(container: Any, key: str, current: pd.Series, previous: pd.Series | None,
                 target: Any, numerator: str | None = None,
                 denominator: str | None = None) -> str:
    """A metric card: value, change against the previous period, RAG as icon and text.

    Returns the RAG status so callers can list what is off target.
    """
    from dashboard.core.targets import RAG_LABEL, rag

    measure = MEASURES[key]
    value = current.get(key)
    prev = previous.get(key) if previous is not None else None
    delta = None
    if not is_missing(value) and not is_missing(prev):
        change = float(value) - float(prev)
        unit = {"%": " pts", "hours": " hours"}.get(measure.unit, "")
        delta = f"{change:+,.{0 if measure.unit == 'hours' else 1}f}{unit}"
        # the card colours the change green/red: say it in words too (WCAG 1.4.1)
        if change and measure.higher_is_better is not None:
            better = (change > 0) == bool(measure.higher_is_better)
            delta += " (better)" if better else " (worse)"
    status = rag(None if is_missing(value) else float(value), target)
    basis = ""
    if numerator and denominator and not is_missing(current.get(denominator)):
        basis = f"{current[numerator]:,.0f} of {current[denominator]:,.0f}. "
    help_text = basis + measure.definition() + (
        f" Target: {target.describe()}." if target else "")
    if delta:
        help_text += f" Change on the previous period: {delta}."
    container.metric(card_label(key), format_measure(key, value, target), delta=delta,
                     delta_color="normal" if measure.higher_is_better is not False else "inverse",
                     help=help_text, border=True)
    container.caption(RAG_LABEL[status] if target else "No target set")
    return status


def trend_level(f: Filters) -> tuple[str, str]:
    """(query level, series column) for monthly trends: areas across the region, offices
    within an area, the office itself when one is chosen."""
    if f.office_code or f.area_code:
        return "office", "office"
    return "area", "area"


# --- people-facing wording -------------------------------------------------------------

def readable_values(df: pd.DataFrame) -> pd.DataFrame:
    """Coded values (community_order, very_high, ...) as words, in the coded columns."""
    out = df.copy()
    for col in labels.CODED_COLUMNS:
        if col in out.columns:
            out[col] = out[col].map(labels.plain_value)
    return out


@st.cache_data(ttl=600, max_entries=500, show_spinner=False)
def _office_names(url: str, ids: tuple[int, ...]) -> list[str]:
    from sqlalchemy import select

    from dashboard.data.schema import office

    with _engine(url).connect() as conn:
        rows = conn.execute(select(office.c.name).where(office.c.id.in_(ids))
                            .order_by(office.c.name)).scalars().all()
    return list(rows)


def office_names(ids: tuple[int, ...]) -> list[str]:
    return _office_names(config.database_url(), tuple(ids))


# --- charts with their text alternative (WCAG 1.1.1) -----------------------------------

def chart(where: Any, fig: Any, **kwargs: Any) -> Any:
    """Draw a Plotly chart in `where` (st, a column, a tab) with its text alternative:
    a caption with what it shows and its key figures, and the same data as a table one
    click away. Every chart of the dashboard goes through here (WCAG 1.1.1). Returns
    st.plotly_chart's value (the selection event when on_select is set)."""
    event = where.plotly_chart(fig, **kwargs)
    table = charts.chart_table(fig)
    where.caption(plain(charts.chart_summary(fig, table)))  # office names are user data
    # st.table: a plain HTML <table> a screen reader can walk, and not one of the page's
    # st.dataframe grids (the page tests find those by position)
    shown = table.assign(Value=table["Value"].map(charts.number_text))
    with where.expander("Show this chart as a table", icon=":material/table:"):
        st.table(shown, hide_index=True)
    return event


