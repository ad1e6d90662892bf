"""Draw a stratified case sample for an internal audit (HMIP style) and assign it."""

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from dashboard.app import ui, ui_auth
from dashboard.core.plain_text import plain
from dashboard.hmip import hmip_sampling, longlist, ratings, sampling
from queries import reference, samples

scope = ui.require_page("sample")
f = ui.current_filters()
as_of = date.fromisoformat(ui.facts()["data_as_of"])
st.title("Draw a case sample")
st.caption(f"**{plain(f.label)}** (choose an area or office in the sidebar) · "
           f"data as of {as_of:%d %b %Y}")
with st.expander("How to read this page", icon=":material/help:"):
    st.markdown(
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


def fresh(fn, **kwargs):
    """Samples and audits change as people work: read them uncached."""
    with ui.engine().connect() as conn:
        return fn(conn, **kwargs)


CURRENT_SCHEME = "pdu_2023"  # the framework HMIP inspects PDUs against now


def usable_schemes() -> list[str]:
    out = []
    for sid in ratings.available_schemes():
        try:
            sch = ratings.load_scheme(sid)
        except ratings.SchemeError:
            continue
        # a regional scheme is rated from PDU audits: nobody answers it case by case
        if sch.key_questions and sch.standard_bands and not sch.aggregates:
            out.append(sid)
    return out


offices = ui.query(reference.offices)
office_id = area_id = None
if f.office_code:
    office_id = int(offices.loc[offices["office_code"] == f.office_code, "office_id"].iloc[0])
elif f.area_code:
    area_id = int(offices.loc[offices["area_code"] == f.area_code, "area_id"].iloc[0])
ss = st.session_state
ss.setdefault("smp_seed", sampling.new_seed())

st.subheader("1. Method and cases")
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
hmip = method == "hmip"
source = "database"
if hmip:
    source = st.radio(
        "Cases from",
        ["database", "file"],
        format_func={"database": "This dashboard's cases", "file": "An HMIP long-list file"}.get,
        horizontal=True,
        key="smp_source",
    )
c = st.columns(5 if hmip else 4)
window_start = c[0].date_input(
    "Window start",
    value=as_of - timedelta(weeks=10),
    max_value=as_of,
    key="smp_from",
    format="DD/MM/YYYY",
)
window_end = c[1].date_input(
    "Window end", value=as_of, max_value=as_of, key="smp_to", format="DD/MM/YYYY"
)
confidence = c[2].number_input(
    "Confidence level (%)",
    50.0,
    99.9,
    80.0,
    5.0,
    key="smp_conf",
    help="How sure you want to be that a % sufficient from the "
    "sample lies within the margin of the true figure.",
)
margin = c[3].number_input(
    "Margin of error (± percentage points)", 1.0, 25.0, 5.0, 0.5, key="smp_margin"
)
buffer_pct = 0.0
if hmip:
    buffer_pct = c[4].number_input(
        "Buffer (%)",
        0.0,
        100.0,
        0.0,
        5.0,
        key="smp_buffer",
        help="HMIP adds a buffer to every stratum for follow-up work (its example: 20 %).",
    )
if window_end < window_start:
    st.error(
        "Window end is before the window start: choose an end on or after the start.",
        icon=":material/error:",
    )
    st.stop()

office_ids = samples.scope_office_ids_from(offices, office_id, area_id)
file_name = None
if hmip and source == "file":
    upload = st.file_uploader(
        "HMIP long list (CSV or XLSX, the case sampler's fields)",
        type=["csv", "xlsx"],
        key="smp_file",
    )
    if upload is None:
        st.info(
            "Columns: familyName, firstName, dob, gender (M/F/OTHER), sentenceType (e.g. "
            "ORA Community Order, Adult Licence), crn, pnc, roshClassification "
            "(RLRH/RMRH/RHRH/RVRH), startDate, endDate (dd/mm/yyyy), cluster, ldu, team, "
            "responsibleOfficer. Example: examples/hmip_long_list.csv.",
            icon=":material/upload_file:",
        )
        st.stop()
    file_name = upload.name
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
    long_list = long_list[
        (long_list["start_date"] >= window_start) & (long_list["start_date"] <= window_end)
    ].reset_index(drop=True)
    known = fresh(samples.person_ids_for_crns, crns=tuple(long_list["crn"]), scope=scope)
    long_list["person_id"] = long_list["crn"].map(known)
elif hmip:
    with st.spinner("Finding eligible cases…"):
        long_list = ui.query(
            samples.hmip_long_list,
            None,
            window_start=window_start,
            window_end=window_end,
            office_ids=office_ids,
            scope=scope,
        )
else:
    with st.spinner("Finding eligible cases…"):
        population = ui.query(
            samples.eligible_cases,
            None,
            window_start=window_start,
            window_end=window_end,
            office_ids=office_ids,
            scope=scope,
        )
if hmip:
    eligible, excluded = hmip_sampling.prepare(long_list, as_of)
    N = len(eligible)
else:
    N = len(population)
if N == 0:
    ui.empty_state("cases eligible in this window", "Widen the window or the scope.")
    st.stop()
n = ratings.sample_size(confidence / 100, margin / 100, population=N)
m = st.columns(3)
m[0].metric(
    "Eligible cases (N)",
    ui.num(N),
    border=True,
    help=(
        f"Cases whose sentence or licence started from {window_start:%d %b %Y} to "
        f"{window_end:%d %b %Y}, after HMIP's exclusions."
        if hmip
        else f"Cases active at any time from {window_start:%d %b %Y} to "
        f"{window_end:%d %b %Y} in {f.label}."
    ),
)
m[1].metric("Sample size (n)", ui.num(n), border=True, help=ratings.sample_size_formula_text())
m[2].metric("Margin of error", f"± {margin:g} pts at {confidence:g} %", border=True)
st.markdown(
    "**Sample size formula.** " + sampling.sample_size_working(confidence / 100, margin / 100, N)
)
if hmip:
    st.caption(
        "Left out by HMIP's rules: "
        + ", ".join(f"{v:,} {k}" for k, v in excluded.items())
        + f". {hmip_sampling.ELIGIBILITY_RULE}"
    )

st.subheader("2. The draw")
s1, s2 = st.columns([1, 3])
seed = int(
    s1.number_input(
        "Seed",
        0,
        sampling.SEED_MAX,
        key="smp_seed",
        help="Stored with the sample: the same seed redraws the same cases.",
    )
)
s2.button(
    "New seed",
    icon=":material/casino:",
    key="smp_new_seed",
    on_click=lambda: ss.update(smp_seed=sampling.new_seed()),
)
if hmip:
    result = hmip_sampling.draw(long_list, n, seed, as_of, buffer_pct)
    drawn = result.sample.assign(stratum=result.sample["stratum"].map(hmip_sampling.STRATUM_LABELS))
    st.caption(
        f"{len(drawn):,} cases drawn of {result.requested:,} asked for (n = {n:,} plus a "
        f"{buffer_pct:g} % buffer) from {N:,} eligible (seed {seed})."
    )
    if result.shortfall:
        st.warning(result.shortfall_message(), icon=":material/warning:")
    pct = {
        "label": "Stratum",
        "available": "Cases available",
        "requested": "Asked for",
        "drawn": "Drawn",
        "original_pct": st.column_config.NumberColumn("Original %", format="%.2f %%"),
        "actual_pct": st.column_config.NumberColumn("Actual %", format="%.2f %%"),
        "cluster": "Area (cluster)",
        "office": "Office (LDU)",
        "officer": "Officer",
        "level": "Level",
    }
    tabs = st.tabs(["Strata", "Offices", "Allocation breakdown (as HMIP's /analyse)"])
    tabs[0].dataframe(
        result.strata.drop(columns="stratum"), hide_index=True, column_config=pct, key="smp_strata"
    )
    tabs[1].dataframe(hmip_sampling.office_table(result), hide_index=True, column_config=pct)
    tabs[2].dataframe(
        result.breakdown.assign(
            stratum=result.breakdown["stratum"].map(hmip_sampling.STRATUM_LABELS)
        ),
        hide_index=True,
        column_config={**pct, "stratum": "Stratum"},
        key="smp_breakdown",
    )
    if source == "file":
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
        drawn = drawn.astype({"person_id": "int64"})
else:
    drawn = sampling.draw_sample(population, n, seed)
    strata = sampling.strata_table(population, drawn)
    st.caption(f"{len(drawn):,} cases drawn from {N:,} in {len(strata)} strata (seed {seed}).")
    tabs = st.tabs(["All strata", "By sentence type", "By risk of serious harm", "By gender"])
    pct = {
        "sentence_type": "Sentence type",
        "rosh_level": "Risk of serious harm",
        "gender": "Gender",
        "population": "Cases (population)",
        "sample": "Cases drawn",
        "population_pct": ui.percent_column("% of population"),
        "sample_pct": ui.percent_column("% of sample"),
        "expected": st.column_config.NumberColumn("Proportional share", format="%.2f"),
    }
    tabs[0].dataframe(
        strata.drop(columns="stratum"), hide_index=True, column_config=pct, key="smp_strata"
    )
    for tab, column in zip(tabs[1:], sampling.STRATA, strict=True):
        tab.dataframe(sampling.margin_table(strata, column), hide_index=True, column_config=pct)

st.subheader("3. Save and assign to auditors")
team = fresh(samples.auditors)
schemes = usable_schemes()
with st.form("smp_save"):
    name = st.text_input(
        "Sample name",
        max_chars=samples.NAME_MAX,
        key="smp_name",
        placeholder=f"{f.label} internal audit, {as_of:%b %Y}",
    )
    scheme_id = st.selectbox(
        "Scheme the audits answer",
        schemes,
        index=schemes.index(CURRENT_SCHEME) if CURRENT_SCHEME in schemes else 0,
        key="smp_scheme",
        format_func=lambda s: ratings.load_scheme(s).title,
    )
    assign_to = st.multiselect(
        "Auditors (cases are shared in turn)",
        list(team["username"]),
        default=list(team["username"]),
        key="smp_auditors",
    )
    save = st.form_submit_button(
        "Save sample and create draft audits", type="primary", icon=":material/save:"
    )
if save:
    try:
        with ui.engine().begin() as conn:
            new_id = samples.save_sample(
                conn,
                name=name,
                window_start=window_start,
                window_end=window_end,
                office_id=office_id,
                area_id=area_id,
                confidence=confidence / 100,
                margin=margin / 100,
                seed=seed,
                members=drawn,
                assign_to=assign_to,
                scheme=scheme_id,
                created_by=scope.username,
                population=N,
                method=method,
                buffer_pct=buffer_pct if hmip else None,
                source=file_name,
            )
        st.success(
            f"Saved sample {new_id}: {len(drawn):,} draft audits assigned to "
            f"{len(assign_to)} auditor(s).",
            icon=":material/check_circle:",
        )
    except samples.SampleError as exc:
        st.error(str(exc), icon=":material/error:")

st.subheader("Saved samples")
saved = fresh(samples.samples)
if saved.empty:
    st.info("No samples saved yet.", icon=":material/info:")
    st.stop()
st.dataframe(
    saved.drop(columns=["office_id", "area_id", "eligibility_rule"]).assign(
        method=saved["method"].map(samples.METHODS)
    ),
    hide_index=True,
    key="smp_saved",
    column_config={
        "sample_id": "Sample",
        "name": "Name",
        "scope": "Scope",
        "sample_size": "Cases",
        "seed": st.column_config.NumberColumn("Seed", format="%d"),
        "created_by": "Drawn by",
        "created_at": st.column_config.DatetimeColumn("Drawn at (UTC)", format="DD/MM/YYYY HH:mm"),
        "method": "Method",
        "source": "Long list",
        "scheme": "Scheme",
        "members": "Members",
        "audits_draft": "Drafts",
        "audits_complete": "Complete",
        "audits_answered": "With answers",
        "confidence": st.column_config.NumberColumn("Confidence", format="percent"),
        "margin": st.column_config.NumberColumn("Margin", format="percent"),
        "buffer_pct": st.column_config.NumberColumn("Buffer (%)", format="%g"),
        "window_start": st.column_config.DateColumn("Window start", format="DD/MM/YYYY"),
        "window_end": st.column_config.DateColumn("Window end", format="DD/MM/YYYY"),
    },
)
labels = {int(i): name for i, name in zip(saved["sample_id"], saved["name"], strict=True)}
chosen = st.selectbox(
    "Open a sample", list(labels), key="smp_open", format_func=lambda i: f"{i}: {labels[i]}"
)
row = saved[saved["sample_id"] == chosen].iloc[0]
st.caption(
    f"**{samples.METHODS[row['method']]}**, window {row['window_start']:%d/%m/%Y} to "
    f"{row['window_end']:%d/%m/%Y}"
    + (f", from {row['source']}" if row["source"] else "")
    + f". Eligibility: {row['eligibility_rule']}"
)
members = fresh(samples.sample_members, sample_id=int(chosen), scope=scope)
ui_auth.record_person_view(scope, f"case_sample:{chosen}", {"sample_id": int(chosen)}, len(members))
ui.table_with_download(members, f"sample_{chosen}_members", key="smp_members_csv")

locked = int(row["audits_answered"]) > 0
if st.button(
    "Re-draw this sample with a new seed",
    icon=":material/refresh:",
    key="smp_redraw",
    help="Allowed only while none of its audits has an answer.",
):
    try:
        if row["source"]:
            raise samples.SampleError(
                f"Sample {chosen} was drawn from the long-list file {row['source']}: draw "
                "it again from that file."
            )
        ids = samples.scope_office_ids_from(offices, row["office_id"], row["area_id"])
        new_seed = sampling.new_seed()
        with ui.engine().connect() as conn:
            again, eligible_n = samples.draw_from_database(
                conn,
                method=row["method"],
                window_start=row["window_start"],
                window_end=row["window_end"],
                office_ids=ids,
                scope=scope,
                confidence=row["confidence"],
                margin=row["margin"],
                seed=new_seed,
                reference_day=as_of,
                buffer_pct=None if pd.isna(row["buffer_pct"]) else float(row["buffer_pct"]),
            )
        with ui.engine().begin() as conn:
            samples.save_sample(
                conn,
                name=row["name"],
                window_start=row["window_start"],
                window_end=row["window_end"],
                office_id=row["office_id"],
                area_id=row["area_id"],
                confidence=row["confidence"],
                margin=row["margin"],
                seed=new_seed,
                members=again,
                assign_to=sorted(set(members["auditor"].dropna())) or list(team["username"]),
                scheme=row["scheme"] or schemes[0],
                created_by=scope.username,
                population=eligible_n,
                replace_sample_id=int(chosen),
                method=row["method"],
                buffer_pct=None if pd.isna(row["buffer_pct"]) else float(row["buffer_pct"]),
                eligibility_rule=row["eligibility_rule"],
            )
        st.success(f"Sample {chosen} re-drawn.", icon=":material/check_circle:")
        st.rerun()
    except samples.SampleError as exc:
        st.error(str(exc), icon=":material/lock:")
elif locked:
    st.caption(
        f":material/lock: {int(row['audits_answered'])} audits of this sample have "
        "answers: it is kept as drawn and cannot be re-drawn."
    )
