"""The demo accounts (auth.DEMO_USERS), made through the AddUser command. Demo mode only:
their passwords are published."""

from __future__ import annotations

import re

from sqlalchemy import Connection, select

from dashboard.access import auth
from dashboard.commands.users import AddUser
from dashboard.data.schema import area, case_audit


def _demo_auditors(conn: Connection) -> list[str]:
    # The demo data names its auditors auditor.<area><n>: an account for each, so every
    # demo audit belongs to an auditor who exists (auditor.kent1 when there is no audit).
    names = (
        conn.execute(select(case_audit.c.auditor).distinct().order_by(case_audit.c.auditor))
        .scalars()
        .all()
    )
    return [n for n in names if auth.USERNAME_RE.match(n)] or ["auditor.kent1"]


def create_demo_users(conn: Connection) -> list[tuple[str, str, str]]:
    """Create the DEMO_USERS accounts (one area manager per area in the area table).

    Returns (username, password, role) for each account created, for the caller to print.
    Usernames that already exist are left alone and not returned. Demo mode only.
    """
    password = {u.role: u.password for u in auth.DEMO_USERS}
    wanted: list[tuple[str, str, str, int | None]] = [
        ("chief.exec", "Chief Executive (demo)", "chief_executive", None),
    ]
    areas = conn.execute(select(area.c.id, area.c.code, area.c.name).order_by(area.c.code))
    for area_id, code, name in areas.all():
        slug = re.sub(r"[^a-z0-9]", "", code.lower())
        wanted.append((f"am.{slug}", f"Area Manager, {name} (demo)", "area_manager", area_id))
    wanted += [
        ("quality.lead", "Quality Lead (demo)", "quality_lead", None),
        *[(name, "Case Auditor (demo)", "auditor", None) for name in _demo_auditors(conn)],
        ("admin", "Administrator (demo)", "admin", None),
    ]
    created = []
    for username, display_name, role, area_id in wanted:
        if auth.get_user(conn, username) is not None:
            continue
        # the area managers' published password names the area: demo-<area>-2026!
        secret = password[role].replace("<area>", username.removeprefix("am."))
        AddUser(conn, username, display_name, role, password=secret, area_id=area_id,
                actor="demo-data").run()
        created.append((username, secret, role))
    return created
