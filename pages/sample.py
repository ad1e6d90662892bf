"""Draw a stratified case sample for an internal audit (HMIP style) and assign it."""

from datetime import date, timedelta

import streamlit as st

from dashboard import ratings, sampling, ui, ui_auth
from dashboard.plain_text import plain
from queries import reference, samples

scope = ui.require_page("sample")
f = ui.current_filters()
as_of = date.fromisoformat(ui.facts()["data_as_of"])
st.title("Draw a case sample")
st.caption(f"**{plain(f.label)}** (choose an area or office in the sidebar) · "
           f"data as of {as_of:%d %b %Y}")
with st.expander("How to read this page", icon=":material/help:"):
    st.markdown(
        "Draws cases for an internal audit the way HM Inspectorate of Probation does: a "
        "random sample of the cases **active in the window**, in the area or office chosen "
        "in the sidebar, **stratified** by sentence type, risk of serious harm level and "
        "gender so that each group's share of the sample matches its share of the cases "
        "(largest-remainder rounding). The sample size follows from the confidence level "
        "and margin of error you choose. The **seed** makes the draw reproducible: the same "
        "cases, window and seed always give the same sample, and the seed is stored with it. "
        "Saving creates a draft audit for every case, shared between the auditors you pick. "
        "A saved sample whose audits have answers can never be re-drawn."
    )


def fresh(fn, **kwargs):
    """Samples and audits change as people work: read them uncached."""
    with ui.engine().connect() as conn:
        return fn(conn, **kwargs)


def usable_schemes() -> list[str]:
    out = []
    for sid in ratings.available_schemes():
        try:
            sch = ratings.load_scheme(sid)
        except ratings.SchemeError:
            continue
        if sch.key_questions and sch.standard_bands:
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

st.subheader("1. Which cases, how many")
c = st.columns(4)
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
if window_end < window_start:
    st.error(
        "Window end is before the window start: choose an end on or after the start.",
        icon=":material/error:",
    )
    st.stop()

office_ids = samples.scope_office_ids_from(offices, office_id, area_id)
with st.spinner("Finding eligible cases…"):
    population = ui.query(
        samples.eligible_cases,
        None,
        window_start=window_start,
        window_end=window_end,
        office_ids=office_ids,
        scope=scope,
    )
if population.empty:
    ui.empty_state("cases active in this window", "Widen the window or the scope.")
    st.stop()
N = len(population)
n = ratings.sample_size(confidence / 100, margin / 100, population=N)
m = st.columns(3)
m[0].metric(
    "Eligible cases (N)",
    ui.num(N),
    border=True,
    help=f"Cases active at any time from {window_start:%d %b %Y} to "
    f"{window_end:%d %b %Y} in {f.label}.",
)
m[1].metric("Sample size (n)", ui.num(n), border=True, help=ratings.sample_size_formula_text())
m[2].metric("Margin of error", f"± {margin:g} pts at {confidence:g} %", border=True)
st.markdown(
    "**Sample size formula.** " + sampling.sample_size_working(confidence / 100, margin / 100, N)
)
st.caption(ratings.sample_size_formula_text())

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
    saved.drop(columns=["office_id", "area_id"]),
    hide_index=True,
    key="smp_saved",
    column_config={
        "confidence": st.column_config.NumberColumn(format="percent"),
        "margin": st.column_config.NumberColumn(format="percent"),
    },
)
labels = {int(i): name for i, name in zip(saved["sample_id"], saved["name"], strict=True)}
chosen = st.selectbox(
    "Open a sample", list(labels), key="smp_open", format_func=lambda i: f"{i}: {labels[i]}"
)
row = saved[saved["sample_id"] == chosen].iloc[0]
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
        ids = samples.scope_office_ids_from(offices, row["office_id"], row["area_id"])
        pop = ui.query(
            samples.eligible_cases,
            None,
            window_start=row["window_start"],
            window_end=row["window_end"],
            office_ids=ids,
            scope=scope,
        )
        new_seed = sampling.new_seed()
        again = sampling.draw_sample(
            pop,
            ratings.sample_size(row["confidence"], row["margin"], population=len(pop)),
            new_seed,
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
                population=len(pop),
                replace_sample_id=int(chosen),
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
