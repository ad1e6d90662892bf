"""Stored rows found by their natural key (office code, crn, a source reference), in
bounded IN (...) lists; a generated reference "dashboard-<id>" finds the row with that id."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, select

from dashboard.data import schema
from dashboard.data.schema import NATURAL_REF_COLUMNS
from dashboard.ingest.format_spec import GENERATED_REF_PREFIX

IN_LIST = 5_000  # values per IN (...) list: well inside SQLite's and PostgreSQL's limits
GENERATED_RE = re.compile(rf"^{re.escape(GENERATED_REF_PREFIX)}(\d{{1,18}})$")


def in_batches(values: list, size: int = IN_LIST) -> Iterator[list]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _generated_ids(values: list[str]) -> dict[int, str]:
    out = {}
    for v in values:
        m = GENERATED_RE.match(v)
        if m:
            out[int(m.group(1))] = v
    return out


def lookup(conn: Connection, table_name: str, key: str, values: list,
           columns: tuple[str, ...] = ()) -> dict[Any, dict[str, Any]]:
    """Rows of table_name whose natural key column `key` is in values:
    {key value: {"id": id, column: value, ...}}. A source reference "dashboard-<id>"
    (as exported for a row stored without one) finds the row with that id."""
    table = schema.metadata.tables[table_name]
    cols = [table.c.id, table.c[key], *(table.c[c] for c in columns)]
    found: dict[Any, dict[str, Any]] = {}
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    for part in in_batches(distinct):
        for row in conn.execute(select(*cols).where(table.c[key].in_(part))).mappings():
            found[row[key]] = dict(row)
    if NATURAL_REF_COLUMNS.get(table_name) == key:
        generated = _generated_ids([v for v in distinct if v not in found])
        for part in in_batches(list(generated)):
            stmt = select(*cols).where(table.c.id.in_(part), table.c[key].is_(None))
            for row in conn.execute(stmt).mappings():
                found[generated[row["id"]]] = {**row, key: generated[row["id"]],
                                               "_generated": True}
    return found
