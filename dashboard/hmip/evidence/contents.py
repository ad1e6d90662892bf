"""The inspection readiness summary and what the evidence pack shows: the tables (ratings,
key questions, strata), the one rule for showing a value, the overall rating in words, the
``EvidencePack`` itself and its method note. The files are written by ``evidence.workbook``
(.xlsx) and ``evidence.pdf`` (PDF). Pure: DataFrames in, no Streamlit, no database.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from dashboard.core import display
from dashboard.hmip.ratings import (
    STANDARD_COLUMNS,
    OverallRating,
    Scheme,
    SchemeIncomplete,
    overall_rating,
    sample_size_formula_text,
    standard_ratings,
)
from dashboard.hmip.ratings.rating import format_chance
from dashboard.stats.intervals import wilson_interval

KEY_QUESTION_TABLE = [
    "standard",
    "key_question",
    "label",
    "sufficient",
    "applicable",
    "pct_sufficient",
    "ci_low",
    "ci_high",
]
RATING_TABLE = {  # column -> heading, as on the readiness page
    "standard": "Standard",
    "standard_name": "Name",
    "rating": "Rating",
    "lowest_key_question": "Lowest key question",
    "sufficient": "Sufficient",
    "applicable": "Cases where it applies",
    "pct_sufficient": "% sufficient",
    "ci_low": "95 % CI low",
    "ci_high": "95 % CI high",
    "p_at_least_good": "Chance Good or better (%)",
}


# Headings for every column the pack writes: the words the readiness page uses.
HEADINGS = {
    **RATING_TABLE,
    "area": "Area",
    "office": "Office",
    "office_code": "Office code",
    "audit_id": "Audit",
    "crn": "CRN",
    "sentence_type": "Sentence type",
    "rosh_level": "Risk of serious harm",
    "gender": "Gender",
    "audit_date": "Audit date",
    "auditor": "Auditor",
    "key_question": "Key question",
    "label": "Focus",
    "answer": "Answer",
    "reason": "Reason (not sufficient)",
    "not_applicable": "Not applicable",
    "person_id": "Person",
    "stratum": "Stratum",
    "status": "Audit status",
    "answers": "Answers saved",
    "population": "Cases (population)",
    "population_pct": "% of population",
    "expected": "Proportional share",
    "sample": "Cases drawn",
    "sample_pct": "% of sample",
    "audited": "Audits complete",
    "notes": "Notes",
    "evidence_link": "Evidence link",
    "judged_by": "Judged by",
    "judged_at": "Judged at (UTC)",
    "rule": "Rule",
    "document": "Document",
    "date": "Date",
    "url": "Address",
    "statement": "Statement",
    "score": "Score",
}
# Coded values as words (the screen's readable values).
VALUE_WORDS = {
    "community_order": "Community order",
    "suspended_sentence_order": "Suspended sentence order",
    "licence": "Licence",
    "low": "Low",
    "medium": "Medium",
    "high": "High",
    "very_high": "Very high",
    "male": "Male",
    "female": "Female",
    "sufficient": "Sufficient",
    "not_sufficient": "Not sufficient",
    "not_applicable": "Not applicable",
    "draft": "Draft",
    "complete": "Complete",
}
CODED_COLUMNS = ("sentence_type", "rosh_level", "gender", "answer", "status")
PCT_DIGITS = 1


def is_percent(column: str) -> bool:
    """A column of percentages (pct_*, ci_*, p_at_least_good): shown to PCT_DIGITS."""
    return "pct" in column or column.startswith("ci_") or column == "p_at_least_good"


def shown_value(column: str, value: Any, judge: display.Judge | None = None) -> Any:
    """A value as the pack shows it, one rule for screen and files (dashboard/core/display.py):
    percentages (pct_*, ci_*, p_at_least_good) to one decimal place, and % sufficient with
    more where one decimal would round it into another of judge's bands (the scheme's
    rating bands; the rule is idempotent, so a value shaped once keeps its decimals);
    coded values as words; other values unchanged."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if is_percent(column) and isinstance(value, int | float):
        return display.shown(float(value), judge if column == "pct_sufficient" else None,
                             PCT_DIGITS)
    if column in CODED_COLUMNS and isinstance(value, str):
        return VALUE_WORDS.get(value, value.replace("_", " ").capitalize())
    return value


def unrated_standards(ratings: pd.DataFrame, scheme: Scheme) -> list[str]:
    """Case-sample standards of the scheme without a rating here, with the reason the
    scheme gives (e.g. 'R2.5 Court work (needs audits of court reports)')."""
    rated = set(ratings.dropna(subset=["pct_sufficient"])["standard"]) if len(ratings) else set()
    out = []
    for standard in scheme.standards:
        if standard.kind == "case_sample" and standard.code not in rated:
            why = standard.note or "no applicable cases audited"
            out.append(f"{standard.code} {standard.name} ({why})")
    return out


# --- the summary ---------------------------------------------------------------------------


def key_question_table(counts: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Per key question: sufficient of applicable, % and Wilson 95 % interval (percent),
    weakest first (ties in scheme order). counts: key_question, sufficient, applicable
    (several rows per question are summed). Columns: KEY_QUESTION_TABLE."""
    if counts.empty:
        return pd.DataFrame(columns=KEY_QUESTION_TABLE)
    totals = counts.groupby("key_question")[["sufficient", "applicable"]].sum()
    rows = []
    for order, kq in enumerate(scheme.key_questions):
        if kq.code not in totals.index:
            continue
        s, n = int(totals.at[kq.code, "sufficient"]), int(totals.at[kq.code, "applicable"])
        low, high = wilson_interval(s, n)
        rows.append(
            {
                "standard": kq.standard,
                "key_question": kq.code,
                "label": kq.label,
                "sufficient": s,
                "applicable": n,
                "pct_sufficient": 100 * s / n if n else math.nan,
                "ci_low": 100 * low,
                "ci_high": 100 * high,
                "_order": order,
            }
        )
    out = pd.DataFrame(rows)
    out = out.sort_values(["pct_sufficient", "_order"], na_position="last", kind="stable")
    return out[KEY_QUESTION_TABLE].reset_index(drop=True)


def overall_from(
    ratings: pd.DataFrame, judgements: pd.DataFrame, scheme: Scheme
) -> OverallRating | None:
    """The overall rating from case-sample ratings plus recorded judgements (provisional,
    pro-rated, when standards are missing); None when nothing is rated or the scheme has
    no overall bands."""
    scores: dict[str, Any] = {}
    for _, row in ratings.iterrows():
        if isinstance(row["rating"], str):
            scores[row["standard"]] = row["rating"]
    for _, row in judgements.iterrows():
        if row["standard"] in scheme.standard_codes:
            scores[row["standard"]] = row["rating"]
    if not scores:
        return None
    try:
        return overall_rating(scores, scheme, allow_partial=True)
    except SchemeIncomplete:
        return None


def overall_text(overall: OverallRating | None) -> str:
    """'Requires improvement (score 9 of 30)' or, when standards are missing,
    'Requires improvement, provisional: 7 from 7 of 10 standards, pro-rated to 10.0 ...'."""
    if overall is None:
        return "Not rated"
    if not overall.partial:
        return f"{overall} (score {overall.total_score} of {overall.max_score})"
    return (
        f"{overall}, provisional: score {overall.total_score} pro-rated to "
        f"{overall.scored_on:.1f} of {overall.max_score}; not yet rated: "
        f"{', '.join(overall.missing)}"
    )


SMALL_SAMPLE = 20  # fewer applicable cases than this: the rating is flagged as fragile


def chance_text(p: float) -> str:
    """A probability (0..1) as the statements show it: '8 %', '<1 %', '>99 %', '–'."""
    if p is None or pd.isna(p):
        return "–"
    return format_chance(float(p))


def small_samples(ratings: pd.DataFrame) -> list[str]:
    """Standards rated on fewer than SMALL_SAMPLE applicable cases (their codes)."""
    rated = ratings.dropna(subset=["pct_sufficient"])
    return [str(c) for c in rated.loc[rated["applicable"] < SMALL_SAMPLE, "standard"]]


def rating_rows(ratings: pd.DataFrame, keep: tuple[str, ...] = (),
                scheme: Scheme | None = None) -> pd.DataFrame:
    """The ratings table as shown on screen and in the pack: the keep columns (e.g. area,
    office) then RATING_TABLE columns, percentages rounded to one decimal (% sufficient
    with more where one decimal would round it into another of scheme's bands: 64.955 is
    64.96 beside Requires improvement, not 65.0), chance of Good or better in percent."""
    out = ratings[[*keep, *(c for c in RATING_TABLE if c in ratings.columns)]].copy()
    out["pct_sufficient"] = display.shown_column(out["pct_sufficient"].astype(float),
                                                 display.rating_judge(scheme), 1)
    for col in ("ci_low", "ci_high"):
        out[col] = out[col].astype(float).round(1)
    out["p_at_least_good"] = (100 * out["p_at_least_good"].astype(float)).round(1)
    return out


# --- the pack ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidencePack:
    """Everything the exported files show. DataFrames are as the readiness page has them:
    ratings and office_ratings from ``ratings.standard_ratings``, key_questions from
    ``key_question_table``, answers from ``queries.readiness.answer_rows``, strata from
    ``sampling.strata_table`` (or audited cases per stratum), judgements from
    ``queries.readiness.judgements``. method: label -> value lines for the method sheet."""

    scheme: Scheme
    scope_label: str
    basis_label: str
    generated_by: str
    generated_at: datetime
    ratings: pd.DataFrame
    office_ratings: pd.DataFrame
    key_questions: pd.DataFrame
    answers: pd.DataFrame
    strata: pd.DataFrame
    judgements: pd.DataFrame
    sample: pd.DataFrame | None = None
    overall: OverallRating | None = None
    method: dict[str, str] = field(default_factory=dict)
    answers_note: str = ""

    @property
    def not_sufficient(self) -> pd.DataFrame:
        """The answers judged not sufficient, with the auditor's reason (within scope)."""
        if self.answers.empty or "answer" not in self.answers:
            return self.answers.iloc[0:0]
        cols = [
            c
            for c in (
                "audit_id",
                "crn",
                "office",
                "audit_date",
                "auditor",
                "standard",
                "key_question",
                "reason",
            )
            if c in self.answers.columns
        ]
        rows = self.answers[self.answers["answer"] == "not_sufficient"]
        if self.scheme.aggregates:  # a regional scheme: only the questions it aggregates
            feeding = {c for kq in self.scheme.key_questions for c in kq.aggregates_from}
            rows = rows[rows["key_question"].isin(feeding)]
        return rows[cols].sort_values(["key_question", "office", "crn"]).reset_index(drop=True)

    @property
    def title(self) -> str:
        return f"Inspection readiness evidence pack: {self.scope_label}"


def method_lines(pack: EvidencePack) -> list[tuple[str, str]]:
    """The method note as (label, text) pairs, shared by the workbook and the PDF."""
    scheme = pack.scheme
    lines = [
        (
            "Scheme",
            f"{scheme.title} ({scheme.scheme_id}); bands confirmed: "
            f"{'yes' if scheme.bands_confirmed else 'no'}. {scheme.note}",
        ),
        ("Evidence", pack.basis_label),
        (
            "Rating rule",
            "Each case-sample standard is rated on its lowest key question's % "
            "sufficient, counting only cases where the question applies: "
            + ", ".join(f"{b.rating} from {b.min_pct:g} %" for b in (scheme.standard_bands or ()))
            + ". Domain 1 standards are recorded judgements.",
        ),
        (
            "Uncertainty",
            "95 % intervals are Wilson score intervals. The chance a standard "
            "is really Good or better is the posterior probability (uniform "
            "Beta(1, 1) prior) that every key question's true % is at or above "
            "the Good threshold, treating the questions as independent.",
        ),
        (
            "Overall",
            "Standard scores (Inadequate 0 ... Outstanding 3) are summed and banded; "
            "with standards missing the total is pro-rated and marked provisional."
            if scheme.overall_bands
            else "Not given: this scheme's overall score bands are not published here "
            "(see the scheme rules); every standard that can be rated is rated.",
        ),
        ("Sample size formula", sample_size_formula_text()),
    ]
    lines += list(pack.method.items())
    if pack.answers_note:
        lines.append(("Case rows", pack.answers_note))
    return lines


def pack_overall_text(pack: EvidencePack) -> str:
    """The overall rating line: the rating, or why there is none."""
    if pack.overall is None and not pack.scheme.overall_bands:
        return "not given (the scheme's overall score bands are not published here)"
    return overall_text(pack.overall)


def pack_file_stem(pack: EvidencePack) -> str:
    """A file name stem such as 'evidence_pack_Kent_2026-11-23'."""
    scope = re.sub(r"[^A-Za-z0-9_-]+", "_", pack.scope_label).strip("_") or "region"
    return f"evidence_pack_{scope}_{pack.generated_at:%Y-%m-%d}"


def summary_ratings(
    counts: pd.DataFrame, scheme: Scheme, by: list[str] | None = None
) -> pd.DataFrame:
    """standard_ratings over counts (empty frame with the right columns when no counts)."""
    if counts.empty:
        return pd.DataFrame(columns=[*(by or []), *STANDARD_COLUMNS])
    return standard_ratings(counts, scheme, by=by or ())
