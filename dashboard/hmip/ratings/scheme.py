"""Inspection schemes as data: the rating words, bands, standards and key questions of one
HMIP scheme (``dashboard/hmip/frameworks/*.yaml``, read by ``ratings.loading``), and the
provenance of every rule. Pure: no Streamlit, no database.

Percentages here are 0..100 (``PercentBand.min_pct``, ``Scheme.rating_for``): band lower
bounds are inclusive and compared exactly, nothing is rounded first.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd


class SchemeError(ValueError):
    """A scheme file is missing, unreadable or inconsistent; the message names the file."""


class SchemeIncomplete(SchemeError):
    """The scheme loads but lacks what a rating needs (e.g. its bands are not entered)."""


# ---------------------------------------------------------------------------------------
# Scheme data
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingLevel:
    """One rating word and the score it contributes to the overall sum."""

    name: str
    score: int


@dataclass(frozen=True)
class PercentBand:
    """A standard is rated ``rating`` when ``min_pct <= pct < next band's min_pct`` (0..100)."""

    rating: str
    min_pct: float


@dataclass(frozen=True)
class ScoreBand:
    """The overall rating is ``rating`` when ``min_score <= total <= max_score``."""

    rating: str
    min_score: int
    max_score: int


@dataclass(frozen=True)
class Provenance:
    """Where a rule comes from: a document (title), its date, and its address if any."""

    ref: str
    document: str
    date: str
    url: str = ""


@dataclass(frozen=True)
class KeyQuestion:
    """A key question of a case-sample standard, answered per case.

    source: the provenance ref of the rule. aggregates_from: in a scheme that aggregates
    another (``Scheme.aggregates``), the other scheme's key questions whose answers count
    as answers to this one (e.g. regional desistance from the PDU desistance questions).
    """

    code: str
    standard: str
    label: str
    text: str
    may_be_not_applicable: bool = False
    source: str = ""
    aggregates_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class Standard:
    """A standard: rated from a case sample (``case_sample``) or recorded as a judgement."""

    code: str
    name: str
    domain: str
    kind: str
    key_questions: tuple[KeyQuestion, ...] = ()
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class Scheme:
    """An inspection scheme loaded from YAML (see ``dashboard/hmip/frameworks/crc_2018.yaml``).

    ``ratings`` run lowest to highest. ``standard_bands`` (highest first) and
    ``overall_bands`` (lowest first) are ``None`` when the file leaves them empty; rating
    against them then raises ``SchemeIncomplete``.
    """

    scheme_id: str
    title: str
    source: Path
    bands_confirmed: bool
    note: str
    ratings: tuple[RatingLevel, ...]
    standard_bands: tuple[PercentBand, ...] | None
    overall_bands: tuple[ScoreBand, ...] | None
    domains: tuple[tuple[str, str], ...]
    standards: tuple[Standard, ...]
    # Where the rules come from, and what could not be confirmed (shown on screen and in
    # the evidence pack); aggregates: the scheme whose case audits this one is rated from.
    provenance: tuple[Provenance, ...] = ()
    bands_source: str = ""
    not_confirmed: tuple[str, ...] = ()
    aggregates: tuple[str, ...] | None = None

    @property
    def key_questions(self) -> tuple[KeyQuestion, ...]:
        """Every key question, in scheme order."""
        return tuple(kq for s in self.standards for kq in s.key_questions)

    @property
    def standard_codes(self) -> tuple[str, ...]:
        """Standard codes in scheme order."""
        return tuple(s.code for s in self.standards)

    @property
    def rating_names(self) -> tuple[str, ...]:
        """Rating words, lowest first."""
        return tuple(r.name for r in self.ratings)

    @property
    def max_total_score(self) -> int:
        """Highest possible overall score: top rating's score x number of standards."""
        return self.ratings[-1].score * len(self.standards)

    def standard(self, code: str) -> Standard:
        """The standard with this code; ``KeyError`` if the scheme has none."""
        for s in self.standards:
            if s.code == code:
                return s
        raise KeyError(f"scheme {self.scheme_id!r} has no standard {code!r}")

    def key_question(self, code: str) -> KeyQuestion:
        """The key question with this code; ``KeyError`` if the scheme has none."""
        for kq in self.key_questions:
            if kq.code == code:
                return kq
        raise KeyError(f"scheme {self.scheme_id!r} has no key question {code!r}")

    def canonical_rating(self, rating: str) -> str:
        """The scheme's spelling of a rating word (case and spacing forgiven)."""
        wanted = " ".join(str(rating).split()).casefold()
        for name in self.rating_names:
            if name.casefold() == wanted:
                return name
        raise ValueError(
            f"{rating!r} is not a rating of scheme {self.scheme_id!r} "
            f"(expected one of: {', '.join(self.rating_names)})"
        )

    def score_for(self, rating: str) -> int:
        """Score contributed by a rating word (e.g. Good -> 2 in crc_2018)."""
        name = self.canonical_rating(rating)
        return next(r.score for r in self.ratings if r.name == name)

    def band_min_pct(self, rating: str) -> float:
        """Lower bound (percent, inclusive) of a rating's standard band."""
        name = self.canonical_rating(rating)
        for band in self._standard_bands():
            if band.rating == name:
                return band.min_pct
        raise SchemeIncomplete(f"{self.source}: no standard band for rating {name!r}")

    def rating_for(self, pct: float) -> str:
        """Rating of a case-sample standard whose lowest key question is ``pct`` % sufficient.

        ``pct`` is in percent (0..100). Band lower bounds are inclusive and compared exactly,
        without rounding: in crc_2018, 49.99 -> Inadequate, 50 -> Requires improvement,
        64.99 -> Requires improvement, 65 -> Good, 79.99 and 79.999 -> Good, 80 ->
        Outstanding. Raises ``SchemeIncomplete`` if the scheme has no standard bands,
        ``ValueError`` for a value outside 0..100 or NaN.
        """
        bands = self._standard_bands()
        if not _is_number(pct) or math.isnan(pct) or not 0 <= pct <= 100:
            raise ValueError(f"pct must be a percentage between 0 and 100, got {pct!r}")
        for band in bands:  # highest first
            if pct >= band.min_pct:
                return band.rating
        raise AssertionError("unreachable: the lowest band starts at 0")  # pragma: no cover

    def _standard_bands(self) -> tuple[PercentBand, ...]:
        return self._bands(self.standard_bands, "standard_bands", "standards can be rated")

    def _overall_bands(self) -> tuple[ScoreBand, ...]:
        return self._bands(self.overall_bands, "overall_bands", "an overall rating can be given")

    def _bands(self, bands: Any, key: str, purpose: str) -> Any:
        """bands, or ``SchemeIncomplete`` naming the file when the scheme leaves them empty."""
        if bands is None:
            raise SchemeIncomplete(
                f"{self.source}: scheme {self.scheme_id!r} has no {key}; a quality "
                f"lead must enter them before {purpose}"
            )
        return bands


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)



def provenance_table(scheme: Scheme) -> pd.DataFrame:
    """Every rule of the scheme with the document it comes from.

    Columns: rule (e.g. '2.1 Assessment', '2.1c key question', 'Standard bands'),
    document, date, url. Rules without a source say 'not confirmed'.
    """
    docs = {pv.ref: pv for pv in scheme.provenance}

    def row(rule: str, ref: str) -> dict[str, str]:
        pv = docs.get(ref)
        return {
            "rule": rule,
            "document": pv.document if pv else "not confirmed",
            "date": pv.date if pv else "",
            "url": pv.url if pv else "",
        }

    rows = []
    if scheme.standard_bands:
        rows.append(
            row(
                "Standard rating bands (% sufficient of the lowest key question)",
                scheme.bands_source,
            )
        )
    rows.append(row("Overall rating bands", scheme.bands_source if scheme.overall_bands else ""))
    for standard in scheme.standards:
        # key questions from the standard's own document are named on its row
        same = [kq.code for kq in standard.key_questions if kq.source in ("", standard.source)]
        rule = f"{standard.code} {standard.name}"
        if same:
            rule += f" (key questions {', '.join(same)})"
        rows.append(row(rule, standard.source))
        for kq in standard.key_questions:
            if kq.code not in same:
                rows.append(row(f"{kq.code} {kq.label}", kq.source))
    return pd.DataFrame(rows, columns=["rule", "document", "date", "url"])

