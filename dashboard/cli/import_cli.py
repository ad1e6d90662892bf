"""``python -m dashboard import ...`` and ``python -m dashboard export-extracts ...``.

    python -m dashboard import FILE --table NAME [--keep-valid --rejects OUT.csv]
                                                 [--user NAME] [--sheet NAME] [--check]
    python -m dashboard import --formats-doc docs/IMPORT_FORMATS.md
    python -m dashboard import --write-examples examples/
    python -m dashboard export-extracts DIRECTORY [--table NAME ...]
"""

from __future__ import annotations

import argparse
import getpass
import shutil
import sys
from pathlib import Path

from tqdm import tqdm

from dashboard.access import audit_log
from dashboard.commands.imports import FileRefused, ImportExtract, ImportRefused
from dashboard.core import spreadsheet_safe
from dashboard.data import db
from dashboard.ingest import export_extracts, extract_formats, formats_doc
from dashboard.ingest.import_runs import fail_abandoned_runs
from dashboard.ingest.report import ImportReport
from dashboard.precompute import statistics

SHOWN_IN_CONSOLE = 50


def _actor() -> str:
    """Who ran the command: "cli:<operating-system user>"."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (OSError, KeyError):  # no USER variable and no passwd entry, e.g. in a container
        return "cli"


def _progress_bar():
    bar = tqdm(total=100, unit="%", file=sys.stderr,
               bar_format="{desc:40} {bar:30} {percentage:3.0f}% {elapsed}")

    def update(fraction: float, message: str) -> None:
        bar.n = round(min(max(fraction, 0.0), 1.0) * 100)
        bar.set_description_str(message[:40])
        bar.refresh()

    return bar, update


def print_problems(report: ImportReport, limit: int = SHOWN_IN_CONSOLE) -> None:
    """The first `limit` problems as a plain table on stderr."""
    frame = report.problems_frame().head(limit)
    if frame.empty:
        return
    frame = frame.astype(object).where(frame.notna(), "")
    print(frame.to_string(index=False, max_colwidth=70), file=sys.stderr)
    if report.problem_count > len(frame):
        print(f"... and {report.problem_count - len(frame):,} more problem(s). "
              "Use --problems OUT.csv to save the list.", file=sys.stderr)


def cmd_import(args: argparse.Namespace) -> int:
    if args.formats_doc:
        Path(args.formats_doc).parent.mkdir(parents=True, exist_ok=True)
        Path(args.formats_doc).write_text(formats_doc.format_reference_markdown(),
                                          encoding="utf-8")
        print(f"Wrote {args.formats_doc}.")
        return 0
    if args.write_examples:
        for path in export_extracts.write_examples(Path(args.write_examples)):
            print(f"Wrote {path}.")
        return 0
    if not args.file or not args.table:
        print("error: give FILE and --table NAME (tables: "
              + ", ".join(extract_formats.FORMATS) + ")", file=sys.stderr)
        return 2
    path = Path(args.file)
    rejects = args.rejects or (f"{path.stem}.rejects.csv" if args.keep_valid else None)
    command = ImportExtract(db.make_engine(args.database_url), path, args.table,
                            username=args.user or _actor(), keep_valid=args.keep_valid,
                            rejects_path=rejects, sheet=args.sheet)
    engine = command.engine
    try:
        command.validate()
    except FileRefused:
        pass  # recorded and reported by run() or check() like any other problem
    except ImportRefused as exc:
        engine.dispose()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.rejects and not args.keep_valid:
        engine.dispose()
        print("error: --rejects needs --keep-valid", file=sys.stderr)
        return 2
    db.upgrade(engine)
    fail_abandoned_runs(engine)  # a killed import must not stay "running"
    bar, update = _progress_bar()
    command.progress = update  # the bar starts once the database is ready
    try:
        try:
            report = command.check() if args.check else command.run()
        except Exception as exc:  # noqa: BLE001 - the run is recorded as failed; say why
            bar.close()
            print(f"error: the import failed and nothing was written: {exc}", file=sys.stderr)
            return 2
        if not args.check and (report.inserted or report.updated):
            statistics.catch_up(engine)  # the stored statistics of the months imported (#16)
    finally:
        engine.dispose()
    bar.close()
    print_problems(report)
    if args.problems and report.problem_count:
        if report.problems_path is not None:  # the listed problems are not all of them
            shutil.copyfile(report.problems_path, args.problems)
        else:
            spreadsheet_safe.safe_frame(report.problems_frame()).to_csv(args.problems,
                                                                        index=False)
        print(f"Problems written to {args.problems}.", file=sys.stderr)
    if report.problems_path is not None:  # the temporary full list: copied or not wanted
        report.problems_path.unlink(missing_ok=True)
    print(report.summary())
    if report.message:
        print(report.message)
    if report.rejects_path and report.rejected:
        print(f"Rejected rows written to {report.rejects_path}.")
    return 0 if report.status in ("succeeded", "partial", "valid") else 1


def cmd_export(args: argparse.Namespace) -> int:
    engine = db.make_engine(args.database_url)
    db.upgrade(engine)
    tables = args.table or list(extract_formats.LOAD_ORDER)
    written = export_extracts.export_all(engine, Path(args.directory), tables)
    for table, (path, rows) in written.items():
        print(f"{table:22s} {rows:>12,}  {path}")
    # The full extract holds every person: it is a server-side command (shell access to
    # the server is the permission it needs), and it is logged with what it wrote.
    counts = {table: rows for table, (_path, rows) in written.items()}
    with engine.begin() as conn:
        audit_log.record(conn, _actor(), "export", target=f"export-extracts:{args.directory}",
                         detail={"rows": sum(counts.values()), "tables": counts})
    engine.dispose()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``import`` and ``export-extracts`` commands to the main parser."""
    p = subparsers.add_parser(
        "import", help="validate and load a CSV or XLSX extract into one table",
        description="Validate and load a CSV or XLSX extract. Formats: docs/IMPORT_FORMATS.md.")
    p.add_argument("file", nargs="?", help="the CSV or XLSX file")
    p.add_argument("--table", choices=list(extract_formats.FORMATS),
                   help="the table the file holds")
    p.add_argument("--keep-valid", action="store_true",
                   help="load the valid rows even if some are rejected")
    p.add_argument("--rejects", help="where to write rejected rows with --keep-valid "
                   "(default: FILE's name + .rejects.csv in the current directory)")
    p.add_argument("--user", help="who is importing, for the import history "
                   "(default: cli:<your login>)")
    p.add_argument("--sheet", help="XLSX sheet to read (default: the sheet named after the "
                   "table, or the only sheet)")
    p.add_argument("--check", action="store_true", help="validate only; write nothing")
    p.add_argument("--problems", help="also save the problems table to this CSV")
    p.add_argument("--formats-doc", metavar="OUT.md",
                   help="write the extract formats reference page and stop")
    p.add_argument("--write-examples", metavar="DIRECTORY",
                   help="write one small valid example file per table and stop")
    p.set_defaults(func=cmd_import)

    p = subparsers.add_parser("export-extracts",
                              help="export tables as CSV extracts in the documented formats")
    p.add_argument("directory")
    p.add_argument("--table", action="append", choices=list(extract_formats.FORMATS),
                   help="only this table (repeatable)")
    p.set_defaults(func=cmd_export)
