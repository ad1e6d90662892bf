"""The overall rating of a scheme: each standard's score summed and banded, with a
provisional (pro-rated) rating when standards are missing. Pure: no database.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Self

import pandas as pd

from dashboard.hmip.ratings.scheme import Scheme, _is_number


class MissingStandards(ValueError):
    """An overall rating was asked for without every standard of the scheme."""

    def __init__(self, missing: Sequence[str], scheme_id: str) -> None:
        self.missing = tuple(missing)
        super().__init__(
            f"overall rating on scheme {scheme_id!r} needs every standard; missing: "
            f"{', '.join(self.missing)} (pass allow_partial=True for a provisional rating)"
        )



class OverallRating(str):
    """An overall rating word (a ``str``, e.g. ``"Good"``) with how it was reached.

    Attributes: ``total_score`` (sum of the scores given), ``scored_on`` (the total used for
    banding: equal to ``total_score``, or pro-rated to all standards when partial),
    ``max_score``, ``missing`` (standard codes not given), ``partial`` (bool) and
    ``scheme_id``.
    """

    total_score: int
    scored_on: float
    max_score: int
    missing: tuple[str, ...]
    scheme_id: str

    def __new__(
        cls,
        rating: str,
        *,
        total_score: int,
        scored_on: float,
        max_score: int,
        missing: tuple[str, ...],
        scheme_id: str,
    ) -> Self:
        obj = super().__new__(cls, rating)
        obj.__dict__.update(
            total_score=total_score,
            scored_on=scored_on,
            max_score=max_score,
            missing=tuple(missing),
            scheme_id=scheme_id,
        )
        return obj

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, Any]]:
        # Keeps pickling (st.cache_data) and copying working with the keyword-only fields.
        return (str(self),), {
            k: self.__dict__[k]
            for k in ("total_score", "scored_on", "max_score", "missing", "scheme_id")
        }

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("OverallRating is read-only")

    @property
    def partial(self) -> bool:
        """True when some standards were missing and the rating is provisional."""
        return bool(self.missing)


def overall_rating(
    scores_or_ratings: Mapping[str, str | int | None] | pd.DataFrame,
    scheme: Scheme,
    *,
    allow_partial: bool = False,
) -> OverallRating:
    """Overall rating from each standard's rating word or score, summed and banded.

    ``scores_or_ratings`` maps standard code -> rating word (``"Good"``) or score (``2``);
    a DataFrame with columns ``standard`` and ``score`` (or ``rating``) also works, e.g.
    ``standard_ratings()`` output joined with the domain 1 judgements. ``None``/NaN counts as
    missing. In crc_2018 totals 0-5 -> Inadequate, 6-15 -> Requires improvement, 16-25 ->
    Good, 26-30 -> Outstanding.

    Every standard of the scheme must be present, else ``MissingStandards`` (naming the
    codes). With ``allow_partial=True`` a provisional rating is returned instead: the total
    is pro-rated to the full set (``total x all / given``, not rounded) so that absent
    standards do not read as Inadequate, and the result's ``partial`` is True.
    Returns an ``OverallRating`` (a ``str``). Raises ``SchemeIncomplete`` if the scheme has
    no overall bands.
    """
    bands = scheme._overall_bands()
    if isinstance(scores_or_ratings, pd.DataFrame):
        column = "score" if "score" in scores_or_ratings.columns else "rating"
        items = list(zip(scores_or_ratings["standard"], scores_or_ratings[column], strict=True))
    else:
        items = list(scores_or_ratings.items())

    valid_scores = {r.score for r in scheme.ratings}
    scores: dict[str, int] = {}
    seen: set[str] = set()
    for code, value in items:
        code = str(code)
        if code not in scheme.standard_codes:
            raise ValueError(f"{code!r} is not a standard of scheme {scheme.scheme_id!r}")
        if code in seen:
            raise ValueError(f"standard {code} given twice")
        seen.add(code)
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            continue
        if isinstance(value, str):
            scores[code] = scheme.score_for(value)
        elif _is_number(value) and float(value).is_integer() and int(value) in valid_scores:
            scores[code] = int(value)
        else:
            raise ValueError(
                f"standard {code}: {value!r} is neither a rating word nor a score "
                f"({sorted(valid_scores)})"
            )

    missing = tuple(c for c in scheme.standard_codes if c not in scores)
    if missing and not allow_partial:
        raise MissingStandards(missing, scheme.scheme_id)
    if not scores:
        raise ValueError("no standard has a rating: nothing to rate overall")
    total = sum(scores.values())
    scored_on = total * len(scheme.standards) / len(scores) if missing else total
    rating = next(b.rating for b in reversed(bands) if scored_on >= b.min_score)
    return OverallRating(
        rating,
        total_score=total,
        scored_on=scored_on,
        max_score=scheme.max_total_score,
        missing=missing,
        scheme_id=scheme.scheme_id,
    )

