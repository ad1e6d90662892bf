"""The evidence pack: the workbook and the PDF open and hold the figures computed by hand."""

from __future__ import annotations

import io
import math
import re
from datetime import UTC, datetime

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

from dashboard.hmip import evidence, ratings, sampling
from dashboard.hmip.evidence import workbook

SCHEME = ratings.load_scheme("crc_2018")

# (key question, sufficient, not sufficient, not applicable) over 80 cases, hand-chosen:
# 2.1 is rated on 2.1b, 46 of 80 = 57.5 % (Requires improvement); 2.3 on 2.3c, 18 of 80 =
# 22.5 % (Inadequate); 2.1c is over the 60 cases where it applies (45 of 60 = 75 %).
PLAN = [
    ("2.1a", 70, 10, 0),
    ("2.1b", 46, 34, 0),
    ("2.1c", 45, 15, 20),
    ("2.3a", 60, 20, 0),
    ("2.3b", 55, 25, 0),
    ("2.3c", 18, 62, 0),
]


def answers_frame() -> pd.DataFrame:
    rows = []
    for code, good, bad, na in PLAN:
        answers = ["sufficient"] * good + ["not_sufficient"] * bad + ["not_applicable"] * na
        for case_no, answer in enumerate(answers, start=1):
            rows.append(
                {
                    "audit_id": case_no,
                    "crn": f"X{case_no:07d}",
                    "area": "Kent",
                    "office": "Ashford" if case_no <= 40 else "Chatham",
                    "sentence_type": "licence",
                    "rosh_level": "high",
                    "gender": "male",
                    "audit_date": datetime(2026, 10, 1).date(),
                    "auditor": "auditor.ken1",
                    "standard": code[:3],
                    "key_question": code,
                    "answer": answer,
                    "reason": "No plan" if answer == "not_sufficient" else None,
                }
            )
    return pd.DataFrame(rows)


def wilson_pct(s: int, n: int) -> tuple[float, float]:
    z = 1.959963984540054  # written out here, not taken from dashboard.stats.intervals
    p = s / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * (centre - half), 100 * (centre + half)


@pytest.fixture(scope="module")
def pack() -> evidence.EvidencePack:
    answers = answers_frame()
    per_kq = ratings.rate_standards(answers.rename(columns={"audit_id": "case_id"}), SCHEME)
    by_office = answers.assign(
        sufficient=answers["answer"] == "sufficient",
        applicable=answers["answer"] != "not_applicable",
    )
    by_office = by_office.groupby(["area", "office", "key_question"], as_index=False)[
        ["sufficient", "applicable"]
    ].sum()
    region = evidence.summary_ratings(per_kq, SCHEME)
    judged = pd.DataFrame(
        {
            "standard": ["1.1"],
            "rating": ["Good"],
            "notes": ["Board minutes"],
            "evidence_link": ["https://example.org/minutes"],
            "judged_by": ["quality.lead"],
            "judged_at": [datetime(2026, 11, 1, tzinfo=UTC)],
        }
    )
    pop = pd.DataFrame(
        {
            "sentence_type": ["licence", "community_order"],
            "rosh_level": ["high"] * 2,
            "gender": ["male"] * 2,
            "population": [300, 100],
        }
    )
    smp = pd.DataFrame(
        {
            "sentence_type": ["licence", "community_order"],
            "rosh_level": ["high"] * 2,
            "gender": ["male"] * 2,
            "sample": [60, 20],
        }
    )
    return evidence.EvidencePack(
        scheme=SCHEME,
        scope_label="Kent",
        basis_label="sample Kent Q4",
        generated_by="quality.lead",
        generated_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        ratings=region,
        office_ratings=evidence.summary_ratings(by_office, SCHEME, by=["area", "office"]),
        key_questions=evidence.key_question_table(per_kq, SCHEME),
        answers=answers,
        strata=sampling.strata_table_from_counts(pop, smp),
        judgements=judged,
        sample=answers[["crn", "office"]].drop_duplicates(),
        overall=evidence.overall_from(region, judged, SCHEME),
        method={"Sample size": sampling.sample_size_working(0.8, 0.05, 400)},
    )


def test_ratings_follow_the_hand_figures(pack):
    region = pack.ratings.set_index("standard")
    assert region.loc["2.1", "lowest_key_question"] == "2.1b"
    assert region.loc["2.1", "pct_sufficient"] == 57.5
    assert region.loc["2.1", "rating"] == "Requires improvement"
    assert region.loc["2.3", "pct_sufficient"] == 22.5
    assert region.loc["2.3", "rating"] == "Inadequate"
    low, high = wilson_pct(46, 80)
    assert region.loc["2.1", "ci_low"] == pytest.approx(low)
    assert region.loc["2.1", "ci_high"] == pytest.approx(high)
    # weakest key questions first
    assert list(pack.key_questions["key_question"][:3]) == ["2.3c", "2.1b", "2.3b"]
    kq = pack.key_questions.set_index("key_question")
    assert (kq.loc["2.1c", "sufficient"], kq.loc["2.1c", "applicable"]) == (45, 60)


def test_overall_is_provisional_with_missing_standards(pack):
    overall = pack.overall
    assert overall.partial
    # RI (1) + Inadequate (0) + Good (2) = 3 from 3 of 10 standards -> pro-rated 10.0
    assert overall.total_score == 3 and overall.scored_on == pytest.approx(10.0)
    assert str(overall) == "Requires improvement"
    assert "1.2" in overall.missing and "2.2" in overall.missing
    assert evidence.overall_text(overall).startswith("Requires improvement, provisional")
    assert evidence.overall_from(pack.ratings.iloc[0:0], pack.judgements.iloc[0:0], SCHEME) is None


def test_chance_text_and_small_samples():
    assert evidence.chance_text(0.0831) == "8 %"
    assert evidence.chance_text(0.001) == "<1 %"
    assert evidence.chance_text(0.996) == ">99 %"
    assert evidence.chance_text(1.0) == "100 %"
    assert evidence.chance_text(float("nan")) == "–"
    frame = pd.DataFrame(
        {
            "standard": ["2.1", "2.2", "2.3"],
            "applicable": [19, 20, 0],
            "pct_sufficient": [50.0, 60.0, float("nan")],
        }
    )
    assert evidence.small_samples(frame) == ["2.1"]


def _table_below(ws, heading: str) -> pd.DataFrame:
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r and r[0] == heading)
    header = [h for h in rows[start] if h is not None]
    body = []
    for r in rows[start + 1 :]:
        if r is None or all(v is None for v in r):
            break
        body.append(list(r[: len(header)]))
    return pd.DataFrame(body, columns=header)


def test_workbook_opens_and_holds_every_answer(pack):
    data = evidence.workbook_bytes(pack)
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=False)
    assert wb.sheetnames[0] == "Summary"
    assert {
        "2.1 Assessment",
        "2.3 Implementation and delivery",
        "Offices",
        "Sample",
        "Strata",
        "Method",
    } <= set(wb.sheetnames)
    summary = _table_below(wb["Summary"], "Standard").set_index("Standard")
    assert summary.loc["2.1", "% sufficient"] == 57.5
    assert summary.loc["2.1", "Rating"] == "Requires improvement"
    assert summary.loc["2.1", "Cases where it applies"] == 80
    assert summary.loc["2.3", "% sufficient"] == 22.5
    low, _ = wilson_pct(18, 80)
    assert summary.loc["2.3", "95 % CI low"] == round(low, 1)
    assert "Requires improvement, provisional" in wb["Summary"]["A4"].value
    assessment = wb["2.1 Assessment"]
    answers = _table_below(assessment, "Audit")
    assert len(answers) == 3 * 80
    assert (answers["Answer"] == "Not sufficient").sum() == 10 + 34 + 15
    # real dates, readable codes, a frozen and filtered header over the answers
    assert all(isinstance(d, datetime) for d in answers["Audit date"])
    assert set(answers["Gender"]) <= {"Male", "Female"}
    head_row = next(
        i for i, r in enumerate(assessment.iter_rows(values_only=True), 1) if r[0] == "Audit"
    )
    assert assessment.freeze_panes == f"A{head_row + 1}"
    assert assessment.auto_filter.ref.startswith(f"A{head_row}:")
    statement = "Assessment: Requires improvement (58 %, 95 % CI 47-68 %, n=80)"
    assert statement in assessment["A2"].value
    strata = _table_below(wb["Strata"], "Sentence type")
    assert strata["Cases (population)"].sum() == 400 and strata["Cases drawn"].sum() == 80
    # every not-sufficient answer with its reason, counted here from the raw answers
    raw_ns = pack.answers[pack.answers["answer"] == "not_sufficient"]
    ns = _table_below(wb["Not sufficient"], "Audit")
    assert len(ns) == len(raw_ns)
    assert sorted(ns["Reason (not sufficient)"]) == sorted(raw_ns["reason"])
    assert wb["Not sufficient"].freeze_panes == "A2"
    judged = _table_below(wb["Domain 1 judgements"], "Standard")
    assert "Board minutes" in " ".join(judged["Notes"])
    rules = [r[0] for r in wb["Scheme rules"].iter_rows(values_only=True)]
    assert "Rule" in rules
    method = {r[0]: r[1] for r in wb["Method"].iter_rows(values_only=True)}
    assert method["Sample size formula"].startswith("n0 = z²")
    assert "rounded up to" in method["Sample size"]
    offices = _table_below(wb["Offices"], "Area")
    assert set(offices["Office"]) == {"Ashford", "Chatham"}


def test_pdf_opens_and_shows_the_figures(pack):
    data = evidence.pdf_bytes(pack)
    assert data.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    flat = " ".join(text.split())
    assert "Inspection readiness evidence pack: Kent" in flat
    assert "Overall rating: Requires improvement, provisional" in flat
    for figure in ("57.5 %", "22.5 %", "Requires improvement", "Inadequate", "75.0 %"):
        assert figure in flat, figure
    assert "Sample size formula" in flat and "rounded up to" in flat
    assert "Board minutes" in flat  # domain 1 judgement
    assert "Page 1" in flat and "Cases judged not sufficient" in flat
    assert "Scheme rules and where they come from" in flat
    # readable values: no raw codes or unrounded figures
    assert "not_sufficient" not in flat and "community_order" not in flat
    before_method = flat.rsplit(" Method ", 1)[0]  # the method note shows z to 4 places
    assert not re.search(r"\d+\.\d{3,}", before_method)


def test_sheet_names_are_valid_and_unique():
    used: set[str] = set()
    first = workbook._sheet_name("3.2 Through the Gate: resettlement / planning [x]", used)
    second = workbook._sheet_name("3.2 Through the Gate: resettlement / planning [x]", used)
    assert len(first) <= 31 and len(second) <= 31 and first != second
    assert not set("[]:*?/\\") & set(first + second)
