"""HMIP's own case sampler, ported: pure functions, no database, no Streamlit.

A port of HM Inspectorate of Probation's published case sampler
(``ministryofjustice/probation-case-sampler``, Kotlin: ``dto/Cases.kt``,
``utils/SampleSizeCalculator.kt``, ``utils/RoundingAdjuster.kt``,
``services/AllocationCalculator.kt``, ``services/RoAllocationAdjuster.kt``,
``services/SamplePicker.kt``). What it does, in HMIP's order:

1. **Eligibility**: a case is excluded when it is redacted (an asterisk in the first or
   family name), has not started yet (start date after the reference day), or has a
   gender other than male/female.
2. **De-duplication**: the same person (same PNC, same CRN, or same first name, family
   name and date of birth) counts once: only the earliest case (by start date; a tie
   keeps the one listed first) is kept. As in HMIP's code, the comparison runs over the
   whole long list, excluded cases included.
3. **Five strata**: male community non-low RoSH, male community low, male post-custody
   non-low, male post-custody low, female.
4. **Stratum sizes** (``sample_sizes``): each group gets round-half-up(n x share), capped at
   its size, plus a buffer of round-half-up(size x buffer % / 100) (capped again); then
   ``adjust_for_rounding`` brings the total to n + round-half-up(n x buffer % / 100), one
   case at a time: added to the groups from the smallest up (skipping full ones), or
   removed from the largest down, going round the groups in that order.
5. **Proportionality** within each stratum across cluster (our area), then LDU (our
   office), then responsible officer, by the same ``sample_sizes`` rule without a buffer.
6. **Officer cap** (``OfficerCapAdjuster``): no officer gives more than 6 cases to the
   whole sample; the excess is given one case at a time to the same office's officers,
   fewest first, where they have cases left and are under the cap. What cannot be placed
   is a shortfall.
7. **Random pick** of each officer's share from their cases.

Groups are always taken in order of first appearance in the long list (Kotlin's
``groupBy`` keeps that order), which is the tie-break order for rounding. The random pick
is ours (numpy's PCG64 from a stored seed), not Kotlin's ``Random``, so the same seed gives
the same sample here; the sizes at every level are HMIP's exactly.

Deliberate differences, each for a reason stated where it is made: a blank PNC matches
nobody (HMIP's code compares the strings, so two blank PNCs would make two people one);
"not yet started" is judged against a given reference day (the data's as-of date) rather
than the machine's clock, so a draw can be repeated.

Modules: ``sizes`` (steps 4 and 6, Kotlin's rounding), ``cases`` (steps 1 to 3),
``allocation`` (steps 5 and 7, and the tables that explain a draw). The public names below
are used as ``hmip_sampling.draw`` etc. by the sample page, the sample queries and the demo.
"""

from __future__ import annotations

from dashboard.hmip.hmip_sampling.allocation import (
    BREAKDOWN_COLUMNS,
    Bucket,
    HmipDraw,
    allocate,
    draw,
    draw_prepared,
    office_table,
)
from dashboard.hmip.hmip_sampling.cases import (
    COMMUNITY,
    ELIGIBILITY_RULE,
    FEMALE,
    MALE_COMMUNITY_LOW,
    MALE_COMMUNITY_NON_LOW,
    MALE_POST_CUSTODY_LOW,
    MALE_POST_CUSTODY_NON_LOW,
    POST_CUSTODY,
    ROSH_LOW,
    SENTENCE_GROUPS,
    STRATA,
    STRATUM_LABELS,
    earliest_for_person,
    exclusion_reasons,
    prepare,
    stratum_of,
)
from dashboard.hmip.hmip_sampling.sizes import (
    DECREASED_FOR_RO,
    DECREASED_FOR_ROUNDING,
    INCREASED_FOR_RO,
    INCREASED_FOR_ROUNDING,
    INITIAL,
    MAX_CASES_PER_OFFICER,
    WITH_BUFFER,
    GroupSize,
    OfficerCapAdjuster,
    Sizes,
    adjust_for_rounding,
    buffer_for,
    percent_text,
    round_half_up,
    sample_sizes,
)

__all__ = [
    "BREAKDOWN_COLUMNS",
    "COMMUNITY",
    "DECREASED_FOR_RO",
    "DECREASED_FOR_ROUNDING",
    "ELIGIBILITY_RULE",
    "FEMALE",
    "INCREASED_FOR_RO",
    "INCREASED_FOR_ROUNDING",
    "INITIAL",
    "MALE_COMMUNITY_LOW",
    "MALE_COMMUNITY_NON_LOW",
    "MALE_POST_CUSTODY_LOW",
    "MALE_POST_CUSTODY_NON_LOW",
    "MAX_CASES_PER_OFFICER",
    "POST_CUSTODY",
    "ROSH_LOW",
    "SENTENCE_GROUPS",
    "STRATA",
    "STRATUM_LABELS",
    "WITH_BUFFER",
    "Bucket",
    "GroupSize",
    "HmipDraw",
    "OfficerCapAdjuster",
    "Sizes",
    "adjust_for_rounding",
    "allocate",
    "buffer_for",
    "draw",
    "draw_prepared",
    "earliest_for_person",
    "exclusion_reasons",
    "office_table",
    "percent_text",
    "prepare",
    "round_half_up",
    "sample_sizes",
    "stratum_of",
]
