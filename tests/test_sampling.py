"""Stratified sampling: allocation by largest remainder, reproducible draws, strata tables."""

from __future__ import annotations

import math
from fractions import Fraction
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from dashboard.hmip import sampling
from dashboard.hmip.ratings import sample_size


def population(n_per: dict[tuple[str, str, str], int], first_id: int = 1) -> pd.DataFrame:
    rows, pid = [], first_id
    for (sentence, rosh, gender), count in n_per.items():
        for _ in range(count):
            rows.append(
                {"person_id": pid, "sentence_type": sentence, "rosh_level": rosh, "gender": gender}
            )
            pid += 1
    return pd.DataFrame(rows)


def random_population(seed: int, size: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "person_id": rng.permutation(np.arange(1000, 1000 + size)),
            "sentence_type": rng.choice(
                ["community_order", "suspended_sentence_order", "licence"],
                size,
                p=[0.42, 0.23, 0.35],
            ),
            "rosh_level": rng.choice(
                ["low", "medium", "high", "very_high"], size, p=[0.33, 0.47, 0.17, 0.03]
            ),
            "gender": rng.choice(["male", "female"], size, p=[0.86, 0.14]),
        }
    )


# --- allocation ---------------------------------------------------------------------------


def test_allocation_by_hand():
    # 5 of 10: exact shares 2.5, 1.5, 1.0 -> floors 2, 1, 1; one left over; a and b tie on
    # remainder 0.5 and a is the larger stratum.
    assert sampling.allocate({"a": 5, "b": 3, "c": 2}, 5) == {"a": 3, "b": 1, "c": 1}
    # 7 of 9 over 4/3/2: 3.11, 2.33, 1.56 -> 3, 2, 1 and the 1 left goes to c (0.56).
    assert sampling.allocate({"a": 4, "b": 3, "c": 2}, 7) == {"a": 3, "b": 2, "c": 2}
    # exact ties on remainder and size: alphabetical order decides.
    assert sampling.allocate({"y": 1, "x": 1}, 1) == {"x": 1, "y": 0}


def test_allocation_edges():
    assert sampling.allocate({"a": 4, "b": 6}, 0) == {"a": 0, "b": 0}
    assert sampling.allocate({"a": 4, "b": 6}, 10) == {"a": 4, "b": 6}
    assert sampling.allocate({}, 0) == {}
    with pytest.raises(ValueError, match="cannot draw 11"):
        sampling.allocate({"a": 4, "b": 6}, 11)
    with pytest.raises(ValueError):
        sampling.allocate({"a": -1, "b": 6}, 2)
    with pytest.raises(ValueError):
        sampling.allocate({"a": 1}, -1)


@pytest.mark.parametrize("seed", range(25))
def test_allocation_is_proportional_and_exact(seed):
    rng = np.random.default_rng(seed)
    counts = {f"s{i:02d}": int(v) for i, v in enumerate(rng.integers(0, 400, 24))}
    total = sum(counts.values())
    n = int(rng.integers(0, total + 1))
    alloc = sampling.allocate(counts, n)
    assert sum(alloc.values()) == n
    for key, size in counts.items():
        exact = Fraction(n * size, total)
        assert math.floor(exact) <= alloc[key] <= math.ceil(exact) <= size or exact == size
        assert abs(alloc[key] - exact) < 1
    # Largest remainder: nobody rounded down has a larger remainder than anyone rounded up.
    up = [
        Fraction(n * counts[k], total) % 1
        for k in counts
        if alloc[k] > math.floor(Fraction(n * counts[k], total))
    ]
    down = [
        Fraction(n * counts[k], total) % 1
        for k in counts
        if alloc[k] == math.floor(Fraction(n * counts[k], total))
        and Fraction(n * counts[k], total) % 1
    ]
    if up and down:
        assert min(up) >= max(down)


# --- the draw -----------------------------------------------------------------------------


def test_draw_matches_allocation_and_is_reproducible():
    pop = random_population(1, 3000)
    drawn = sampling.draw_sample(pop, 165, seed=20261031)
    assert len(drawn) == 165 and drawn["person_id"].is_unique
    assert set(drawn["person_id"]) <= set(pop["person_id"])
    labels = pop["sentence_type"] + " | " + pop["rosh_level"] + " | " + pop["gender"]
    expected = sampling.allocate(labels.value_counts().to_dict(), 165)
    got = drawn["stratum"].value_counts().to_dict()
    assert {k: v for k, v in expected.items() if v} == got
    # every member's stratum label matches its own columns
    assert (
        drawn["stratum"]
        == drawn["sentence_type"] + " | " + drawn["rosh_level"] + " | " + drawn["gender"]
    ).all()
    again = sampling.draw_sample(pop.sample(frac=1, random_state=3), 165, seed=20261031)
    assert list(again["person_id"]) == list(drawn["person_id"])  # row order does not matter
    other = sampling.draw_sample(pop, 165, seed=20261032)
    assert set(other["person_id"]) != set(drawn["person_id"])


def test_draw_is_uniform_within_a_stratum():
    # One stratum of 10 cases, 3 drawn: over 400 seeds each case is drawn ~30 % of the time
    # (binomial sd 2.3 points, so 20-40 % is over 4 sd either side).
    pop = population({("licence", "high", "male"): 10})
    hits = pd.Series(0, index=pop["person_id"])
    for seed in range(400):
        hits[sampling.draw_sample(pop, 3, seed)["person_id"]] += 1
    share = hits / 400
    assert share.between(0.20, 0.40).all(), share.to_dict()


def test_draw_rejects_bad_input():
    pop = population({("licence", "low", "male"): 3})
    with pytest.raises(ValueError, match="seed"):
        sampling.draw_sample(pop, 1, seed=-1)
    with pytest.raises(ValueError, match="seed"):
        sampling.draw_sample(pop, 1, seed=sampling.SEED_MAX + 1)
    with pytest.raises(ValueError, match="column"):
        sampling.draw_sample(pop.drop(columns="gender"), 1, seed=1)
    with pytest.raises(ValueError, match="twice"):
        sampling.draw_sample(pd.concat([pop, pop]), 1, seed=1)
    with pytest.raises(ValueError, match="cannot draw"):
        sampling.draw_sample(pop, 4, seed=1)
    assert 0 <= sampling.new_seed() <= sampling.SEED_MAX


# --- strata tables --------------------------------------------------------------------------


def test_strata_table_against_crosstab():
    pop = random_population(2, 1500)
    drawn = sampling.draw_sample(pop, 140, seed=99)
    table = sampling.strata_table(pop, drawn).set_index(list(sampling.STRATA))
    keys = list(sampling.STRATA)
    pop_counts = pop.groupby(keys).size()
    drawn_counts = drawn.groupby(keys).size().reindex(pop_counts.index, fill_value=0)
    assert table["population"].sort_index().tolist() == pop_counts.sort_index().tolist()
    assert table["sample"].reindex(pop_counts.index).tolist() == drawn_counts.tolist()
    assert table["population_pct"].sum() == pytest.approx(100)
    assert table["sample_pct"].sum() == pytest.approx(100)
    assert (table["expected"] - table["sample"]).abs().max() < 1
    assert table["population"].is_monotonic_decreasing
    gender = sampling.margin_table(table.reset_index(), "gender").set_index("gender")
    assert gender.loc["female", "population"] == (pop["gender"] == "female").sum()
    assert gender.loc["female", "sample"] == (drawn["gender"] == "female").sum()


def test_strata_from_counts_keeps_strata_missing_from_the_population():
    pop = pd.DataFrame(
        {
            "sentence_type": ["licence"],
            "rosh_level": ["low"],
            "gender": ["male"],
            "population": [10],
        }
    )
    smp = pd.DataFrame(
        {
            "sentence_type": ["licence", "licence"],
            "rosh_level": ["low", "high"],
            "gender": ["male", "male"],
            "sample": [3, 1],
        }
    )
    table = sampling.strata_table_from_counts(pop, smp)
    assert table["sample"].sum() == 4 and table["population"].sum() == 10
    assert table.loc[table["rosh_level"] == "high", "population"].item() == 0


# --- sample size and assignment -----------------------------------------------------------


def test_sample_size_working_shows_the_figure_it_rates_on():
    # 80 % confidence, +/-5 points, 904 cases: n0 = 1.2816^2 x 0.25 / 0.0025 = 164.2,
    # 164.2 / (1 + 163.2 / 904) = 139.1 -> 140.
    z = NormalDist().inv_cdf(0.9)
    n0 = z * z * 0.25 / 0.05**2
    assert math.ceil(n0 / (1 + (n0 - 1) / 904)) == 140 == sample_size(0.8, 0.05, 904)
    text = sampling.sample_size_working(0.8, 0.05, 904)
    assert "1.2816² × 0.5 × 0.5 / 0.05² = 164.2" in text
    assert text.endswith("rounded up to 140 cases.")


def test_round_robin_assignment_is_balanced():
    members = pd.DataFrame({"person_id": range(10)})
    assigned = sampling.assign_round_robin(members, ["a", "b", "c"])
    assert pd.Series(assigned).value_counts().to_dict() == {"a": 4, "b": 3, "c": 3}
    with pytest.raises(ValueError):
        sampling.assign_round_robin(members, [])
