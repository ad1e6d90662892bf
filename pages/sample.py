"""Draw a stratified case sample for an internal audit (HMIP style) and assign it."""

from datetime import date

import streamlit as st

from dashboard.app import sample_views as views
from dashboard.app import tables, ui, ui_auth
from dashboard.app.inspection import fresh, how_to_read
from dashboard.commands.samples import RedrawSample, SaveSample
from dashboard.core.labels import display_frame
from dashboard.core.plain_text import plain
from dashboard.hmip import hmip_sampling, ratings, sampling
from queries import reference, samples

scope = ui.require_page("sample")
f = ui.current_filters()
as_of = date.fromisoformat(ui.facts()["data_as_of"])
st.title("Draw a case sample")
st.caption(f"**{plain(f.label)}** (choose an area or office in the sidebar) · "
           f"data as of {as_of:%d %b %Y}")
how_to_read(views.HOW_TO_READ)
office_id, area_id, office_ids = samples.sample_scope(
    ui.query(reference.offices), f.office_code, f.area_code)
ss = st.session_state
ss.setdefault("smp_seed", sampling.new_seed())

st.subheader("1. Method and cases")
method, source = views.method_and_source()
hmip = method == "hmip"
settings = views.draw_settings(as_of, hmip)
if settings.window_end < settings.window_start:
    st.error(
        "Window end is before the window start: choose an end on or after the start.",
        icon=":material/error:",
    )
    st.stop()
window = {"window_start": settings.window_start, "window_end": settings.window_end}
file_name = None
where = {**window, "office_ids": office_ids, "scope": scope}
if hmip and source == "file":
    cases, file_name = views.long_list_from_file(scope, settings)
    population, excluded = hmip_sampling.prepare(cases, as_of)
    N = len(population)
else:
    with st.spinner("Finding eligible cases…"):
        if hmip:  # cached: HMIP's rules over a country's long list take a second
            population, excluded = ui.query(samples.hmip_population, None, **where,
                                            as_of=as_of)
            N = len(population)
        else:
            cases, excluded = ui.query(samples.eligible_cases, None, **where), None
            N = len(cases)
ui.stop_when_empty(N == 0, "cases eligible in this window", "Widen the window or the scope.")
n = ratings.sample_size(settings.confidence / 100, settings.margin / 100, population=N)
views.eligible_cards(settings, N, n, f.label, excluded)

st.subheader("2. The draw")
seed = views.seed_input()
if hmip:
    with st.spinner("Drawing the sample…"):
        result = (hmip_sampling.draw_prepared(population, excluded, n, seed,
                                              settings.buffer_pct)
                  if source == "file" else
                  views.hmip_draw(population, excluded, n, seed, settings.buffer_pct,
                                  drawn_from=(ui.facts().get("data_version"), where, as_of)))
    drawn = samples.with_stratum_labels(result.sample)
    views.hmip_draw_tables(result, n, N, seed, settings.buffer_pct)
    if source == "file":
        drawn = views.file_shortlist(drawn, seed)
else:
    drawn = sampling.draw_sample(cases, n, seed)
    views.custom_draw_tables(cases, drawn, N, seed)

st.subheader("3. Save and assign to auditors")
team = fresh(samples.auditors)
schemes = views.usable_schemes()
save, name, scheme_id, assign_to = views.save_form(
    f"{f.label} internal audit, {as_of:%b %Y}", team, schemes)
if save:
    try:
        with ui.engine().begin() as conn:
            new_id = SaveSample(
                conn, name=name, office_id=office_id, area_id=area_id, **window,
                confidence=settings.confidence / 100, margin=settings.margin / 100, seed=seed,
                members=drawn, assign_to=assign_to, scheme=scheme_id,
                created_by=scope.username, population=N, method=method,
                buffer_pct=settings.buffer_pct if hmip else None, source=file_name,
            ).run()
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
views.saved_samples_table(display_frame(saved))  # schemes in words, no "None"
labels = {int(i): name for i, name in zip(saved["sample_id"], saved["name"], strict=True)}
chosen = st.selectbox(
    "Open a sample", list(labels), key="smp_open", format_func=lambda i: f"{i}: {labels[i]}"
)
row = saved[saved["sample_id"] == chosen].iloc[0]
views.sample_caption(row)
members = fresh(samples.sample_members, sample_id=int(chosen), scope=scope)
ui_auth.record_person_view(scope, f"case_sample:{chosen}", {"sample_id": int(chosen)}, len(members))
tables.readable_table(members, f"sample_{chosen}_members", key="smp_members_csv", pinned=("crn",))

if st.button(
    "Re-draw this sample with a new seed",
    icon=":material/refresh:",
    key="smp_redraw",
    help="Allowed only while none of its audits has an answer.",
):
    try:
        with ui.engine().begin() as conn:
            RedrawSample(conn, scope, int(chosen), seed=sampling.new_seed(), reference_day=as_of,
                         fallback_scheme=schemes[0]).run()
        st.success(f"Sample {chosen} re-drawn.", icon=":material/check_circle:")
        st.rerun()
    except samples.SampleError as exc:
        st.error(str(exc), icon=":material/lock:")
elif int(row["audits_answered"]) > 0:
    st.caption(
        f":material/lock: {int(row['audits_answered'])} audits of this sample have "
        "answers: it is kept as drawn and cannot be re-drawn."
    )
