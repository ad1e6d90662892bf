"""Pieces of the sample page (pages/sample.py): the method and window inputs, the long-list
upload, the eligible-cases cards, the draw's tables for each method, the save form and the
saved samples table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from dashboard.app import ui, ui_auth
from dashboard.app.inspection import fresh
from dashboard.commands.samples import NAME_MAX
from dashboard.core import config
from dashboard.core.labels import display_date
from dashboard.hmip import hmip_sampling, longlist, ratings, sampling
from queries import samples

ss = st.session_state
CURRENT_SCHEME = "pdu_2023"  # the framework HMIP inspects PDUs against now
HOW_TO_READ = (
    "**HMIP method** (the default) draws the way HM Inspectorate of Probation's own "
    "case sampler does: the long list is the cases whose sentence or licence **started "
    "in the window**; redacted cases, cases not yet started and gender other than M/F "
    "are left out, and each person counts once (the earliest case). Cases fall in five "
    "strata (male community low / medium-or-above RoSH, male post-custody low / "
    "medium-or-above, female); each stratum's share is rounded half up and adjusted "
    "(add to the smallest groups first, take from the largest first), a buffer % is "
    "added, and the same rule keeps each area, office and officer in proportion, with "
    "**at most 6 cases from one officer** (the excess goes to that office's officers "
    "with the fewest). An office that cannot fill its share is reported as a "
    "shortfall. You can also draw from an **HMIP long-list file**. "
    "**Custom strata** is the flexible draw: cases **active in the window**, strata "
    "sentence type x RoSH x gender, largest-remainder rounding, no officer cap. "
    "The sample size follows from the confidence level and margin of error. The "
    "**seed** makes the draw reproducible and is stored with the sample, with its "
    "method, window and eligibility rule. Saving creates a draft audit for every case, "
    "shared between the auditors you pick. A saved sample whose audits have answers "
    "can never be re-drawn."
)
# Column words where labels.column_label's would not do (the rest come from it)
HMIP_COLUMNS = {
    "label": "Stratum",
    "available": "Cases available",
    "requested": "Asked for",
    "original_pct": st.column_config.NumberColumn("Original %", format="%.2f %%"),
    "actual_pct": st.column_config.NumberColumn("Actual %", format="%.2f %%"),
    "cluster": "Area (cluster)",
    "office": "Office (LDU)",
}
SAVED_COLUMNS = {
    "sample_size": "Cases",
    "seed": st.column_config.NumberColumn("Seed", format="%d"),
    "created_by": "Drawn by",
    "created_at": st.column_config.DatetimeColumn("Drawn at (UTC)", format="DD MMM YYYY HH:mm"),
    "source": "Long list",
    "audits_draft": "Drafts",
    "audits_complete": "Complete",
    "audits_answered": "With answers",
    "confidence": st.column_config.NumberColumn("Confidence", format="percent"),
    "margin": st.column_config.NumberColumn("Margin", format="percent"),
    "buffer_pct": st.column_config.NumberColumn("Buffer (%)", format="%g"),
    "window_start": st.column_config.DateColumn("Window start", format="DD MMM YYYY"),
    "window_end": st.column_config.DateColumn("Window end", format="DD MMM YYYY"),
}
LONG_LIST_HELP = (
    "Columns: familyName, firstName, dob, gender (M/F/OTHER), sentenceType (e.g. "
    "ORA Community Order, Adult Licence), crn, pnc, roshClassification "
    "(RLRH/RMRH/RHRH/RVRH), startDate, endDate (dd/mm/yyyy), cluster, ldu, team, "
    "responsibleOfficer. Example: examples/hmip_long_list.csv."
)


@dataclass(frozen=True)
class DrawSettings:
    """What the lead chose: the window, confidence and margin (percent) and HMIP's buffer
    (percent; 0 for custom strata)."""

    window_start: date
    window_end: date
    confidence: float
    margin: float
    buffer_pct: float


def usable_schemes() -> list[str]:
    """Schemes a sample's audits can answer case by case (key questions and standard
    bands; not a regional scheme, which is rated from PDU audits)."""
    out = []
    for sid in ratings.available_schemes():
        try:
            sch = ratings.load_scheme(sid)
        except ratings.SchemeError:
            continue
        if sch.key_questions and sch.standard_bands and not sch.aggregates:
            out.append(sid)
    return out


def method_and_source() -> tuple[str, str]:
    """The sampling method ('hmip' / 'custom_strata') and, for HMIP's, where the cases
    come from ('database' / 'file')."""
    method = st.radio(
        "Sampling method",
        list(samples.METHODS),
        format_func=samples.METHODS.get,
        horizontal=True,
        key="smp_method",
        help="HMIP method: HMIP's own case sampler (five strata, proportional by area, office "
        "and officer, at most 6 cases per officer). Custom strata: sentence type x RoSH x "
        "gender, largest remainder, no officer cap.",
    )
    if method != "hmip":
        return method, "database"
    source = st.radio(
        "Cases from",
        ["database", "file"],
        format_func={"database": "This dashboard's cases", "file": "An HMIP long-list file"}.get,
        horizontal=True,
        key="smp_source",
    )
    return method, source


def draw_settings(as_of: date, hmip: bool) -> DrawSettings:
    """The window, confidence, margin and (HMIP) buffer inputs, in one row."""
    c = st.columns(5 if hmip else 4)
    window_start = c[0].date_input("Window start", value=as_of - timedelta(weeks=10),
                                   max_value=as_of, key="smp_from", format="DD/MM/YYYY")
    window_end = c[1].date_input("Window end", value=as_of, max_value=as_of, key="smp_to",
                                 format="DD/MM/YYYY")
    confidence = c[2].number_input(
        "Confidence level (%)", 50.0, 99.9, 80.0, 5.0, key="smp_conf",
        help="How sure you want to be that a % sufficient from the "
        "sample lies within the margin of the true figure.",
    )
    margin = c[3].number_input(
        "Margin of error (± percentage points)", 1.0, 25.0, 5.0, 0.5, key="smp_margin"
    )
    buffer_pct = 0.0
    if hmip:
        buffer_pct = c[4].number_input(
            "Buffer (%)", 0.0, 100.0, 0.0, 5.0, key="smp_buffer",
            help="HMIP adds a buffer to every stratum for follow-up work (its example: 20 %).",
        )
    return DrawSettings(window_start, window_end, confidence, margin, buffer_pct)


def long_list_from_file(scope, settings: DrawSettings) -> tuple[pd.DataFrame, str]:
    """The uploaded long list's cases started in the window, matched to ours by CRN, and
    the file's name; stops the page until a file without problems is uploaded."""
    upload = st.file_uploader(
        "HMIP long list (CSV or XLSX, the case sampler's fields)",
        type=["csv", "xlsx"],
        key="smp_file",
    )
    if upload is None:
        st.info(LONG_LIST_HELP, icon=":material/upload_file:")
        st.stop()
    try:
        long_list, problems = longlist.read_long_list(upload.getvalue(), upload.name)
    except longlist.LongListError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()
    if problems:
        st.error(
            f"{len(problems):,} problem(s) in {upload.name}: nothing was drawn. Fix the rows "
            "below and upload again.",
            icon=":material/error:",
        )
        st.dataframe(longlist.problems_frame(problems), hide_index=True, key="smp_problems")
        st.stop()
    ui_auth.record_person_view(
        scope, f"long_list:{upload.name}", {"file": upload.name}, len(long_list)
    )
    matched = fresh(samples.long_list_in_window, long_list=long_list, scope=scope,
                    window_start=settings.window_start, window_end=settings.window_end)
    return matched, upload.name


def eligible_cards(settings: DrawSettings, eligible: int, size: int, where: str,
                   excluded: dict[str, int] | None) -> None:
    """Cards for the eligible cases (N), the sample size (n) and the margin, the sample
    size's working, and (HMIP) how many cases its rules left out."""
    start, end = settings.window_start, settings.window_end
    m = st.columns(3)
    m[0].metric(
        "Eligible cases (N)",
        ui.num(eligible),
        border=True,
        help=(f"Cases whose sentence or licence started from {start:%d %b %Y} to "
              f"{end:%d %b %Y}, after HMIP's exclusions." if excluded is not None else
              f"Cases active at any time from {start:%d %b %Y} to {end:%d %b %Y} in {where}."),
    )
    m[1].metric("Sample size (n)", ui.num(size), border=True,
                help=ratings.sample_size_formula_text())
    m[2].metric("Margin of error", f"± {settings.margin:g} pts at {settings.confidence:g} %",
                border=True)
    st.markdown("**Sample size formula.** " + sampling.sample_size_working(
        settings.confidence / 100, settings.margin / 100, eligible))
    if excluded is not None:
        st.caption("Left out by HMIP's rules: " + ", ".join(
            f"{v:,} {k}" for k, v in excluded.items()) + f". {hmip_sampling.ELIGIBILITY_RULE}")


def seed_input() -> int:
    """The seed (stored with the sample) and a button for a new random one."""
    s1, s2 = st.columns([1, 3])
    seed = s1.number_input("Seed", 0, sampling.SEED_MAX, key="smp_seed",
                           help="Stored with the sample: the same seed redraws the same cases.")
    s2.button("New seed", icon=":material/casino:", key="smp_new_seed",
              on_click=lambda: ss.update(smp_seed=sampling.new_seed()))
    return int(seed)


def hmip_draw_tables(result: hmip_sampling.HmipDraw, size: int, eligible: int, seed: int,
                     buffer_pct: float) -> None:
    """What HMIP's method drew: the counts, any shortfall, and the strata, offices and
    allocation breakdown tables."""
    st.caption(
        f"{len(result.sample):,} cases drawn of {result.requested:,} asked for (n = {size:,} "
        f"plus a {buffer_pct:g} % buffer) from {eligible:,} eligible (seed {seed})."
    )
    if result.shortfall:
        st.warning(result.shortfall_message(), icon=":material/warning:")
    tabs = st.tabs(["Strata", "Offices", "Allocation breakdown (as HMIP's /analyse)"])
    strata = result.strata.drop(columns="stratum")
    tabs[0].dataframe(strata, hide_index=True,
                      column_config=ui.column_words(strata, HMIP_COLUMNS), key="smp_strata")
    offices = hmip_sampling.office_table(result)
    tabs[1].dataframe(offices, hide_index=True,
                      column_config=ui.column_words(offices, HMIP_COLUMNS))
    breakdown = samples.with_stratum_labels(result.breakdown)
    tabs[2].dataframe(breakdown, hide_index=True, key="smp_breakdown",
                      column_config=ui.column_words(breakdown, {**HMIP_COLUMNS,
                                                                "stratum": "Stratum"}))


def file_shortlist(drawn: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The cases drawn from a long-list file, to download; stops the page when any is not
    held here (such a sample cannot be saved). Returns drawn with whole person ids."""
    unknown = int(drawn["person_id"].isna().sum())
    shortlist = drawn.drop(columns=["person_id", "row"], errors="ignore")
    ui.table_with_download(shortlist, f"hmip_shortlist_{seed}", key="smp_shortlist_csv")
    if unknown:
        st.info(
            f"{unknown:,} drawn case(s) are not held in this dashboard (by CRN), so the "
            "sample can be downloaded but not saved for internal audit.",
            icon=":material/info:",
        )
        st.stop()
    return drawn.astype({"person_id": "int64"})


def custom_draw_tables(population: pd.DataFrame, drawn: pd.DataFrame, eligible: int,
                       seed: int) -> None:
    """What the custom strata drew: the strata against the population, in full and by
    sentence type, risk of serious harm and gender."""
    strata = sampling.strata_table(population, drawn)
    st.caption(f"{len(drawn):,} cases drawn from {eligible:,} in {len(strata)} strata "
               f"(seed {seed}).")
    tabs = st.tabs(["All strata", "By sentence type", "By risk of serious harm", "By gender"])
    columns = {
        "sentence_type": "Sentence type",
        "rosh_level": "Risk of serious harm",
        "gender": "Gender",
        "population": "Cases (population)",
        "sample": "Cases drawn",
        "population_pct": ui.percent_column("% of population"),
        "sample_pct": ui.percent_column("% of sample"),
        "expected": st.column_config.NumberColumn("Proportional share", format="%.2f"),
    }
    full = strata.drop(columns="stratum")
    tabs[0].dataframe(full, hide_index=True, column_config=ui.column_words(full, columns),
                      key="smp_strata")
    for tab, column in zip(tabs[1:], sampling.STRATA, strict=True):
        margin = sampling.margin_table(strata, column)
        tab.dataframe(margin, hide_index=True, column_config=ui.column_words(margin, columns))


def save_form(placeholder: str, team: pd.DataFrame,
              schemes: list[str]) -> tuple[bool, str, str, list[str]]:
    """The save form: (submitted, sample name, scheme id, auditors chosen)."""
    with st.form("smp_save"):
        name = st.text_input("Sample name", max_chars=NAME_MAX, key="smp_name",
                             placeholder=placeholder)
        scheme_id = st.selectbox(
            "Scheme the audits answer",
            schemes,
            index=schemes.index(CURRENT_SCHEME) if CURRENT_SCHEME in schemes else 0,
            key="smp_scheme",
            format_func=lambda s: ratings.load_scheme(s).title,
        )
        assign_to = st.multiselect("Auditors (cases are shared in turn)", list(team["username"]),
                                   default=list(team["username"]), key="smp_auditors")
        save = st.form_submit_button(
            "Save sample and create draft audits", type="primary", icon=":material/save:"
        )
    return save, name, scheme_id, assign_to


@st.cache_data(ttl=900, max_entries=200, show_spinner=False)
def _cached_draw(drawn_from: str, n: int, seed: int, buffer_pct: float,
                 _population: pd.DataFrame, _excluded: dict[str, int]
                 ) -> hmip_sampling.HmipDraw:
    return hmip_sampling.draw_prepared(_population, _excluded, n, seed, buffer_pct)


def hmip_draw(population: pd.DataFrame, excluded: dict[str, int], n: int, seed: int,
              buffer_pct: float, drawn_from: tuple) -> hmip_sampling.HmipDraw:
    """HMIP's draw from a prepared long list (``hmip_sampling.draw_prepared``), kept for
    the reruns of the page (every widget change reruns it, and a country's draw takes
    half a second). drawn_from names the list read from the database: the data version,
    window, offices, scope and reference day it was read with (the list itself is not
    hashed, so a list from a file is not drawn through here)."""
    key = repr((config.database_url(), drawn_from))
    return _cached_draw(key, n, seed, buffer_pct, population, excluded)


def saved_samples_table(saved: pd.DataFrame) -> None:
    """Every saved sample, with its method in words."""
    shown = saved.drop(columns=["office_id", "area_id", "eligibility_rule"]).assign(
        method=saved["method"].map(samples.METHODS))
    st.dataframe(shown, hide_index=True, key="smp_saved",
                 column_config=ui.column_words(shown, SAVED_COLUMNS))


def sample_caption(row: pd.Series) -> None:
    """How a saved sample was drawn: method, window, long-list file, eligibility rule."""
    st.caption(
        f"**{samples.METHODS[row['method']]}**, window {display_date(row['window_start'])} to "
        f"{display_date(row['window_end'])}"
        + (f", from {row['source']}" if row["source"] else "")
        + f". Eligibility: {row['eligibility_rule']}"
    )
