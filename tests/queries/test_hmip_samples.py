"""HMIP-method samples on SQLite and PostgreSQL: the long list against pandas over the raw
rows, a saved sample records its method, window and eligibility rule, the demo samples
give the demo auditor work, and audit progress per sample and auditor matches pandas."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
from sqlalchemy import select

from dashboard.access import auth
from dashboard.access.scope import scope_for
from dashboard.commands.samples import SaveSample
from dashboard.data import schema
from dashboard.hmip import hmip_sampling, ratings
from queries import audits, samples
from tests.backend_engines import small_demo_fixture
from tests.conftest import AS_OF, SEED

WINDOW = (date(2026, 8, 21), date(2026, 10, 31))
NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


engine = small_demo_fixture("hmip", seed=SEED, as_of=AS_OF, users=True)


def table(conn, name: str) -> pd.DataFrame:
    t = schema.metadata.tables[name]
    return pd.DataFrame(conn.execute(select(t)).mappings().all(), columns=[c.name for c in t.c])


def lead(conn):
    return scope_for(conn, auth.get_user(conn, "quality.lead"))


def test_long_list_is_the_cases_started_in_the_window(engine):
    with engine.connect() as conn:
        got = samples.hmip_long_list(conn, *WINDOW, None, lead(conn))
        people = table(conn, "person_on_probation")
        staff = table(conn, "staff_member")
        offices = table(conn, "office")
    start = pd.to_datetime(people["start_date"])
    want = people[(start >= pd.Timestamp(WINDOW[0])) & (start <= pd.Timestamp(WINDOW[1]))]
    assert sorted(got["person_id"]) == sorted(want["id"])
    # listed by start date then CRN: HMIP's tie-break order is the list order
    order = want.assign(start_date=pd.to_datetime(want["start_date"])).sort_values(
        ["start_date", "crn"]
    )
    assert list(got["crn"]) == list(order["crn"])
    refs = dict(zip(staff["id"], staff["staff_ref"], strict=True))
    officer = [
        refs.get(o, "Unallocated") if pd.notna(o) else "Unallocated" for o in order["officer_id"]
    ]
    assert list(got["officer"]) == officer
    names = dict(zip(offices["id"], offices["name"], strict=True))
    assert list(got["office"]) == [names[o] for o in order["office_id"]]
    assert set(got["sentence_group"]) <= {hmip_sampling.COMMUNITY, hmip_sampling.POST_CUSTODY}
    assert (got["rosh_low"] == (got["rosh_level"] == "low")).all()


def test_demo_samples_are_assigned_to_the_demo_auditor(engine):
    with engine.connect() as conn:
        saved = samples.samples(conn)
        demo_auditor = auth.get_user(conn, "auditor.ken1")
        mine = audits.assigned_audits(conn, scope_for(conn, demo_auditor))
        audit_rows = table(conn, "case_audit")
        answers = table(conn, "audit_answer")
    demo = saved[saved["name"].str.endswith("(demo)")]
    assert len(demo) == 2 and set(demo["method"]) == {"hmip"}
    in_samples = audit_rows[audit_rows["sample_id"].isin(demo["sample_id"])]
    assert set(in_samples["auditor"]) == {"auditor.ken1"}
    assert (in_samples["status"] == "draft").all()
    assert len(mine) == len(in_samples) > 0
    # some drafts have answers (work in progress), none is complete
    started = answers[answers["audit_id"].isin(in_samples["id"])]["audit_id"].nunique()
    assert 0 < started < len(in_samples)


def test_hmip_sample_saved_with_method_window_and_rule(engine):
    # HMIP's method from the database, 80 % confidence, 5 points margin, a 10 % buffer
    draw = dict(method="hmip", window_start=WINDOW[0], window_end=WINDOW[1], confidence=0.8,
                margin=0.05, seed=99, buffer_pct=10.0)
    with engine.begin() as conn:
        members, eligible = samples.draw_from_database(
            conn, office_ids=None, scope=lead(conn), reference_day=AS_OF, **draw
        )
        sid = SaveSample(
            conn,
            name="HMIP test",
            office_id=None,
            area_id=None,
            members=members,
            assign_to=["auditor.ken1"],
            scheme="pdu_2023",
            created_by="quality.lead",
            population=eligible,
            now=NOW,
            **draw,
        ).run()
        row = samples.samples(conn).set_index("sample_id").loc[sid]
        stored = table(conn, "case_sample_member")
    n = ratings.sample_size(0.8, 0.05, population=eligible)
    assert row["method"] == "hmip" and row["buffer_pct"] == 10.0
    assert row["window_start"] == WINDOW[0] and row["window_end"] == WINDOW[1]
    assert "at most 6 cases per responsible officer" in row["eligibility_rule"]
    assert "started in the window" in row["eligibility_rule"]
    assert len(members) <= n + hmip_sampling.buffer_for(n, 10.0)
    mine = stored[stored["sample_id"] == sid]
    assert set(mine["stratum"]) <= set(hmip_sampling.STRATUM_LABELS.values())
    # the same seed draws the same cases again
    with engine.connect() as conn:
        again, _ = samples.draw_from_database(
            conn, office_ids=None, scope=lead(conn), reference_day=AS_OF, **draw
        )
    assert sorted(again["person_id"]) == sorted(mine["person_id"])


def test_progress_per_sample_and_auditor_matches_pandas(engine):
    with engine.connect() as conn:
        got = audits.progress(conn, lead(conn))
        audit_rows = table(conn, "case_audit")
        answers = table(conn, "audit_answer")
    rows = audit_rows[audit_rows["sample_id"].notna()].copy()
    answered = set(answers["audit_id"])
    rows["done"] = rows["status"] == "complete"
    rows["started"] = ~rows["done"] & rows["id"].isin(answered)
    want = (
        rows.groupby(["sample_id", "auditor"])
        .agg(audits=("id", "size"), complete=("done", "sum"), in_progress=("started", "sum"))
        .reset_index()
    )
    got = got.set_index(["sample_id", "auditor"]).sort_index()
    want = want.set_index(["sample_id", "auditor"]).sort_index()
    assert got["audits"].tolist() == want["audits"].tolist()
    assert got["complete"].tolist() == want["complete"].tolist()
    assert got["in_progress"].tolist() == want["in_progress"].tolist()
    assert (got["not_started"] == got["audits"] - got["complete"] - got["in_progress"]).all()


def test_next_open_audit_skips_complete_and_wraps():
    listed = pd.DataFrame(
        {"audit_id": [5, 6, 7, 8], "status": ["draft", "complete", "draft", "complete"]}
    )
    assert audits.next_open_audit(listed, 5) == 7
    assert audits.next_open_audit(listed, 7) == 5
    assert audits.next_open_audit(listed.iloc[[1, 3]], 6) is None
