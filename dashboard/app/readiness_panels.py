"""The panels of the inspection readiness page (pages/readiness.py): ratings, trend,
cases, recorded judgements and the evidence pack. Each draws one part of the page from
frames the page has read; writes go through dashboard.commands.judgements.RecordJudgement."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from dashboard.app import cards, charts, tables, ui, ui_auth
from dashboard.commands.judgements import JudgementError, RecordJudgement
from dashboard.core import display
from dashboard.core.plain_text import plain
from dashboard.hmip import evidence, ratings
from queries import readiness

PCT_COLUMNS = {
    **evidence.RATING_TABLE,
    "area": "Area",
    "office": "Office",
    "applicable": "Audits where it applies",  # a case audited twice counts twice here
    "pct_sufficient": ui.judged_column("% sufficient (lowest key question)", unit=""),
    "ci_low": ui.percent_column("95 % CI low"),
    "ci_high": ui.percent_column("95 % CI high"),
    "p_at_least_good": ui.percent_column("Chance Good or better"),
}


def left_out_warning(left_out: pd.DataFrame) -> None:
    """Say which answers no rating counts (codes not in the scheme), if any."""
    if left_out.empty:
        return
    code = lambda v: str(v).replace("`", "'")  # noqa: E731 - stored codes shown as code
    st.warning(
        f"{int(left_out['answers'].sum()):,} answer(s) in {int(left_out['audits'].sum()):,} "
        "audit(s) are left out of these ratings: their key question is not in this scheme ("
        + ", ".join(f"`{code(k)}` under `{code(s)}`" for k, s in zip(
            left_out["key_question"], left_out["standard"], strict=True))
        + "). Correct them in the audit answers extract.",
        icon=":material/warning:",
    )


def headline_cards(overall, audited: pd.DataFrame, region: pd.DataFrame, scheme) -> None:
    """Overall rating, cases audited, the weakest standard and its chance of Good."""
    m = st.columns(4)
    m[0].metric("Overall rating", str(overall or "Not rated"), border=True,
                help=evidence.overall_text(overall))
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
        m[3].metric("Chance it is really Good or better",
                    evidence.chance_text(worst["p_at_least_good"]), border=True,
                    help="Posterior probability that every key question of the weakest "
                    "standard is really at or above the Good threshold.")


def ratings_section(region: pd.DataFrame, scheme, evidence_text: str) -> None:
    """The rating each standard would get, its table and where each rule comes from."""
    st.subheader("Rating each standard would get today")
    st.caption(f"Scheme: {scheme.title}. Evidence: {evidence_text}.")
    fragile = evidence.small_samples(region)
    if fragile:
        st.warning(f"Rated on fewer than {evidence.SMALL_SAMPLE} cases: {', '.join(fragile)}. "
                   "Read these ratings with their intervals.", icon=":material/warning:")
    cards.rating_lines(region["statement"], region["rating"])
    unrated = evidence.unrated_standards(region, scheme)
    if unrated:
        st.caption("Not rated here: " + "; ".join(unrated) + ".")
    st.dataframe(evidence.rating_rows(region, scheme=scheme), hide_index=True,
                 column_config=PCT_COLUMNS, key="rdy_ratings")
    with st.expander("Where each rule comes from, and what is not confirmed",
                     icon=":material/gavel:"):
        for line in scheme.not_confirmed:
            st.markdown(f"- **Not published here:** {line}")
        st.dataframe(ratings.provenance_table(scheme), hide_index=True, key="rdy_provenance",
                     column_config={"rule": "Rule", "document": "Document", "date": "Date",
                                    "url": st.column_config.LinkColumn("Address")})


def trend_section(f, scheme, basis_scheme, sample_id, no_evidence: bool, version: int) -> None:
    """% sufficient on each standard over quarters or successive samples."""
    st.subheader("Trend")
    if sample_id is None:
        by = st.segmented_control(
            "Over", ["quarter", "sample"], default="quarter", key="rdy_trend",
            format_func={"quarter": "Quarters", "sample": "Successive samples"}.get)
    else:  # the evidence is a sample: its trend is the succession of samples, not quarters
        by = "sample"
    trend = ui.query(readiness.trend_counts, f, scheme=basis_scheme, by=by or "quarter",
                     audit_version=version)
    trend = ratings.aggregate_counts(trend, scheme)
    if no_evidence:  # no trend drawn beside "no completed audits" for this evidence
        st.info("No trend: the chosen evidence has no completed audits yet.",
                icon=":material/search_off:")
        return
    if trend.empty:
        ui.empty_state("completed audits over time",
                       "Samples appear here once their audits are complete.")
        return
    series = evidence.summary_ratings(trend, scheme, by=["period_order", "period"])
    series = series.dropna(subset=["pct_sufficient"]).assign(month=lambda d: d["period"])
    ui.chart(st, charts.trend(
        series, "pct_sufficient", "% sufficient on each standard's lowest key question",
        "% sufficient", series="standard",
        hover={"lowest_key_question": "Key question", "sufficient": "Sufficient",
               "applicable": "Audits where it applies", "rating": "Rating"},
        judge=display.rating_judge(scheme),  # the % never rounds into another band
    ), key="rdy_trend_chart")


def key_questions_section(key_questions: pd.DataFrame) -> None:
    """Every key question, weakest first."""
    st.subheader("Weakest key questions first")
    st.dataframe(key_questions, hide_index=True, key="rdy_kq", column_config={
        "standard": "Standard", "key_question": "Key question", "label": "Focus",
        "sufficient": "Sufficient", "applicable": "Audits where it applies",
        "pct_sufficient": ui.percent_column("% sufficient"),
        "ci_low": ui.percent_column("95 % CI low"), "ci_high": ui.percent_column("95 % CI high"),
    })


def cases_section(f, scope, kw: dict, sample_id) -> None:
    """The cases behind each "not sufficient", for roles that see people (logged)."""
    st.subheader("Cases behind each “not sufficient”")
    if not scope.can_view_person_level:
        st.info("Your role does not show individual cases.", icon=":material/lock:")
        return
    cases = ui.query(readiness.not_sufficient_cases, f, scope=scope, **kw)
    if scope.person_office_ids is not None:
        st.caption(":material/lock: Limited to the offices your role covers.")
    ui_auth.record_person_view(scope, "readiness:not_sufficient",
                               {**ui.filters_for_log(f), "sample_id": sample_id}, len(cases))
    tables.readable_table(cases, ui.file_stem("not_sufficient_cases", f), key="rdy_cases_csv",
                      pinned=("crn",))


def judgements_section(judged: pd.DataFrame, scheme, area_name, area_id, scope) -> None:
    """Domain 1: the latest judgement per standard for the area (area_name, area_id; None:
    the region), and the form quality leads record one with."""
    where = plain(area_name or "the region")
    st.subheader("Domain 1: recorded judgements")
    st.caption(f"Latest judgement per standard for {where}; earlier ones are kept as "
               "history.")
    notice = st.session_state.pop("rdy_j_notice", None)
    if notice:
        st.success(notice, icon=":material/check_circle:")
    if judged.empty:
        st.info(f"No Domain 1 judgement recorded for {where} in {scheme.title} yet."
                + (" Record one below." if scope.role == "quality_lead" else ""),
                icon=":material/info:")
    else:
        st.dataframe(judged, hide_index=True, key="rdy_judged", column_config={
            "standard": "Standard", "rating": "Rating", "notes": "Notes",
            "evidence_link": st.column_config.LinkColumn("Evidence"),
            "judged_by": "Judged by", "judged_at": "Judged at (UTC)",
        })
    if scope.role != "quality_lead":
        return
    judgement_codes = [s.code for s in scheme.standards if s.kind == "judgement"]
    with st.form("rdy_judgement", clear_on_submit=False):
        st.markdown("**Record a judgement**")
        c = st.columns(2)
        j_std = c[0].selectbox("Standard", judgement_codes, key="rdy_j_std",
                               format_func=lambda code: f"{code} {scheme.standard(code).name}")
        j_rating = c[1].selectbox("Rating", scheme.rating_names, index=None, key="rdy_j_rating")
        j_notes = st.text_area("What the judgement rests on", key="rdy_j_notes")
        j_link = st.text_input("Evidence link (optional)", key="rdy_j_link")
        if st.form_submit_button("Record judgement", icon=":material/gavel:"):
            try:
                with ui.engine().begin() as conn:
                    RecordJudgement(conn, scheme, j_std, j_rating, j_notes, j_link,
                                    area_id, scope).run()
                st.session_state["rdy_j_notice"] = f"Judgement on {j_std} recorded."
                st.rerun()
            except JudgementError as exc:
                for field, message in exc.errors.items():
                    st.error(f"{field.replace('_', ' ').capitalize()}: {message}",
                             icon=":material/error:")


def evidence_pack_section(f, scope, scheme, basis_scheme, sample_id, version, basis_label,
                          scope_label, disabled: bool, **frames) -> None:
    """Build the evidence pack (.xlsx and .pdf) on request and offer both downloads.
    frames: ratings, office_ratings, key_questions, judgements, overall."""
    st.subheader("Evidence pack")
    pack_key = (scheme.scheme_id, sample_id, f, version, scope)
    if st.button("Prepare evidence pack (.xlsx and .pdf)", icon=":material/inventory_2:",
                 key="rdy_pack_build", disabled=disabled):
        bar = st.progress(0, text="Evidence pack: reading the case answers and strata… "
                                  "(step 1 of 3)")
        with ui.engine().connect() as conn:
            extra = readiness.evidence_frames(conn, f, scope, basis_scheme, sample_id)
        pack = evidence.EvidencePack(
            scheme=scheme, scope_label=scope_label, basis_label=basis_label,
            generated_by=scope.username, generated_at=datetime.now(UTC), **frames,
            answers=extra["answers"], strata=extra["strata"], sample=extra["sample"],
            method=extra["method"],
            answers_note="Case rows are limited to the offices your role covers."
            if scope.person_office_ids is not None else "",
        )
        rows = len(extra["answers"])
        bar.progress(40, text=f"Evidence pack: writing the workbook, {rows:,} case answer "
                              "rows… (step 2 of 3)")
        xlsx = evidence.workbook_bytes(pack)
        bar.progress(75, text="Evidence pack: writing the PDF… (step 3 of 3)")
        pdf = evidence.pdf_bytes(pack)
        bar.empty()
        st.session_state["rdy_pack"] = {"key": pack_key, "stem": evidence.pack_file_stem(pack),
                                        "xlsx": xlsx, "pdf": pdf, "rows": rows}
    built = st.session_state.get("rdy_pack")
    if not (built and built["key"] == pack_key):
        return
    d = st.columns(2)
    for col, ext, mime in (
        (d[0], "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (d[1], "pdf", "application/pdf"),
    ):
        name = f"{built['stem']}.{ext}"
        ui.logged_download_button(
            f"Download {name} ({len(built[ext]) / 1024:,.0f} KB)", lambda data=built[ext]: data,
            name, mime, rows=built["rows"], key=f"rdy_dl_{ext}", action="export", container=col)


def evidence_text(f, sample_name: str | None) -> str:
    """The evidence in words, for captions (Markdown-safe)."""
    return (f"{'sample ' + plain(sample_name) if sample_name else f.period_text()} · "
            f"{plain(f.label)}")
