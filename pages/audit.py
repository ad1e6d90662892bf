"""Record case audits: an auditor answers each key question of an assigned case."""

import logging
from datetime import datetime

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard.app import audit_views, ui, ui_auth
from dashboard.app.inspection import fresh, how_to_read
from dashboard.commands.audits import AuditNotAssignedError, AuditValidationError, SaveAudit
from dashboard.core.labels import display_frame
from dashboard.hmip import ratings
from dashboard.precompute import statistics
from queries import audits, readiness

scope = ui.require_page("audit")
ss = st.session_state
st.title("Record case audits")
st.caption("Auditors see only the cases assigned to them; quality leads see every sampled case.")
how_to_read(
    "Open a case, answer each key question **sufficient**, **not sufficient** or (where "
    "the question allows it) **not applicable**, and give the reason for every *not "
    "sufficient*. **Save draft** keeps a partly done audit; **Save as complete** needs "
    "every question answered. Each save is written at once, in one transaction: the "
    "answers are stored together or not at all, and a failed save leaves your answers "
    "on screen to save again. Only complete audits count towards ratings."
)


def save(audit_id: int, complete: bool, then_next: bool = False) -> None:
    """Button callback: save before the page draws, so errors sit by their fields; with
    then_next, open the next case that is not complete once saved."""
    notice_key = f"aud_notice_{audit_id}"
    case = fresh(audits.audit_case, audit_id=audit_id, scope=scope)
    if case is None:
        ss[notice_key] = ("error", "This audit is no longer assigned to you.")
        return
    scheme = ratings.load_scheme(case["scheme"])
    answers = audit_views.answers_on_screen(audit_id, audits.questions_for_case(scheme, case))
    try:
        with ui.engine().begin() as conn:
            command = SaveAudit(conn, scope, audit_id, answers, complete=complete, scheme=scheme)
            stored = command.run()
    except AuditValidationError as exc:
        ss[f"aud_errors_{audit_id}"] = exc.errors
        ss[notice_key] = ("error", f"Not saved: {len(exc.errors)} answer(s) need attention, "
                          "shown next to each question. Nothing was written.")
        return
    except AuditNotAssignedError as exc:
        ss[notice_key] = ("error", str(exc))
        return
    except SQLAlchemyError:
        logging.getLogger("dashboard").exception("saving audit %s failed", audit_id)
        ss[notice_key] = ("error", "Not saved: the database did not answer. Your answers are "
                          "still here; press Save again in a moment.")
        return
    ss[f"aud_errors_{audit_id}"] = {}
    statistics.catch_up(ui.engine())  # the stored statistics of the audit's months (#16)
    message = (f"Saved as {'complete' if complete else 'a draft'} at "
               f"{datetime.now():%H:%M}: {stored} answer(s) stored.")
    ss[notice_key] = ("success", message)
    ss["aud_pick_version"] = ss.get("aud_pick_version", 0) + 1  # a fresh picker: new labels
    if then_next:
        following = audits.next_open_audit(fresh(audits.assigned_audits, scope=scope), audit_id)
        if following is not None:
            ss["aud_current"] = following
            ss[f"aud_notice_{following}"] = ("success", f"Case {case['crn']}: {message}")


if scope.role == "quality_lead":
    st.subheader("Progress")
    # cached until the next save or draw (0.4 s over a country's audits)
    progress = ui.query(audits.progress, None, scope=scope,
                        audit_version=fresh(readiness.audit_version))
    if progress.empty:
        st.caption("No sampled audits yet: draw a sample on the sample page.")
    else:
        audit_views.progress_tabs(progress)

listed = fresh(audits.assigned_audits, scope=scope)
if listed.empty:
    st.info(
        "No sampled cases are assigned to you yet. A quality lead assigns them when "
        "drawing a sample.",
        icon=":material/inbox:",
    )
    st.stop()
ui_auth.record_person_view(scope, "audit:assigned", {}, len(listed))
audit_views.headline(listed)
with st.expander("All my audits", icon=":material/list:"):
    st.dataframe(display_frame(listed, dates=True), hide_index=True, key="aud_list",
                 column_config={c: st.column_config.Column(
                     ui.readable(c), pinned=c == "crn") for c in listed.columns})

pick = audit_views.pick_audit(listed)
case = fresh(audits.audit_case, audit_id=pick, scope=scope)
if case is None:
    st.error("This audit is not one you can open.", icon=":material/block:")
    st.stop()
# each case opened is a view of one person's record: logged once per case and user
ui_auth.record_person_view(scope, f"audit:{pick}", {"audit_id": int(pick)}, 1)
scheme = ratings.load_scheme(case["scheme"])
questions = audits.questions_for_case(scheme, case)
saved = fresh(audits.audit_answers, audit_id=pick, scope=scope).set_index("key_question")
audit_views.fill_from_saved(pick, questions, saved)

audit_views.case_heading(case, scheme, len(saved), len(questions))
audit_views.notice(pick)
audit_views.question_form(pick, scheme, questions, ss.get(f"aud_errors_{pick}", {}), save)
