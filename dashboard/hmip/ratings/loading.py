"""Scheme files: read a scheme from YAML, validate every part of it, and build the
``Scheme`` (``ratings.scheme``). Schemes live in ``dashboard/hmip/frameworks/``, one file
per scheme named by its id; ``load_scheme`` caches them. A bad file raises ``SchemeError``
naming the file and the problem.
"""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from dashboard.hmip.ratings.scheme import (
    KeyQuestion,
    PercentBand,
    Provenance,
    RatingLevel,
    Scheme,
    SchemeError,
    ScoreBand,
    Standard,
    _is_int,
    _is_number,
)

FRAMEWORKS_DIR = Path(__file__).parent.parent / "frameworks"
KINDS = ("case_sample", "judgement")


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

