"""Changes to user accounts as commands: add a user, disable, enable, reset a password,
change a role and area.

Each command takes the caller's Connection (opened with ``engine.begin()``): validate()
raises a typed UserError before anything is written, and run() validates, then writes the
change and its one audit_log row in that transaction. Pages and the ``users`` command line
build a command and map its errors to messages; signing in, password hashing and sessions
stay in dashboard/access/.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, func, insert, select, update

from dashboard.access import audit_log, auth, sessions
from dashboard.access.audit_log import utc
from dashboard.access.auth import User
from dashboard.data.schema import ROLES, app_user, area

# --- errors -----------------------------------------------------------------------------


class UserError(ValueError):
    """A user change that cannot be made; the message is fit to show as is."""

    @property
    def errors(self) -> list[UserError]:
        """Each typed error this one stands for: itself (InvalidUser lists several)."""
        return [self]


class InvalidUser(UserError):
    """Several things are wrong with a new account; .errors lists each, in check order."""

    def __init__(self, errors: list[UserError]) -> None:
        self._errors = errors
        super().__init__(" ".join(str(e) for e in errors))

    @property
    def errors(self) -> list[UserError]:
        """The typed errors, in the order the checks run."""
        return self._errors


class NoSuchUser(UserError):
    """No account has the username."""


class InvalidUsername(UserError):
    """The username is not 3 to 64 characters of a-z, 0-9, dot, underscore or hyphen."""


class InvalidDisplayName(UserError):
    """The display name is empty or too long."""


class UnknownRole(UserError):
    """The role is not one of schema.ROLES."""


class AreaRequiredForRole(UserError):
    """An area manager without an area."""


class UnknownArea(UserError):
    """No area has the id or code given."""


class InvalidEmail(UserError):
    """The email is not an email address."""


class EmailTaken(UserError):
    """Another account already has the email."""


class UsernameTaken(UserError):
    """An account with the username already exists."""


class WeakPassword(UserError):
    """The password breaks the policy; .problems lists every reason
    (auth.password_problems' words, e.g. "must be at least 12 characters long")."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("The password " + "; ".join(problems) + ".")


class AlreadyDisabled(UserError):
    """Disabling an account that is disabled."""


class AlreadyEnabled(UserError):
    """Enabling an account that is enabled."""


class RoleUnchanged(UserError):
    """The account already has the role and area asked for."""


class LastAdmin(UserError):
    """The change would leave no enabled admin to manage users from the app."""


# --- checks shared by the commands ------------------------------------------------------


def check_password(password: str, username: str) -> None:
    """Raise WeakPassword when password breaks the policy (auth.password_problems)."""
    problems = auth.password_problems(password, username)
    if problems:
        raise WeakPassword(problems)


def area_id_for_code(conn: Connection, code: str) -> int:
    """The id of the area with this code (case-insensitive); UnknownArea if there is none."""
    found = conn.execute(
        select(area.c.id).where(func.upper(area.c.code) == code.strip().upper())
    ).scalar_one_or_none()
    if found is None:
        codes = conn.execute(select(area.c.code).order_by(area.c.code)).scalars().all()
        raise UnknownArea(
            f"No area with code {code!r}; known codes: {', '.join(codes) or 'none'}."
        )
    return int(found)


def _existing(conn: Connection, username: str) -> User:
    user = auth.get_user(conn, username)
    if user is None:
        raise NoSuchUser(f"No user called {username!r}.")
    return user


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UnknownRole(f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}.")


def _check_area(conn: Connection, role: str, area_id: int | None) -> None:
    if role == "area_manager" and area_id is None:
        raise AreaRequiredForRole("An area manager needs an area.")
    if (
        area_id is not None
        and conn.execute(select(area.c.id).where(area.c.id == area_id)).first() is None
    ):
        raise UnknownArea(f"No area with id {area_id}.")


def _check_not_last_admin(conn: Connection, user: User, what: str) -> None:
    # Someone must always be able to manage users from the app.
    if user.role != "admin" or user.disabled:
        return
    admins = conn.execute(
        select(func.count())
        .select_from(app_user)
        .where(app_user.c.role == "admin", app_user.c.disabled.is_(False))
    ).scalar_one()
    if admins <= 1:
        raise LastAdmin(f"Cannot {what} {user.username!r}: it is the last enabled admin.")


# --- commands ---------------------------------------------------------------------------


class _UserCommand:
    """A write to the account called username, made by actor and logged in the same
    transaction."""

    conn: Connection
    username: str
    actor: str
    now: datetime | None

    def _log(self, action: str, detail: dict | None = None) -> None:
        audit_log.record(self.conn, self.actor, action, target=self.username, detail=detail,
                         now=self.now)


class AddUser(_UserCommand):
    """Add an account and log "user_created".

    password None makes a single-sign-on-only account (matched by email). The username is
    taken as given; the display name is stripped, the email stripped and lower-cased.
    """

    def __init__(self, conn: Connection, username: str, display_name: str, role: str,
                 password: str | None = None, email: str | None = None,
                 area_id: int | None = None, actor: str = "cli",
                 now: datetime | None = None) -> None:
        self.conn = conn
        self.username = username
        self.display_name = (display_name or "").strip()
        self.role = role
        self.password = password
        self.email = email.strip().lower() if email is not None else None
        self.area_id = area_id
        self.actor = actor
        self.now = utc(now) if now else datetime.now(UTC)

    def validate(self) -> None:
        """Raise the typed error when one thing is wrong (InvalidUsername,
        InvalidDisplayName, UnknownRole, AreaRequiredForRole, UnknownArea, InvalidEmail,
        EmailTaken, UsernameTaken or WeakPassword), InvalidUser listing every problem when
        several are."""
        found = self.problems()
        if len(found) == 1:
            raise found[0]
        if found:
            raise InvalidUser(found)

    def problems(self) -> list[UserError]:
        """Every reason the account cannot be added, in the order validate() lists them;
        an empty list means it can."""
        found = []
        for check in (self._check_username, self._check_display_name,
                      lambda: _check_role(self.role),
                      lambda: _check_area(self.conn, self.role, self.area_id),
                      self._check_email, self._check_free, self._check_password):
            try:
                check()
            except UserError as exc:
                found.append(exc)
        return found

    def _check_username(self) -> None:
        if not auth.USERNAME_RE.match(self.username or ""):
            raise InvalidUsername(
                f"Username {self.username!r} must be 3 to 64 characters of a-z, 0-9, "
                "dot, underscore or hyphen."
            )

    def _check_display_name(self) -> None:
        if not self.display_name or len(self.display_name) > auth.DISPLAY_NAME_MAX:
            raise InvalidDisplayName(
                f"The display name must be 1 to {auth.DISPLAY_NAME_MAX} characters."
            )

    def _check_email(self) -> None:
        if self.email is None:
            return
        if not auth.EMAIL_RE.match(self.email) or len(self.email) > 254:
            raise InvalidEmail(f"{self.email!r} is not an email address.")
        if auth.get_user_by_email(self.conn, self.email) is not None:
            raise EmailTaken(f"Another user already has the email {self.email!r}.")

    def _check_free(self) -> None:
        # only a valid username is looked up (PostgreSQL refuses text with NUL bytes)
        if not auth.USERNAME_RE.match(self.username or ""):
            return
        if auth.get_user(self.conn, self.username) is not None:
            raise UsernameTaken(f"A user called {self.username!r} already exists.")

    def _check_password(self) -> None:
        if self.password is not None:
            check_password(self.password, self.username)

    def run(self) -> User:
        """Validate, insert the account and its audit row; returns the new User."""
        self.validate()
        has_password = self.password is not None
        new_id = self.conn.execute(
            insert(app_user).values(
                username=self.username,
                display_name=self.display_name,
                email=self.email,
                password_hash=auth.hash_password(self.password) if has_password else None,
                role=self.role,
                area_id=self.area_id,
                disabled=False,
                failed_logins=0,
                created_at=self.now,
            )
        ).inserted_primary_key[0]
        self._log("user_created", {"role": self.role, "area_id": self.area_id,
                                   "email": self.email, "has_password": has_password})
        return User(
            int(new_id), self.username, self.display_name, self.email, self.role,
            self.area_id, False,
        )


class _ChangeUser(_UserCommand):
    """A change to an existing account, by username, made by actor."""

    def __init__(self, conn: Connection, username: str, actor: str = "cli",
                 now: datetime | None = None) -> None:
        self.conn = conn
        self.username = username
        self.actor = actor
        self.now = now

    def _user(self) -> User:
        """The account as stored now; NoSuchUser if there is none."""
        return _existing(self.conn, self.username)


class DisableUser(_ChangeUser):
    """Stop an account signing in, end its sessions and log "user_disabled"."""

    def validate(self) -> None:
        """Raise NoSuchUser, AlreadyDisabled or LastAdmin."""
        user = self.user = self._user()
        if user.disabled:
            raise AlreadyDisabled(f"User {self.username!r} is already disabled.")
        _check_not_last_admin(self.conn, user, "disable")

    def run(self) -> User:
        """Validate and disable; returns the updated User."""
        self.validate()
        user = self.user
        self.conn.execute(update(app_user).where(app_user.c.id == user.id).values(disabled=True))
        # every browser signed in as this user loses access at its next click
        sessions.end_all_for_user(
            self.conn, self.username, "user_disabled", self.now or datetime.now(UTC)
        )
        self._log("user_disabled")
        return self._user()


class EnableUser(_ChangeUser):
    """Let a disabled account sign in again and log "user_enabled"."""

    def validate(self) -> None:
        """Raise NoSuchUser or AlreadyEnabled."""
        self.user = self._user()
        if not self.user.disabled:
            raise AlreadyEnabled(f"User {self.username!r} is already enabled.")

    def run(self) -> User:
        """Validate and enable; returns the updated User."""
        self.validate()
        user = self.user
        self.conn.execute(
            update(app_user).where(app_user.c.id == user.id).values(disabled=False)
        )
        self._log("user_enabled")
        return self._user()


class ResetPassword(_ChangeUser):
    """Set a new password, clear any lock-out, end the account's sessions and log
    "password_reset" (without the password)."""

    def __init__(self, conn: Connection, username: str, password: str, actor: str = "cli",
                 now: datetime | None = None) -> None:
        super().__init__(conn, username, actor, now)
        self.password = password

    def validate(self) -> None:
        """Raise NoSuchUser or WeakPassword."""
        self.user = self._user()
        check_password(self.password, self.username)

    def run(self) -> User:
        """Validate and store the new password's hash; returns the User."""
        self.validate()
        user = self.user
        self.conn.execute(
            update(app_user)
            .where(app_user.c.id == user.id)
            .values(
                password_hash=auth.hash_password(self.password),
                failed_logins=0,
                locked_until=None,
            )
        )
        # a reset is what one does after a leak: sign every browser of the account out
        sessions.end_all_for_user(
            self.conn, self.username, "password_reset", self.now or datetime.now(UTC)
        )
        self._log("password_reset")
        return user


class ChangeRole(_ChangeUser):
    """Change an account's role (and area) and log "role_changed".

    area_id None keeps the account's current area, which an area manager must have.
    """

    def __init__(self, conn: Connection, username: str, role: str,
                 area_id: int | None = None, actor: str = "cli",
                 now: datetime | None = None) -> None:
        super().__init__(conn, username, actor, now)
        self.role = role
        self.area_id = area_id

    def validate(self) -> None:
        """Raise NoSuchUser, UnknownRole, AreaRequiredForRole, UnknownArea, RoleUnchanged or
        LastAdmin."""
        user = self.user = self._user()
        _check_role(self.role)
        self.new_area = self.area_id if self.area_id is not None else user.area_id
        _check_area(self.conn, self.role, self.new_area)
        if self.role == user.role and self.new_area == user.area_id:
            raise RoleUnchanged(f"User {self.username!r} already has that role and area.")
        if self.role != "admin":
            _check_not_last_admin(self.conn, user, "change the role of")

    def run(self) -> User:
        """Validate and store the role and area; returns the updated User."""
        self.validate()
        user, new_area = self.user, self.new_area
        self.conn.execute(
            update(app_user)
            .where(app_user.c.id == user.id)
            .values(role=self.role, area_id=new_area)
        )
        self._log("role_changed", {"from_role": user.role, "to_role": self.role,
                                   "from_area_id": user.area_id, "to_area_id": new_area})
        return self._user()
