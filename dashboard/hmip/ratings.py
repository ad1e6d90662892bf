"""HMIP rating engine: inspection schemes held as data, and pure functions that rate them.

A *scheme* (one YAML file in ``dashboard/hmip/frameworks/``) lists the standards, their key
questions, the % bands that rate a case-sample standard and the score bands that rate the
whole. Everything here is pure: no Streamlit, no database.

Units, throughout:
- *proportions* are 0..1 (``wilson_interval``, ``regularized_incomplete_beta``, the
  ``p_at_least_good`` column and other probabilities);
- *percentages* are 0..100 (``pct_sufficient``, ``ci_low``/``ci_high``, ``threshold_pct``,
  ``rating_for_percent``). Percentages are computed as ``100 * sufficient / applicable``,
  one correctly rounded division, so a true 65 % is exactly 65.0 and lands in the band that
  starts at 65: band lower bounds are compared exactly (``>=``), nothing is rounded first.

``wilson_interval`` and ``regularized_incomplete_beta`` are re-exported from
``dashboard.stats.intervals``: proportions 0..1, and ``(nan, nan)`` for n == 0 (no
information), which this module shows as "not rated".
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from statistics import NormalDist
from typing import Any, Self

import pandas as pd
import yaml
from scipy.stats import beta as scipy_beta

from dashboard.stats.intervals import regularized_incomplete_beta, wilson_interval

__all__ = [
    "ANSWERS",
    "FRAMEWORKS_DIR",
    "KeyQuestion",
    "MissingStandards",
    "OverallRating",
    "PercentBand",
    "Provenance",
    "RatingLevel",
    "Scheme",
    "SchemeError",
    "SchemeIncomplete",
    "ScoreBand",
    "Standard",
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

FRAMEWORKS_DIR = Path(__file__).parent / "frameworks"
ANSWERS = ("sufficient", "not_sufficient", "not_applicable")
KINDS = ("case_sample", "judgement")


class SchemeError(ValueError):
    """A scheme file is missing, unreadable or inconsistent; the message names the file."""


class SchemeIncomplete(SchemeError):
    """The scheme loads but lacks what a rating needs (e.g. its bands are not entered)."""


class MissingStandards(ValueError):
    """An overall rating was asked for without every standard of the scheme."""

    def __init__(self, missing: Sequence[str], scheme_id: str) -> None:
        self.missing = tuple(missing)
        super().__init__(
            f"overall rating on scheme {scheme_id!r} needs every standard; missing: "
            f"{', '.join(self.missing)} (pass allow_partial=True for a provisional rating)"
        )


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
        """The standard rating for ``pct`` % sufficient (``rating_for_percent``)."""
        return rating_for_percent(pct, self)

    def _standard_bands(self) -> tuple[PercentBand, ...]:
        if self.standard_bands is None:
            raise SchemeIncomplete(
                f"{self.source}: scheme {self.scheme_id!r} has no standard_bands; a quality "
                "lead must enter them before standards can be rated"
            )
        return self.standard_bands

    def _overall_bands(self) -> tuple[ScoreBand, ...]:
        if self.overall_bands is None:
            raise SchemeIncomplete(
                f"{self.source}: scheme {self.scheme_id!r} has no overall_bands; a quality "
                "lead must enter them before an overall rating can be given"
            )
        return self.overall_bands


_TOP_LEVEL_KEYS = {
    "scheme",
    "title",
    "bands_confirmed",
    "note",
    "ratings",
    "standard_bands",
    "overall_bands",
    "domains",
    "standards",
    "key_questions",
    "provenance",
    "bands_source",
    "not_confirmed",
    "aggregates",
}


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _text(value: Any, where: str, fail: Any) -> str:
    # YAML turns an unquoted 1.1 into a float: insist on strings so codes never drift.
    if not isinstance(value, str) or not value.strip():
        fail(f'{where} must be a non-empty string (quote codes such as "1.1"), got {value!r}')
    return value.strip()


def _entries(raw: Any, key: str, fail: Any, *, fields: set[str]) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        fail(f"{key} must be a list")
    out = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            fail(f"{key}[{i}] must be a mapping")
        unknown = set(entry) - fields
        if unknown:
            fail(f"{key}[{i}] has unknown field(s): {', '.join(sorted(map(str, unknown)))}")
        out.append(entry)
    return out


def _parse_scheme(raw: Any, path: Path) -> Scheme:
    """Validate a parsed YAML document and build the ``Scheme``; ``SchemeError`` if bad."""

    def fail(problem: str) -> None:
        raise SchemeError(f"{path}: {problem}")

    if not isinstance(raw, dict):
        fail("the file must hold a mapping (scheme:, title:, standards: ...)")
    unknown = set(raw) - _TOP_LEVEL_KEYS
    if unknown:
        fail(f"unknown top-level key(s): {', '.join(sorted(map(str, unknown)))}")
    for key in ("scheme", "title", "bands_confirmed", "ratings", "standards"):
        if key not in raw:
            fail(f"missing required key {key!r}")
    scheme_id = _text(raw["scheme"], "scheme", fail)
    title = _text(raw["title"], "title", fail)
    if not isinstance(raw["bands_confirmed"], bool):
        fail("bands_confirmed must be true or false")
    note = raw.get("note") or ""

    # Provenance: the documents the rules come from; rules name them by ref.
    provenance = []
    for i, pv in enumerate(
        _entries(
            raw.get("provenance") or [],
            "provenance",
            fail,
            fields={"ref", "document", "date", "url"},
        )
    ):
        provenance.append(
            Provenance(
                ref=_text(pv.get("ref"), f"provenance[{i}].ref", fail),
                document=_text(pv.get("document"), f"provenance[{i}].document", fail),
                date=_text(str(pv.get("date") or ""), f"provenance[{i}].date", fail),
                url=str(pv.get("url") or ""),
            )
        )
    refs = {pv.ref for pv in provenance}

    def source_of(value: Any, where: str) -> str:
        if value is None:
            return ""
        ref = _text(value, where, fail)
        if ref not in refs:
            fail(f"{where} names provenance {ref!r}, which provenance does not list")
        return ref

    bands_source = source_of(raw.get("bands_source"), "bands_source")
    not_confirmed = raw.get("not_confirmed") or []
    if not isinstance(not_confirmed, list) or not all(
        isinstance(t, str) and t.strip() for t in not_confirmed
    ):
        fail("not_confirmed must be a list of sentences")
    aggregates = raw.get("aggregates")
    if aggregates is not None:
        if isinstance(aggregates, str):
            aggregates = [aggregates]
        if not isinstance(aggregates, list) or not aggregates:
            fail("aggregates must name the scheme(s) whose case audits this one reads")
        aggregates = tuple(_text(a, "aggregates", fail) for a in aggregates)

    # Ratings: lowest first, scores present and strictly increasing.
    ratings = []
    for i, r in enumerate(_entries(raw["ratings"], "ratings", fail, fields={"name", "score"})):
        name = _text(r.get("name"), f"ratings[{i}].name", fail)
        if not _is_int(r.get("score")):
            fail(f"ratings[{i}] ({name}) needs an integer score")
        ratings.append(RatingLevel(name, r["score"]))
    if len(ratings) < 2:
        fail("ratings must list at least two rating words")
    names = [r.name for r in ratings]
    if len(set(names)) != len(names):
        fail("ratings has a duplicate name")
    if any(a.score >= b.score for a, b in itertools.pairwise(ratings)):
        fail("ratings must be listed lowest first with strictly increasing scores")
    rank = {name: i for i, name in enumerate(names)}

    # Standard bands: lower bounds only, so they are contiguous by construction once the
    # lowest starts at 0 and the bounds strictly increase with the rating.
    standard_bands = None
    if raw.get("standard_bands") is not None:
        entries = _entries(
            raw["standard_bands"], "standard_bands", fail, fields={"rating", "min_pct"}
        )
        bands = []
        for i, b in enumerate(entries):
            if b.get("rating") not in rank:
                fail(f"standard_bands[{i}] rating {b.get('rating')!r} is not in ratings")
            if not _is_number(b.get("min_pct")) or not 0 <= b["min_pct"] <= 100:
                fail(f"standard_bands[{i}] ({b['rating']}) needs min_pct between 0 and 100")
            bands.append(PercentBand(b["rating"], float(b["min_pct"])))
        bands.sort(key=lambda b: b.min_pct)
        if not bands or bands[0].min_pct != 0:
            fail("standard_bands are not contiguous: the lowest band must start at min_pct 0")
        for lower, upper in itertools.pairwise(bands):
            if upper.min_pct == lower.min_pct:
                fail(f"standard_bands overlap: two bands start at {lower.min_pct:g} %")
            if rank[upper.rating] <= rank[lower.rating]:
                fail(
                    f"standard_bands out of order: {upper.rating} (from {upper.min_pct:g} %) "
                    f"must rank above {lower.rating} (from {lower.min_pct:g} %)"
                )
        standard_bands = tuple(reversed(bands))

    # Domains (optional, for display).
    domains = []
    if raw.get("domains") is not None:
        for i, d in enumerate(_entries(raw["domains"], "domains", fail, fields={"code", "name"})):
            domains.append(
                (
                    _text(d.get("code"), f"domains[{i}].code", fail),
                    _text(d.get("name"), f"domains[{i}].name", fail),
                )
            )
    domain_codes = {code for code, _ in domains}

    # Standards.
    std_rows = []
    std_extra: dict[str, tuple[str, str]] = {}
    for i, s in enumerate(
        _entries(
            raw["standards"],
            "standards",
            fail,
            fields={"code", "name", "domain", "kind", "source", "note"},
        )
    ):
        code = _text(s.get("code"), f"standards[{i}].code", fail)
        std_extra[code] = (
            source_of(s.get("source"), f"standard {code} source"),
            " ".join(str(s.get("note") or "").split()),
        )
        name = _text(s.get("name"), f"standard {code} name", fail)
        domain = _text(s.get("domain"), f"standard {code} domain", fail)
        if domains and domain not in domain_codes:
            fail(f"standard {code} is in domain {domain!r}, which domains does not list")
        if s.get("kind") not in KINDS:
            fail(f"standard {code} kind must be one of {', '.join(KINDS)}, got {s.get('kind')!r}")
        std_rows.append((code, name, domain, s["kind"]))
    if not std_rows:
        fail("standards is empty")
    codes = [row[0] for row in std_rows]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        fail(f"duplicate standard code(s): {', '.join(dupes)}")
    kind_of = {row[0]: row[3] for row in std_rows}

    # Key questions: each belongs to an existing case-sample standard.
    kq_by_standard: dict[str, list[KeyQuestion]] = {code: [] for code in codes}
    seen: set[str] = set()
    kq_fields = {"code", "standard", "label", "text", "may_be_not_applicable", "source", "from"}
    for i, k in enumerate(
        _entries(raw.get("key_questions") or [], "key_questions", fail, fields=kq_fields)
    ):
        code = _text(k.get("code"), f"key_questions[{i}].code", fail)
        if code in seen:
            fail(f"duplicate key question code {code}")
        seen.add(code)
        standard = _text(k.get("standard"), f"key question {code} standard", fail)
        if standard not in kind_of:
            fail(f"key question {code} belongs to standard {standard!r}, which is not defined")
        if kind_of[standard] != "case_sample":
            fail(f"key question {code} belongs to {standard}, a judgement standard")
        may_na = k.get("may_be_not_applicable", False)
        if not isinstance(may_na, bool):
            fail(f"key question {code} may_be_not_applicable must be true or false")
        kq_by_standard[standard].append(
            KeyQuestion(
                code=code,
                standard=standard,
                label=_text(k.get("label"), f"key question {code} label", fail),
                text=" ".join(_text(k.get("text"), f"key question {code} text", fail).split()),
                may_be_not_applicable=may_na,
                source=source_of(k.get("source"), f"key question {code} source"),
                aggregates_from=tuple(
                    _text(c, f"key question {code} from", fail) for c in (k.get("from") or [])
                ),
            )
        )
    if standard_bands is not None:
        bare = [c for c in codes if kind_of[c] == "case_sample" and not kq_by_standard[c]]
        if bare:
            fail(f"case_sample standard(s) without key questions: {', '.join(bare)}")
    if aggregates is None and any(kq.aggregates_from for v in kq_by_standard.values() for kq in v):
        fail("key questions say where they aggregate from, but the scheme has no aggregates:")

    # Overall bands: inclusive integer ranges, contiguous from 0 to the maximum total.
    overall_bands = None
    max_total = ratings[-1].score * len(std_rows)
    if raw.get("overall_bands") is not None:
        entries = _entries(
            raw["overall_bands"],
            "overall_bands",
            fail,
            fields={"rating", "min_score", "max_score"},
        )
        bands_o = []
        for i, b in enumerate(entries):
            if b.get("rating") not in rank:
                fail(f"overall_bands[{i}] rating {b.get('rating')!r} is not in ratings")
            if not (_is_int(b.get("min_score")) and _is_int(b.get("max_score"))):
                fail(f"overall_bands[{i}] ({b['rating']}) needs integer min_score and max_score")
            if b["min_score"] > b["max_score"]:
                fail(f"overall_bands[{i}] ({b['rating']}) has min_score above max_score")
            bands_o.append(ScoreBand(b["rating"], b["min_score"], b["max_score"]))
        bands_o.sort(key=lambda b: b.min_score)
        if not bands_o or bands_o[0].min_score != 0:
            fail("overall_bands are not contiguous: the lowest band must start at 0")
        for lower, upper in itertools.pairwise(bands_o):
            if upper.min_score != lower.max_score + 1:
                fail(
                    f"overall_bands are not contiguous: {lower.rating} ends at "
                    f"{lower.max_score} but {upper.rating} starts at {upper.min_score}"
                )
            if rank[upper.rating] <= rank[lower.rating]:
                fail(f"overall_bands out of order: {upper.rating} must rank above {lower.rating}")
        if bands_o[-1].max_score != max_total:
            fail(
                f"overall_bands end at {bands_o[-1].max_score} but {len(std_rows)} standards "
                f"can score up to {max_total}"
            )
        overall_bands = tuple(bands_o)

    return Scheme(
        scheme_id=scheme_id,
        title=title,
        source=path,
        bands_confirmed=raw["bands_confirmed"],
        note=" ".join(str(note).split()),
        ratings=tuple(ratings),
        standard_bands=standard_bands,
        overall_bands=overall_bands,
        domains=tuple(domains),
        standards=tuple(
            Standard(code, name, domain, kind, tuple(kq_by_standard[code]), *std_extra[code])
            for code, name, domain, kind in std_rows
        ),
        provenance=tuple(provenance),
        bands_source=bands_source,
        not_confirmed=tuple(" ".join(t.split()) for t in not_confirmed),
        aggregates=aggregates,
    )


def load_scheme_from_path(path: str | Path) -> Scheme:
    """Load and validate a scheme YAML file; ``SchemeError`` naming the file if it is bad."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SchemeError(f"{path}: cannot read scheme file ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise SchemeError(f"{path}: not valid YAML ({exc})") from exc
    return _parse_scheme(raw, path)


@cache
def available_schemes() -> list[str]:
    """Scheme ids (file stems) in ``dashboard/hmip/frameworks/``, sorted. Cached: do not mutate."""
    return sorted(p.stem for p in FRAMEWORKS_DIR.glob("*.yaml"))


@cache
def load_scheme(scheme_id: str) -> Scheme:
    """The scheme ``dashboard/hmip/frameworks/<scheme_id>.yaml``, validated and cached.

    Raises ``SchemeError`` for an unknown id, an invalid file, or a file whose ``scheme:``
    differs from its name.
    """
    path = FRAMEWORKS_DIR / f"{scheme_id}.yaml"
    if not path.is_file():
        raise SchemeError(
            f"{path}: unknown scheme {scheme_id!r}; available: {', '.join(available_schemes())}"
        )
    scheme = load_scheme_from_path(path)
    if scheme.scheme_id != scheme_id:
        raise SchemeError(f"{path}: file says scheme {scheme.scheme_id!r}, expected {scheme_id!r}")
    return scheme


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


# ---------------------------------------------------------------------------------------
# Bands
# ---------------------------------------------------------------------------------------


def rating_for_percent(pct: float, scheme: Scheme) -> str:
    """Rating of a case-sample standard whose lowest key question is ``pct`` % sufficient.

    ``pct`` is in percent (0..100). Band lower bounds are inclusive and compared exactly,
    without rounding: in crc_2018, 49.99 -> Inadequate, 50 -> Requires improvement,
    64.99 -> Requires improvement, 65 -> Good, 79.99 and 79.999 -> Good, 80 -> Outstanding.
    Raises ``SchemeIncomplete`` if the scheme has no standard bands, ``ValueError`` for a
    value outside 0..100 or NaN.
    """
    bands = scheme._standard_bands()
    if not _is_number(pct) or math.isnan(pct) or not 0 <= pct <= 100:
        raise ValueError(f"pct must be a percentage between 0 and 100, got {pct!r}")
    for band in bands:  # highest first
        if pct >= band.min_pct:
            return band.rating
    raise AssertionError("unreachable: the lowest band starts at 0")  # pragma: no cover


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


# ---------------------------------------------------------------------------------------
# Probability: Beta posteriors via the regularised incomplete beta function
# ---------------------------------------------------------------------------------------

def _check_counts(successes: int, n: int) -> None:
    if not (_is_int(successes) and _is_int(n)) or not 0 <= successes <= n:
        raise ValueError(f"need whole numbers 0 <= successes <= n, got {successes}/{n}")


def probability_at_least(
    successes: int,
    n: int,
    threshold_pct: float,
    prior: tuple[float, float] = (1.0, 1.0),
) -> float:
    """Posterior probability (0..1) that the true proportion is >= ``threshold_pct`` %.

    The posterior is Beta(prior_a + successes, prior_b + n - successes); the default
    Beta(1, 1) prior is uniform. ``threshold_pct`` is in percent (0..100). With n == 0 the
    answer comes from the prior alone (0.35 for 65 % under the uniform prior).
    """
    _check_counts(successes, n)
    if not 0 <= threshold_pct <= 100:
        raise ValueError(f"threshold_pct must be between 0 and 100, got {threshold_pct}")
    a = prior[0] + successes
    b = prior[1] + n - successes
    # P(p >= t): scipy's survival function, which avoids the cancellation in 1 - cdf.
    return float(scipy_beta.sf(threshold_pct / 100.0, a, b))


def probability_all_at_least(
    counts: Iterable[tuple[int, int]],
    threshold_pct: float,
    prior: tuple[float, float] = (1.0, 1.0),
) -> float:
    """Probability (0..1) that EVERY key question's true proportion is >= ``threshold_pct``.

    ``counts`` holds (sufficient, applicable) per key question. A standard is rated on its
    lowest key question, so "the standard is really at least Good" means every key question
    is really >= 65 %. Computed as the product of the per-question posteriors
    (``probability_at_least``), i.e. treating the questions as independent; they are asked
    of the same cases, so this is an approximation. Questions with no applicable cases are
    skipped, as they are in the rating. Empty ``counts`` gives NaN.
    """
    product = math.nan
    for sufficient, applicable in counts:
        if applicable == 0:
            continue
        p = probability_at_least(sufficient, applicable, threshold_pct, prior)
        product = p if math.isnan(product) else product * p
    return product


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
    out = pd.DataFrame(rows, columns=KEY_QUESTION_COLUMNS)
    return out.astype(
        {
            "sufficient": "int64",
            "applicable": "int64",
            "not_applicable": "int64",
            "pct_sufficient": "float64",
            "ci_low": "float64",
            "ci_high": "float64",
        }
    )


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

    if not by:
        return _standard_ratings_one(counts, scheme, prior)
    parts = []
    for keys, group in counts.groupby(by, sort=True, dropna=False):
        part = _standard_ratings_one(group, scheme, prior)
        for i, (column, value) in enumerate(zip(by, keys, strict=True)):
            part.insert(i, column, value)
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=[*by, *STANDARD_COLUMNS])
    return pd.concat(parts, ignore_index=True)


def _standard_ratings_one(
    counts: pd.DataFrame, scheme: Scheme, prior: tuple[float, float]
) -> pd.DataFrame:
    totals = counts.groupby("key_question")[["sufficient", "applicable"]].sum()
    good_from = scheme.band_min_pct("Good") if "Good" in scheme.rating_names else None
    rows = []
    for standard in scheme.standards:
        present = [kq.code for kq in standard.key_questions if kq.code in totals.index]
        if not present:
            continue
        # (code, sufficient, applicable) in scheme order, applicable questions only.
        rated = [
            (code, int(totals.at[code, "sufficient"]), int(totals.at[code, "applicable"]))
            for code in present
            if totals.at[code, "applicable"] > 0
        ]
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
    out = pd.DataFrame(rows, columns=STANDARD_COLUMNS)
    return out.astype(
        {
            "sufficient": "int64",
            "applicable": "int64",
            "score": "Int64",
            "p_at_least_good": "float64",
        }
    )


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


def _format_chance(p: float) -> str:
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
        tail = f"{_format_chance(chance)} chance it is really {target}{better}"
    else:
        chance = 1 - probability_all_at_least(counts, scheme.band_min_pct(rating), prior)
        tail = f"{_format_chance(chance)} chance it is really below {rating}"
    return f"{head}; {tail}. {scheme_text}"


# ---------------------------------------------------------------------------------------
# Sample size
# ---------------------------------------------------------------------------------------


def _z_for(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be a proportion between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def sample_size(
    confidence: float = 0.80,
    margin: float = 0.05,
    population: int | None = None,
    p: float = 0.5,
    *,
    z: float | None = None,
) -> int:
    """Cases to audit so a % sufficient has the given two-sided margin of error.

    ``confidence``, ``margin`` and ``p`` (the expected proportion; 0.5 is the worst case)
    are proportions (0..1). n0 = z^2 p (1 - p) / margin^2, z = the standard normal quantile
    at 1 - (1 - confidence) / 2; with a ``population`` N the finite population correction
    n = n0 / (1 + (n0 - 1) / N) applies. Rounded up. ``z`` overrides the exact quantile,
    e.g. ``z=1.28`` to match tables that round it (80 %, 5 %: exact z gives 165, 1.28 gives
    164).
    """
    if not 0 < margin < 1:
        raise ValueError(f"margin must be a proportion between 0 and 1, got {margin}")
    if not 0 < p < 1:
        raise ValueError(f"p must be a proportion strictly between 0 and 1, got {p}")
    z = _z_for(confidence) if z is None else z
    n = z * z * p * (1 - p) / (margin * margin)
    if population is not None:
        if not _is_int(population) or population < 1:
            raise ValueError(f"population must be a positive whole number, got {population!r}")
        n = n / (1 + (n - 1) / population)
    # Tolerate float noise just above a whole number (e.g. 384.0000000001 -> 384).
    return max(1, math.ceil(n - 1e-9))


def sample_size_formula_text() -> str:
    """The sample size formula in words and symbols, for display beside the result."""
    return (
        "n0 = z² × p × (1 − p) / e², where z is the standard normal quantile for the "
        "confidence level (1.28 for 80 %, 1.96 for 95 %), p the expected proportion "
        "sufficient (0.5 when unknown, the largest sample) and e the margin of error "
        "(0.05 for ±5 percentage points); for a population of N cases, "
        "n = n0 / (1 + (n0 − 1) / N); rounded up to a whole case."
    )
