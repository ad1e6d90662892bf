"""HMIP's sampler, cases: eligibility, one case per person (the earliest) and the five
strata (``dto/Cases.kt``), and ``prepare``, which gives the eligible cases with their
stratum.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from dashboard.hmip.hmip_sampling.sizes import MAX_CASES_PER_OFFICER

# HMIP's Stratum enum, in its order.
MALE_COMMUNITY_NON_LOW = "MALE_COMMUNITY_NON_LOW"
MALE_COMMUNITY_LOW = "MALE_COMMUNITY_LOW"
MALE_POST_CUSTODY_NON_LOW = "MALE_POST_CUSTODY_NON_LOW"
MALE_POST_CUSTODY_LOW = "MALE_POST_CUSTODY_LOW"
FEMALE = "FEMALE"
STRATA = (
    MALE_COMMUNITY_NON_LOW,
    MALE_COMMUNITY_LOW,
    MALE_POST_CUSTODY_NON_LOW,
    MALE_POST_CUSTODY_LOW,
    FEMALE,
)
STRATUM_LABELS = {
    MALE_COMMUNITY_NON_LOW: "Male, community, RoSH medium or above",
    MALE_COMMUNITY_LOW: "Male, community, RoSH low",
    MALE_POST_CUSTODY_NON_LOW: "Male, post-custody, RoSH medium or above",
    MALE_POST_CUSTODY_LOW: "Male, post-custody, RoSH low",
    FEMALE: "Female",
}

ELIGIBILITY_RULE = (
    "HMIP case sampler: excludes redacted cases (asterisk in a name), cases not started by "
    "the reference day and gender other than M/F; one case per person (same PNC, same CRN, "
    "or same first name, family name and date of birth), the earliest kept; five strata; "
    "proportional by area, office and officer; at most "
    f"{MAX_CASES_PER_OFFICER} cases per responsible officer."
)


# ---------------------------------------------------------------------------------------
# Cases: eligibility, de-duplication, strata
# ---------------------------------------------------------------------------------------

COMMUNITY = "community"
POST_CUSTODY = "post_custody"

# HMIP's SentenceType aliases, and the dashboard's own sentence types.
SENTENCE_GROUPS = {
    "ORA Community Order": COMMUNITY,
    "ORA Suspended Sentence Order": COMMUNITY,
    "CJA - Youth Rehabilitation Order": COMMUNITY,
    "Adult Licence": POST_CUSTODY,
    "ORA Supervision Default Order": POST_CUSTODY,
    "community_order": COMMUNITY,
    "suspended_sentence_order": COMMUNITY,
    "licence": POST_CUSTODY,
}
# HMIP's RiskOfSeriousHarmLevel aliases (low is the only "low"), and ours.
ROSH_LOW = {
    "RLRH": True,
    "RMRH": False,
    "RHRH": False,
    "RVRH": False,
    "low": True,
    "medium": False,
    "high": False,
    "very_high": False,
}


def stratum_of(gender: str, sentence_group: str, rosh_low: bool) -> str:
    """HMIP's ``getStratum``: female, or male by sentence group and RoSH low / non-low.

    gender 'male'/'female'; sentence_group COMMUNITY or POST_CUSTODY. Raises ValueError for
    any other gender ("Cannot determine type of stratification", as HMIP's code says).
    """
    if gender == "female":
        return FEMALE
    if gender != "male":
        raise ValueError("Cannot determine type of stratification")
    if sentence_group == COMMUNITY:
        return MALE_COMMUNITY_LOW if rosh_low else MALE_COMMUNITY_NON_LOW
    if sentence_group == POST_CUSTODY:
        return MALE_POST_CUSTODY_LOW if rosh_low else MALE_POST_CUSTODY_NON_LOW
    raise ValueError(f"unknown sentence group {sentence_group!r}")


def exclusion_reasons(cases: pd.DataFrame, reference_day: date) -> pd.Series:
    """Why each case is not eligible ('' if eligible): 'redacted', 'not started', 'gender'.

    cases: columns gender ('male'/'female'/other), start_date (date); optional first_name
    and family_name (a '*' in either marks the case redacted). The first reason found
    wins, in HMIP's order.
    """
    reasons = pd.Series("", index=cases.index, dtype=object)
    if "first_name" in cases and "family_name" in cases:
        redacted = cases["first_name"].fillna("").astype(str).str.contains("*", regex=False) | (
            cases["family_name"].fillna("").astype(str).str.contains("*", regex=False)
        )
    else:
        redacted = pd.Series(False, index=cases.index)
    later = pd.to_datetime(cases["start_date"]) > pd.Timestamp(reference_day)
    other = ~cases["gender"].isin(["male", "female"])
    reasons[other] = "gender"
    reasons[later] = "not started"
    reasons[redacted] = "redacted"
    return reasons


def earliest_for_person(cases: pd.DataFrame) -> pd.Series:
    """HMIP's ``isEarliestCaseForOffender`` for every row: True where no case of the same
    person starts earlier (or the same day and earlier in the list).

    The same person: same non-blank PNC, same non-blank CRN (HMIP's README; its code
    leaves CRN as a to-do), or the same first name, family name and date of birth (all
    three present). Without pnc / name columns every case is its own person.
    HMIP compares each case with the ones that match *it* (not a chain of matches), so do
    we: the earliest over the PNC matches and the name matches together.
    """
    n = len(cases)
    if n == 0:
        return pd.Series([], index=cases.index, dtype=bool)
    order = pd.DataFrame(
        {"start": pd.to_datetime(cases["start_date"]).to_numpy(), "pos": np.arange(n)}
    )
    rank = order.sort_values(["start", "pos"], kind="stable").index.to_numpy()
    position = np.empty(n, dtype=np.int64)
    position[rank] = np.arange(n)  # 0 = earliest in (start date, list order)
    best = position.copy()

    def fold(keys: pd.Series) -> None:
        present = keys.notna().to_numpy()
        if not present.any():
            return
        frame = pd.DataFrame({"key": keys.to_numpy()[present], "pos": position[present]})
        low = frame.groupby("key", sort=False)["pos"].transform("min").to_numpy()
        best[present] = np.minimum(best[present], low)

    def blank_to_none(col: str) -> pd.Series:
        s = cases[col].astype(object).where(cases[col].notna(), None)
        return s.map(lambda v: None if v is None or str(v).strip() == "" else str(v).strip())

    if "pnc" in cases:
        fold(blank_to_none("pnc"))
    if "crn" in cases:
        # HMIP's README lists the same CRN as a match (its code has it as a to-do); a CRN
        # is one person's record, so two rows with one CRN are one person.
        fold(blank_to_none("crn"))
    if {"first_name", "family_name", "dob"} <= set(cases.columns):
        parts = [blank_to_none(c) for c in ("first_name", "family_name", "dob")]
        key = pd.Series(
            [
                None if any(p is None for p in t) else "\x1f".join(t)
                for t in zip(*parts, strict=True)
            ],
            dtype=object,
        )
        fold(key)
    return pd.Series(best == position, index=cases.index)



def prepare(cases: pd.DataFrame, reference_day: date) -> tuple[pd.DataFrame, dict[str, int]]:
    """The eligible, de-duplicated cases with their HMIP stratum, and the exclusion counts.

    cases: the long list, one row per case, in list order: gender ('male'/'female'/...),
    sentence_group (COMMUNITY/POST_CUSTODY), rosh_low (bool), start_date, cluster,
    office, officer; optional pnc, first_name, family_name, dob. Returns (eligible rows
    with a ``stratum`` column, list order kept, index reset; counts by reason).
    """
    reasons = exclusion_reasons(cases, reference_day)
    earliest = earliest_for_person(cases)
    dup = (reasons == "") & ~earliest
    excluded = {r: int((reasons == r).sum()) for r in ("redacted", "not started", "gender")}
    excluded["duplicate"] = int(dup.sum())
    kept = cases[(reasons == "") & earliest].reset_index(drop=True)
    kept["stratum"] = [
        stratum_of(g, s, bool(low))
        for g, s, low in zip(*(kept[c].to_numpy(dtype=object).tolist()
                               for c in ("gender", "sentence_group", "rosh_low")), strict=True)
    ]
    return kept, excluded
