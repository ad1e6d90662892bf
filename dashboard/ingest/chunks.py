"""One chunk of an extract's rows parsed and checked: each column converted to its type
with its rules (required, allowed values, lengths, ranges, formulas, line breaks), the
references looked up by natural key, the row rules (dates in order, checks over several
columns). Problems are flagged per row; nothing is written."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from dashboard.core.spreadsheet_safe import formula_like
from dashboard.ingest.format_spec import ExtractFormat, Field
from dashboard.ingest.natural_keys import lookup
from dashboard.ingest.report import show_value

FIRST_YEAR, LAST_YEAR = 1950, 2099  # plausible dates; also bounds the calendar table
TRUE = {"true", "t", "yes", "y", "1"}
FALSE = {"false", "f", "no", "n", "0"}
CODE_RE = r"^[A-Z0-9][A-Z0-9_-]*$"  # never a leading '-', which a spreadsheet would run


@dataclass
class Chunk:
    """One chunk of rows: raw cells, parsed values (our column names), problems."""

    rows: np.ndarray  # row numbers
    raw: pd.DataFrame  # cell texts by extract column, index 0..n-1
    values: pd.DataFrame = field(default_factory=pd.DataFrame)
    problems: list[pd.DataFrame] = field(default_factory=list)

    def flag(self, mask: pd.Series | np.ndarray, column: str, shown: pd.Series | str,
             message: pd.Series | str | Callable[[Any], str]) -> None:
        """Record a problem for each row in mask. message may be a function of the
        flagged cell's value, called only for flagged rows."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        if isinstance(shown, pd.Series):
            cells = shown.iloc[idx].tolist()
            value = [show_value(v) for v in cells]
        else:
            cells = value = [shown] * len(idx)
        if callable(message):
            text = [message(v) for v in cells]
        elif isinstance(message, pd.Series):
            text = message.iloc[idx].to_numpy()
        else:
            text = message
        self.problems.append(pd.DataFrame({"row": self.rows[idx], "column": column,
                                           "value": value, "message": text}))


def _convert(chunk: Chunk, f: Field) -> None:
    """Parse one column of the chunk into chunk.values[f.name]; flag bad cells."""
    s = chunk.raw[f.name].astype(str)
    blank = (s == "").to_numpy()
    out = pd.Series([None] * len(s), dtype=object)
    if f.required:
        chunk.flag(blank, f.name, "", "is required")
    nul = s.str.contains("\x00", regex=False).to_numpy()
    chunk.flag(nul, f.name, s, "contains a NUL character")
    present = ~blank & ~nul
    if not f.multiline:  # a quoted value spanning lines: flagged, never merged silently
        broken = present & s.str.contains(r"[\r\n]", regex=True).to_numpy()
        chunk.flag(broken, f.name, s, "contains a line break, which this column does not "
                   "allow (is a quote left open on the row before?)")
        present &= ~broken
    elif len(s):  # line breaks allowed, but not whole rows swallowed by an open quote
        separators = max(len(chunk.raw.columns) - 1, 1)
        swallowed = present & s.map(lambda v: _holds_rows(v, separators)).to_numpy(dtype=bool)
        chunk.flag(swallowed, f.name, s, "holds lines that look like rows of their own (a "
                   "quote left open?); the file's rows and lines disagree")
        present &= ~swallowed
    kind = f.kind
    if kind in ("text", "code", "list"):
        too_long = present & (s.str.len() > f.max_length).to_numpy()
        chunk.flag(too_long, f.name, s,
                   lambda v: f"is {len(v):,} characters long; at most {f.max_length} allowed")
        ok = present & ~too_long
        if kind == "text" and not f.allowed:  # free text: no spreadsheet formulas
            formula = present & s.map(formula_like).to_numpy(dtype=bool)
            chunk.flag(formula, f.name, s,
                       lambda v: f"starts with {v[:1]!r}, so a spreadsheet would run it as "
                       "a formula; remove the sign or put an apostrophe in front")
            ok &= ~formula
        text = s.str.upper() if kind == "code" else s
        if kind == "code":
            bad = ok & ~text.str.match(CODE_RE).to_numpy()
            chunk.flag(bad, f.name, s, "may hold only letters, digits, '-' and '_' (and "
                       "may not start with '-')")
            ok &= ~bad
        if kind == "list":
            out[:] = ""  # an empty list is stored as ""
            parsed = text[ok].map(lambda v: _parse_list(v, f.allowed))
            wrong = parsed.map(lambda p: isinstance(p, tuple))
            messages = pd.Series("", index=s.index, dtype=object)
            messages[parsed.index[wrong]] = [p[0] for p in parsed[wrong]]
            chunk.flag(_mask(len(s), parsed.index[wrong]), f.name, s, messages)
            out[parsed.index[~wrong]] = list(parsed[~wrong])
        elif f.allowed:
            canon = {v.lower(): v for v in f.allowed}
            mapped = text.str.lower().map(canon)
            bad = ok & mapped.isna().to_numpy()
            chunk.flag(bad, f.name, s, "is not one of: " + ", ".join(f.allowed))
            good = ok & ~bad
            out[good] = mapped[good]
        else:
            out[ok] = text[ok]
    elif kind in ("integer", "number"):
        numbers = pd.to_numeric(s.where(present, None), errors="coerce").astype(float)
        bad = present & ~np.isfinite(numbers.to_numpy(na_value=np.nan))
        if kind == "integer":
            bad |= present & ~bad & (numbers.round() != numbers).to_numpy()
            chunk.flag(bad, f.name, s, "is not a whole number")
        else:
            chunk.flag(bad, f.name, s, "is not a number")
        ok = present & ~bad
        for limit, test, words in ((f.minimum, lambda v, m: v < m, "at least"),
                                   (f.maximum, lambda v, m: v > m, "at most"),
                                   (f.above, lambda v, m: v <= m, "more than")):
            if limit is not None:
                out_of_range = ok & test(numbers, limit).to_numpy()
                chunk.flag(out_of_range, f.name, s, f"must be {words} {limit:g}")
                ok &= ~out_of_range
        cast = int if kind == "integer" else float
        out[ok] = [cast(v) for v in numbers[ok]]
    elif kind in ("date", "month"):
        parsed, bad_message = _parse_dates(s, present, month=kind == "month")
        bad = present & (bad_message != "").to_numpy()
        chunk.flag(bad, f.name, s, bad_message)
        ok = present & ~bad
        out[ok] = parsed[ok]
    elif kind == "boolean":
        lower = s.str.lower()
        value = [True if v in TRUE else False if v in FALSE else None for v in lower]
        bad = present & np.array([v is None for v in value], dtype=bool)
        chunk.flag(bad, f.name, s, "is not true or false")
        ok = present & ~bad
        out[ok] = [v for v, good in zip(value, ok, strict=True) if good]
    else:  # pragma: no cover - formats are data; a typo shows at once
        raise ValueError(f"unknown kind {kind!r}")
    chunk.values[f.name] = out


def _holds_rows(value: str, separators: int) -> bool:
    """True when a multi-line value has a later line with a row's worth of separators."""
    if "\n" not in value and "\r" not in value:
        return False
    return any(max(line.count(","), line.count(";"), line.count("\t")) >= separators
               for line in re.split(r"\r\n|\r|\n", value)[1:])


def _mask(n: int, index: pd.Index) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[np.asarray(index, dtype=int)] = True
    return mask


def _parse_list(value: str, allowed: tuple[str, ...] | None) -> str | tuple[str]:
    """A comma-separated list in canonical spelling, or (message,) for a bad item."""
    canon = {v.lower(): v for v in allowed or ()}
    items = [v.strip() for v in value.split(",") if v.strip()]
    out = []
    for item in items:
        if allowed and item.lower() not in canon:
            return (f"'{show_value(item)}' is not one of: " + ", ".join(allowed),)
        out.append(canon.get(item.lower(), item))
    return ",".join(out)


def _parse_dates(s: pd.Series, present: np.ndarray, month: bool) -> tuple[pd.Series, pd.Series]:
    """(dates as datetime.date objects, message per row: "" when fine)."""
    formats = (["%Y-%m"] if month else []) + ["%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"]
    parsed = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    todo = pd.Series(present, index=s.index)
    for fmt in formats:
        if not todo.any():
            break
        attempt = pd.to_datetime(s[todo], format=fmt, errors="coerce")
        parsed[todo] = attempt
        todo &= parsed.isna()
    message = pd.Series("", index=s.index, dtype=object)
    form = "a month written YYYY-MM" if month else "a date written YYYY-MM-DD or DD/MM/YYYY"
    message[todo] = f"is not {form}"
    found = parsed.notna()
    has_time = found & (parsed != parsed.dt.normalize())
    message[has_time] = "has a time of day; give the date only"
    years = parsed.dt.year
    out_of_range = found & ((years < FIRST_YEAR) | (years > LAST_YEAR))
    message[out_of_range] = f"is outside the years {FIRST_YEAR} to {LAST_YEAR}"
    if month:
        message[found & (parsed.dt.day != 1) & (message == "")] = (
            "is not the first day of a month (write the month as YYYY-MM)")
    dates = pd.Series([None] * len(s), dtype=object, index=s.index)
    good = found & (message == "")
    dates[good] = parsed[good].dt.date
    return dates, message


def _resolve_references(conn: Connection, fmt: ExtractFormat, chunk: Chunk) -> None:
    """Replace each reference column's natural key by our id; flag unknown keys."""
    for f in fmt.fields:
        ref = f.references
        if ref is None or f.name not in chunk.values:
            continue
        keys = chunk.values[f.name]
        known = lookup(conn, ref.table, ref.key, keys.dropna().tolist(), ref.fetch)
        ids = pd.Series([known[k]["id"] if k in known else None for k in keys],
                        index=keys.index, dtype=object)
        unknown = (keys.notna() & ids.isna()).to_numpy()
        chunk.flag(unknown, f.name, chunk.raw[f.name],
                   lambda v, r=ref: f"no {r.table.replace('_', ' ')} with {r.key} "
                   f"'{show_value(v)}' is stored; load the {r.table} extract first")
        chunk.values[f.name] = ids
        for column in ref.fetch:
            chunk.values[f"{f.name}.{column}"] = pd.Series(
                [known[k][column] if k in known else None for k in keys],
                index=keys.index, dtype=object)


def _row_rules(fmt: ExtractFormat, chunk: Chunk) -> None:
    v = chunk.values
    for rule in fmt.date_order:
        if rule.later not in v or rule.earlier not in v:
            continue
        later, earlier = v[rule.later], v[rule.earlier]
        both = later.notna() & earlier.notna()
        bad = both & pd.Series([a < b if ok else False for a, b, ok in
                                zip(later, earlier, both, strict=True)], index=v.index)
        shown = chunk.raw[rule.later].astype(str) + " < " + earlier.map(
            lambda d: d.isoformat() if d is not None else "")
        chunk.flag(bad.to_numpy(), rule.later, shown, rule.message)
    for check in fmt.row_checks:
        if not all(c in v for c in check.columns):
            continue
        complete = v[list(check.columns)].notna().all(axis=1)
        if not complete.any():
            continue
        bad = pd.Series(False, index=v.index)
        bad[complete] = check.bad(v.loc[complete, list(check.columns)]).to_numpy()
        shown = pd.DataFrame({c: chunk.raw[c] if c in chunk.raw else v[c].astype(str)
                              for c in check.columns}).agg(", ".join, axis=1)
        chunk.flag(bad.to_numpy(), check.report_on or "+".join(check.columns), shown,
                   check.message)


def parse_chunk(conn: Connection, fmt: ExtractFormat, header: list[str],
                 batch: list[tuple[int, list[str]]]) -> Chunk:
    width = len(header)
    rows = np.array([n for n, _ in batch], dtype=np.int64)
    cells = [c if len(c) == width else c[:width] + [""] * (width - len(c)) for _, c in batch]
    raw = pd.DataFrame(cells, columns=header, dtype=str) if cells else pd.DataFrame(
        columns=header, dtype=str)
    chunk = Chunk(rows=rows, raw=raw, values=pd.DataFrame(index=raw.index))
    lengths = np.array([len(c) for _, c in batch])
    extra = np.array([any(x != "" for x in c[width:]) for _, c in batch], dtype=bool)
    chunk.flag(extra, "", pd.Series(lengths).astype(str) + " values",
               f"has more values than the header's {width} columns")
    short = lengths < width
    chunk.flag(short, "", pd.Series(lengths).astype(str) + " values",
               f"has fewer values than the header's {width} columns")
    for f in fmt.fields:
        if f.name in header:
            _convert(chunk, f)
    _resolve_references(conn, fmt, chunk)
    _row_rules(fmt, chunk)
    return chunk


def key_texts(fmt: ExtractFormat, chunk: Chunk, names: tuple[str, ...]) -> pd.Series:
    """The natural key of each row as one text (None when a part failed to parse)."""
    parts = []
    for name in names:
        if name in chunk.raw.columns:
            raw_ok = chunk.values[name].notna() | (chunk.raw[name] == "")
            text = chunk.values[name].map(lambda x: "" if x is None else str(x))
            if fmt.field(name).references is not None:  # compare the key as written
                text = chunk.raw[name].str.upper() if fmt.field(name).kind == "code" \
                    else chunk.raw[name]
            parts.append([t if ok else None for t, ok in zip(text, raw_ok, strict=True)])
        else:
            parts.append([""] * len(chunk.raw))
    joined = [None if any(p is None for p in key) else "\x1f".join(key)
              for key in zip(*parts, strict=True)]
    return pd.Series(joined, index=chunk.raw.index, dtype=object)
