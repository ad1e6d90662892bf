"""Pieces of the case audit page (pages/audit.py): the quality lead's progress tables, the
headline counts, the case picker, the form filled from the saved answers, and the key
questions with their save buttons."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.app import ui
from dashboard.commands.audits import REASON_MAX, reason_key
from dashboard.core.labels import plain_value
from dashboard.core.plain_text import plain
from dashboard.hmip.ratings import KeyQuestion, Scheme
from queries import audits

ss = st.session_state
PROGRESS_NAMES = {
    "sample_id": "Sample",
    "sample": "Name",
    "auditor": "Auditor",
    "audits": "Assigned",
    "complete": "Complete",
    "in_progress": "In progress",
    "not_started": "Not started",
}
# (label, key, icon, primary, complete, then_next)
SAVE_BUTTONS = (
    ("Save draft", "aud_save_draft", ":material/save:", False, False, False),
    ("Save as complete", "aud_save_complete", ":material/task_alt:", False, True, False),
    ("Save and next case", "aud_save_next", ":material/skip_next:", True, True, True),
)


def field_key(audit_id: int, code: str, part: str = "answer") -> str:
    """The session-state key of a key question's answer (or its reason) in one audit."""
    return f"aud_{audit_id}_{code}_{part}"


def answers_on_screen(audit_id: int, questions: Sequence[KeyQuestion]) -> dict:
    """{code: (answer or None, reason or None)} as the form holds them now."""
    return {q.code: (ss.get(field_key(audit_id, q.code)),
                     ss.get(field_key(audit_id, q.code, "reason"))) for q in questions}


def progress_tabs(progress: pd.DataFrame) -> None:
    """How far the audits have got: by sample, by auditor, and by both."""
    names = {**PROGRESS_NAMES, "pct_complete": ui.percent_column("% complete")}
    per_sample = audits.progress_totals(progress, ["sample_id", "sample"])
    per_auditor = audits.progress_totals(progress, ["auditor"])
    t = st.tabs(["By sample", "By auditor", "By sample and auditor"])
    t[0].dataframe(per_sample, hide_index=True, column_config=names, key="aud_prog_sample")
    t[1].dataframe(per_auditor, hide_index=True, column_config=names, key="aud_prog_auditor")
    t[2].dataframe(progress, hide_index=True, column_config=names, key="aud_prog_both")


def headline(listed: pd.DataFrame) -> None:
    """Four cards: audits assigned, drafts, complete, started but not complete."""
    counts = audits.audit_counts(listed)
    m = st.columns(4)
    m[0].metric("Assigned audits", ui.num(counts["audits"]), border=True)
    m[1].metric("Drafts", ui.num(counts["drafts"]), border=True)
    m[2].metric("Complete", ui.num(counts["complete"]), border=True)
    m[3].metric("Started, not complete", ui.num(counts["started"]), border=True)


def picker_label(r: Any) -> str:
    """The saved state in the picker: complete, or how many answers a draft has."""
    state = "complete" if r.status == "complete" else f"draft, {int(r.answers)} answered"
    return f"{r.crn} · {r.office} · {state} · {r.sample}"


def pick_audit(listed: pd.DataFrame) -> int:
    """The case picker: opens the audit in the address (?audit=), else the one open
    before, else the first; keeps the address in step. Returns the audit id."""
    labels = {int(r.audit_id): picker_label(r) for r in listed.itertuples()}
    wanted = st.query_params.get("audit", "")
    if wanted.isdigit() and int(wanted) in labels and "aud_current" not in ss:
        ss["aud_current"] = int(wanted)
    if ss.get("aud_current") not in labels:
        ss["aud_current"] = next(iter(labels))
    # A fresh picker widget after each save: the browser otherwise keeps showing the
    # option label from before the save ("draft") although the options changed.
    pick_key = f"aud_pick_{ss.get('aud_pick_version', 0)}"
    pick = st.selectbox(
        "Open a case",
        list(labels),
        index=list(labels).index(ss["aud_current"]),
        key=pick_key,
        format_func=labels.get,
        on_change=lambda: ss.update(aud_current=ss[pick_key]),
    )
    ss["aud_current"] = pick
    st.query_params["audit"] = str(pick)
    return pick


def fill_from_saved(audit_id: int, questions: Sequence[KeyQuestion], saved: pd.DataFrame) -> None:
    """Fill the form from the saved answers (key_question index) unless this session is
    editing it already."""
    for q in questions:
        if field_key(audit_id, q.code) not in ss:
            ss[field_key(audit_id, q.code)] = saved["answer"].get(q.code)
        if field_key(audit_id, q.code, "reason") not in ss:
            reason = saved["reason"].get(q.code)
            ss[field_key(audit_id, q.code, "reason")] = reason if isinstance(reason, str) else ""


def case_heading(case: Mapping[str, Any], scheme: Scheme, answered: int, asked: int) -> None:
    """The case's CRN, what it is, who audits it and how far the audit has got."""
    st.subheader(f"Case {plain(case['crn'])}")
    st.caption(
        f"{plain(case['office'])} · {plain_value(case['sentence_type'])} · risk of serious "
        f"harm {plain_value(case['rosh_level']).lower()} · {plain_value(case['gender'])} · "
        f"tier {case['tier']} · "
        f"supervised {case['start_date']:%d %b %Y} to {case['end_date']:%d %b %Y} · auditor "
        f"{plain(case['auditor'])} · **{case['status']}**, {answered} of {asked} answered · "
        f"scheme: {scheme.title}"
    )


def notice(audit_id: int) -> None:
    """The outcome of the last save of this audit, if any."""
    shown = ss.get(f"aud_notice_{audit_id}")
    if shown:
        (st.error if shown[0] == "error" else st.success)(
            shown[1], icon=":material/error:" if shown[0] == "error" else ":material/check:"
        )


def _question(audit_id: int, q: KeyQuestion, errors: Mapping[str, str]) -> None:
    options = list(audits.ANSWER_LABELS)
    if not q.may_be_not_applicable:
        options.remove("not_applicable")
    answer = st.radio(f"**{q.code}** {q.text}", options, index=None, horizontal=True,
                      key=field_key(audit_id, q.code), format_func=audits.ANSWER_LABELS.get)
    if q.code in errors:
        st.error(f"{q.code}: {errors[q.code]}", icon=":material/error:")
    if answer == "not_sufficient":
        st.text_input(f"{q.code} reason (why it is not sufficient)",
                      key=field_key(audit_id, q.code, "reason"), max_chars=REASON_MAX)
        if reason_key(q.code) in errors:
            st.error(f"{q.code}: {errors[reason_key(q.code)]}", icon=":material/error:")


def question_form(audit_id: int, scheme: Scheme, questions: Sequence[KeyQuestion],
                  errors: Mapping[str, str], save: Callable[..., None]) -> None:
    """Each standard's key questions with the errors of the last save next to their
    fields, then the save buttons (save(audit_id, complete, then_next) on click)."""
    # No st.form: the reason box must appear as soon as "Not sufficient" is chosen.
    with st.container(border=True):
        for standard in scheme.standards:
            mine = [q for q in questions if q.standard == standard.code]
            if not mine:
                continue
            st.markdown(f"#### {standard.code} {standard.name}")
            for q in mine:
                _question(audit_id, q, errors)
        for column, (label, key, icon, primary, complete, then_next) in zip(
            st.columns(3), SAVE_BUTTONS, strict=True
        ):
            column.button(label, type="primary" if primary else "secondary", icon=icon, key=key,
                          on_click=save, args=(audit_id, complete, then_next))
