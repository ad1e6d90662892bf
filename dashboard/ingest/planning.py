"""Pass 2 of an import, outside any write transaction: the valid rows parsed again,
matched to stored rows by natural key, and the planned inserts and updates kept in the
staging file (rejected rows go to the rejects file). Readers and sign-ins are never held
up by this part."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, select

from dashboard.core.spreadsheet_safe import SafeWriter
from dashboard.ingest.checking import VALIDATE_SHARE
from dashboard.ingest.chunks import Chunk, parse_chunk
from dashboard.ingest.format_spec import IGNORED_COLUMNS, ExtractFormat
from dashboard.ingest.limits import ImportLimits
from dashboard.ingest.natural_keys import in_batches, lookup
from dashboard.ingest.reading import Deadline, FileRows, header_and_batches
from dashboard.ingest.report import DatabaseChanged, ImportReport, Progress
from dashboard.ingest.staging import Staging

PLAN_END = 0.8  # of the progress bar when the writes are prepared


@dataclass
class Touched:
    """What the written rows touched, for the calendar and the monthly summaries."""

    months: set[date] = field(default_factory=set)  # months of changed rows' dates
    earliest: date | None = None  # over every date loaded, changed or not
    latest: date | None = None
    office_moved: bool = False  # a stored person or staff member changed office
    offices: set[int] = field(default_factory=set)  # office ids of changed rows, old and new
    people: set[int] = field(default_factory=set)  # person ids of changed rows

    def add_dates(self, values: list[Any], changed: bool = True) -> None:
        """Note a column of dates (None allowed) of rows that changed or not."""
        present = [v for v in values if v is not None]
        if not present:
            return
        lo, hi = min(present), max(present)
        self.earliest = lo if self.earliest is None else min(self.earliest, lo)
        self.latest = hi if self.latest is None else max(self.latest, hi)
        if changed:
            self.months.update(date(y, m, 1) for y, m in {(d.year, d.month) for d in present})


def plan_writes(engine: Engine, fmt: ExtractFormat, path: Path, sheet: str | None,
                staging: Staging, report: ImportReport, say: Progress, chunk_rows: int,
                rejects: SafeWriter | None, limits: ImportLimits, deadline: Deadline
                ) -> Touched:
    """Pass 2, outside any write transaction: parse the valid rows again, match them to
    stored rows and keep the planned inserts and updates in the staging file (the rejected
    rows go to the rejects file). Readers and sign-ins are never held up by this part.
    Returns what the planned rows touch."""
    rows = FileRows(path, fmt.table, sheet, limits, deadline)
    touched = Touched()
    done = 0
    try:
        _, header, batches = header_and_batches(rows, fmt, chunk_rows)
        kept = [i for i, name in enumerate(header) if name not in IGNORED_COLUMNS]
        if rejects is not None:
            rejects.writerow([*(header[i] for i in kept), *IGNORED_COLUMNS])
        with engine.connect() as conn:
            for batch in batches:
                deadline.check()
                problems = staging.problems_between(batch[0][0], batch[-1][0])
                if rejects is not None:
                    for number, cells in batch:
                        if number in problems:
                            padded = cells[:len(header)] + [""] * (len(header) - len(cells))
                            rejects.writerow([*(padded[i] for i in kept), number,
                                              "; ".join(problems[number])])
                valid = [(n, c) for n, c in batch if n not in problems]
                done += len(batch)
                if valid:
                    chunk = parse_chunk(conn, fmt, header, valid)
                    if chunk.problems:
                        first = pd.concat(chunk.problems).iloc[0]
                        raise DatabaseChanged(
                            f"Row {first['row']} ({first['column']}) was valid when "
                            "checked but is not now: the database changed during the "
                            "import. Nothing was written; import the file again.")
                    inserts, updates, same = plan_chunk(conn, fmt, header, chunk, touched)
                    staging.add_plan((inserts, updates))
                    report.inserted += len(inserts)
                    report.updated += len(updates)
                    report.unchanged += same
                    for name in fmt.as_of_fields:
                        if name in chunk.values:
                            present = chunk.values[name].dropna()
                            if len(present):
                                top = present.max()
                                report.max_date = top if report.max_date is None else max(
                                    report.max_date, top)
                say(VALIDATE_SHARE + (PLAN_END - VALIDATE_SHARE) * rows.fraction(),
                    f"Prepared {done:,} of {report.rows_read:,} rows")
    finally:
        rows.close()
    return touched


def plan_chunk(conn: Connection, fmt: ExtractFormat, header: list[str], chunk: Chunk,
               touched: Touched | None = None) -> tuple[list[dict], list[dict], int]:
    """The inserts (new natural keys) and updates (changed rows) of a parsed, valid chunk,
    matched by natural key against the stored rows: (insert rows, update rows, unchanged
    count). Notes the dates of changed rows (old and new values) in touched."""
    touched = touched if touched is not None else Touched()
    present = [f for f in fmt.fields if f.name in header]
    key_fields = [fmt.field(n) for n in fmt.natural_key]
    key_cols = [f.db_column for f in key_fields]
    data_cols = [f.db_column for f in present if f.name not in fmt.natural_key]
    v = chunk.values
    values = pd.DataFrame({f.db_column: v[f.name] if f.name in v else None
                           for f in [*key_fields, *present]})
    existing = _existing(conn, fmt, key_cols, data_cols, values)
    columns = {c: [plain_value(x) for x in values[c].tolist()] for c in values.columns}
    keys = list(zip(*(columns[c] for c in key_cols), strict=True))
    written = list(dict.fromkeys(key_cols + data_cols))
    date_cols = [f.db_column for f in [*key_fields, *present]
                 if f.kind in ("date", "month")]
    # dates of the referenced rows (an answer's audit date): they date this row too
    parent_dates = [[as_date(d) for d in v[c].tolist()] for c in v.columns
                    if "." in c and c.endswith("date")]
    inserts, updates, same = [], [], []
    old_dates: list[date | None] = []
    for position, key in enumerate(keys):
        stored = existing.get(key)
        if stored is None:
            inserts.append({c: columns[c][position] for c in written})
        elif all(_same(stored[c], columns[c][position]) for c in data_cols):
            same.append(position)
        else:
            updates.append({"_id": stored["id"],
                            **{f"v_{c}": columns[c][position] for c in data_cols}})
            old_dates += [as_date(stored[c]) for c in date_cols]
            if "office_id" in data_cols and not _same(stored["office_id"],
                                                      columns["office_id"][position]):
                touched.office_moved = True
            if "office_id" in data_cols and stored.get("office_id") is not None:
                touched.offices.add(int(stored["office_id"]))
    same_set = set(same)
    for name, ids in (("office_id", touched.offices), ("person_id", touched.people)):
        if name in columns:  # the offices and people of rows inserted or changed
            ids.update(int(x) for i, x in enumerate(columns[name])
                       if x is not None and i not in same_set)
    for dates in [*(columns[c] for c in date_cols), *parent_dates]:
        touched.add_dates([d for i, d in enumerate(dates) if i not in same_set])
        touched.add_dates([dates[i] for i in same], changed=False)
    touched.add_dates(old_dates)
    return inserts, updates, len(same)


def plain_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])


def _same(stored: Any, new: Any) -> bool:
    stored, new = plain_value(stored), plain_value(new)
    if isinstance(stored, datetime):
        stored = stored.date()
    if isinstance(stored, float) or isinstance(new, float):
        return stored is not None and new is not None and float(stored) == float(new)
    return stored == new


def _existing(conn: Connection, fmt: ExtractFormat, key_cols: list[str],
              data_cols: list[str], values: pd.DataFrame) -> dict[tuple, dict[str, Any]]:
    """Stored rows matching the chunk's natural keys: {key tuple: {"id", columns...}}."""
    table = fmt.db_table
    columns = [c for c in dict.fromkeys(key_cols + data_cols)]
    if len(key_cols) == 1:
        found = lookup(conn, fmt.table, key_cols[0], values[key_cols[0]].tolist(),
                       tuple(c for c in columns if c != key_cols[0]))
        return {(k,): row for k, row in found.items()}
    selector = key_cols[0]
    out = {}
    wanted = list(dict.fromkeys(values[selector].dropna().tolist()))
    cols = [table.c.id, *(table.c[c] for c in columns)]
    parts = list(in_batches(wanted)) if wanted else []
    if values[selector].isna().any():
        parts.append(None)
    for part in parts:
        cond = table.c[selector].is_(None) if part is None else table.c[selector].in_(part)
        for row in conn.execute(select(*cols).where(cond)).mappings():
            out[tuple(plain_value(row[c]) for c in key_cols)] = dict(row)
    return out
