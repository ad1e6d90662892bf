"""Demo case audits: each office's monthly audits of the crc_2018 key questions, and two
drawn samples (HMIP method) with draft audits for the demo auditor."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from dashboard.data import schema
from dashboard.demo.bulk import Ids

SCHEME = "crc_2018"
# Key questions of the crc_2018 scheme sampled by the demo audits, with the base chance a
# case is judged sufficient (calibrated: keeping-others-safe is weakest; KSS 2024 found
# 22 % on implementation and delivery for safety).
KEY_QUESTION_BASE = {
    "2.1a": 0.80, "2.1b": 0.70, "2.1c": 0.52,
    "2.2a": 0.76, "2.2b": 0.66, "2.2c": 0.47,
    "2.3a": 0.74, "2.3b": 0.62, "2.3c": 0.24,
    "2.4a": 0.70, "2.4b": 0.60, "2.4c": 0.42,
}
SAFETY_QUESTIONS = {"2.1c", "2.2c", "2.3c", "2.4c"}
NOT_SUFFICIENT_REASONS = (
    "Risk assessment not reviewed after a change in circumstances",
    "No evidence of engagement with the person's views",
    "Domestic abuse enquiries not made or not followed up",
    "Safeguarding checks with children's services missing",
    "Plan does not address the main factors linked to offending",
    "Contact levels not matched to the risk of serious harm",
    "Review not completed after a significant event",
)




def audits_of_office(rng, ids, people, months, as_of,
                     area_code) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(case_audit rows, audit_answer rows): a few complete crc_2018 audits of the office's
    people each month, by the area's three demo auditors."""
    office_effect = float(rng.normal(0, 0.07))
    trend = float(rng.normal(0.002, 0.004))  # change in chance of sufficient per month
    auditors = [f"auditor.{area_code.lower()[:3]}{i}" for i in (1, 2, 3)]
    start = people["start_date"].to_numpy().astype("datetime64[D]")
    end = people["end_date"].to_numpy().astype("datetime64[D]")
    audit_rows, answer_rows = [], []
    questions = list(KEY_QUESTION_BASE)
    for m, month in enumerate(months):
        mid = np.datetime64(month + timedelta(days=14))
        eligible = np.flatnonzero((start <= mid - 150) & (end >= mid))
        k = min(len(eligible), int(rng.poisson(5)) + 2)
        chosen = rng.choice(eligible, k, replace=False)
        for idx in chosen:
            audit_day = month + timedelta(days=int(rng.integers(0, 27)))
            if audit_day > as_of:
                audit_day = as_of
            audit_id = int(ids.take("case_audit", 1)[0])
            audit_rows.append({"id": audit_id, "person_id": int(people["id"].iloc[idx]),
                               "sample_id": None, "auditor": str(rng.choice(auditors)),
                               "audit_date": audit_day, "status": "complete",
                               "scheme": SCHEME})
            low_risk = people["rosh_level"].iloc[idx] == "low"
            no_review = rng.random() < 0.12
            case_effect = rng.normal(0, 0.08)
            for q in questions:
                if (q in SAFETY_QUESTIONS and rng.random() < (0.3 if low_risk else 0.03)) or (
                        q.startswith("2.4") and no_review):
                    answer, reason = "not_applicable", None
                else:
                    p = KEY_QUESTION_BASE[q] + office_effect + trend * m + case_effect
                    ok = rng.random() < np.clip(p, 0.03, 0.97)
                    answer = "sufficient" if ok else "not_sufficient"
                    reason = None if ok else str(rng.choice(NOT_SUFFICIENT_REASONS))
                answer_rows.append({"audit_id": audit_id, "standard": q[:3],
                                    "key_question": q, "answer": answer, "reason": reason})
    audits = pd.DataFrame(audit_rows)
    answers = pd.DataFrame(answer_rows)
    if not answers.empty:
        answers.insert(0, "id", ids.take("audit_answer", len(answers)))
    return audits, answers


# --- drawn samples for the auditor workflow (issue 13) -----------------------------------

DEMO_SAMPLE_AUDITED = 0.4  # share of a demo sample's audits with answers saved
DEMO_SAMPLE_SCHEME = "pdu_2023"  # new samples answer the current PDU framework


def add_demo_samples(conn, as_of: date, seed: int, ids: Ids | None = None) -> int:
    """Two drawn samples (HMIP method) with draft audits for the demo auditor, so an
    auditor has work on first sign-in and the quality lead sees progress: one of the
    whole region, one of the first area. About DEMO_SAMPLE_AUDITED of each sample's
    audits have some answers saved (drafts); none is complete, so no rating changes.

    The demo auditor is the first auditor named in the demo audits (the account
    accounts.create_demo_users makes). Returns the number of sample audits created.
    """
    from dashboard.access.scope import Scope
    from dashboard.hmip import hmip_sampling, ratings
    from queries import samples as sample_queries

    auditor = conn.execute(
        select(schema.case_audit.c.auditor).distinct().order_by(schema.case_audit.c.auditor)
    ).scalars().first()
    if auditor is None:
        return 0
    everyone = Scope("demo-data", "quality_lead", None, None, False, True)
    rng = np.random.default_rng([seed, 13])
    window = (as_of - timedelta(weeks=10), as_of)
    first_area = conn.execute(select(func.min(schema.area.c.id))).scalar()
    area_offices = tuple(conn.execute(
        select(schema.office.c.id).where(schema.office.c.area_id == first_area)
    ).scalars())
    made = 0
    next_sample = int(conn.execute(
        select(func.coalesce(func.max(schema.case_sample.c.id), 0))).scalar()) + 1
    for k, (name, area_id, office_ids) in enumerate([
        ("Region, HMIP method (demo)", None, None),
        ("First area, HMIP method (demo)", first_area, area_offices),
    ]):
        cases = sample_queries.hmip_long_list(conn, *window, office_ids, everyone)
        eligible, _ = hmip_sampling.prepare(cases, as_of)
        if eligible.empty:
            continue
        n = ratings.sample_size(0.8, 0.05, population=len(eligible))
        sample_seed = int(rng.integers(0, 2**31 - 1))
        drawn = hmip_sampling.draw(cases, n, sample_seed, as_of)
        sample_id = next_sample + k
        conn.execute(schema.case_sample.insert().values(
            id=sample_id, name=name, office_id=None, area_id=area_id,
            window_start=window[0], window_end=window[1], confidence=0.8, margin=0.05,
            sample_size=len(drawn.sample), seed=sample_seed, created_by="quality.lead",
            created_at=pd.Timestamp(as_of).tz_localize("UTC").to_pydatetime(),
            method="hmip", buffer_pct=0.0,
            eligibility_rule=sample_queries.HMIP_WINDOW_RULE + hmip_sampling.ELIGIBILITY_RULE,
        ))
        people = [int(p) for p in drawn.sample["person_id"]]
        labels = drawn.sample["stratum"].map(hmip_sampling.STRATUM_LABELS)
        conn.execute(schema.case_sample_member.insert(), [
            {"sample_id": sample_id, "person_id": p, "stratum": str(label)}
            for p, label in zip(people, labels, strict=True)])
        audit_ids = (ids.take("case_audit", len(people)) if ids is not None else
                     np.arange(len(people)) + 1 + int(conn.execute(
                         select(func.coalesce(func.max(schema.case_audit.c.id), 0))).scalar()))
        conn.execute(schema.case_audit.insert(), [
            {"id": int(a), "person_id": p, "sample_id": sample_id, "auditor": auditor,
             "audit_date": as_of, "status": "draft", "scheme": DEMO_SAMPLE_SCHEME}
            for a, p in zip(audit_ids, people, strict=True)])
        answers = []
        for a in audit_ids[rng.random(len(audit_ids)) < DEMO_SAMPLE_AUDITED]:
            for q in list(KEY_QUESTION_BASE)[: int(rng.integers(1, 6))]:
                ok = rng.random() < KEY_QUESTION_BASE[q]
                answers.append({
                    "audit_id": int(a), "standard": q[:3], "key_question": q,
                    "answer": "sufficient" if ok else "not_sufficient",
                    "reason": None if ok else str(rng.choice(NOT_SUFFICIENT_REASONS))})
        if answers:
            answer_ids = (ids.take("audit_answer", len(answers)) if ids is not None else
                          np.arange(len(answers)) + 1 + int(conn.execute(select(
                              func.coalesce(func.max(schema.audit_answer.c.id), 0))).scalar()))
            for row, i in zip(answers, answer_ids, strict=True):
                row["id"] = int(i)
            conn.execute(schema.audit_answer.insert(), answers)
        made += len(people)
    return made

