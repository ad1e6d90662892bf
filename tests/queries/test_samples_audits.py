"""Samples, audits and readiness queries on SQLite and PostgreSQL, checked against pandas
over the raw rows; saves checked for all-or-nothing behaviour and their audit_log rows.

Each backend gets its own small generated database (these tests write to it), so the
shared session fixtures stay untouched.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from sqlalchemy import Date, DateTime, func, select

from dashboard.access import auth
from dashboard.access.scope import scope_for
from dashboard.commands import audits as audit_commands
from dashboard.commands import judgements
from dashboard.commands import samples as sample_commands
from dashboard.commands.audits import SaveAudit
from dashboard.commands.samples import RedrawSample, SaveSample
from dashboard.commands.users import AddUser
from dashboard.core.filters import Filters
from dashboard.data import schema
from dashboard.hmip import ratings, sampling
from queries import audits, readiness, samples
from tests.backend_engines import small_demo_with_users
from tests.conftest import AS_OF, SEED

SCHEME = ratings.load_scheme("crc_2018")
WINDOW = (date(2026, 8, 1), date(2026, 10, 31))
NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
PERIOD = Filters(date(2025, 11, 1), date(2026, 10, 31))
# what every sample saved here shares (window, confidence, margin, scheme, who drew it)
SAMPLE = dict(window_start=WINDOW[0], window_end=WINDOW[1], confidence=0.8, margin=0.05,
              scheme="crc_2018", created_by="quality.lead")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(request, tmp_path_factory):
    eng = small_demo_with_users(request, tmp_path_factory, "samples", SEED, AS_OF)
    with eng.begin() as conn:
        if auth.get_user(conn, "auditor.sur1") is None:  # the demo has one per auditor
            AddUser(conn, "auditor.sur1", "Surrey auditor", "auditor").run()
    yield eng
    eng.dispose()


def raw(conn, name: str) -> pd.DataFrame:
    table = schema.metadata.tables[name]
    df = pd.DataFrame(
        conn.execute(select(table)).mappings().all(), columns=[c.name for c in table.c]
    )
    for col in table.c:
        if isinstance(col.type, Date | DateTime):
            df[col.name] = pd.to_datetime(df[col.name], utc=isinstance(col.type, DateTime))
    return df


def scope_of(conn, username: str):
    return scope_for(conn, auth.get_user(conn, username))


def count(conn, table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def active(people: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    return people[
        (people["start_date"] <= pd.Timestamp(end)) & (people["end_date"] >= pd.Timestamp(start))
    ]


@pytest.fixture(scope="module")
def kent_sample(engine):
    """A saved sample of Kent cases, shared by two auditors; returns (sample_id, members)."""
    with engine.connect() as conn:
        ql = scope_of(conn, "quality.lead")
        kent = samples.scope_office_ids(conn, None, 1)
        pop = samples.eligible_cases(conn, *WINDOW, kent, ql)
    drawn = sampling.draw_sample(pop, ratings.sample_size(0.8, 0.05, len(pop)), seed=1234)
    with engine.begin() as conn:
        sample_id = SaveSample(
            conn,
            name="Kent Q4",
            office_id=None,
            area_id=1,
            seed=1234,
            members=drawn,
            assign_to=["auditor.ken1", "auditor.sur1"],
            population=len(pop),
            now=NOW,
            **SAMPLE,
        ).run()
    return sample_id, drawn


# --- population and samples -----------------------------------------------------------------


def test_eligible_cases_are_those_active_in_the_window(engine):
    with engine.connect() as conn:
        ql, am_kent = scope_of(conn, "quality.lead"), scope_of(conn, "am.kent")
        people = raw(conn, "person_on_probation")
        offices = raw(conn, "office")
        kent = tuple(sorted(offices.loc[offices["area_id"] == 1, "id"]))
        assert samples.scope_office_ids(conn, None, 1) == kent
        got = samples.eligible_cases(conn, *WINDOW, kent, ql)
        strata = samples.population_strata(conn, *WINDOW, None)
        limited = samples.eligible_cases(conn, *WINDOW, None, am_kent)
    expected = active(people, *WINDOW)
    expected_kent = expected[expected["office_id"].isin(kent)]
    assert sorted(got["person_id"]) == sorted(expected_kent["id"])
    assert sorted(limited["person_id"]) == sorted(expected_kent["id"])  # scope applies
    crosstab = expected.groupby(list(sampling.STRATA)).size()
    assert (
        strata.set_index(list(sampling.STRATA))["population"].sort_index().tolist()
        == crosstab.sort_index().tolist()
    )
    with pytest.raises(samples.SampleError):
        samples.population_strata(conn, WINDOW[1], WINDOW[0], None)


def test_saved_sample_rows_and_log(engine, kent_sample):
    sample_id, drawn = kent_sample
    with engine.connect() as conn:
        members = raw(conn, "case_sample_member")
        audit_rows = raw(conn, "case_audit")
        log = raw(conn, "audit_log")
        listed = samples.samples(conn).set_index("sample_id")
        info = raw(conn, "case_sample").set_index("id").loc[sample_id]
        strata = samples.sample_strata(conn, sample_id)
    mine = members[members["sample_id"] == sample_id]
    assert sorted(mine["person_id"]) == sorted(drawn["person_id"])
    assert (
        mine.set_index("person_id")["stratum"]
        == drawn.set_index("person_id")["stratum"].reindex(mine["person_id"])
    ).all()
    drafts = audit_rows[audit_rows["sample_id"] == sample_id]
    assert len(drafts) == len(drawn) and (drafts["status"] == "draft").all()
    shares = drafts["auditor"].value_counts()
    assert set(shares.index) == {"auditor.ken1", "auditor.sur1"}
    assert shares.max() - shares.min() <= 1
    assert info["seed"] == 1234 and info["sample_size"] == len(drawn) and info["area_id"] == 1
    row = listed.loc[sample_id]
    assert (row["members"], row["audits_draft"], row["audits_complete"]) == (
        len(drawn),
        len(drawn),
        0,
    )
    assert row["scope"] == "Kent" and row["scheme"] == "crc_2018"
    drawn_log = log[
        (log["action"] == "sample_drawn") & (log["target"] == f"case_sample:{sample_id}")
    ]
    assert len(drawn_log) == 1
    assert strata["sample"].sum() == len(drawn) and strata["audited"].sum() == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"assign_to": ["nobody.here"]}, sample_commands.NotAnAuditorError,
         "not an enabled auditor"),
        ({"assign_to": []}, sample_commands.NoAuditorError, "at least one auditor"),
        ({"name": "  "}, sample_commands.SampleNameError, "name"),
        ({"name": "x" * 121}, sample_commands.SampleNameError, "too long"),
        ({"window_end": WINDOW[0], "window_start": WINDOW[1]}, samples.SampleWindowError,
         "ends before it starts"),
        ({"members": pd.DataFrame({"person_id": [], "stratum": []})},
         sample_commands.EmptySampleError, "no cases"),
        ({"members": pd.DataFrame({"person_id": [1, 1], "stratum": ["x", "x"]})},
         sample_commands.DuplicateCaseError, "twice"),
        ({"seed": -1}, sample_commands.SeedError, "seed"),
        ({"method": "guess"}, sample_commands.UnknownMethodError, "method"),
        ({"replace_sample_id": 999999}, sample_commands.SampleNotFoundError, "does not exist"),
    ],
)
def test_bad_sample_writes_nothing(engine, kwargs, error, message):
    def counts():
        with engine.connect() as conn:
            return [count(conn, t) for t in (schema.case_sample, schema.case_audit,
                                             schema.audit_log)]

    before = counts()
    drawn = pd.DataFrame({"person_id": [1, 2], "stratum": ["x", "y"]})
    args = dict(SAMPLE, name="Bad", office_id=None, area_id=None, seed=1, members=drawn,
                assign_to=["auditor.ken1"])
    args.update(kwargs)
    with pytest.raises(error, match=message), engine.begin() as conn:
        SaveSample(conn, **args).run()
    assert counts() == before


def test_redraw_replaces_only_a_sample_without_answers(engine):
    with engine.connect() as conn:
        pop = samples.eligible_cases(conn, *WINDOW, (3,), scope_of(conn, "quality.lead"))
    first = sampling.draw_sample(pop, 20, seed=5)
    common = dict(SAMPLE, name="Guildford", office_id=3, area_id=None,
                  assign_to=["auditor.ken1"])
    with engine.begin() as conn:
        sid = SaveSample(conn, seed=5, members=first, **common).run()
    second = sampling.draw_sample(pop, 20, seed=6)
    with engine.begin() as conn:
        assert (
            SaveSample(conn, seed=6, members=second, replace_sample_id=sid, **common).run()
            == sid
        )
    with engine.connect() as conn:
        members = samples.sample_members(conn, sid, scope_of(conn, "quality.lead"))
        assert sorted(members["person_id"]) == sorted(second["person_id"])
        audit_id = int(members["audit_id"].iloc[0])
        seed = conn.execute(
            select(schema.case_sample.c.seed).where(schema.case_sample.c.id == sid)
        ).scalar_one()
    assert seed == 6
    # one answer saved: the sample is now locked
    with engine.begin() as conn:
        SaveAudit(
            conn,
            scope_of(conn, "auditor.ken1"),
            audit_id,
            {"2.1a": ("sufficient", None)},
            complete=False,
            scheme=SCHEME,
            now=NOW,
        ).run()
    third = sampling.draw_sample(pop, 20, seed=7)
    with (
        pytest.raises(sample_commands.SampleLockedError, match="cannot be re-drawn"),
        engine.begin() as conn,
    ):
        SaveSample(conn, seed=7, members=third, replace_sample_id=sid, **common).run()
    with engine.connect() as conn:
        kept = samples.sample_members(conn, sid, scope_of(conn, "quality.lead"))
        assert sorted(kept["person_id"]) == sorted(second["person_id"])
        assert samples.answers_in_sample(conn, sid) == 1


def test_redraw_draws_again_with_a_new_seed_unless_locked_or_from_a_file(engine):
    common = dict(SAMPLE, office_id=3, area_id=None, assign_to=["auditor.sur1", "auditor.ken1"])
    with engine.connect() as conn:
        lead = scope_of(conn, "quality.lead")
        pop = samples.eligible_cases(conn, *WINDOW, (3,), lead)
    with engine.begin() as conn:
        sid = SaveSample(conn, name="Redrawn", seed=11, members=sampling.draw_sample(pop, 15, 11),
                         **common).run()
        from_file = SaveSample(conn, name="From a file", seed=12, source="long_list.csv",
                               members=sampling.draw_sample(pop, 15, 12), **common).run()
        logged_before = count(conn, schema.audit_log)
    with engine.begin() as conn:
        assert RedrawSample(conn, lead, sid, seed=13, reference_day=AS_OF,
                            fallback_scheme="pdu_2023", now=NOW).run() == sid
    with engine.connect() as conn:
        want, eligible = samples.draw_from_database(
            conn, method="custom_strata", window_start=WINDOW[0], window_end=WINDOW[1],
            office_ids=(3,), scope=lead, confidence=0.8, margin=0.05, seed=13,
            reference_day=AS_OF)
        members = samples.sample_members(conn, sid, lead)
        info = samples.samples(conn, sample_id=sid).iloc[0]
        log = raw(conn, "audit_log")
    assert sorted(members["person_id"]) == sorted(want["person_id"])
    assert set(members["auditor"]) == {"auditor.ken1", "auditor.sur1"}
    assert info["seed"] == 13 and info["scheme"] == "crc_2018" and info["name"] == "Redrawn"
    assert info["members"] == len(want) == info["audits_draft"]
    assert len(log) == logged_before + 1
    last = log.sort_values("id").iloc[-1]
    assert (last["action"], last["target"]) == ("sample_drawn", f"case_sample:{sid}")
    assert json.loads(last["detail"])["replaced"] is True
    assert json.loads(last["detail"])["population"] == eligible
    with (pytest.raises(sample_commands.SampleFromFileError, match="long_list.csv"),
          engine.begin() as conn):
        RedrawSample(conn, lead, from_file, seed=14, reference_day=AS_OF,
                     fallback_scheme="pdu_2023").run()
    with (pytest.raises(sample_commands.SampleNotFoundError), engine.begin() as conn):
        RedrawSample(conn, lead, 999999, seed=14, reference_day=AS_OF,
                     fallback_scheme="pdu_2023").run()
    with engine.begin() as conn:
        sur = scope_of(conn, "auditor.sur1")
        audit_id = int(audits.assigned_audits(conn, sur, sample_id=sid)["audit_id"].iloc[0])
        SaveAudit(conn, sur, audit_id, {"2.1a": ("sufficient", None)}, complete=False,
                  scheme=SCHEME, now=NOW).run()
    with (pytest.raises(sample_commands.SampleLockedError, match="cannot be re-drawn"),
          engine.begin() as conn):
        RedrawSample(conn, lead, sid, seed=15, reference_day=AS_OF,
                     fallback_scheme="pdu_2023").run()
    with engine.connect() as conn:
        kept = samples.sample_members(conn, sid, lead)
    assert sorted(kept["person_id"]) == sorted(want["person_id"])


# --- audits ---------------------------------------------------------------------------------


def test_auditors_see_only_their_own_audits(engine, kent_sample):
    sample_id, _ = kent_sample
    with engine.connect() as conn:
        ken, ql = scope_of(conn, "auditor.ken1"), scope_of(conn, "quality.lead")
        mine = audits.assigned_audits(conn, ken, sample_id=sample_id)
        everyone = audits.assigned_audits(conn, ql, sample_id=sample_id)
        all_audits = raw(conn, "case_audit")
        theirs = int(
            all_audits.loc[
                (all_audits["sample_id"] == sample_id) & (all_audits["auditor"] == "auditor.sur1"),
                "id",
            ].iloc[0]
        )
        assert audits.audit_case(conn, theirs, ken) is None
        assert audits.audit_case(conn, theirs, ql)["auditor"] == "auditor.sur1"
        assert audits.audit_answers(conn, theirs, ken).empty
    expected = all_audits[
        (all_audits["sample_id"] == sample_id) & (all_audits["auditor"] == "auditor.ken1")
    ]
    assert sorted(mine["audit_id"]) == sorted(expected["id"])
    assert len(everyone) == (all_audits["sample_id"] == sample_id).sum()
    with pytest.raises(audit_commands.AuditNotAssignedError), engine.begin() as conn:
        SaveAudit(conn, ken, theirs, {}, complete=False, scheme=SCHEME).run()
    with pytest.raises(audit_commands.RoleMayNotAuditError, match="role"), engine.begin() as conn:
        SaveAudit(
            conn, scope_of(conn, "am.kent"), theirs, {}, complete=False, scheme=SCHEME
        ).run()


@pytest.mark.parametrize(
    ("answers", "complete", "scheme", "error", "field"),
    [
        ({"2.1a": ("maybe", None)}, False, SCHEME, audit_commands.AnswerOutsideSchemeError,
         "2.1a"),
        ({"9.9z": ("sufficient", None)}, False, SCHEME,
         audit_commands.AnswerOutsideSchemeError, "9.9z"),
        ({"2.1a": ("sufficient", None)}, True, SCHEME, audit_commands.AnswerMissingError,
         "2.1b"),
        ({"2.1a": ("not_sufficient", " ")}, False, SCHEME, audit_commands.ReasonMissingError,
         "2.1a.reason"),
        ({"2.1a": ("not_sufficient", "x" * 2001)}, False, SCHEME,
         audit_commands.ReasonTooLongError, "2.1a.reason"),
        ({}, False, ratings.load_scheme("pdu_2023"), audit_commands.SchemeMismatchError,
         "scheme"),
    ],
)
def test_each_bad_save_raises_its_error_and_writes_nothing(
    engine, kent_sample, answers, complete, scheme, error, field
):
    sample_id, _ = kent_sample
    with engine.connect() as conn:
        sur = scope_of(conn, "auditor.sur1")
        audit_id = int(audits.assigned_audits(conn, sur, sample_id=sample_id)["audit_id"].iloc[-1])
        before = (count(conn, schema.audit_answer), count(conn, schema.audit_log))
        status = audits.audit_case(conn, audit_id, sur)["status"]
    with pytest.raises(error) as failure, engine.begin() as conn:
        SaveAudit(conn, sur, audit_id, answers, complete=complete, scheme=scheme).run()
    assert field in failure.value.errors
    with engine.connect() as conn:
        assert (count(conn, schema.audit_answer), count(conn, schema.audit_log)) == before
        assert audits.audit_case(conn, audit_id, sur)["status"] == status


def test_questions_follow_the_case():
    base = {"has_unpaid_work": False, "has_release": False}
    codes = [q.code for q in audits.questions_for_case(SCHEME, base)]
    assert codes[0] == "2.1a" and codes[-1] == "2.4c" and len(codes) == 12
    both = audits.questions_for_case(SCHEME, {"has_unpaid_work": True, "has_release": True})
    assert [q.code for q in both][-4:] == ["3.1a", "3.1b", "3.2a", "3.2b"]


def test_validation_messages_are_per_field():
    questions = audits.questions_for_case(SCHEME, {})
    draft = {
        "2.1a": ("not_sufficient", "  "),
        "2.1b": ("not_applicable", None),
        "2.1c": ("not_applicable", None),
        "9.9z": ("sufficient", None),
        "2.2a": ("maybe", None),
        "2.2b": ("not_sufficient", "x" * 2001),
    }
    errors = audit_commands.validate_answers(questions, draft, complete=False)
    assert errors == {
        "2.1a.reason": "Give the reason this is not sufficient.",
        "2.1b": "This question applies to every case: choose sufficient or not.",
        "9.9z": "9.9z is not a key question of this audit.",
        "2.2a": "Unknown answer 'maybe'.",
        "2.2b.reason": "Keep the reason under 2000 characters.",
    }
    complete = audit_commands.validate_answers(questions, {"2.1a": ("sufficient", None)}, True)
    assert set(complete) == {q.code for q in questions} - {"2.1a"}
    everything = {q.code: ("sufficient", None) for q in questions}
    assert audit_commands.validate_answers(questions, everything, complete=True) == {}


def test_save_audit_is_all_or_nothing_and_logged_once(engine, kent_sample):
    sample_id, _ = kent_sample
    with engine.connect() as conn:
        ken = scope_of(conn, "auditor.ken1")
        audit_id = int(audits.assigned_audits(conn, ken, sample_id=sample_id)["audit_id"].iloc[0])
        case = audits.audit_case(conn, audit_id, ken)
        logged_before = count(conn, schema.audit_log)
    questions = audits.questions_for_case(SCHEME, case)
    answers = {q.code: ("sufficient", None) for q in questions}
    answers["2.3c"] = ("not_sufficient", "")
    with pytest.raises(audit_commands.ReasonMissingError) as failure, engine.begin() as conn:
        SaveAudit(conn, ken, audit_id, answers, complete=True, scheme=SCHEME).run()
    assert failure.value.errors == {"2.3c.reason": "Give the reason this is not sufficient."}
    with engine.connect() as conn:
        assert audits.audit_answers(conn, audit_id, ken).empty
        assert count(conn, schema.audit_log) == logged_before
    answers["2.3c"] = ("not_sufficient", "Safeguarding checks missing")
    answers["2.1a"] = ("sufficient", "ignored: only not sufficient keeps a reason")
    with engine.begin() as conn:
        save = SaveAudit(conn, ken, audit_id, answers, complete=True, scheme=SCHEME, now=NOW)
        stored = save.run()
    assert stored == len(questions)
    with engine.connect() as conn:
        saved = audits.audit_answers(conn, audit_id, ken).set_index("key_question")
        status = conn.execute(
            select(schema.case_audit.c.status).where(schema.case_audit.c.id == audit_id)
        ).scalar_one()
        log = raw(conn, "audit_log")
    assert status == "complete" and len(saved) == len(questions)
    assert saved.loc["2.3c", "reason"] == "Safeguarding checks missing"
    assert pd.isna(saved.loc["2.1a", "reason"])
    rows = log[(log["action"] == "audit_saved") & (log["target"] == f"case_audit:{audit_id}")]
    assert len(rows) == 1 and rows["username"].item() == "auditor.ken1"
    # a later draft save replaces the answers (no duplicates, unique per question)
    with engine.begin() as conn:
        SaveAudit(
            conn,
            ken,
            audit_id,
            {"2.1a": ("not_sufficient", "Late")},
            complete=False,
            scheme=SCHEME,
            now=NOW,
        ).run()
    with engine.connect() as conn:
        again = audits.audit_answers(conn, audit_id, ken)
    assert again[["key_question", "answer"]].values.tolist() == [["2.1a", "not_sufficient"]]
    with engine.begin() as conn:  # back to complete for the readiness checks below
        SaveAudit(conn, ken, audit_id, answers, complete=True, scheme=SCHEME, now=NOW).run()


# --- readiness ------------------------------------------------------------------------------


def expected_counts(answers: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = answers.assign(
        applicable=(answers["answer"] != "not_applicable").astype(int),
        sufficient=(answers["answer"] == "sufficient").astype(int),
    )
    return out.groupby(keys)[["applicable", "sufficient"]].sum().sort_index()


def joined(conn) -> pd.DataFrame:
    """Answers with their audit, the person's crn and the office (and area) holding the
    case on the audit date (its allocation then)."""
    audit_rows = raw(conn, "case_audit").rename(columns={"id": "audit_id"})
    people = raw(conn, "person_on_probation").rename(columns={"id": "person_id"})
    offices = raw(conn, "office").rename(columns={"id": "office_id", "name": "office"})
    alloc = raw(conn, "case_allocation")[["person_id", "office_id", "start_date", "end_date"]]
    audits = audit_rows.merge(alloc, on="person_id", suffixes=("", "_held"))
    audits = audits[(audits["start_date"] <= audits["audit_date"])
                    & (audits["end_date"].isna() | (audits["end_date"] >= audits["audit_date"]))]
    assert audits["audit_id"].is_unique  # one allocation on each audit date
    return (
        raw(conn, "audit_answer")
        .merge(audits.drop(columns=["start_date", "end_date"]), on="audit_id")
        .merge(people[["person_id", "crn"]], on="person_id")
        .merge(offices[["office_id", "office", "area_id"]], on="office_id")
    )


def test_readiness_counts_on_period_and_sample(engine, kent_sample):
    sample_id, _ = kent_sample
    with engine.connect() as conn:
        by_office = readiness.key_question_counts(conn, PERIOD, sample_id=None)
        in_sample = readiness.key_question_counts(conn, PERIOD, sample_id=sample_id, level="region")
        quarters = readiness.trend_counts(conn, PERIOD, by="quarter")
        per_sample = readiness.trend_counts(conn, PERIOD, by="sample")
        rows = joined(conn)
    done = rows[rows["status"] == "complete"]
    period = done[(done["audit_date"] >= "2025-11-01") & (done["audit_date"] <= "2026-10-31")]
    want = expected_counts(period, ["office", "key_question"])
    got = by_office.set_index(["office", "key_question"])[["applicable", "sufficient"]]
    pd.testing.assert_frame_equal(
        got.sort_index().astype("int64"), want.astype("int64"), check_names=False
    )
    want_sample = expected_counts(done[done["sample_id"] == sample_id], ["key_question"])
    got_sample = in_sample.set_index("key_question")[["applicable", "sufficient"]]
    pd.testing.assert_frame_equal(
        got_sample.sort_index().astype("int64"), want_sample.astype("int64"), check_names=False
    )
    # quarters follow the chosen period: every audit up to its end, none after it
    upto = done[done["audit_date"] <= "2026-10-31"]
    assert len(upto) < len(done) or done["audit_date"].max() <= pd.Timestamp("2026-10-31")
    q = upto.assign(
        period=upto["audit_date"].dt.year.astype(str)
        + " Q"
        + ((upto["audit_date"].dt.month - 1) // 3 + 1).astype(str)
    )
    want_q = expected_counts(q, ["period", "key_question"])
    got_q = quarters.set_index(["period", "key_question"])[["applicable", "sufficient"]]
    pd.testing.assert_frame_equal(
        got_q.sort_index().astype("int64"), want_q.astype("int64"), check_names=False
    )
    assert set(per_sample["period"]) == {"Kent Q4"} | (
        {"Guildford"}
        if (done["sample_id"].notna() & (done["sample_id"] != sample_id)).any()
        else set()
    )
    assert readiness.quarter_of("2026-10") == "2026 Q4"
    assert readiness.quarter_of("2026-01") == "2026 Q1"


def test_not_sufficient_cases_follow_the_scope(engine, kent_sample):
    with engine.connect() as conn:
        ql, am_kent = scope_of(conn, "quality.lead"), scope_of(conn, "am.kent")
        admin, ken = scope_of(conn, "admin"), scope_of(conn, "auditor.ken1")
        every = readiness.not_sufficient_cases(conn, PERIOD, ql)
        kent = readiness.not_sufficient_cases(conn, PERIOD, am_kent)
        none = readiness.not_sufficient_cases(conn, PERIOD, admin)
        own = readiness.not_sufficient_cases(conn, PERIOD, ken)
        rows = joined(conn)
        people = raw(conn, "person_on_probation").set_index("id")["crn"]
        assigned = raw(conn, "case_audit")
    bad = rows[
        (rows["status"] == "complete")
        & (rows["answer"] == "not_sufficient")
        & (rows["audit_date"] >= "2025-11-01")
        & (rows["audit_date"] <= "2026-10-31")
    ]
    assert len(every) == len(bad)
    assert sorted(kent["audit_id"]) == sorted(bad.loc[bad["area_id"] == 1, "audit_id"])
    assert none.empty
    # an auditor's person scope: the people in audits assigned to them
    theirs = people.reindex(assigned.loc[assigned["auditor"] == "auditor.ken1", "person_id"])
    assert len(own) and set(own["crn"]) <= set(theirs)
    assert every["reason"].notna().all()


def test_evidence_frames_for_a_sample(engine, kent_sample):
    sample_id, drawn = kent_sample
    with engine.connect() as conn:
        frames = readiness.evidence_frames(
            conn, PERIOD, scope_of(conn, "quality.lead"), sample_id=sample_id
        )
        people = raw(conn, "person_on_probation")
        offices = raw(conn, "office")
    kent_people = active(people, *WINDOW)
    kent_people = kent_people[
        kent_people["office_id"].isin(offices.loc[offices["area_id"] == 1, "id"])
    ]
    strata = frames["strata"]
    assert strata["population"].sum() == len(kent_people)
    assert strata["sample"].sum() == len(drawn)
    assert strata["audited"].sum() >= 1
    assert len(frames["sample"]) == len(drawn)
    assert "seed 1234" in frames["method"]["Sample"]
    assert frames["answers"]["key_question"].notna().all()


def record(conn, *args, **kwargs) -> int:
    """A judgement through the command, as the readiness page records it."""
    return judgements.RecordJudgement(conn, *args, **kwargs).run()


def test_judgements_record_latest_and_validate(engine):
    with engine.connect() as conn:
        ql, ce = scope_of(conn, "quality.lead"), scope_of(conn, "chief.exec")
    errors = judgements.validate_judgement(SCHEME, "2.1", None, "", "ftp://x")
    assert set(errors) == {"standard", "rating", "notes", "evidence_link"}
    with pytest.raises(PermissionError), engine.begin() as conn:
        record(conn, SCHEME, "1.1", "Good", "Notes", None, None, ce)
    with pytest.raises(judgements.JudgementError), engine.begin() as conn:
        record(conn, SCHEME, "1.1", "Good", "", None, None, ql)
    with engine.begin() as conn:
        record(conn,
            SCHEME,
            "1.1",
            "Requires improvement",
            "Board minutes",
            "https://intranet.example/board",
            None,
            ql,
            now=datetime(2026, 11, 1, tzinfo=UTC),
        )
        record(conn,
            SCHEME,
            "1.1",
            "Good",
            "After the new plan",
            None,
            None,
            ql,
            now=datetime(2026, 11, 20, tzinfo=UTC),
        )
        record(conn, SCHEME, "1.2", "Inadequate", "Vacancies", None, 1, ql)
    with engine.connect() as conn:
        region = readiness.judgements(conn, "crc_2018").set_index("standard")
        kent = readiness.judgements(conn, "crc_2018", area_id=1).set_index("standard")
        log = raw(conn, "audit_log")
    assert region.loc["1.1", "rating"] == "Good" and "1.2" not in region.index
    assert kent.loc["1.2", "rating"] == "Inadequate" and "1.1" not in kent.index
    assert (log["action"] == "judgement_recorded").sum() == 3


def test_audited_strata_for_one_office_counts_distinct_cases_held_there(engine):
    """Per stratum, distinct people with a completed audit in the period at the office that
    held the case on the audit date (before: the office filter ran over a cartesian product
    with every allocation row)."""
    with engine.connect() as conn:
        rows = joined(conn)
        people = raw(conn, "person_on_probation").rename(columns={"id": "person_id"})
    done = rows[(rows["status"] == "complete") & (rows["scheme"] == "crc_2018")
                & (rows["audit_date"] >= "2025-11-01") & (rows["audit_date"] <= "2026-10-31")]
    office_id = int(done["office_id"].value_counts().index[0])
    mine = done[done["office_id"] == office_id].drop_duplicates("audit_id")
    mine = mine.merge(people[["person_id", "sentence_type", "rosh_level", "gender"]],
                      on="person_id")
    want = mine.groupby(["sentence_type", "rosh_level", "gender"])["person_id"].nunique()
    f = Filters(PERIOD.start, PERIOD.end, office_ids=(office_id,))
    with engine.connect() as conn:
        got = readiness.audited_strata(conn, f).set_index(
            ["sentence_type", "rosh_level", "gender"])["audited"]
    assert want.sum() > 0
    pd.testing.assert_series_equal(got.sort_index().astype("int64"),
                                   want.sort_index().astype("int64"), check_names=False)
