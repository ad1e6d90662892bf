"""Inspection readiness pages (AppTest): a quality lead draws a sample, an auditor saves an
audit (a validation error, then a correction), the readiness figures match pandas over the
raw rows, and the evidence pack opens with the figures shown on screen.

These tests write to the database, so they run on their own copy of the demo file.
"""

from __future__ import annotations

import io
import json
import math
from datetime import date, timedelta
from statistics import NormalDist

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, select
from streamlit.runtime import media_file_manager, memory_media_file_storage

from dashboard.data.schema import audit_log
from dashboard.hmip import sampling
from tests.pages.apphelp import copy_of_demo, metric, open_app

AS_OF = date(2026, 10, 31)
PERIOD = (pd.Timestamp("2025-11-01"), pd.Timestamp("2026-10-31"))
BANDS = ((80, "Outstanding"), (65, "Good"), (50, "Requires improvement"), (0, "Inadequate"))
TABLES = (
    "area",
    "office",
    "person_on_probation",
    "case_sample",
    "case_sample_member",
    "case_audit",
    "audit_answer",
    "audit_log",
    "app_user",
)


@pytest.fixture(scope="module")
def app_url(demo_sqlite_url, tmp_path_factory):
    return copy_of_demo(demo_sqlite_url,
                        tmp_path_factory.mktemp("inspection") / "inspection.sqlite")


def raw(url: str) -> dict[str, pd.DataFrame]:
    eng = create_engine(url)
    out = {}
    with eng.connect() as conn:
        for name in TABLES:
            df = pd.read_sql_table(name, conn)
            for col in df.columns:
                if col.endswith("date") or col.startswith("window_"):
                    df[col] = pd.to_datetime(df[col])
            out[name] = df
    eng.dispose()
    return out


def picker(at):
    """The audit page's case picker (its key changes after each save)."""
    return next(s for s in at.selectbox if s.label == "Open a case")


def ordered(at) -> list:
    """Every element on the page in display order."""
    return [node for node in at.main if hasattr(node, "type")]


@pytest.fixture(scope="module")
def drawn(app_url):
    """The quality lead draws and saves a sample on the page; returns what was shown."""
    at = open_app(app_url, page="pages/sample.py", user="quality.lead")
    assert not at.exception
    assert at.radio(key="smp_method").value == "hmip"  # HMIP's method is the default
    at.radio(key="smp_method").set_value("custom_strata").run()
    shown = {
        "N": metric(at, "Eligible cases (N)"),
        "n": metric(at, "Sample size (n)"),
        "seed": int(at.number_input(key="smp_seed").value),
        "strata": at.dataframe[0].value.copy(),
        "strata_columns": json.loads(at.dataframe[0].proto.columns),
        "formula": [m.value for m in at.markdown if "Sample size formula" in m.value],
    }
    # new samples answer the current PDU framework unless the lead chooses otherwise
    assert at.selectbox(key="smp_scheme").value == "pdu_2023"
    options = at.selectbox(key="smp_scheme").options
    assert "HMIP PDU inspections (2023 standards)" in options
    assert "HMIP regional probation inspections (2023 standards)" not in options
    at.selectbox(key="smp_scheme").set_value("crc_2018")
    at.text_input(key="smp_name").set_value("Region Q4 2026")
    at.form_submit_button[0].click().run()
    assert not at.exception
    shown["success"] = [s.value for s in at.success]
    shown["after"] = raw(app_url)
    return shown


def test_hmip_method_is_the_default_and_shows_its_allocation(app_url):
    """Read-only: the default draw, its figures against pandas over the raw rows."""
    at = open_app(app_url, page="pages/sample.py", user="quality.lead")
    assert not at.exception
    assert at.radio(key="smp_method").value == "hmip"
    tables = raw(app_url)
    people = tables["person_on_probation"]
    start = pd.Timestamp(AS_OF - timedelta(weeks=10))
    started = people[
        (people["start_date"] >= start) & (people["start_date"] <= pd.Timestamp(AS_OF))
    ]
    eligible = len(started)
    z = NormalDist().inv_cdf(0.9)
    n0 = z * z * 0.25 / 0.05**2
    n = math.ceil(n0 / (1 + (n0 - 1) / eligible))
    assert metric(at, "Eligible cases (N)") == f"{eligible:,}"
    assert metric(at, "Sample size (n)") == f"{n:,}"
    strata = at.dataframe[0].value  # tabs: strata, offices, breakdown
    assert strata["drawn"].sum() == n and strata["available"].sum() == eligible
    # HMIP's five strata, counted here from the raw rows
    male = started["gender"] == "male"
    community = started["sentence_type"].isin(["community_order", "suspended_sentence_order"])
    low = started["rosh_level"] == "low"
    want = [
        (male & community & ~low).sum(),
        (male & community & low).sum(),
        (male & ~community & ~low).sum(),
        (male & ~community & low).sum(),
        (~male).sum(),
    ]
    assert strata["available"].tolist() == want
    breakdown = at.dataframe[2].value
    officers = breakdown[breakdown["level"] == "officer"]
    assert officers["drawn"].sum() == n
    assert officers.groupby("officer")["drawn"].sum().max() <= 6
    assert not [w for w in at.warning if w.value.startswith("Shortfall")]


def test_quality_lead_draws_a_stratified_reproducible_sample(app_url, drawn):
    tables = drawn["after"]
    people = tables["person_on_probation"]
    start = pd.Timestamp(AS_OF - timedelta(weeks=10))
    active = people[(people["start_date"] <= pd.Timestamp(AS_OF)) & (people["end_date"] >= start)]
    population = len(active)
    z = NormalDist().inv_cdf(0.9)  # 80 % two-sided
    n0 = z * z * 0.25 / 0.05**2
    n = math.ceil(n0 / (1 + (n0 - 1) / population))
    assert drawn["N"] == f"{population:,}"
    assert drawn["n"] == f"{n:,}"
    assert drawn["formula"] and f"rounded up to {n:,} cases" in drawn["formula"][0]
    assert drawn["success"] and drawn["success"][0].startswith("Saved sample")

    # strata shown against the population, computed here with pandas
    keys = ["sentence_type", "rosh_level", "gender"]
    strata = drawn["strata"].set_index(keys)
    crosstab = active.groupby(keys).size()
    assert strata["population"].sort_index().tolist() == crosstab.sort_index().tolist()
    assert strata["sample"].sum() == n
    assert ((strata["sample"] - n * strata["population"] / population).abs() < 1).all()
    # counts shown as the cards write them: 12,345, not 12345
    for column, label in (("population", "Cases (population)"), ("sample", "Cases drawn")):
        config = drawn["strata_columns"][column]
        assert config["label"] == label
        assert config["type_config"]["format"] == "%,d"

    # stored: the seed, the members (their strata as shown), draft audits, one log row
    sample = tables["case_sample"].iloc[-1]
    assert sample["seed"] == drawn["seed"] and sample["sample_size"] == n
    assert sample["window_start"] == start and sample["created_by"] == "quality.lead"
    members = tables["case_sample_member"]
    members = members[members["sample_id"] == sample["id"]].merge(
        people, left_on="person_id", right_on="id"
    )
    assert (
        members.groupby(keys).size().sort_index().tolist()
        == strata.loc[strata["sample"] > 0, "sample"].sort_index().tolist()
    )
    # reproducible: the stored seed redraws exactly these cases from the population
    again = sampling.draw_sample(
        active.rename(columns={"id": "person_id"})[["person_id", *keys]], n, int(sample["seed"])
    )
    assert sorted(again["person_id"]) == sorted(members["person_id"])
    audit_rows = tables["case_audit"]
    drafts = audit_rows[audit_rows["sample_id"] == sample["id"]]
    assert len(drafts) == n and (drafts["status"] == "draft").all()
    # shared in turn between every auditor account (the page's default choice)
    auditors = tables["app_user"].query("role == 'auditor' and not disabled")["username"]
    assert set(drafts["auditor"]) == set(auditors) and len(set(auditors)) > 1
    log = tables["audit_log"]
    assert (
        (log["action"] == "sample_drawn") & (log["target"] == f"case_sample:{sample['id']}")
    ).sum() == 1


def test_auditor_saves_with_an_error_then_a_correction(app_url, drawn):
    at = open_app(app_url, page="pages/audit.py", user="auditor.ken1")
    assert not at.exception
    before = raw(app_url)
    mine = before["case_audit"]
    mine = mine[(mine["auditor"] == "auditor.ken1") & mine["sample_id"].notna()]
    assert metric(at, "Assigned audits") == f"{len(mine):,}"
    audit_id = picker(at).value
    assert audit_id in set(mine["id"])
    radios = [r for r in at.radio if r.key.startswith(f"aud_{audit_id}_")]
    assert len(radios) >= 12
    for r in radios:
        r.set_value("sufficient")
    at.run()
    # the reason box shows only for "not sufficient"
    assert not [t for t in at.text_input if t.key.startswith(f"aud_{audit_id}_")]
    at.radio(key=f"aud_{audit_id}_2.1a_answer").set_value("not_sufficient")
    at.run()
    reasons = [t.key for t in at.text_input if t.key.startswith(f"aud_{audit_id}_")]
    assert reasons == [f"aud_{audit_id}_2.1a_reason"]
    at.button(key="aud_save_complete").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert "2.1a: Give the reason this is not sufficient." in errors
    # the message sits right under the 2.1a reason field
    nodes = ordered(at)
    where = next(
        i for i, e in enumerate(nodes) if getattr(e, "key", None) == f"aud_{audit_id}_2.1a_reason"
    )
    assert (
        getattr(nodes[where + 1], "value", None) == "2.1a: Give the reason this is not sufficient."
    )
    middle = raw(app_url)
    assert (middle["audit_answer"]["audit_id"] == audit_id).sum() == 0
    assert len(middle["audit_log"]) == len(before["audit_log"])

    at.text_input(key=f"aud_{audit_id}_2.1a_reason").set_value("No risk management plan")
    at.button(key="aud_save_complete").click().run()
    assert not at.exception
    assert not [e for e in at.error if e.value.startswith("2.1a")]
    assert any(s.value.startswith("Saved as complete") for s in at.success)
    # the picker shows the saved state at once
    assert sum("· complete ·" in option for option in picker(at).options) == 1
    after = raw(app_url)
    answers = after["audit_answer"][after["audit_answer"]["audit_id"] == audit_id]
    assert len(answers) == len(radios)
    assert answers.set_index("key_question").loc["2.1a", "reason"] == "No risk management plan"
    status = after["case_audit"].set_index("id").loc[audit_id, "status"]
    assert status == "complete"
    log = after["audit_log"]
    saved = log[(log["action"] == "audit_saved") & (log["target"] == f"case_audit:{audit_id}")]
    assert len(saved) == 1 and saved["username"].item() == "auditor.ken1"
    # a rerun shows the saved answers, not an empty form
    at2 = open_app(
        app_url, page="pages/audit.py", user="auditor.ken1", params={"audit": str(audit_id)}
    )
    assert at2.radio(key=f"aud_{audit_id}_2.1a_answer").value == "not_sufficient"
    assert at2.text_input(key=f"aud_{audit_id}_2.1a_reason").value == "No risk management plan"


def test_redraw_is_refused_once_a_sample_has_answers(app_url, drawn):
    at = open_app(app_url, page="pages/sample.py", user="quality.lead")
    tables = raw(app_url)
    sample_id = int(tables["case_sample"]["id"].max())
    at.selectbox(key="smp_open").set_value(sample_id).run()
    answered = tables["audit_answer"].merge(tables["case_audit"], left_on="audit_id", right_on="id")
    if not (answered["sample_id"] == sample_id).any():
        pytest.skip("needs the audit saved by the previous test")
    members_before = sorted(
        tables["case_sample_member"].query("sample_id == @sample_id")["person_id"]
    )
    at.button(key="smp_redraw").click().run()
    assert any("cannot be re-drawn" in e.value for e in at.error)
    after = raw(app_url)
    assert (
        sorted(after["case_sample_member"].query("sample_id == @sample_id")["person_id"])
        == members_before
    )


def expected_ratings(tables, audits: pd.DataFrame) -> pd.DataFrame:
    """Each standard's lowest key question % sufficient and its rating, with pandas."""
    answers = tables["audit_answer"].merge(audits, left_on="audit_id", right_on="id")
    answers = answers[answers["answer"] != "not_applicable"]
    per_kq = (
        answers.groupby(["standard", "key_question"])["answer"]
        .agg(sufficient=lambda a: (a == "sufficient").sum(), applicable="size")
        .reset_index()
    )
    per_kq["pct"] = 100 * per_kq["sufficient"] / per_kq["applicable"]
    lowest = per_kq.sort_values(["pct", "key_question"]).groupby("standard").head(1)
    lowest = lowest.set_index("standard").sort_index()
    lowest["rating"] = [next(name for edge, name in BANDS if pct >= edge) for pct in lowest["pct"]]
    return lowest


class MediaSpy:
    """Keeps the bytes of every file Streamlit serves (download buttons) by file name.

    Deferred downloads (built on click, logged by the callable) are built here by calling
    the registered callable, as a click would."""

    def __init__(self, monkeypatch):
        self.files: dict[str, bytes] = {}
        self.deferred_builds = 0  # how many deferred files were built (clicks simulated)
        original = memory_media_file_storage.MemoryMediaFileStorage.load_and_get_id
        original_deferred = media_file_manager.MediaFileManager.add_deferred

        def spy(storage, path_or_data, mimetype, kind, filename=None):
            if filename and isinstance(path_or_data, bytes):
                self.files[filename] = path_or_data
            return original(storage, path_or_data, mimetype, kind, filename)

        def spy_deferred(manager, data_callable, mimetype, coordinates, file_name=None,
                         **kwargs):
            if file_name:
                self.files[file_name] = data_callable()
                self.deferred_builds += 1
            return original_deferred(manager, data_callable, mimetype, coordinates,
                                     file_name=file_name, **kwargs)

        monkeypatch.setattr(
            memory_media_file_storage.MemoryMediaFileStorage, "load_and_get_id", spy
        )
        monkeypatch.setattr(media_file_manager.MediaFileManager, "add_deferred", spy_deferred)


def test_readiness_figures_and_evidence_pack(app_url, drawn, monkeypatch):
    spy = MediaSpy(monkeypatch)
    at = open_app(app_url, page="pages/readiness.py", user="quality.lead")
    assert not at.exception
    tables = raw(app_url)
    audits = tables["case_audit"]
    audits = audits[
        (audits["status"] == "complete")
        & (audits["audit_date"] >= PERIOD[0])
        & (audits["audit_date"] <= PERIOD[1])
    ]
    want = expected_ratings(tables, audits)
    shown = at.dataframe[0].value.set_index("standard").sort_index()
    assert list(shown.index) == list(want.index)
    assert shown["pct_sufficient"].tolist() == want["pct"].round(1).tolist()
    assert shown["lowest_key_question"].tolist() == want["key_question"].tolist()
    assert shown["applicable"].tolist() == want["applicable"].tolist()
    assert shown["rating"].tolist() == want["rating"].tolist()
    assert any("Scheme: HMIP CRC inspection standards" in c.value for c in at.caption)
    cases_audited = audits["person_id"].nunique()
    assert metric(at, "Cases audited") == f"{cases_audited:,}"
    overall = metric(at, "Overall rating")

    at.button(key="rdy_pack_build").click().run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    xlsx_name = next(n for n in spy.files if n.endswith(".xlsx"))
    pdf_name = next(n for n in spy.files if n.endswith(".pdf"))
    assert any(xlsx_name in label for label in labels)
    workbook = openpyxl.load_workbook(io.BytesIO(spy.files[xlsx_name]))
    rows = list(workbook["Summary"].iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[0] == "Standard")
    table = (
        pd.DataFrame(
            [r[: len(rows[head])] for r in rows[head + 1 : head + 1 + len(shown)]],
            columns=rows[head],
        )
        .set_index("Standard")
        .sort_index()
    )
    assert table["% sufficient"].tolist() == shown["pct_sufficient"].tolist()
    assert table["Rating"].tolist() == shown["rating"].tolist()
    assert table["Cases where it applies"].tolist() == shown["applicable"].tolist()
    answers_in_pack = sum(
        workbook[name].max_row for name in workbook.sheetnames if name[:1].isdigit()
    )
    assert answers_in_pack > len(shown)
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(spy.files[pdf_name])).pages).split()
    )
    assert f"Overall rating: {overall}" in text
    for pct, rating in zip(shown["pct_sufficient"], shown["rating"], strict=True):
        assert f"{pct:.1f} %" in text and rating in text
    assert "Sample size formula" in text

    # the same page on one sample's audits, and a scheme that cannot rate yet
    sample_id = int(tables["case_sample"]["id"].max())
    at.selectbox(key="rdy_basis").set_value(sample_id).run()
    in_sample = tables["case_audit"]
    in_sample = in_sample[
        (in_sample["sample_id"] == sample_id) & (in_sample["status"] == "complete")
    ]
    if len(in_sample):
        want_sample = expected_ratings(tables, in_sample)
        got = at.dataframe[0].value.set_index("standard").sort_index()
        assert got["pct_sufficient"].tolist() == want_sample["pct"].round(1).tolist()
        assert any("Rated on fewer than 20 cases" in w.value for w in at.warning)
    # the regional scheme rates desistance and public protection from the PDU audits and
    # says plainly what is not published here
    at.selectbox(key="rdy_basis").set_value(None).run()
    at.selectbox(key="rdy_scheme").set_value("regional_2023").run()
    assert not at.exception
    regional = at.dataframe[0].value.set_index("standard")
    assert {"R2.1", "R2.2"} <= set(regional.index)
    assert any("Not published here" in m.value for m in at.markdown)
    assert any("R2.5 Court work" in c.value for c in at.caption)


def test_area_manager_sees_not_sufficient_cases_of_their_area_only(app_url, drawn):
    tables = raw(app_url)
    offices = tables["office"].merge(
        tables["area"], left_on="area_id", right_on="id", suffixes=("", "_area")
    )
    kent_offices = set(offices.loc[offices["code_area"] == "KENT", "name"])
    audits = tables["case_audit"]
    audits = audits[
        (audits["status"] == "complete")
        & (audits["audit_date"] >= PERIOD[0])
        & (audits["audit_date"] <= PERIOD[1])
    ]
    bad = tables["audit_answer"].merge(audits, left_on="audit_id", right_on="id")
    bad = (
        bad[bad["answer"] == "not_sufficient"]
        .merge(tables["person_on_probation"], left_on="person_id", right_on="id")
        .merge(offices, left_on="office_id", right_on="id", suffixes=("", "_office"))
    )
    for user, expected in (("am.kent", bad[bad["name"].isin(kent_offices)]), ("chief.exec", bad)):
        at = open_app(app_url, page="pages/readiness.py", user=user)
        assert not at.exception
        cases = next(d.value for d in at.dataframe if "reason" in d.value.columns)
        assert len(cases) == len(expected), user
        assert sorted(cases["crn"]) == sorted(expected["crn"])
        if user == "am.kent":
            assert set(cases["office"]) <= kent_offices
    eng = create_engine(app_url)
    with eng.connect() as conn:
        views = (
            conn.execute(
                select(audit_log.c.username).where(
                    audit_log.c.action == "view_person_rows",
                    audit_log.c.target == "readiness:not_sufficient",
                )
            )
            .scalars()
            .all()
        )
    eng.dispose()
    assert {"am.kent", "chief.exec"} <= set(views)


def test_save_and_next_case_moves_on_and_progress_counts_it(app_url, drawn):
    at = open_app(app_url, page="pages/audit.py", user="auditor.ken1")
    first = picker(at).value
    for r in [r for r in at.radio if r.key.startswith(f"aud_{first}_")]:
        r.set_value("sufficient")
    at.button(key="aud_save_next").click().run()
    assert not at.exception
    tables = raw(app_url)
    audit_rows = tables["case_audit"].set_index("id")
    assert audit_rows.loc[first, "status"] == "complete"
    nxt = picker(at).value
    assert nxt != first and audit_rows.loc[nxt, "status"] == "draft"
    assert any(s.value.startswith("Case ") and "Saved as complete" in s.value for s in at.success)
    # the quality lead's progress counts it, per sample and auditor (pandas over raw rows)
    lead = open_app(app_url, page="pages/audit.py", user="quality.lead")
    per_sample = lead.dataframe[0].value.set_index("sample_id")
    sample_id = int(audit_rows.loc[first, "sample_id"])
    mine = audit_rows[audit_rows["sample_id"] == sample_id]
    assert per_sample.loc[sample_id, "complete"] == (mine["status"] == "complete").sum() >= 1
    assert per_sample.loc[sample_id, "audits"] == len(mine)


def test_domain_one_judgements_say_when_none_is_recorded_then_show_the_one_recorded(
        demo_sqlite_url, tmp_path):
    url = copy_of_demo(demo_sqlite_url, tmp_path / "judgements.sqlite")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM standard_judgement")
    at = open_app(url, page="pages/readiness.py", user="quality.lead")
    assert not at.exception
    said = [i.value for i in at.info if "Domain 1 judgement" in i.value]
    assert said and said[0].startswith("No Domain 1 judgement recorded for the region")
    assert "Record one below." in said[0]
    assert not any("judged_by" in d.value.columns for d in at.dataframe)

    code = at.selectbox(key="rdy_j_std").options[0].split(" ", 1)[0]
    at.selectbox(key="rdy_j_rating").set_value("Good")
    at.text_area(key="rdy_j_notes").set_value("Board minutes of October")
    next(b for b in at.button if b.label == "Record judgement").click().run()
    assert not at.exception
    with engine.connect() as conn:
        stored = pd.read_sql_query(
            "SELECT standard, rating, notes FROM standard_judgement", conn)
        surrey_office = conn.exec_driver_sql(
            "SELECT o.code FROM office o JOIN area a ON a.id = o.area_id "
            "WHERE a.code = 'SURREY' ORDER BY o.code").scalar()
    engine.dispose()
    assert stored.to_dict("records") == [
        {"standard": code, "rating": "Good", "notes": "Board minutes of October"}]
    table = next(d.value for d in at.dataframe if "judged_by" in d.value.columns)
    assert table[["standard", "rating"]].to_dict("records") == [
        {"standard": code, "rating": "Good"}]
    assert not any("Domain 1 judgement recorded" in i.value for i in at.info)
    assert f"Judgement on {code} recorded." in [s.value for s in at.success]

    # an office's judgements are its area's, named in words (not the code SURREY)
    at = open_app(url, page="pages/readiness.py", user="quality.lead",
                  params={"area": "SURREY", "office": surrey_office})
    assert not at.exception
    said = [i.value for i in at.info if "Domain 1 judgement" in i.value]
    assert said and said[0].startswith("No Domain 1 judgement recorded for Surrey in ")
    assert any("Latest judgement per standard for Surrey;" in c.value for c in at.caption)
