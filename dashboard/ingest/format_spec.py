"""How an extract format is specified, as data: the column types, a column (Field) with its
rules and reference to another table, the rules over a row or the whole file, and the
format of one table (ExtractFormat). The formats themselves are in extract_formats.py."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pandas as pd
from sqlalchemy import String, Table

from dashboard.data import schema

TYPES = {
    "text": "any characters, up to the column's maximum length",
    "code": "letters, digits, '-' or '_', stored in capitals",
    "integer": "a whole number",
    "number": "a number with a decimal point '.' and no thousands separators",
    "date": "YYYY-MM-DD (or DD/MM/YYYY), years 1950 to 2099",
    "month": "YYYY-MM (or the first day of the month as a date)",
    "boolean": "true/false (also yes/no, y/n, 1/0)",
    "list": "values separated by commas, each one of the allowed values",
}
# A reference that the exporter writes for a row stored without one (demo rows, rows made
# in the dashboard): "dashboard-<id>". The importer matches it back to that row.
GENERATED_REF_PREFIX = "dashboard-"
TEXT_CAP = 4000  # Text columns have no length in the schema; an extract cell is capped here
IGNORED_COLUMNS = ("rejected_row", "rejected_because")  # added to rejects files


@dataclass(frozen=True)
class Reference:
    """A column naming a row of another table by that table's natural key."""

    table: str  # the referenced table, e.g. "office"
    key: str  # its natural-key column, e.g. "code"
    id_column: str  # our column that receives the referenced row's id, e.g. "office_id"
    # referenced columns used by cross-table checks, or dating a child row that has no
    # date of its own (an audit answer is dated by its audit, for the monthly summaries)
    fetch: tuple[str, ...] = ()


@dataclass(frozen=True)
class Field:
    """One column of an extract."""

    name: str
    kind: str  # a key of TYPES
    description: str
    required: bool = False
    column: str | None = None  # the database column (default: name; a reference: id_column)
    max_length: int | None = None  # filled from the schema column's length
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None  # exclusive lower bound
    references: Reference | None = None
    unique: bool = False  # unique across the table though not the natural key (names)
    multiline: bool = False  # may hold a line break (in a quoted CSV value)

    @property
    def db_column(self) -> str:
        if self.references is not None:
            return self.references.id_column
        return self.column or self.name

    def rules_text(self) -> str:
        """The field's constraints in words, for the reference page."""
        parts = []
        if self.allowed:
            parts.append("one of " + ", ".join(f"`{v}`" for v in self.allowed))
        if self.above is not None:
            parts.append(f"greater than {self.above:g}")
        if self.minimum is not None:
            parts.append(f"at least {self.minimum:g}")
        if self.maximum is not None:
            parts.append(f"at most {self.maximum:g}")
        if self.max_length is not None and self.kind in ("text", "code", "list"):
            parts.append(f"at most {self.max_length} characters")
        if self.references is not None:
            ref = self.references
            parts.append(f"must exist in `{ref.table}` (`{ref.key}`)")
        if self.unique:
            parts.append("unique")
        if self.multiline:
            parts.append("may hold line breaks")
        return "; ".join(parts)


@dataclass(frozen=True)
class DateOrder:
    """later must be on or after earlier (either may be blank). earlier may name a field
    of a referenced row as "<reference field>.<column>", e.g. "order_ref.sentence_date"."""

    later: str
    earlier: str
    message: str


@dataclass(frozen=True)
class RowCheck:
    """A rule over several columns of a row: bad(frame) marks the rows that break it."""

    columns: tuple[str, ...]  # field names, or "<reference field>.<column>" fetched
    message: str
    bad: Callable[[pd.DataFrame], pd.Series]
    report_on: str | None = None  # the column named in the problem (default: all of them)


@dataclass(frozen=True)
class FileCheck:
    """A rule over every row of the file at once (and the stored rows), e.g. allocation
    periods of one person that overlap: check(conn, frame of `columns` + "row")."""

    columns: tuple[str, ...]
    message: str  # the rule in words, for the reference page
    check: Callable[..., pd.DataFrame]


@dataclass(frozen=True)
class ExtractFormat:
    """One importable table: its columns, natural key and rules."""

    table: str  # our table name, also the --table NAME of the command line
    title: str
    description: str
    fields: tuple[Field, ...]
    natural_key: tuple[str, ...]  # field names
    date_order: tuple[DateOrder, ...] = ()
    row_checks: tuple[RowCheck, ...] = ()
    as_of_fields: tuple[str, ...] = ()  # dates that move the dataset's "data as of"
    ref_field: str | None = None  # natural key that is a source reference (dashboard-<id>)
    # checks over all the file's rows together: f(conn, values with a "row" column) ->
    # problems (row, column, value, message); values of rows with other problems left out
    file_checks: tuple[FileCheck, ...] = ()
    load_after: tuple[str, ...] = ()
    # the example file's data rows as CSV lines, values in the order of the fields
    example_rows: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        for line in self.example_rows:
            if len(next(csv.reader([line]))) != len(self.fields):
                raise ValueError(f"{self.table}: example row {line!r} does not have one "
                                 f"value for each of the {len(self.fields)} fields")

    @property
    def examples(self) -> tuple[dict[str, str], ...]:
        """The example file's rows, each as {field name: value}."""
        return tuple(dict(zip(self.names, values, strict=True))
                     for values in csv.reader(self.example_rows))

    @property
    def db_table(self) -> Table:
        return schema.metadata.tables[self.table]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)



def with_schema_lengths(fmt: ExtractFormat) -> ExtractFormat:
    """fmt with every text, code and list column's max_length read from the schema (the
    referenced table's key column for a reference; TEXT_CAP where the schema has none)."""
    fields = []
    table = schema.metadata.tables[fmt.table]
    for f in fmt.fields:
        if f.max_length is None and f.kind in ("text", "code", "list"):
            if f.references is not None:
                col = schema.metadata.tables[f.references.table].c[f.references.key]
            else:
                col = table.c[f.db_column]
            length = col.type.length if isinstance(col.type, String) else None
            f = replace(f, max_length=length or TEXT_CAP)
        fields.append(f)
    return replace(fmt, fields=tuple(fields))
