"""Tests for the HMIP rating engine (dashboard/hmip/ratings/) and its scheme files.

Expected numbers are written out by hand (with the arithmetic in comments) or computed by
an independent route (binomial sums for the incomplete beta), never by calling the code
under test a second time.
"""

from __future__ import annotations

import copy
import math
import pickle
from pathlib import Path

import pandas as pd
import pytest
import yaml

from dashboard.hmip import ratings
from dashboard.hmip.ratings import (
    MissingStandards,
    SchemeError,
    SchemeIncomplete,
    aggregate_counts,
    assessment_statement,
    available_schemes,
    load_scheme,
    load_scheme_from_path,
    loading,
    overall_rating,
    probability_all_at_least,
    probability_at_least,
    provenance_table,
    rate_standards,
    rating_for_percent,
    regularized_incomplete_beta,
    sample_size,
    sample_size_formula_text,
    standard_ratings,
    wilson_interval,
)

CRC_FILE = ratings.FRAMEWORKS_DIR / "crc_2018.yaml"
OUT, GOOD, RI, INAD = "Outstanding", "Good", "Requires improvement", "Inadequate"


@pytest.fixture(autouse=True)
def _fresh_cache():
    load_scheme.cache_clear()
    available_schemes.cache_clear()
    yield
    load_scheme.cache_clear()
    available_schemes.cache_clear()


@pytest.fixture
def crc():
    return load_scheme("crc_2018")


def answers_from_counts(counts: dict[str, tuple[int, int, int]]) -> pd.DataFrame:
    """Answer rows from {key_question: (sufficient, not_sufficient, not_applicable)}.

    Case ids restart per question: each case answers each question at most once.
    """
    rows = []
    for kq, (suff, not_suff, na) in counts.items():
        answers = ["sufficient"] * suff + ["not_sufficient"] * not_suff + ["not_applicable"] * na
        rows += [{"case_id": i, "key_question": kq, "answer": a} for i, a in enumerate(answers)]
    return pd.DataFrame(rows, columns=["case_id", "key_question", "answer"])


def binomial_upper_tail(k: int, n: int, x: float) -> float:
    """P(Bin(n, x) >= k), summed directly: I_x(a, b) = P(Bin(a + b - 1, x) >= a)."""
    return sum(math.comb(n, j) * x**j * (1 - x) ** (n - j) for j in range(k, n + 1))


# --------------------------------------------------------------------------------------
# Scheme files
# --------------------------------------------------------------------------------------


def test_crc_scheme_content(crc):
    assert crc.scheme_id == "crc_2018"
    assert crc.standard_codes == (
        "1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "3.1", "3.2",
    )  # fmt: skip
    kinds = {s.code: s.kind for s in crc.standards}
    assert [c for c, k in kinds.items() if k == "judgement"] == ["1.1", "1.2", "1.3", "1.4"]
    for code in ("2.1", "2.2", "2.3", "2.4"):
        kqs = crc.standard(code).key_questions
        assert [kq.code for kq in kqs] == [f"{code}a", f"{code}b", f"{code}c"]
        # Keeping-other-people-safe may be not applicable; reviewing applies only to cases
        # where a review was due, so all three of 2.4 may be.
        expected = [True, True, True] if code == "2.4" else [False, False, True]
        assert [kq.may_be_not_applicable for kq in kqs] == expected
    assert crc.key_question("2.1a").text == (
        "Does assessment focus sufficiently on engaging the person on probation?"
    )
    assert [kq.may_be_not_applicable for kq in crc.standard("3.1").key_questions] == [
        False,
        True,
    ]
    assert crc.max_total_score == 30
    assert [crc.score_for(r) for r in (INAD, RI, GOOD, OUT)] == [0, 1, 2, 3]


def test_schemes_found_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert {"crc_2018", "regional_2023"} <= set(available_schemes())
    assert load_scheme("crc_2018").title.startswith("HMIP CRC")


def test_load_scheme_is_cached():
    assert load_scheme("crc_2018") is load_scheme("crc_2018")


def test_unknown_scheme_id():
    with pytest.raises(SchemeError, match="unknown scheme 'nope'.*crc_2018"):
        load_scheme("nope")


def test_current_schemes_rate_what_is_confirmed_and_say_what_is_not():
    pdu = load_scheme("pdu_2023")
    assert [s.code for s in pdu.standards] == ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4"]
    assert [s.name for s in pdu.standards if s.kind == "judgement"] == [
        "Leadership",
        "Staffing",
        "Services",
    ]
    assert len(pdu.key_questions) == 12
    assert rating_for_percent(65, pdu) == GOOD and rating_for_percent(64.9, pdu) == RI
    with pytest.raises(SchemeIncomplete, match="overall_bands"):
        overall_rating({code: GOOD for code in pdu.standard_codes}, pdu)
    assert any("Overall rating bands" in t for t in pdu.not_confirmed)

    regional = load_scheme("regional_2023")
    assert regional.bands_confirmed is False
    assert [s.name for s in regional.standards] == [
        "Leadership",
        "Staffing",
        "Desistance",
        "Public protection",
        "Resettlement",
        "Unpaid work",
        "Court work",
        "Victim work",
    ]
    assert regional.aggregates == ("pdu_2023", "crc_2018")
    with pytest.raises(SchemeIncomplete, match="regional_2023.yaml.*overall_bands"):
        overall_rating({code: GOOD for code in regional.standard_codes}, regional)
    # every rule names a document with a date
    for scheme in (pdu, regional):
        table = provenance_table(scheme)
        rated_rules = table[table["rule"] != "Overall rating bands"]
        assert (rated_rules["document"] != "not confirmed").all()
        assert (rated_rules["date"] != "").all()
        assert table.set_index("rule").loc["Overall rating bands", "document"] == "not confirmed"


def test_regional_counts_aggregate_the_pdu_key_questions():
    regional = load_scheme("regional_2023")
    counts = pd.DataFrame(
        {
            "office": ["A", "A", "B", "B", "A"],
            "standard": ["2.1", "2.3", "2.1", "2.3", "2.1"],
            "key_question": ["2.1b", "2.3c", "2.1b", "2.3c", "2.1a"],
            "audits": [10, 10, 5, 5, 10],
            "applicable": [10, 8, 5, 4, 10],
            "sufficient": [6, 2, 4, 1, 9],
        }
    )
    out = aggregate_counts(counts, regional).set_index(["office", "key_question"])
    # R2.1a (assessment, desistance) is PDU 2.1b; R2.2c is PDU 2.3c; 2.1a feeds nothing
    assert out.loc[("A", "R2.1a"), ["applicable", "sufficient"]].tolist() == [10, 6]
    assert out.loc[("B", "R2.2c"), ["applicable", "sufficient"]].tolist() == [4, 1]
    assert set(out.index.get_level_values("key_question")) == {"R2.1a", "R2.2c"}
    rated = standard_ratings(out.reset_index(), regional).set_index("standard")
    assert rated.loc["R2.1", "pct_sufficient"] == 100 * 10 / 15
    assert rated.loc["R2.2", "rating"] == INAD  # 3 of 12


def _write_variant(tmp_path: Path, change, name: str = "broken.yaml") -> Path:
    data = yaml.safe_load(CRC_FILE.read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    change(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_unchanged_copy_loads(tmp_path):
    # Guards the broken-file tests below: the round trip itself must not break anything.
    scheme = load_scheme_from_path(_write_variant(tmp_path, lambda d: None))
    assert scheme.standard_codes == load_scheme("crc_2018").standard_codes


def _gap_in_overall_bands(d):
    d["overall_bands"][1]["max_score"] = 14  # RI 6-14, Good from 16: 15 belongs nowhere


def _overlap_in_overall_bands(d):
    d["overall_bands"][1]["max_score"] = 16  # RI 6-16 and Good 16-25 both claim 16


def _overall_bands_short(d):
    d["overall_bands"][-1]["max_score"] = 29


def _standard_bands_not_from_zero(d):
    d["standard_bands"][-1]["min_pct"] = 10


def _standard_bands_out_of_order(d):
    d["standard_bands"][0]["min_pct"] = 60  # Outstanding from 60, below Good's 65


def _score_missing(d):
    del d["ratings"][2]["score"]


def _unquoted_code(d):
    d["standards"][0]["code"] = 1.1


def _orphan_key_question(d):
    d["key_questions"][0]["standard"] = "2.9"


def _key_question_on_judgement(d):
    d["key_questions"][0]["standard"] = "1.1"


def _case_standard_without_questions(d):
    d["key_questions"] = [k for k in d["key_questions"] if k["standard"] != "3.2"]


def _duplicate_standard(d):
    d["standards"][1]["code"] = "1.1"


def _misspelt_key(d):
    d["overal_bands"] = d.pop("overall_bands")


def _bad_kind(d):
    d["standards"][4]["kind"] = "cases"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_gap_in_overall_bands, "not contiguous: Requires improvement ends at 14"),
        (_overlap_in_overall_bands, "Requires improvement ends at 16 but Good starts at 16"),
        (_overall_bands_short, "end at 29 but 10 standards can score up to 30"),
        (_standard_bands_not_from_zero, "lowest band must start at min_pct 0"),
        (_standard_bands_out_of_order, "out of order"),
        (_score_missing, r"ratings\[2\] \(Good\) needs an integer score"),
        (_unquoted_code, "quote codes"),
        (_orphan_key_question, "2.1a belongs to standard '2.9', which is not defined"),
        (_key_question_on_judgement, "2.1a belongs to 1.1, a judgement standard"),
        (_case_standard_without_questions, "without key questions: 3.2"),
        (_duplicate_standard, "duplicate standard code"),
        (_misspelt_key, "unknown top-level key.*overal_bands"),
        (_bad_kind, "kind must be one of"),
    ],
)
def test_scheme_validation_errors_name_file_and_problem(tmp_path, change, message):
    path = _write_variant(tmp_path, change)
    with pytest.raises(SchemeError, match=message) as info:
        load_scheme_from_path(path)
    assert "broken.yaml" in str(info.value)


def test_invalid_yaml_syntax(tmp_path):
    path = tmp_path / "garbled.yaml"
    path.write_text("scheme: x\nstandards: [unclosed\n", encoding="utf-8")
    with pytest.raises(SchemeError, match="garbled.yaml: not valid YAML"):
        load_scheme_from_path(path)


def test_missing_file(tmp_path):
    with pytest.raises(SchemeError, match="absent.yaml: cannot read"):
        load_scheme_from_path(tmp_path / "absent.yaml")


def test_scheme_id_must_match_file_name(tmp_path, monkeypatch):
    _write_variant(tmp_path, lambda d: None, name="other.yaml")  # says scheme: crc_2018
    monkeypatch.setattr(loading, "FRAMEWORKS_DIR", tmp_path)
    with pytest.raises(SchemeError, match="other.yaml: file says scheme 'crc_2018'"):
        load_scheme("other")


# --------------------------------------------------------------------------------------
# Bands
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pct", "expected"),
    [
        (0, INAD),
        (49.99, INAD),
        (49.999999, INAD),
        (50, RI),
        (64.99, RI),
        (65, GOOD),
        (79.99, GOOD),
        (79.999, GOOD),  # only >= 80 is Outstanding: no rounding up
        (80, OUT),
        (100, OUT),
    ],
)
def test_standard_band_boundaries(crc, pct, expected):
    assert rating_for_percent(pct, crc) == expected


@pytest.mark.parametrize("pct", [-0.1, 100.1, math.nan])
def test_percent_out_of_range(crc, pct):
    with pytest.raises(ValueError, match="between 0 and 100"):
        rating_for_percent(pct, crc)


def _ten(scores: list[int]) -> dict[str, int]:
    codes = ["1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "3.1", "3.2"]
    assert len(scores) == 10
    return dict(zip(codes, scores, strict=True))


@pytest.mark.parametrize(
    ("scores", "total", "expected"),
    [
        ([0] * 10, 0, INAD),
        ([1] * 5 + [0] * 5, 5, INAD),
        ([1] * 6 + [0] * 4, 6, RI),
        ([2] * 5 + [1] * 5, 15, RI),
        ([2] * 6 + [1] * 4, 16, GOOD),
        ([3] * 5 + [2] * 5, 25, GOOD),
        ([3] * 6 + [2] * 4, 26, OUT),
        ([3] * 10, 30, OUT),
    ],
)
def test_overall_band_boundaries(crc, scores, total, expected):
    result = overall_rating(_ten(scores), crc)
    assert result == expected
    assert result.total_score == total
    assert result.partial is False


def test_overall_accepts_rating_words_in_any_case(crc):
    words = {code: "good" for code in crc.standard_codes}
    words["2.3"] = "requires  improvement"
    result = overall_rating(words, crc)  # 9 x 2 + 1 = 19
    assert (result, result.total_score) == (GOOD, 19)


def test_overall_requires_every_standard(crc):
    scores = _ten([2] * 10)
    del scores["1.2"], scores["3.2"]
    with pytest.raises(MissingStandards, match=r"missing: 1\.2, 3\.2") as info:
        overall_rating(scores, crc)
    assert info.value.missing == ("1.2", "3.2")


def test_overall_partial_is_pro_rated_and_flagged(crc):
    # Domain 2 only, all Outstanding: 4 x 3 = 12 raw, pro-rated 12 x 10 / 4 = 30.
    domain_2 = {"2.1": OUT, "2.2": OUT, "2.3": OUT, "2.4": OUT}
    result = overall_rating(domain_2, crc, allow_partial=True)
    assert result == OUT
    assert result.partial is True
    assert result.total_score == 12
    assert result.scored_on == pytest.approx(30)
    assert result.missing == ("1.1", "1.2", "1.3", "1.4", "3.1", "3.2")
    # Pro-rated 2 x 10 / 4 = 5 -> Inadequate; 3 x 10 / 4 = 7.5 -> RI.
    assert overall_rating({"2.1": 1, "2.2": 1, "2.3": 0, "2.4": 0}, crc, allow_partial=True) == INAD
    assert overall_rating({"2.1": 1, "2.2": 1, "2.3": 1, "2.4": 0}, crc, allow_partial=True) == RI


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ({"9.9": 2}, "not a standard"),
        ({"2.1": 4}, "neither a rating word nor a score"),
        ({"2.1": "Excellent"}, "not a rating"),
    ],
)
def test_overall_rejects_bad_input(crc, scores, message):
    with pytest.raises(ValueError, match=message):
        overall_rating(scores, crc, allow_partial=True)


def test_overall_rejects_a_standard_given_twice(crc):
    frame = pd.DataFrame({"standard": ["2.1", "2.1"], "rating": [None, GOOD]})
    with pytest.raises(ValueError, match="2.1 given twice"):
        overall_rating(frame, crc, allow_partial=True)


def test_overall_rating_survives_pickle(crc):
    result = overall_rating(_ten([2] * 10), crc)
    again = pickle.loads(pickle.dumps(result))
    assert again == GOOD and again.total_score == 20 and again.scheme_id == "crc_2018"
    with pytest.raises(AttributeError):
        result.total_score = 3


# --------------------------------------------------------------------------------------
# Wilson interval (proportions, 0..1)
# --------------------------------------------------------------------------------------


def test_wilson_hand_values():
    # z = 1.959964, z^2 = 3.841459. For 8/10: centre = (0.8 + 0.192073) / 1.384146 = 0.716733;
    # half = 1.959964 x sqrt(0.016 + 0.009604) / 1.384146 = 0.226571 -> (0.4902, 0.9433).
    assert wilson_interval(8, 10) == pytest.approx((0.4902, 0.9433), abs=5e-5)
    # n = 1: 1/1 -> lower = 1 / (1 + z^2) = 0.206549; 0/1 -> upper = z^2 / (1 + z^2).
    assert wilson_interval(1, 1) == pytest.approx((0.206549, 1.0), abs=1e-6)
    assert wilson_interval(0, 1) == pytest.approx((0.0, 0.793451), abs=1e-6)
    # Large n, 500/1000: centre 0.5; half = 1.959964 x sqrt(0.00025 + 0.00000096) / 1.003841
    # = 0.030930 -> (0.469070, 0.530930).
    assert wilson_interval(500, 1000) == pytest.approx((0.469070, 0.530930), abs=1e-6)


def test_wilson_no_cases_is_nan():
    # Chosen (dashboard/stats/intervals.py): n == 0 carries no information, so (nan, nan).
    low, high = wilson_interval(0, 0)
    assert math.isnan(low) and math.isnan(high)


def test_ratings_reexports_the_shared_wilson():
    from dashboard.stats import intervals as stats

    assert ratings.wilson_interval is stats.wilson_interval


# --------------------------------------------------------------------------------------
# Incomplete beta and posterior probabilities
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("x", [0.0, 0.1, 0.35, 0.65, 0.99, 1.0])
def test_incomplete_beta_uniform(x):
    assert regularized_incomplete_beta(1, 1, x) == pytest.approx(x, abs=1e-14)


@pytest.mark.parametrize("a", [0.5, 1, 3, 40.5, 500])
def test_incomplete_beta_symmetric_half(a):
    assert regularized_incomplete_beta(a, a, 0.5) == pytest.approx(0.5, abs=1e-12)


def test_incomplete_beta_closed_forms():
    # I_x(a, 1) = x^a;  I_x(1, b) = 1 - (1 - x)^b.
    assert regularized_incomplete_beta(3.5, 1, 0.7) == pytest.approx(0.7**3.5, rel=1e-12)
    assert regularized_incomplete_beta(1, 4, 0.2) == pytest.approx(1 - 0.8**4, rel=1e-12)
    # Arcsine law: I_x(1/2, 1/2) = (2 / pi) asin(sqrt x); at x = 1/4 that is 1/3.
    assert regularized_incomplete_beta(0.5, 0.5, 0.25) == pytest.approx(1 / 3, abs=1e-12)
    # I_0.4(2, 3) = P(Bin(4, 0.4) >= 2) = 1 - 0.6^4 - 4 x 0.4 x 0.6^3 = 0.5248.
    assert regularized_incomplete_beta(2, 3, 0.4) == pytest.approx(0.5248, abs=1e-12)


@pytest.mark.parametrize(
    ("a", "b", "x"),
    [(47, 35, 0.65), (14, 8, 0.65), (3, 60, 0.02), (600, 400, 0.61), (2, 2, 0.999)],
)
def test_incomplete_beta_matches_binomial_sum(a, b, x):
    assert regularized_incomplete_beta(a, b, x) == pytest.approx(
        binomial_upper_tail(a, a + b - 1, x), abs=1e-11
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: regularized_incomplete_beta(0, 1, 0.5),
        lambda: regularized_incomplete_beta(1, 1, 1.5),
        lambda: probability_at_least(11, 10, 65),  # more sufficient than applicable
        lambda: probability_at_least(5, 10, 165),  # threshold above 100 %
    ],
    ids=["beta_a_zero", "beta_x_above_1", "counts", "threshold"],
)
def test_incomplete_beta_and_probability_reject_bad_arguments(call):
    with pytest.raises(ValueError):
        call()


def test_probability_at_least_known_values():
    assert probability_at_least(0, 0, 65) == pytest.approx(0.35, abs=1e-12)  # uniform
    assert probability_at_least(1, 1, 50) == pytest.approx(0.75, abs=1e-12)  # Beta(2, 1)
    assert probability_at_least(5, 10, 50) == pytest.approx(0.5, abs=1e-12)  # Beta(6, 6)
    # Beta(47, 35) (46/80 sufficient, uniform prior): P(p >= 0.65) = P(Bin(81, 0.65) <= 46).
    expected = 1 - binomial_upper_tail(47, 81, 0.65)
    assert probability_at_least(46, 80, 65) == pytest.approx(expected, abs=1e-11)
    assert 0.07 < expected < 0.09  # the "8 % chance" in the statement below
    # Jeffreys prior, Beta(0.5, 0.5): 0/0 -> P(p >= 0.75) = 1 - (2/pi) asin(sqrt .75) = 1/3.
    assert probability_at_least(0, 0, 75, prior=(0.5, 0.5)) == pytest.approx(1 / 3, abs=1e-12)


@pytest.mark.parametrize("prior", [(1.0, 1.0), (0.5, 0.5)])
def test_probability_at_least_is_scipy_stats_beta_sf(prior):
    """The posterior tail is read from scipy.special.betaincc directly (the function
    scipy.stats.beta.sf calls): the same number, to the last bit, for every count up to
    120 cases at every band edge and the ends of the scale."""
    from scipy.stats import beta

    for threshold in (0, 35, 50, 65, 80, 100):
        for n in range(121):
            for s in range(n + 1):
                a, b = prior[0] + s, prior[1] + n - s
                assert probability_at_least(s, n, threshold, prior) == float(
                    beta.sf(threshold / 100, a, b)), (s, n, threshold)


def test_probability_all_is_product_of_independent_posteriors():
    # 13/20 and 20/20, threshold 65 %: posteriors Beta(14, 8) and Beta(21, 1).
    first = 1 - binomial_upper_tail(14, 21, 0.65)
    second = 1 - 0.65**21  # P(p >= .65) for Beta(21, 1) = 1 - 0.65^21
    both = probability_all_at_least([(13, 20), (20, 20), (0, 0)], 65)
    assert both == pytest.approx(first * second, abs=1e-12)
    assert both < min(first, second)
    assert math.isnan(probability_all_at_least([], 65))


# --------------------------------------------------------------------------------------
# Rating a case sample
# --------------------------------------------------------------------------------------


def test_rate_standards_counts_and_excludes_not_applicable(crc):
    answers = answers_from_counts({"2.1a": (8, 2, 0), "2.1b": (6, 4, 0), "2.1c": (5, 3, 2)})
    table = rate_standards(answers, crc)
    assert list(table["key_question"]) == ["2.1a", "2.1b", "2.1c"]
    row = table.set_index("key_question").loc["2.1c"]
    assert (row["sufficient"], row["applicable"], row["not_applicable"]) == (5, 8, 2)
    assert row["pct_sufficient"] == 62.5  # 5 / 8, the 2 not applicable left out
    first = table.set_index("key_question").loc["2.1a"]
    assert (first["ci_low"], first["ci_high"]) == pytest.approx((49.02, 94.33), abs=5e-3)
    assert row["label"] == "Keeping other people safe"


def test_rate_standards_lists_unanswered_questions_of_present_standards(crc):
    table = rate_standards(answers_from_counts({"2.2a": (3, 1, 0)}), crc)
    assert list(table["key_question"]) == ["2.2a", "2.2b", "2.2c"]
    unanswered = table.set_index("key_question").loc["2.2b"]
    assert unanswered["applicable"] == 0 and math.isnan(unanswered["pct_sufficient"])


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(1, "2.1a", "yes")], "unknown answer"),
        ([(1, "2.9a", "sufficient")], "not in scheme"),
        ([(1, "2.1a", "sufficient"), (1, "2.1a", "not_sufficient")], "twice"),
        ([(1, "2.1a", "not_applicable")], "only allowed on questions marked"),
    ],
)
def test_rate_standards_rejects_bad_answers(crc, rows, message):
    answers = pd.DataFrame(rows, columns=["case_id", "key_question", "answer"])
    with pytest.raises(ValueError, match=message):
        rate_standards(answers, crc)


def test_rate_standards_checks_standard_column(crc):
    answers = pd.DataFrame(
        [(1, "2.2", "2.1a", "sufficient")],
        columns=["case_id", "standard", "key_question", "answer"],
    )
    with pytest.raises(ValueError, match="belongs to standard 2.1, not 2.2"):
        rate_standards(answers, crc)


def test_lowest_key_question_drives_the_standard(crc):
    # 2.1a 90 %, 2.1b 85 %, 2.1c 64 % (16/25): the lowest, 64 %, rates it RI, not Good.
    answers = answers_from_counts({"2.1a": (18, 2, 0), "2.1b": (17, 3, 0), "2.1c": (16, 9, 5)})
    result = standard_ratings(rate_standards(answers, crc), crc).set_index("standard")
    row = result.loc["2.1"]
    assert row["lowest_key_question"] == "2.1c"
    assert (row["pct_sufficient"], row["applicable"]) == (64.0, 25)
    assert (row["rating"], row["score"]) == (RI, 1)


def test_kss_calibration_implementation_and_delivery_inadequate(crc):
    # KSS regional inspection (2024): 22 % sufficient on implementation and delivery for
    # keeping other people safe. 2.3a 70 % (35/50), 2.3b 60 % (30/50), 2.3c 22 % (11/50,
    # 6 more cases not applicable) -> lowest 22 % -> Inadequate.
    answers = answers_from_counts({"2.3a": (35, 15, 0), "2.3b": (30, 20, 0), "2.3c": (11, 39, 6)})
    row = standard_ratings(answers, crc).set_index("standard").loc["2.3"]
    assert row["lowest_key_question"] == "2.3c"
    assert row["pct_sufficient"] == 22.0
    assert (row["rating"], row["score"]) == (INAD, 0)
    assert row["p_at_least_good"] < 1e-9  # 11/50 cannot plausibly be >= 65 %
    assert row["statement"].startswith("2.3 Implementation and delivery: Inadequate (22 %")


@pytest.mark.parametrize(
    ("sufficient", "applicable", "expected"),
    [
        (39, 80, INAD),  # 48.75 %
        (40, 80, RI),  # 50 % exactly
        (51, 80, RI),  # 63.75 %
        (52, 80, GOOD),  # 65 % exactly: 100 x 52 / 80 = 65.0, no float drift
        (7999, 10000, GOOD),  # 79.99 %
        (64, 80, OUT),  # 80 % exactly
    ],
)
def test_counts_at_band_edges(crc, sufficient, applicable, expected):
    answers = answers_from_counts({"2.4a": (sufficient, applicable - sufficient, 0)})
    answers = pd.concat([answers, answers_from_counts({"2.4b": (10, 0, 0), "2.4c": (10, 0, 0)})])
    row = standard_ratings(answers, crc).set_index("standard").loc["2.4"]
    assert row["lowest_key_question"] == "2.4a"
    assert row["rating"] == expected


def test_standard_without_applicable_cases_is_not_rated(crc):
    # Only the may-be-not-applicable question answered, and all N/A.
    row = standard_ratings(answers_from_counts({"3.2b": (0, 0, 4)}), crc).iloc[0]
    assert row["rating"] is None and pd.isna(row["score"])
    assert "not rated" in row["statement"]


def test_p_at_least_good_for_a_standard_uses_every_key_question(crc):
    # 3.1a 13/20, 3.1b 20/20: P(Good+) = P(3.1a >= 65 %) x P(3.1b >= 65 %) (independent).
    answers = answers_from_counts({"3.1a": (13, 7, 0), "3.1b": (20, 0, 0)})
    row = standard_ratings(answers, crc).set_index("standard").loc["3.1"]
    expected = (1 - binomial_upper_tail(14, 21, 0.65)) * (1 - 0.65**21)
    assert row["p_at_least_good"] == pytest.approx(expected, abs=1e-12)
    assert row["rating"] == GOOD  # 65 % exactly


def test_full_ten_standard_set_rates_requires_improvement(crc):
    # Domain 1 judgements: 1.1 RI (1), 1.2 Inadequate (0, staffing fragile), 1.3 Good (2),
    # 1.4 RI (1)                                                             -> 4
    # Case sample, lowest key question per standard:
    #   2.1 Good (2): lowest 2.1c 28/40 = 70 %
    #   2.2 RI (1): lowest 2.2c 22/40 = 55 %
    #   2.3 Inadequate (0): lowest 2.3c 11/50 = 22 % (KSS calibration)
    #   2.4 RI (1): lowest 2.4c 24/40 = 60 %
    #   3.1 Good (2): lowest 3.1a 18/25 = 72 % (3.1b 20/25 = 80 %)
    #   3.2 RI (1): lowest 3.2b 13/25 = 52 %                                -> 7
    # Total 4 + 7 = 11 -> 6-15 -> Requires improvement.
    answers = answers_from_counts(
        {
            "2.1a": (36, 4, 0), "2.1b": (32, 8, 0), "2.1c": (28, 12, 5),
            "2.2a": (34, 6, 0), "2.2b": (30, 10, 0), "2.2c": (22, 18, 5),
            "2.3a": (35, 15, 0), "2.3b": (30, 20, 0), "2.3c": (11, 39, 6),
            "2.4a": (32, 8, 0), "2.4b": (28, 12, 0), "2.4c": (24, 16, 5),
            "3.1a": (18, 7, 0), "3.1b": (20, 5, 0),
            "3.2a": (16, 9, 0), "3.2b": (13, 12, 2),
        }
    )  # fmt: skip
    cases = standard_ratings(answers, crc)
    assert dict(zip(cases["standard"], cases["rating"], strict=True)) == {
        "2.1": GOOD, "2.2": RI, "2.3": INAD, "2.4": RI, "3.1": GOOD, "3.2": RI,
    }  # fmt: skip
    judgements = pd.DataFrame(
        {"standard": ["1.1", "1.2", "1.3", "1.4"], "rating": [RI, INAD, GOOD, RI]}
    )
    both = pd.concat([judgements, cases[["standard", "rating"]]], ignore_index=True)
    result = overall_rating(both, crc)
    assert result == RI
    assert (result.total_score, result.partial) == (11, False)
    # Lift 2.3 to Good (+2) and 1.2 to Good (+2): 15 -> still RI; one more step is Good.
    scores = {**dict(zip(both["standard"], both["rating"], strict=True)), "2.3": GOOD}
    scores["1.2"] = GOOD
    assert overall_rating(scores, crc).total_score == 15
    assert overall_rating(scores, crc) == RI
    assert overall_rating({**scores, "2.2": GOOD}, crc) == GOOD  # 16


def test_overall_from_dataframe_scores(crc):
    frame = pd.DataFrame({"standard": list(_ten([0] * 10)), "score": [3] * 6 + [2] * 4})
    assert overall_rating(frame, crc) == OUT  # 18 + 8 = 26


# --------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------


def test_assessment_statement_example(crc):
    # 46/80 = 57.5 % -> "58 %"; Wilson 95 % 46.6-68.0 %; P(Good or better) = 7.9 %.
    assert assessment_statement("Assessment", 46, 80, crc) == (
        "Assessment: Requires improvement (58 %, 95 % CI 47-68 %, n=80); "
        "8 % chance it is really Good or better. "
        "Scheme: HMIP CRC inspection standards (2018-21, ten standards)."
    )


def test_assessment_statement_keeps_shown_figure_in_its_band(crc):
    # 199/250 = 79.6 % is Good; showing "80 %" beside "Good" would contradict the bands.
    text = assessment_statement("Reviewing", 199, 250, crc)
    assert text.startswith("Reviewing: Good (79.6 %, 95 % CI 74-84 %, n=250)")
    assert "chance it is really Outstanding." in text  # top band: no "or better"


def test_assessment_statement_top_and_bottom(crc):
    top = assessment_statement("Planning", [90, 19], [100, 20], crc)
    assert top.startswith("Planning: Outstanding (90 %")
    assert "chance it is really below Outstanding" in top
    bottom = assessment_statement("Planning", 3, 20, crc)
    assert "<1 % chance it is really Requires improvement or better" in bottom
    assert "not rated" in assessment_statement("Planning", [0], [0], crc)


# --------------------------------------------------------------------------------------
# Sample size
# --------------------------------------------------------------------------------------


def test_sample_size_80_percent_5_points():
    # z(80 %) = 1.2815516, z^2 = 1.6423744; n0 = 1.6423744 x 0.25 / 0.0025 = 164.237 -> 165.
    assert sample_size(0.80, 0.05) == 165
    # N = 1000: n = 164.237 / (1 + 163.237 / 1000) = 164.237 / 1.163237 = 141.19 -> 142.
    assert sample_size(0.80, 0.05, population=1000) == 142
    # Tables that round z to 1.28: n0 = 1.6384 x 100 = 163.84 -> 164; with N = 1000,
    # 163.84 / (1 + 162.84 / 1000) = 163.84 / 1.16284 = 140.90 -> 141.
    assert sample_size(0.80, 0.05, z=1.28) == 164
    assert sample_size(0.80, 0.05, population=1000, z=1.28) == 141


def test_sample_size_other_cases():
    # 95 %, 5 points: 1.959964^2 x 0.25 / 0.0025 = 384.15 -> 385 (the textbook figure).
    assert sample_size(0.95, 0.05) == 385
    # p = 0.8 needs fewer: 1.6423744 x 0.16 / 0.0025 = 105.11 -> 106.
    assert sample_size(0.80, 0.05, p=0.8) == 106
    # A population smaller than n0 caps the sample near N: 164.237 / (1 + 163.237 / 50)
    # = 164.237 / 4.26474 = 38.51 -> 39.
    assert sample_size(0.80, 0.05, population=50) == 39
    with pytest.raises(ValueError):
        sample_size(1.2)
    with pytest.raises(ValueError):
        sample_size(population=0)


def test_sample_size_formula_text():
    text = sample_size_formula_text()
    assert "n0 = z² × p × (1 − p) / e²" in text
    assert "n = n0 / (1 + (n0 − 1) / N)" in text


def test_standard_ratings_from_database_style_counts_by_office(crc):
    # Shape of queries.quality.key_question_counts(level="office"): counts, no percentages.
    counts = pd.DataFrame(
        [
            ("Ashford", "2.3", "2.3a", 12, 10, 7),
            ("Ashford", "2.3", "2.3c", 12, 10, 2),  # 20 %
            ("Maidstone", "2.3", "2.3a", 20, 20, 14),  # 70 %
            ("Maidstone", "2.3", "2.3c", 20, 18, 12),  # 66.7 %
        ],
        columns=["office", "standard", "key_question", "audits", "applicable", "sufficient"],
    )
    per_office = standard_ratings(counts, crc, by=["office"]).set_index("office")
    assert per_office.loc["Ashford", "rating"] == INAD
    assert per_office.loc["Maidstone", "rating"] == GOOD
    assert per_office.loc["Maidstone", "lowest_key_question"] == "2.3c"
    # Without by, offices are pooled: 2.3a 21/30 = 70 %, 2.3c 14/28 = 50 % -> RI.
    pooled = standard_ratings(counts, crc).iloc[0]
    assert (pooled["sufficient"], pooled["applicable"], pooled["rating"]) == (14, 28, RI)
    assert (pooled["ci_low"], pooled["ci_high"]) == pytest.approx(
        [100 * v for v in wilson_interval(14, 28)]
    )


def test_standard_ratings_rejects_impossible_counts(crc):
    counts = pd.DataFrame({"key_question": ["2.1a"], "sufficient": [5], "applicable": [4]})
    with pytest.raises(ValueError, match="sufficient <= applicable"):
        standard_ratings(counts, crc)
