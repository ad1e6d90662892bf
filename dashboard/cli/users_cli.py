"""``python -m dashboard users ...``: add, disable, enable, reset-password, list accounts.

Passwords never come from the command line (they would sit in shell history and the
process list): they are typed at a getpass prompt, or piped in with --password-stdin.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from sqlalchemy import Connection

from dashboard.access import auth
from dashboard.commands import users
from dashboard.data import db
from dashboard.data.schema import ROLES


def _actor() -> str:
    """Who ran the command, for the audit log: "cli:<operating-system user>"."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (OSError, KeyError):  # no USER variable and no passwd entry, e.g. in a container
        return "cli"


def _read_password(args: argparse.Namespace, username: str) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise users.UserError(
            "stdin is not a terminal: pipe the password in with --password-stdin."
        )
    first = getpass.getpass(f"New password for {username}: ")
    users.check_password(first, username)  # before asking for it again
    if getpass.getpass("Type it again: ") != first:
        raise users.UserError("The two passwords differ.")
    return first


def _message(error: users.UserError) -> str:
    """The error's words, with the option that mends it where the command line has one."""
    if isinstance(error, users.AreaRequiredForRole):
        return "An area manager needs an area (--area CODE)."
    return str(error)


def _run(args: argparse.Namespace, change: Callable[[Connection], str]) -> int:
    engine = db.make_engine(args.database_url)
    db.upgrade(engine)
    try:
        with engine.begin() as conn:
            message = change(conn)
    except users.UserError as exc:
        print(f"error: {' '.join(_message(e) for e in exc.errors)}", file=sys.stderr)
        return 2
    print(message)
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    def change(conn: Connection) -> str:
        area_id = users.area_id_for_code(conn, args.area) if args.area else None
        password = None if args.no_password else _read_password(args, args.username)
        user = users.AddUser(
            conn,
            args.username,
            args.name or args.username,
            args.role,
            password=password,
            email=args.email,
            area_id=area_id,
            actor=_actor(),
        ).run()
        return f"Created {user.username} ({user.role})."

    return _run(args, change)


def cmd_disable(args: argparse.Namespace) -> int:
    def change(conn: Connection) -> str:
        users.DisableUser(conn, args.username, actor=_actor()).run()
        return f"Disabled {args.username}."

    return _run(args, change)


def cmd_enable(args: argparse.Namespace) -> int:
    def change(conn: Connection) -> str:
        users.EnableUser(conn, args.username, actor=_actor()).run()
        return f"Enabled {args.username}."

    return _run(args, change)


def cmd_reset_password(args: argparse.Namespace) -> int:
    def change(conn: Connection) -> str:
        if auth.get_user(conn, args.username) is None:  # before asking for a password
            raise users.NoSuchUser(f"No user called {args.username!r}.")
        password = _read_password(args, args.username)
        users.ResetPassword(conn, args.username, password, actor=_actor()).run()
        return f"Password reset for {args.username}; any lock-out is cleared."

    return _run(args, change)


def cmd_list(args: argparse.Namespace) -> int:
    def change(conn: Connection) -> str:
        accounts = auth.list_users(conn)
        if accounts.empty:
            return "No users."
        shown = accounts[
            [
                "username",
                "display_name",
                "role",
                "area_code",
                "email",
                "disabled",
                "has_password",
                "failed_logins",
                "locked_until",
            ]
        ]
        return shown.astype(object).where(shown.notna(), "").to_string(index=False)

    return _run(args, change)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``users`` command and its subcommands to the main parser's subparsers."""
    users = subparsers.add_parser("users", help="manage sign-in accounts")
    sub = users.add_subparsers(dest="users_command", required=True)

    p = sub.add_parser("add", help="create an account")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--area", help="area code (required for area_manager), e.g. KENT")
    p.add_argument("--name", help="display name (default: the username)")
    p.add_argument("--email", help="email address, used to match single sign-on")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin",
    )
    group.add_argument(
        "--no-password", action="store_true", help="single-sign-on only: no local password"
    )
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("disable", help="stop an account signing in")
    p.add_argument("username")
    p.set_defaults(func=cmd_disable)

    p = sub.add_parser("enable", help="let a disabled account sign in again")
    p.add_argument("username")
    p.set_defaults(func=cmd_enable)

    p = sub.add_parser("reset-password", help="set a new password and clear any lock-out")
    p.add_argument("username")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin",
    )
    p.set_defaults(func=cmd_reset_password)

    p = sub.add_parser("list", help="list accounts (never the password hashes)")
    p.set_defaults(func=cmd_list)
