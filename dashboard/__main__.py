"""Command line: python -m dashboard demo-data | migrate | users ... | import ..."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date

from tqdm import tqdm

from dashboard.access import auth
from dashboard.cli import import_cli, users_cli
from dashboard.data import db
from dashboard.demo import demo_data
from dashboard.demo.accounts import create_demo_users


def _progress_bar():
    bar = tqdm(total=100, unit="%", file=sys.stderr,
               bar_format="{desc:42} {bar:30} {percentage:3.0f}%")

    def update(fraction: float, message: str) -> None:
        bar.n = round(fraction * 100)
        bar.set_description_str(message[:40])
        bar.refresh()

    return bar, update


def cmd_demo_data(args: argparse.Namespace) -> int:
    engine = db.make_engine(args.database_url)
    db.upgrade(engine)
    if db.has_data(engine):
        if not args.replace:
            print("The database already holds data; use --replace to regenerate it.",
                  file=sys.stderr)
            return 1
        demo_data.clear(engine)
    scale = demo_data.SCALES[args.scale]()
    as_of = date.fromisoformat(args.as_of) if args.as_of else None
    bar, update = _progress_bar()
    started = time.perf_counter()
    counts = demo_data.generate(engine, seed=args.seed, as_of=as_of, scale=scale,
                                progress=update)
    bar.close()
    elapsed = time.perf_counter() - started
    for table, n in sorted(counts.items()):
        print(f"{table:24s} {n:>12,}")
    print(f"Generated {sum(counts.values()):,} rows in {elapsed:.1f} s ({args.scale} scale).")
    with engine.begin() as conn:
        create_demo_users(conn)
    print_demo_accounts()
    return 0


def print_demo_accounts() -> None:
    """The demo accounts and their passwords (demo data only), for the console."""
    print("\nDemo accounts (DEMO DATA only; a real database starts with no users):")
    print(auth.demo_users_markdown())


def cmd_migrate(args: argparse.Namespace) -> int:
    db.upgrade(db.make_engine(args.database_url))
    print("Schema is at the latest migration.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from dashboard.app import serve

    if args.database_url:
        import os

        os.environ["DATABASE_URL"] = args.database_url
    engine = db.make_engine()
    if db.has_data(engine) and db.read_dataset_info(engine).get("mode") == "demo":
        print_demo_accounts()
    sqlite = engine.dialect.name == "sqlite"
    engine.dispose()
    if args.replicas is None:
        return serve.main(args.streamlit_args)
    from pathlib import Path

    from dashboard.app import replicas

    if args.replicas < 1:
        print("--replicas needs at least 1.", file=sys.stderr)
        return 2
    if sqlite and args.replicas > 1:
        print("Note: several processes on one SQLite file is for a trial on one machine; "
              "use PostgreSQL (DATABASE_URL) to serve many users.", file=sys.stderr)
    listen = f"{args.address}:{args.port}" if args.address else str(args.port)
    try:
        return replicas.serve(args.replicas, listen, run_dir=Path(args.run_dir)
                              if args.run_dir else None, extra_args=args.streamlit_args,
                              restart=not args.no_restart)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: DATABASE_URL or "
                        "the embedded SQLite demo file)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo-data", help="create the demo dataset")
    p.add_argument("--scale", choices=["small", "region", "national"], default="region")
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument("--as-of", help="last day of data, YYYY-MM-DD (default: end of last month)")
    p.add_argument("--replace", action="store_true", help="delete existing data first")
    p.set_defaults(func=cmd_demo_data)
    p = sub.add_parser("migrate", help="upgrade the schema to the latest migration")
    p.set_defaults(func=cmd_migrate)
    users_cli.register(sub)
    import_cli.register(sub)
    p = sub.add_parser("serve", allow_abbrev=False,
                       help="run the dashboard (extra arguments go to streamlit)")
    p.add_argument("--replicas", type=int, metavar="N",
                   help="run N server processes behind nginx with sticky sessions "
                   "(installs Debian's nginx when missing and run as root)")
    p.add_argument("--port", type=int, default=8501,
                   help="with --replicas: the port nginx listens on (default 8501)")
    p.add_argument("--address", help="with --replicas: the address nginx listens on "
                   "(default: every interface)")
    p.add_argument("--run-dir", help="with --replicas: folder for nginx.conf, logs and "
                   "replicas.json (default: a new temporary folder)")
    p.add_argument("--no-restart", action="store_true",
                   help="with --replicas: do not start a stopped replica again")
    p.set_defaults(func=cmd_serve)
    args, extra = parser.parse_known_args(argv)
    if args.command == "serve":
        args.streamlit_args = extra
    elif extra:
        parser.error("unrecognized arguments: " + " ".join(extra))
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
