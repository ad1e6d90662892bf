"""The reference page of every extract format (docs/IMPORT_FORMATS.md), written from the
formats themselves so the page, the importer and the exporter cannot drift apart:
``python -m dashboard import --formats-doc docs/IMPORT_FORMATS.md``."""

from __future__ import annotations

from dashboard.ingest.extract_formats import FORMATS, LOAD_ORDER
from dashboard.ingest.format_spec import GENERATED_REF_PREFIX, IGNORED_COLUMNS, TYPES
from dashboard.ingest.limits import LIMITS


def format_reference_markdown() -> str:
    """The reference page of every extract format (docs/IMPORT_FORMATS.md)."""
    out = [
        "# Extract formats for import",
        "",
        "Generated from `dashboard/ingest/extract_formats.py` by "
        "`python -m dashboard import --formats-doc docs/IMPORT_FORMATS.md`; do not edit.",
        "",
        "Load with `python -m dashboard import FILE --table NAME` or on the *Import "
        "extracts* page (administrators). One example file per table is in `examples/`.",
        "",
        "## Rules for every file",
        "",
        "- CSV (UTF-8, with or without a byte-order mark; comma or semicolon separated; "
        "Windows or Unix line endings) or XLSX. An XLSX file is read from the sheet named "
        "after the table, or from its only sheet.",
        "- The first row holds the column names below (any order; case and spaces do not "
        "matter). Required columns must be present; optional ones may be left out, and a "
        "column left out is not changed on rows already stored. Unknown columns are "
        "refused, so a misspelt column cannot be silently ignored.",
        "- Row numbers in messages count the header as row 1, as a spreadsheet shows them.",
        "- A value longer than its column's maximum is refused with its length (and shown "
        "cut short).",
        "- Bounds on every import, checked before or while the file is read (a file beyond "
        "them is refused with a message and writes nothing): "
        + " ".join(LIMITS.lines()),
        "- CSV is read strictly: a quote that is never closed, text after a closing quote, "
        "or a line break inside a value (allowed only where a column says so) is an error "
        "naming the row, never a silent merge of the lines that follow.",
        "- Text that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, "
        "`@`, a tab or a carriage return, unless it is a plain number such as `-3.5`) is "
        "refused in text columns. Every CSV, XLSX and PDF the dashboard writes puts an "
        "apostrophe in front of such text, so it shows as text.",
        "- Coded values are checked against their reference: codes and references must "
        "exist in the database (or earlier in the load order), allowed values must be in "
        "their list, a case audit's scheme must be one the dashboard knows and an answer's "
        "key question must belong to its audit's scheme and standard.",
        "- Problems are summarised by kind (the count and the first rows of each); the "
        "complete list is a downloadable file.",
        "- Rows are matched to stored rows by the table's **natural key**: a row whose key "
        "is new is inserted, a row whose values differ is updated, an identical row is "
        "left alone. Importing never deletes rows, so loading the same file twice changes "
        "nothing.",
        "- Everything is checked before anything is written: types, required values, "
        "allowed values, lengths, dates in order, references to other tables, duplicate "
        "keys inside the file. A file with any problem writes nothing, unless the importer "
        "is told to load the valid rows and write the rejected ones to a rejects file "
        "(`--keep-valid --rejects OUT.csv`). A rejects file can be corrected and imported "
        f"again: its extra columns `{IGNORED_COLUMNS[0]}` and `{IGNORED_COLUMNS[1]}` are "
        "ignored.",
        f"- Rows stored without a source reference (demo data, rows entered in the "
        f"dashboard) are exported with the reference `{GENERATED_REF_PREFIX}<id>`; "
        "importing that reference updates the same row.",
        "- Load tables in this order (each after the tables it refers to): "
        + ", ".join(f"`{t}`" for t in LOAD_ORDER) + ".",
        "",
        "Types: " + "; ".join(f"**{k}**: {v}" for k, v in TYPES.items()) + ".",
        "",
    ]
    for fmt in FORMATS.values():
        out += [f"## `{fmt.table}`: {fmt.title}", "", fmt.description, "",
                "Natural key: " + " + ".join(f"`{k}`" for k in fmt.natural_key) + ". "
                f"Example file: `examples/{fmt.table}.csv`.", ""]
        out += ["| column | type | required | rules | description |",
                "| --- | --- | --- | --- | --- |"]
        for f in fmt.fields:
            out.append(f"| `{f.name}` | {f.kind} | {'yes' if f.required else 'no'} | "
                       f"{f.rules_text()} | {f.description} |")
        rules = [d.message.replace(" is before ", " must be on or after ")
                 for d in fmt.date_order] + [
                     (f"{c.report_on} " if c.report_on else "") + c.message
                     for c in fmt.row_checks] + [
                     c.message for c in fmt.file_checks]
        if rules:
            out += ["", "Row rules: " + "; ".join(rules) + "."]
        out.append("")
    return "\n".join(out)
