"""Rating a case sample: counts per key question with Wilson intervals, each standard's
rating from its lowest key question (with the chance it is really Good or better), the
assessment statement in words, and counts re-expressed for a scheme that aggregates
another. Pure: no Streamlit, no database.

Percentages are 0..100, computed as ``100 * sufficient / applicable``, one correctly
rounded division, so a true 65 % is exactly 65.0 and lands in the band that starts at 65.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from dashboard.hmip.ratings.probability import _check_counts, probability_all_at_least
from dashboard.hmip.ratings.scheme import Scheme
from dashboard.stats.intervals import wilson_interval

ANSWERS = ("sufficient", "not_sufficient", "not_applicable")


def rating_for_percent(pct: float, scheme: Scheme) -> str:
    """Rating of a case-sample standard whose lowest key question is ``pct`` % sufficient.

    ``pct`` is in percent (0..100). Band lower bounds are inclusive and compared exactly,
    without rounding: in crc_2018, 49.99 -> Inadequate, 50 -> Requires improvement,
    64.99 -> Requires improvement, 65 -> Good, 79.99 and 79.999 -> Good, 80 -> Outstanding.
    Raises ``SchemeIncomplete`` if the scheme has no standard bands, ``ValueError`` for a
    value outside 0..100 or NaN. (``Scheme.rating_for``.)
    """
    return scheme.rating_for(pct)


# ---------------------------------------------------------------------------------------
# Rating a case sample
# ---------------------------------------------------------------------------------------

KEY_QUESTION_COLUMNS = [
    "standard",
    "key_question",
    "label",
    "sufficient",
    "applicable",
    "not_applicable",
    "pct_sufficient",
    "ci_low",
    "ci_high",
]

STANDARD_COLUMNS = [
    "standard",
    "standard_name",
    "lowest_key_question",
    "sufficient",
    "applicable",
    "pct_sufficient",
    "ci_low",
    "ci_high",
    "rating",
    "score",
    "p_at_least_good",
    "statement",
]


def _percent(numerator: int, denominator: int) -> float:
    # 100 * s / n: one correctly rounded division, so a true 65 % is exactly 65.0.
    return 100 * numerator / denominator if denominator else math.nan


def rate_standards(answers: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Per key question: how many applicable cases were sufficient, with a 95 % interval.

    ``answers`` has one row per case and key question: ``case_id``, ``key_question`` (a code
    of ``scheme``, e.g. "2.3c") and ``answer`` in {"sufficient", "not_sufficient",
    "not_applicable"}; an optional ``standard`` column is checked against the scheme.
    Raises ``ValueError`` for unknown answers or questions, duplicate (case, question)
    rows, or "not_applicable" on a question that must always be answered.

    Returns one row per key question of every standard that appears in ``answers``, in
    scheme order (a question with no rows gets applicable 0 and NaN percentages). Columns:
    standard, key_question, label, sufficient (cases), applicable (n: sufficient +
    not_sufficient), not_applicable (cases), pct_sufficient (percent, 0..100), ci_low and
    ci_high (Wilson 95 % interval, percent; NaN when n == 0).
    """
    missing_cols = {"case_id", "key_question", "answer"} - set(answers.columns)
    if missing_cols:
        raise ValueError(f"answers lacks column(s): {', '.join(sorted(missing_cols))}")
    df = answers.assign(
        key_question=answers["key_question"].astype(str), answer=answers["answer"].astype(str)
    )
    bad_answers = sorted(set(df["answer"]) - set(ANSWERS))
    if bad_answers:
        raise ValueError(f"unknown answer(s) {bad_answers}; expected one of {list(ANSWERS)}")
    by_code = {kq.code: kq for kq in scheme.key_questions}
    unknown = sorted(set(df["key_question"]) - set(by_code))
    if unknown:
        raise ValueError(f"key question(s) {unknown} are not in scheme {scheme.scheme_id!r}")
    dupes = df.duplicated(["case_id", "key_question"])
    if dupes.any():
        first = df.loc[dupes].iloc[0]
        raise ValueError(
            f"case {first['case_id']} answers key question {first['key_question']} twice"
        )
    must_answer = [c for c, kq in by_code.items() if not kq.may_be_not_applicable]
    wrongly_na = df[(df["answer"] == "not_applicable") & df["key_question"].isin(must_answer)]
    if len(wrongly_na):
        raise ValueError(
            "not_applicable is only allowed on questions marked may_be_not_applicable; got it "
            f"for {sorted(set(wrongly_na['key_question']))}"
        )
    if "standard" in df.columns:
        expected = df["key_question"].map(lambda code: by_code[code].standard)
        mismatch = df[df["standard"].astype(str) != expected]
        if len(mismatch):
            row = mismatch.iloc[0]
            raise ValueError(
                f"key question {row['key_question']} belongs to standard "
                f"{by_code[row['key_question']].standard}, not {row['standard']}"
            )

    counts = df.groupby(["key_question", "answer"]).size()
    present = {by_code[code].standard for code in df["key_question"]}
    rows = []
    for kq in scheme.key_questions:
        if kq.standard not in present:
            continue
        sufficient = int(counts.get((kq.code, "sufficient"), 0))
        applicable = sufficient + int(counts.get((kq.code, "not_sufficient"), 0))
        low, high = wilson_interval(sufficient, applicable)
        rows.append(
            {
                "standard": kq.standard,
                "key_question": kq.code,
                "label": kq.label,
                "sufficient": sufficient,
                "applicable": applicable,
                "not_applicable": int(counts.get((kq.code, "not_applicable"), 0)),
                "pct_sufficient": _percent(sufficient, applicable),
                "ci_low": 100 * low if applicable else math.nan,
                "ci_high": 100 * high if applicable else math.nan,
            }
        )
    whole = dict.fromkeys(("sufficient", "applicable", "not_applicable"), "int64")
    percents = dict.fromkeys(("pct_sufficient", "ci_low", "ci_high"), "float64")
    return pd.DataFrame(rows, columns=KEY_QUESTION_COLUMNS).astype(whole | percents)


def standard_ratings(
    key_questions: pd.DataFrame,
    scheme: Scheme,
    *,
    by: Sequence[str] = (),
    prior: tuple[float, float] = (1.0, 1.0),
) -> pd.DataFrame:
    """Rating of each case-sample standard, driven by its lowest key question.

    ``key_questions`` holds counts per key question: columns ``key_question``,
    ``sufficient`` and ``applicable`` (cases answered sufficient or not sufficient), e.g.
    ``rate_standards()`` output or ``queries.quality.key_question_counts()``; raw answers
    (with an ``answer`` column) are counted first with ``rate_standards``. Several rows for
    one key question (e.g. one per office) are summed, within each group of ``by`` columns
    if given (e.g. ``by=["office"]`` rates each office). Percentages and intervals are
    recomputed from the counts.

    Returns one row per standard present (per group), in scheme order. Columns: [by...],
    standard, standard_name, lowest_key_question (code; the first in scheme order on a tie),
    sufficient and applicable (its counts; applicable is the n), pct_sufficient, ci_low,
    ci_high (its percent and Wilson 95 % interval, 0..100), rating, score, p_at_least_good
    and statement (``assessment_statement`` text).

    p_at_least_good is a probability (0..1) that the standard is really Good or better:
    that EVERY key question's true proportion is >= the Good band's lower bound, taken as
    the product over key questions of independent Beta posteriors (see
    ``probability_all_at_least``). Key questions with no applicable cases are ignored; a
    standard with none applicable has no rating (None, score <NA>). Raises
    ``SchemeIncomplete`` if the scheme has no standard bands.
    """
    if "answer" in key_questions.columns:
        if by:
            raise ValueError("rate raw answers per group with rate_standards first")
        key_questions = rate_standards(key_questions, scheme)
    by = list(by)
    needed = {"key_question", "sufficient", "applicable", *by} - set(key_questions.columns)
    if needed:
        raise ValueError(f"key question counts lack column(s): {', '.join(sorted(needed))}")
    scheme._standard_bands()  # fail early, naming the scheme, if it cannot rate
    by_code = {kq.code: kq for kq in scheme.key_questions}
    codes = key_questions["key_question"].astype(str)
    unknown = sorted(set(codes) - set(by_code))
    if unknown:
        raise ValueError(f"key question(s) {unknown} are not in scheme {scheme.scheme_id!r}")
    if (
        (key_questions["sufficient"] < 0)
        | (key_questions["sufficient"] > key_questions["applicable"])
    ).any():
        raise ValueError("need 0 <= sufficient <= applicable for every key question")
    counts = key_questions.assign(key_question=codes)
    # One groupby for every group and key question; then plain Python per standard (a
    # pandas groupby per office cost ~20 ms each: 2 s a view for a whole country).
    totals = counts.groupby([*by, "key_question"], sort=True, dropna=False)[
        ["sufficient", "applicable"]].sum()
    groups: dict[tuple, dict[str, tuple[int, int]]] = {}
    for keys, sufficient, applicable in zip(
        totals.index, totals["sufficient"], totals["applicable"], strict=True
    ):
        *group, code = keys if isinstance(keys, tuple) else (keys,)
        groups.setdefault(tuple(group), {})[code] = (int(sufficient), int(applicable))
    if not by:
        groups = groups or {(): {}}
    rows = [
        dict(zip(by, group, strict=True)) | row
        for group, by_code_totals in groups.items()
        for row in _standard_rows(by_code_totals, scheme, prior)
    ]
    if by and not rows:
        return pd.DataFrame(columns=[*by, *STANDARD_COLUMNS])
    dtypes = {"sufficient": "int64", "applicable": "int64", "score": "Int64"}
    return pd.DataFrame(rows, columns=[*by, *STANDARD_COLUMNS]).astype(
        dtypes | {"p_at_least_good": "float64"}
    )


def _standard_rows(
    totals: dict[str, tuple[int, int]], scheme: Scheme, prior: tuple[float, float]
) -> list[dict[str, Any]]:
    """One row per standard present in ``totals`` (key question code -> (sufficient,
    applicable)), in scheme order."""
    good_from = scheme.band_min_pct("Good") if "Good" in scheme.rating_names else None
    rows = []
    for standard in scheme.standards:
        present = [kq.code for kq in standard.key_questions if kq.code in totals]
        if not present:
            continue
        # (code, sufficient, applicable) in scheme order, applicable questions only.
        rated = [(code, *totals[code]) for code in present if totals[code][1] > 0]
        row: dict[str, Any] = {"standard": standard.code, "standard_name": standard.name}
        if not rated:
            row.update(
                lowest_key_question=None,
                sufficient=0,
                applicable=0,
                pct_sufficient=math.nan,
                ci_low=math.nan,
                ci_high=math.nan,
                rating=None,
                score=pd.NA,
                p_at_least_good=math.nan,
                statement=f"{standard.code} {standard.name}: not rated (no applicable cases)",
            )
            rows.append(row)
            continue
        # min() keeps the first (scheme order) among equal percentages.
        code, sufficient, applicable = min(rated, key=lambda r: _percent(r[1], r[2]))
        pct = _percent(sufficient, applicable)
        rating = rating_for_percent(pct, scheme)
        low, high = wilson_interval(sufficient, applicable)
        pairs = [(s, n) for _, s, n in rated]
        row.update(
            lowest_key_question=code,
            sufficient=sufficient,
            applicable=applicable,
            pct_sufficient=pct,
            ci_low=100 * low,
            ci_high=100 * high,
            rating=rating,
            score=scheme.score_for(rating),
            p_at_least_good=(
                probability_all_at_least(pairs, good_from, prior)
                if good_from is not None
                else math.nan
            ),
            statement=assessment_statement(
                f"{standard.code} {standard.name}",
                [s for s, _ in pairs],
                [n for _, n in pairs],
                scheme,
                prior=prior,
            ),
        )
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------


def _format_pct(pct: float, scheme: Scheme) -> str:
    # Show enough decimals that the figure shown is in the same band as the figure rated
    # (79.6 % is Good, so it is shown as "79.6", not "80").
    for decimals in range(4):
        shown = round(pct, decimals)
        if rating_for_percent(min(max(shown, 0.0), 100.0), scheme) == rating_for_percent(
            pct, scheme
        ):
            break
    return f"{pct:.{decimals}f}"


def format_chance(p: float) -> str:
    """A probability (0..1) in words: '8 %', '<1 %' (above 0), '>99 %' (below 1)."""
    percent = 100 * p
    if 0 < percent < 0.5:
        return "<1 %"
    if 99.5 <= percent < 100:
        return ">99 %"
    return f"{percent:.0f} %"


def assessment_statement(
    label: str,
    sufficient: int | Sequence[int],
    applicable: int | Sequence[int],
    scheme: Scheme,
    *,
    prior: tuple[float, float] = (1.0, 1.0),
) -> str:
    """One sentence rating a standard (or one key question), with its uncertainty.

    ``sufficient``/``applicable`` are case counts for one key question, or sequences of
    counts for a standard's key questions (rated on the lowest %). Example::

        Assessment: Requires improvement (58 %, 95 % CI 47-68 %, n=80); 8 % chance it is
        really Good or better. Scheme: HMIP CRC inspection standards (2018-21, ten standards).

    The chance is the posterior probability (see ``probability_all_at_least``) that every
    key question is really in the next band up or better; for the top rating it is the
    chance of really being below it. Percentages are shown to whole numbers unless that
    would cross a band boundary (79.6 % is shown as 79.6, not 80).
    """
    if isinstance(sufficient, int):
        sufficient = [sufficient]
    if isinstance(applicable, int):
        applicable = [applicable]
    if len(sufficient) != len(applicable):
        raise ValueError("sufficient and applicable need one count per key question")
    counts = [(int(s), int(n)) for s, n in zip(sufficient, applicable, strict=True) if n > 0]
    for s, n in counts:
        _check_counts(s, n)
    scheme_text = f"Scheme: {scheme.title}."
    if not counts:
        return f"{label}: not rated (no applicable cases). {scheme_text}"

    s, n = min(counts, key=lambda c: c[0] / c[1])
    pct = _percent(s, n)
    rating = rating_for_percent(pct, scheme)
    low, high = wilson_interval(s, n)
    head = (
        f"{label}: {rating} ({_format_pct(pct, scheme)} %, 95 % CI "
        f"{100 * low:.0f}-{100 * high:.0f} %, n={n})"
    )
    ranked = [b.rating for b in reversed(scheme._standard_bands())]  # lowest first
    position = ranked.index(rating)
    if position + 1 < len(ranked):
        target = ranked[position + 1]
        chance = probability_all_at_least(counts, scheme.band_min_pct(target), prior)
        better = "" if position + 2 == len(ranked) else " or better"
        tail = f"{format_chance(chance)} chance it is really {target}{better}"
    else:
        chance = 1 - probability_all_at_least(counts, scheme.band_min_pct(rating), prior)
        tail = f"{format_chance(chance)} chance it is really below {rating}"
    return f"{head}; {tail}. {scheme_text}"



def aggregate_counts(counts: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Key question counts of the scheme ``scheme.aggregates`` re-expressed as this
    scheme's key questions: each of ours sums the counts of the questions it lists in
    ``from`` (e.g. regional desistance from the four PDU desistance questions).

    counts: columns [by...], standard, key_question, audits, applicable, sufficient (as
    ``queries.readiness.key_question_counts`` returns them). Returns the same columns,
    with this scheme's codes; questions with nothing to aggregate are left out. A scheme
    that aggregates nothing gets counts back unchanged.
    """
    if scheme.aggregates is None:
        return counts
    value_cols = [c for c in ("audits", "applicable", "sufficient") if c in counts.columns]
    by = [c for c in counts.columns if c not in {"standard", "key_question", *value_cols}]
    parts = []
    for kq in scheme.key_questions:
        if not kq.aggregates_from:
            continue
        part = counts[counts["key_question"].astype(str).isin(kq.aggregates_from)]
        if part.empty:
            continue
        if by:
            part = part.groupby(by, as_index=False, dropna=False)[value_cols].sum()
        else:
            part = part[value_cols].sum().to_frame().T
        parts.append(part.assign(standard=kq.standard, key_question=kq.code))
    columns = [*by, "standard", "key_question", *value_cols]
    if not parts:
        return pd.DataFrame(columns=columns).astype({c: "int64" for c in value_cols})
    out = pd.concat(parts, ignore_index=True)[columns]
    return out.astype({c: "int64" for c in value_cols})

