"""Inspection readiness: the rating each standard would get today, and the evidence."""

from datetime import UTC, datetime

import streamlit as st

from dashboard.app import charts, ui, ui_auth
from dashboard.core import display
from dashboard.core.plain_text import plain
from dashboard.hmip import evidence, ratings
from queries import readiness, reference, samples

f = ui.page_header(
    "readiness",
    "Inspection readiness",
    "The rating each HM Inspectorate of Probation standard would get **today** from the "
    "evidence chosen: the completed audits dated in the period (sidebar), or one saved "
    "case sample. A case-sample standard is rated on its **lowest** key question's % "
    "sufficient (cases where the question applies). Each rating carries its 95 % interval "
    "and the chance that the standard is really Good or better given how few cases were "
    "audited. Domain 1 standards (leadership, staff, services, information and facilities) "
    "are judgements recorded from evidence. Every rating names the scheme behind it. The "
    "trend follows the evidence: quarters up to the period's end, or successive samples "
    "when a sample is the evidence.",
    ["pct_sufficient", "cases_audited", "audits_completed"],
)
scope = ui.require_page("readiness")


def fresh(fn, **kwargs):
    """Samples and judgements change as people work: read them uncached."""
    with ui.engine().connect() as conn:
        return fn(conn, **kwargs)


schemes = ratings.available_schemes()
left, right = st.columns([2, 3])
scheme_id = left.selectbox(
    "Scheme",
    schemes,
    index=schemes.index("crc_2018"),
    key="rdy_scheme",
    format_func=lambda s: ratings.load_scheme(s).title,
)
scheme = ratings.load_scheme(scheme_id)
if not scheme.standard_bands or not scheme.key_questions:
    st.warning(
        f"The scheme *{scheme.title}* cannot rate yet: {scheme.note}", icon=":material/warning:"
    )
    st.stop()
# A regional scheme is rated from the PDU audits it aggregates: read those.
basis_scheme = scheme.aggregates or scheme_id
version = fresh(readiness.audit_version)
saved = fresh(samples.samples)
saved = saved[saved["scheme"].isin(scheme.aggregates or (scheme_id,))]
names = {int(i): name for i, name in zip(saved["sample_id"], saved["name"], strict=True)}
sample_id = right.selectbox(
    "Evidence",
    [None, *names],
    key="rdy_basis",
    format_func=lambda i: (
        f"Completed audits dated {f.period_text()}, {f.label}"
        if i is None
        else f"Sample {i}: {names[i]}"
    ),
)
kw = {"scheme": basis_scheme, "sample_id": sample_id, "audit_version": version}
offices = ui.query(reference.offices)
area_code = f.area_code or (
    offices.loc[offices["office_code"] == f.office_code, "area_code"].iloc[0]
    if f.office_code
    else None
)
area_id = (
    int(offices.loc[offices["area_code"] == area_code, "area_id"].iloc[0]) if area_code else None
)
judged = ui.query(
    readiness.judgements, None, scheme=scheme_id, area_id=area_id, audit_version=version
)
counts = ratings.aggregate_counts(
    ui.query(readiness.key_question_counts, f, level="office", **kw), scheme
)
left_out = ui.query(readiness.answers_left_out, f, **kw)
code = lambda v: str(v).replace("`", "'")  # noqa: E731 - stored codes shown as code, not Markdown
if not left_out.empty:  # bad codes that slipped in: rate the rest and say what was dropped
    st.warning(
        f"{int(left_out['answers'].sum()):,} answer(s) in {int(left_out['audits'].sum()):,} "
        "audit(s) are left out of these ratings: their key question is not in this scheme ("
        + ", ".join(f"`{code(k)}` under `{code(s)}`" for k, s in zip(
            left_out["key_question"], left_out["standard"], strict=True))
        + "). Correct them in the audit answers extract.",
        icon=":material/warning:",
    )
if counts.empty:
    ui.empty_state(
        "completed audits", "Widen the period, or choose a sample whose audits are complete."
    )
region = evidence.summary_ratings(counts, scheme)
by_office = evidence.summary_ratings(counts, scheme, by=["area", "office"])
key_questions = evidence.key_question_table(counts, scheme)
overall = evidence.overall_from(region, judged, scheme)
audited = ui.query(readiness.audited_strata, f, **kw)
scope_label = f.label if sample_id is None else names[sample_id]

m = st.columns(4)
m[0].metric(
    "Overall rating", str(overall or "Not rated"), border=True, help=evidence.overall_text(overall)
)
m[0].caption(
    f"Provisional, not yet rated: {', '.join(overall.missing)}"
    if overall is not None and overall.partial
    else f"Scheme: {scheme.scheme_id}"
    if scheme.overall_bands
    else "Not given: this scheme's overall score bands are not published here."
)
m[1].metric("Cases audited", ui.num(audited["audited"].sum()), border=True,
            help="Distinct cases with a completed audit on this evidence; a case audited "
            "twice counts once (key-question figures count audits).")
rated = region.dropna(subset=["pct_sufficient"])
if len(rated):
    worst = rated.sort_values("pct_sufficient").iloc[0]
    m[2].metric("Weakest standard", worst["standard"], border=True, help=worst["statement"])
    m[2].caption(f"{worst['standard_name']}: {worst['rating']}")
    m[3].metric(
        "Chance it is really Good or better",
        evidence.chance_text(worst["p_at_least_good"]),
        border=True,
        help="Posterior probability that every key question of the weakest standard "
        "is really at or above the Good threshold.",
    )

st.subheader("Rating each standard would get today")
st.caption(
    f"Scheme: {scheme.title}. Evidence: "
    f"{'sample ' + plain(names[sample_id]) if sample_id else f.period_text()} · "
    f"{plain(f.label)}."
)
fragile = evidence.small_samples(region)
if fragile:
    st.warning(
        f"Rated on fewer than {evidence.SMALL_SAMPLE} cases: {', '.join(fragile)}. "
        "Read these ratings with their intervals.",
        icon=":material/warning:",
    )
icons = {
    "Outstanding": ":material/star:",
    "Good": ":material/check_circle:",
    "Requires improvement": ":material/warning:",
    "Inadequate": ":material/cancel:",
}
for statement, rating in zip(region["statement"], region["rating"], strict=True):
    st.markdown(f"{icons.get(rating, ':material/help:')} {statement}")
unrated = evidence.unrated_standards(region, scheme)
if unrated:
    st.caption("Not rated here: " + "; ".join(unrated) + ".")
pct_cols = {
    **evidence.RATING_TABLE,
    "area": "Area",
    "office": "Office",
    "applicable": "Audits where it applies",  # a case audited twice counts twice here
    "pct_sufficient": ui.judged_column("% sufficient (lowest key question)", unit=""),
    "ci_low": ui.percent_column("95 % CI low"),
    "ci_high": ui.percent_column("95 % CI high"),
    "p_at_least_good": ui.percent_column("Chance Good or better"),
}
st.dataframe(
    evidence.rating_rows(region, scheme=scheme), hide_index=True, column_config=pct_cols,
    key="rdy_ratings"
)
with st.expander("Where each rule comes from, and what is not confirmed", icon=":material/gavel:"):
    for line in scheme.not_confirmed:
        st.markdown(f"- **Not published here:** {line}")
    st.dataframe(
        ratings.provenance_table(scheme),
        hide_index=True,
        key="rdy_provenance",
        column_config={
            "rule": "Rule",
            "document": "Document",
            "date": "Date",
            "url": st.column_config.LinkColumn("Address"),
        },
    )

st.subheader("By office")
ui.table_with_download(
    evidence.rating_rows(by_office, ("area", "office"), scheme),
    ui.file_stem("readiness_offices", f),
    pct_cols,
    key="rdy_office_csv",
)

st.subheader("Trend")
if sample_id is None:
    by = st.segmented_control(
        "Over",
        ["quarter", "sample"],
        default="quarter",
        key="rdy_trend",
        format_func={"quarter": "Quarters", "sample": "Successive samples"}.get,
    )
else:  # the evidence is a sample: its trend is the succession of samples, not quarters
    by = "sample"
trend = ui.query(
    readiness.trend_counts, f, scheme=basis_scheme, by=by or "quarter", audit_version=version
)
trend = ratings.aggregate_counts(trend, scheme)
if counts.empty:  # no trend drawn beside "no completed audits" for this evidence
    st.info("No trend: the chosen evidence has no completed audits yet.",
            icon=":material/search_off:")
elif trend.empty:
    ui.empty_state(
        "completed audits over time", "Samples appear here once their audits are complete."
    )
else:
    series = evidence.summary_ratings(trend, scheme, by=["period_order", "period"])
    series = series.dropna(subset=["pct_sufficient"]).assign(month=lambda d: d["period"])
    ui.chart(st,
        charts.trend(
            series,
            "pct_sufficient",
            "% sufficient on each standard's lowest key question",
            "% sufficient",
            series="standard",
            hover={
                "lowest_key_question": "Key question",
                "sufficient": "Sufficient",
                "applicable": "Audits where it applies",
                "rating": "Rating",
            },
            judge=display.rating_judge(scheme),  # the % never rounds into another band
        ),
        key="rdy_trend_chart",
    )

st.subheader("Weakest key questions first")
st.dataframe(
    key_questions,
    hide_index=True,
    key="rdy_kq",
    column_config={
        "standard": "Standard",
        "key_question": "Key question",
        "label": "Focus",
        "sufficient": "Sufficient",
        "applicable": "Audits where it applies",
        "pct_sufficient": ui.percent_column("% sufficient"),
        "ci_low": ui.percent_column("95 % CI low"),
        "ci_high": ui.percent_column("95 % CI high"),
    },
)

st.subheader("Cases behind each “not sufficient”")
if not scope.can_view_person_level:
    st.info("Your role does not show individual cases.", icon=":material/lock:")
else:
    cases = ui.query(readiness.not_sufficient_cases, f, scope=scope, **kw)
    if scope.person_office_ids is not None:
        st.caption(":material/lock: Limited to the offices your role covers.")
    ui_auth.record_person_view(
        scope,
        "readiness:not_sufficient",
        {**ui.filters_for_log(f), "sample_id": sample_id},
        len(cases),
    )
    ui.table_with_download(cases, ui.file_stem("not_sufficient_cases", f), key="rdy_cases_csv")

st.subheader("Domain 1: recorded judgements")
st.caption(
    f"Latest judgement per standard for {area_code or 'the region'}; earlier ones are "
    "kept as history."
)
notice = st.session_state.pop("rdy_j_notice", None)
if notice:
    st.success(notice, icon=":material/check_circle:")
st.dataframe(
    judged,
    hide_index=True,
    key="rdy_judged",
    column_config={
        "standard": "Standard",
        "rating": "Rating",
        "notes": "Notes",
        "evidence_link": st.column_config.LinkColumn("Evidence"),
        "judged_by": "Judged by",
        "judged_at": "Judged at (UTC)",
    },
)
if scope.role == "quality_lead":
    judgement_codes = [s.code for s in scheme.standards if s.kind == "judgement"]
    with st.form("rdy_judgement", clear_on_submit=False):
        st.markdown("**Record a judgement**")
        c = st.columns(2)
        j_std = c[0].selectbox(
            "Standard",
            judgement_codes,
            key="rdy_j_std",
            format_func=lambda code: f"{code} {scheme.standard(code).name}",
        )
        j_rating = c[1].selectbox("Rating", scheme.rating_names, index=None, key="rdy_j_rating")
        j_notes = st.text_area("What the judgement rests on", key="rdy_j_notes")
        j_link = st.text_input("Evidence link (optional)", key="rdy_j_link")
        if st.form_submit_button("Record judgement", icon=":material/gavel:"):
            try:
                with ui.engine().begin() as conn:
                    readiness.save_judgement(
                        conn, scheme, j_std, j_rating, j_notes, j_link, area_id, scope
                    )
                st.session_state["rdy_j_notice"] = f"Judgement on {j_std} recorded."
                st.rerun()
            except readiness.JudgementError as exc:
                for field, message in exc.errors.items():
                    st.error(
                        f"{field.replace('_', ' ').capitalize()}: {message}",
                        icon=":material/error:",
                    )

st.subheader("Evidence pack")
pack_key = (scheme_id, sample_id, f, version, scope)
if st.button(
    "Prepare evidence pack (.xlsx and .pdf)",
    icon=":material/inventory_2:",
    key="rdy_pack_build",
    disabled=counts.empty,
):
    with st.spinner("Writing the workbook and the PDF…"):
        with ui.engine().connect() as conn:
            extra = readiness.evidence_frames(conn, f, scope, basis_scheme, sample_id)
        pack = evidence.EvidencePack(
            scheme=scheme,
            scope_label=scope_label,
            basis_label=(
                f"sample {names[sample_id]}"
                if sample_id
                else f"completed audits dated {f.period_text()}, {f.label}"
            ),
            generated_by=scope.username,
            generated_at=datetime.now(UTC),
            ratings=region,
            office_ratings=by_office,
            key_questions=key_questions,
            answers=extra["answers"],
            strata=extra["strata"],
            judgements=judged,
            sample=extra["sample"],
            overall=overall,
            method=extra["method"],
            answers_note="Case rows are limited to the offices your role covers."
            if scope.person_office_ids is not None
            else "",
        )
        st.session_state["rdy_pack"] = {
            "key": pack_key,
            "stem": evidence.pack_file_stem(pack),
            "xlsx": evidence.workbook_bytes(pack),
            "pdf": evidence.pdf_bytes(pack),
            "rows": len(extra["answers"]),
        }
built = st.session_state.get("rdy_pack")
if built and built["key"] == pack_key:
    d = st.columns(2)
    for col, ext, mime in (
        (d[0], "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (d[1], "pdf", "application/pdf"),
    ):
        name = f"{built['stem']}.{ext}"
        ui.logged_download_button(
            f"Download {name} ({len(built[ext]) / 1024:,.0f} KB)",
            lambda data=built[ext]: data,
            name,
            mime,
            rows=built["rows"],
            key=f"rdy_dl_{ext}",
            action="export",
            container=col,
        )
