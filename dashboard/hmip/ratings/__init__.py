"""HMIP rating engine: inspection schemes held as data, and pure functions that rate them.

A *scheme* (one YAML file in ``dashboard/hmip/frameworks/``) lists the standards, their key
questions, the % bands that rate a case-sample standard and the score bands that rate the
whole. Everything here is pure: no Streamlit, no database.

- ``scheme``: the scheme's data classes, its errors and the provenance of its rules (the
  parts of a scheme, such as ``Standard`` or ``PercentBand``, are imported from there);
- ``loading``: reading and validating a scheme file (``load_scheme``, ``available_schemes``);
- ``rating``: bands, rating a case sample per key question and standard, the statements;
- ``overall``: the overall rating from every standard's score;
- ``probability``: Beta posterior chances of a rating (scipy.stats.beta), sample sizes.

This package's public names are the ones below, used as ``ratings.load_scheme`` etc. by
pages, queries and the evidence pack.

Units, throughout:
- *proportions* are 0..1 (``wilson_interval``, ``regularized_incomplete_beta``, the
  ``p_at_least_good`` column and other probabilities);
- *percentages* are 0..100 (``pct_sufficient``, ``ci_low``/``ci_high``, ``threshold_pct``,
  ``rating_for_percent``). Percentages are computed as ``100 * sufficient / applicable``,
  one correctly rounded division, so a true 65 % is exactly 65.0 and lands in the band that
  starts at 65: band lower bounds are compared exactly (``>=``), nothing is rounded first.

``wilson_interval`` and ``regularized_incomplete_beta`` are re-exported from
``dashboard.stats.intervals``: proportions 0..1, and ``(nan, nan)`` for n == 0 (no
information), which this package shows as "not rated".
"""

from __future__ import annotations

from dashboard.hmip.ratings.loading import (
    FRAMEWORKS_DIR,
    available_schemes,
    load_scheme,
    load_scheme_from_path,
)
from dashboard.hmip.ratings.overall import MissingStandards, OverallRating, overall_rating
from dashboard.hmip.ratings.probability import (
    probability_all_at_least,
    probability_at_least,
    sample_size,
    sample_size_formula_text,
)
from dashboard.hmip.ratings.rating import (
    ANSWERS,
    KEY_QUESTION_COLUMNS,
    STANDARD_COLUMNS,
    aggregate_counts,
    assessment_statement,
    rate_standards,
    rating_for_percent,
    standard_ratings,
)
from dashboard.hmip.ratings.scheme import (
    KeyQuestion,
    Scheme,
    SchemeError,
    SchemeIncomplete,
    provenance_table,
)
from dashboard.stats.intervals import regularized_incomplete_beta, wilson_interval

__all__ = [
    "ANSWERS",
    "FRAMEWORKS_DIR",
    "KEY_QUESTION_COLUMNS",
    "STANDARD_COLUMNS",
    "KeyQuestion",
    "MissingStandards",
    "OverallRating",
    "Scheme",
    "SchemeError",
    "SchemeIncomplete",
    "aggregate_counts",
    "assessment_statement",
    "available_schemes",
    "load_scheme",
    "load_scheme_from_path",
    "overall_rating",
    "probability_all_at_least",
    "probability_at_least",
    "provenance_table",
    "rate_standards",
    "rating_for_percent",
    "regularized_incomplete_beta",
    "sample_size",
    "sample_size_formula_text",
    "standard_ratings",
    "wilson_interval",
]
