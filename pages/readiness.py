"""Inspection readiness: the rating each standard would get today, and the evidence."""

import streamlit as st

from dashboard.app import readiness_panels as panels
from dashboard.app import ui
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
    readiness.GLOSSARY,
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
_, area_name, area_id = readiness.judgement_area(offices, f)
judged = ui.query(
    readiness.judgements, None, scheme=scheme_id, area_id=area_id, audit_version=version
)
counts = ratings.aggregate_counts(
    ui.query(readiness.key_question_counts, f, level="office", **kw), scheme
)
panels.left_out_warning(ui.query(readiness.answers_left_out, f, **kw))
if counts.empty:
    ui.empty_state(
        "completed audits", "Widen the period, or choose a sample whose audits are complete."
    )
region = evidence.summary_ratings(counts, scheme)
by_office = evidence.summary_ratings(counts, scheme, by=["area", "office"])
key_questions = evidence.key_question_table(counts, scheme)
overall = evidence.overall_from(region, judged, scheme)
audited = ui.query(readiness.audited_strata, f, **kw)
sample_name = names[sample_id] if sample_id else None

panels.headline_cards(overall, audited, region, scheme)
panels.ratings_section(region, scheme, panels.evidence_text(f, sample_name))

st.subheader("By office")
ui.table_with_download(
    evidence.rating_rows(by_office, ("area", "office"), scheme),
    ui.file_stem("readiness_offices", f),
    panels.PCT_COLUMNS,
    key="rdy_office_csv",
)

panels.trend_section(f, scheme, basis_scheme, sample_id, counts.empty, version)
panels.key_questions_section(key_questions)
panels.cases_section(f, scope, kw, sample_id)
panels.judgements_section(judged, scheme, area_name, area_id, scope)
panels.evidence_pack_section(
    f, scope, scheme, basis_scheme, sample_id, version,
    basis_label=f"sample {sample_name}" if sample_id
    else f"completed audits dated {f.period_text()}, {f.label}",
    scope_label=f.label if sample_id is None else names[sample_id],
    disabled=counts.empty,
    ratings=region, office_ratings=by_office, key_questions=key_questions, judgements=judged,
    overall=overall,
)
