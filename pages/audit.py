"""Record case audits: an auditor answers each key question of an assigned case."""

import logging
from datetime import datetime

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard.app import ui, ui_auth
from dashboard.core.plain_text import plain
from dashboard.hmip import ratings
from dashboard.precompute import statistics
from queries import audits

scope = ui.require_page("audit")
ss = st.session_state
st.title("Record case audits")
st.caption("Auditors see only the cases assigned to them; quality leads see every sampled case.")
with st.expander("How to read this page", icon=":material/help:"):
    st.markdown(
        "Open a case, answer each key question **sufficient**, **not sufficient** or (where "
        "the question allows it) **not applicable**, and give the reason for every *not "
        "sufficient*. **Save draft** keeps a partly done audit; **Save as complete** needs "
        "every question answered. Each save is written at once, in one transaction: the "
        "answers are stored together or not at all, and a failed save leaves your answers "
        "on screen to save again. Only complete audits count towards ratings."
    )


def fresh(fn, **kwargs):
    """Audits change as people work: read them uncached."""
    with ui.engine().connect() as conn:
        return fn(conn, **kwargs)


def field_key(audit_id: int, code: str, part: str = "answer") -> str:
    return f"aud_{audit_id}_{code}_{part}"


def save(audit_id: int, complete: bool, then_next: bool = False) -> None:
    """Button callback: validate and save before the page draws, so errors sit by
    fields; with then_next, open the next case that is not complete once saved."""
    case = fresh(audits.audit_case, audit_id=audit_id, scope=scope)
    if case is None:
        ss[f"aud_notice_{audit_id}"] = ("error", "This audit is no longer assigned to you.")
        return
    scheme = ratings.load_scheme(case["scheme"])
    answers = {
        q.code: (ss.get(field_key(audit_id, q.code)), ss.get(field_key(audit_id, q.code, "reason")))
        for q in audits.questions_for_case(scheme, case)
    }
    try:
        with ui.engine().begin() as conn:
            stored = audits.save_audit(
                conn, audit_id, answers, complete=complete, scope=scope, scheme=scheme
            )
    except audits.AuditValidationError as exc:
        ss[f"aud_errors_{audit_id}"] = exc.errors
        ss[f"aud_notice_{audit_id}"] = (
            "error",
            f"Not saved: {len(exc.errors)} answer(s) need attention, shown next to "
            "each question. Nothing was written.",
        )
        return
    except audits.AuditNotFoundError as exc:
        ss[f"aud_notice_{audit_id}"] = ("error", str(exc))
        return
    except SQLAlchemyError:
        logging.getLogger("dashboard").exception("saving audit %s failed", audit_id)
        ss[f"aud_notice_{audit_id}"] = (
            "error",
            "Not saved: the database did not answer. Your answers are still here; "
            "press Save again in a moment.",
        )
        return
    ss[f"aud_errors_{audit_id}"] = {}
    statistics.catch_up(ui.engine())  # the stored statistics of the audit's months (#16)
    message = (
        f"Saved as {'complete' if complete else 'a draft'} at "
        f"{datetime.now():%H:%M}: {stored} answer(s) stored."
    )
    ss[f"aud_notice_{audit_id}"] = ("success", message)
    # A fresh picker widget after each save: the browser otherwise keeps showing the
    # option label from before the save ("draft") although the options changed.
    ss["aud_pick_version"] = ss.get("aud_pick_version", 0) + 1
    if then_next:
        following = audits.next_open_audit(fresh(audits.assigned_audits, scope=scope), audit_id)
        if following is not None:
            ss["aud_current"] = following
            ss[f"aud_notice_{following}"] = ("success", f"Case {case['crn']}: {message}")


if scope.role == "quality_lead":
    st.subheader("Progress")
    progress = fresh(audits.progress, scope=scope)
    if progress.empty:
        st.caption("No sampled audits yet: draw a sample on the sample page.")
    else:
        per_sample = progress.groupby(["sample_id", "sample"], as_index=False, sort=False)[
            ["audits", "complete", "in_progress", "not_started"]
        ].sum()
        per_sample["pct_complete"] = 100 * per_sample["complete"] / per_sample["audits"]
        per_auditor = progress.groupby("auditor", as_index=False)[
            ["audits", "complete", "in_progress", "not_started"]
        ].sum()
        per_auditor["pct_complete"] = 100 * per_auditor["complete"] / per_auditor["audits"]
        names = {
            "sample_id": "Sample",
            "sample": "Name",
            "auditor": "Auditor",
            "audits": "Assigned",
            "complete": "Complete",
            "in_progress": "In progress",
            "not_started": "Not started",
            "pct_complete": ui.percent_column("% complete"),
        }
        t = st.tabs(["By sample", "By auditor", "By sample and auditor"])
        t[0].dataframe(per_sample, hide_index=True, column_config=names, key="aud_prog_sample")
        t[1].dataframe(per_auditor, hide_index=True, column_config=names, key="aud_prog_auditor")
        t[2].dataframe(progress, hide_index=True, column_config=names, key="aud_prog_both")

listed = fresh(audits.assigned_audits, scope=scope)
if listed.empty:
    st.info(
        "No sampled cases are assigned to you yet. A quality lead assigns them when "
        "drawing a sample.",
        icon=":material/inbox:",
    )
    st.stop()
ui_auth.record_person_view(scope, "audit:assigned", {}, len(listed))
m = st.columns(4)
m[0].metric("Assigned audits", ui.num(len(listed)), border=True)
m[1].metric("Drafts", ui.num((listed["status"] == "draft").sum()), border=True)
m[2].metric("Complete", ui.num((listed["status"] == "complete").sum()), border=True)
m[3].metric(
    "Started, not complete",
    ui.num(((listed["status"] != "complete") & (listed["answers"] > 0)).sum()),
    border=True,
)
with st.expander("All my audits", icon=":material/list:"):
    st.dataframe(listed, hide_index=True, key="aud_list")


def picker_label(r) -> str:
    """The saved state in the picker: complete, or how many answers a draft has."""
    state = "complete" if r.status == "complete" else f"draft, {int(r.answers)} answered"
    return f"{r.crn} · {r.office} · {state} · {r.sample}"


labels = {int(r.audit_id): picker_label(r) for r in listed.itertuples()}
wanted = st.query_params.get("audit", "")
if wanted.isdigit() and int(wanted) in labels and "aud_current" not in ss:
    ss["aud_current"] = int(wanted)
if ss.get("aud_current") not in labels:
    ss["aud_current"] = next(iter(labels))
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
case = fresh(audits.audit_case, audit_id=pick, scope=scope)
if case is None:
    st.error("This audit is not one you can open.", icon=":material/block:")
    st.stop()
# each case opened is a view of one person's record: logged once per case and user
ui_auth.record_person_view(scope, f"audit:{pick}", {"audit_id": int(pick)}, 1)
scheme = ratings.load_scheme(case["scheme"])
questions = audits.questions_for_case(scheme, case)
saved = fresh(audits.audit_answers, audit_id=pick, scope=scope).set_index("key_question")
for q in questions:  # fill the form from the database unless this session is editing it
    if field_key(pick, q.code) not in ss:
        ss[field_key(pick, q.code)] = saved["answer"].get(q.code)
    if field_key(pick, q.code, "reason") not in ss:
        reason = saved["reason"].get(q.code)
        ss[field_key(pick, q.code, "reason")] = reason if isinstance(reason, str) else ""

st.subheader(f"Case {plain(case['crn'])}")
st.caption(
    f"{plain(case['office'])} · {case['sentence_type'].replace('_', ' ')} · risk of serious harm "
    f"{case['rosh_level'].replace('_', ' ')} · {case['gender']} · tier {case['tier']} · "
    f"supervised {case['start_date']:%d %b %Y} to {case['end_date']:%d %b %Y} · auditor "
    f"{plain(case['auditor'])} · **{case['status']}**, {len(saved)} of {len(questions)} answered · "
    f"scheme: {scheme.title}"
)
errors = ss.get(f"aud_errors_{pick}", {})
notice = ss.get(f"aud_notice_{pick}")
if notice:
    (st.error if notice[0] == "error" else st.success)(
        notice[1], icon=":material/error:" if notice[0] == "error" else ":material/check:"
    )

# No st.form: the reason box must appear as soon as "Not sufficient" is chosen.
with st.container(border=True):
    for standard in scheme.standards:
        mine = [q for q in questions if q.standard == standard.code]
        if not mine:
            continue
        st.markdown(f"#### {standard.code} {standard.name}")
        for q in mine:
            options = list(audits.ANSWER_LABELS)
            if not q.may_be_not_applicable:
                options.remove("not_applicable")
            answer = st.radio(
                f"**{q.code}** {q.text}",
                options,
                index=None,
                horizontal=True,
                key=field_key(pick, q.code),
                format_func=audits.ANSWER_LABELS.get,
            )
            if q.code in errors:
                st.error(f"{q.code}: {errors[q.code]}", icon=":material/error:")
            if answer == "not_sufficient":
                st.text_input(
                    f"{q.code} reason (why it is not sufficient)",
                    key=field_key(pick, q.code, "reason"),
                    max_chars=audits.REASON_MAX,
                )
                if audits.reason_key(q.code) in errors:
                    st.error(
                        f"{q.code}: {errors[audits.reason_key(q.code)]}", icon=":material/error:"
                    )
    left, middle, right = st.columns(3)
    left.button(
        "Save draft",
        icon=":material/save:",
        key="aud_save_draft",
        on_click=save,
        args=(pick, False),
    )
    middle.button(
        "Save as complete",
        icon=":material/task_alt:",
        key="aud_save_complete",
        on_click=save,
        args=(pick, True),
    )
    right.button(
        "Save and next case",
        type="primary",
        icon=":material/skip_next:",
        key="aud_save_next",
        on_click=save,
        args=(pick, True, True),
    )
