"""What a signed-in user may see: the pages their role opens and the person-level rows.

A Scope is resolved once at sign-in and passed to every query that returns rows about
people, so no query can forget the restriction. It is frozen and hashable, so it can be
part of a cache key (``st.cache_data`` is shared by all users). Aggregate figures
(rates, counts per office) are not restricted here; rows naming a case are.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, false, select, true

from dashboard.access.auth import User
from dashboard.data.schema import case_audit, office

PAGE_KEYS = frozenset(
    {
        "overview",
        "staffing",
        "quality",
        "payback",
        "gate",
        "compare",
        "readiness",
        "audit",
        "sample",
        "admin_users",
        "admin_log",
        "admin_targets",
        "admin_import",
        "data_quality",
        "cases",
        "caseload",
    }
)

_PERFORMANCE = frozenset(
    {"overview", "staffing", "quality", "payback", "gate", "compare", "readiness"}
)

# Which pages each role opens. Admins run the system but see no case lists; auditors
# record audits and see nothing of people beyond the cases assigned to them.
# The caseload drill-down ends in one officer's cases, so it goes with the case lists.
ROLE_PAGES: dict[str, frozenset[str]] = {
    "chief_executive": _PERFORMANCE | {"cases", "caseload"},
    "area_manager": _PERFORMANCE | {"cases", "caseload"},
    "quality_lead": _PERFORMANCE | {"audit", "sample", "cases", "caseload", "data_quality"},
    "auditor": frozenset({"overview", "audit"}),
    "admin": frozenset(
        {"overview", "admin_users", "admin_log", "admin_targets", "admin_import", "data_quality"}
    ),
}


def may_open(role: str, page_key: str) -> bool:
    """True when a user with role may open the page page_key (unknown roles open nothing)."""
    return page_key in ROLE_PAGES.get(role, frozenset())


class ScopeError(PermissionError):
    """The user's scope does not cover what was asked for."""


@dataclass(frozen=True)
class Scope:
    """The rows a user may see.

    person_office_ids: offices whose people the user may list; None means every office,
    () none. audit_assignee: for auditors, their username; they see only the people in
    case audits where case_audit.auditor equals it.
    """

    username: str
    role: str
    person_office_ids: tuple[int, ...] | None
    audit_assignee: str | None
    can_admin: bool
    can_view_person_level: bool

    def may_open(self, page_key: str) -> bool:
        return may_open(self.role, page_key)

    def covers_office(self, office_id: int) -> bool:
        """True when the user may list the people of this office."""
        if not self.can_view_person_level or self.audit_assignee is not None:
            return False
        return self.person_office_ids is None or office_id in self.person_office_ids

    def office_clause(self, office_col: ColumnElement) -> ColumnElement[bool]:
        """A WHERE clause keeping person-level rows whose office_col is in scope.

        true() for every office, false() when the role may not list people by office
        (admins; auditors, who use person_clause instead).
        """
        if not self.can_view_person_level or self.person_office_ids == ():
            return false()
        if self.person_office_ids is None:
            return true()
        return office_col.in_(self.person_office_ids)

    def person_clause(
        self, person_id_col: ColumnElement, office_col: ColumnElement
    ) -> ColumnElement[bool]:
        """A WHERE clause keeping the people the user may see: by office, or for an
        auditor the people in case audits assigned to them."""
        if self.audit_assignee is not None and self.can_view_person_level:
            assigned = select(case_audit.c.person_id).where(
                case_audit.c.auditor == self.audit_assignee
            )
            return person_id_col.in_(assigned)
        return self.office_clause(office_col)

    def audit_clause(
        self, auditor_col: ColumnElement, office_col: ColumnElement
    ) -> ColumnElement[bool]:
        """A WHERE clause keeping the case audits the user may open: an auditor's own,
        otherwise the audits of people in office scope."""
        if self.audit_assignee is not None and self.can_view_person_level:
            return auditor_col == self.audit_assignee
        return self.office_clause(office_col)


def require_person_level(scope: Scope, office_id: int | None = None) -> None:
    """Raise ScopeError unless the user may see person-level rows (in office_id, if given)."""
    if not scope.can_view_person_level:
        raise ScopeError(f"The {scope.role} role cannot see rows about individual people.")
    if office_id is not None and not scope.covers_office(office_id):
        raise ScopeError("That office is outside the offices you can see cases for.")


def scope_for(conn: Connection, user: User) -> Scope:
    """The Scope of a signed-in user; ScopeError for a disabled account or unknown role.

    chief_executive and quality_lead: every office. area_manager: the offices of their
    area (none if the account has no area). auditor: only people in audits assigned to
    them. admin: no person-level rows.
    """
    if user.disabled:
        raise ScopeError(f"User {user.username!r} is disabled.")
    office_ids: tuple[int, ...] | None = None  # chief_executive, quality_lead: every office
    if user.role == "area_manager":
        office_ids = ()
        if user.area_id is not None:
            office_ids = tuple(
                conn.execute(
                    select(office.c.id)
                    .where(office.c.area_id == user.area_id)
                    .order_by(office.c.id)
                ).scalars()
            )
    elif user.role in ("auditor", "admin"):
        office_ids = ()
    elif user.role not in ("chief_executive", "quality_lead"):
        raise ScopeError(f"Unknown role {user.role!r}.")
    return Scope(
        username=user.username,
        role=user.role,
        person_office_ids=office_ids,
        audit_assignee=user.username if user.role == "auditor" else None,
        can_admin=user.role == "admin",
        can_view_person_level=user.role != "admin",
    )
