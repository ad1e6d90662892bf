"""Admin: user accounts. Every change is a command (dashboard/commands/users.py), written to
the audit log in the same transaction; this page only maps its errors to plain words."""

from collections.abc import Callable

import streamlit as st

from dashboard.access import auth
from dashboard.app import ui
from dashboard.commands import users as commands
from dashboard.core.labels import ROLE_LABELS
from dashboard.core.plain_text import plain
from dashboard.data.schema import ROLES
from queries import reference

CHANGES = ("Disable", "Enable", "Reset password", "Change role or area")
ADD_KEYS = ("add_username", "add_name", "add_email", "add_role", "add_area", "add_password")
CHANGE_KEYS = ("change_user", "change_action", "change_password", "change_role",
               "change_area")
# What each refusal means for the person at the form, in their words (never an option of
# the command line); the command's own message is the fallback.
PLAIN = {
    commands.InvalidUsername: "The username must be 3 to 64 characters: lower-case letters "
                              "a to z, digits, dots, underscores or hyphens.",
    commands.InvalidDisplayName: "The display name must be 1 to 120 characters.",
    commands.UnknownRole: "Choose a role from the list.",
    commands.AreaRequiredForRole: "Choose an area: an area manager sees the cases of one "
                                  "area.",
    commands.UnknownArea: "Choose an area from the list.",
    commands.InvalidEmail: "The e-mail address is not a valid address; leave it empty for "
                           "an account that signs in with a password only.",
    commands.EmailTaken: "Another user already has this e-mail address.",
    commands.UsernameTaken: "Another user already has this username.",
    commands.NoSuchUser: "That user no longer exists; reload the page.",
    commands.AlreadyDisabled: "This user is already disabled.",
    commands.AlreadyEnabled: "This user is already enabled.",
    commands.RoleUnchanged: "This user already has that role and area.",
    commands.LastAdmin: "This is the last enabled administrator: add or enable another "
                        "administrator first, so someone can still manage users.",
}

scope = ui.require_page("admin_users")
st.title("Users")
st.caption("Passwords are stored only as argon2id hashes. Accounts are never deleted: "
           "disable them, so the audit log keeps its meaning.")
if done := st.session_state.pop("_users_done", None):
    st.success(done, icon=":material/check_circle:")
eng = ui.engine()
with eng.connect() as conn:
    accounts = auth.list_users(conn)
    offices = reference.offices(conn)
areas = dict(zip(offices["area_code"], offices["area"], strict=False))
area_of_id = dict(zip(offices["area_id"], offices["area"], strict=False))

shown = accounts.assign(role=accounts["role"].map(ROLE_LABELS).fillna(accounts["role"]),
                        area_code=accounts["area_code"].map(areas))
when = "DD MMM YYYY, HH:mm"
st.dataframe(ui.yes_no(shown), hide_index=True, width="stretch", column_config={
    "id": None, "username": "Username", "display_name": "Name", "email": "E-mail",
    "role": "Role", "area_code": "Area", "disabled": "Disabled",
    "has_password": "Local password", "failed_logins": "Failed sign-ins",
    "locked_until": st.column_config.DatetimeColumn("Locked until (UTC)", format=when),
    "created_at": st.column_config.DatetimeColumn("Created (UTC)", format=when)})


def problem(error: commands.UserError) -> str:
    """One refusal in plain words."""
    if isinstance(error, commands.WeakPassword):
        return "The password " + "; ".join(error.problems) + "."
    return PLAIN.get(type(error), plain(str(error)))


def apply(build: Callable, keys: tuple[str, ...], refused: str,
          done: Callable[[auth.User], str]) -> None:
    """Run the command build(conn) makes. On success clear the form and say done(user); on
    a refusal keep what was typed and list every problem."""
    try:
        with eng.begin() as conn:
            user = build(conn).run()
    except commands.UserError as exc:
        st.error(refused + "\n" + "\n".join(f"- {problem(e)}" for e in exc.errors),
                 icon=":material/error:")
        return
    for key in keys:
        st.session_state.pop(key, None)
    st.session_state["_users_done"] = done(user)
    st.rerun()


def role_text(user: auth.User) -> str:
    """The account's role in words, with its area for an area manager."""
    area = area_of_id.get(user.area_id)
    return ROLE_LABELS[user.role] + (f", {plain(area)}" if area and
                                    user.role == "area_manager" else "")


add, manage = st.columns(2)
with add.form("add_user"):
    st.subheader("Add a user")
    username = st.text_input("Username", max_chars=64, help="3-64 of a-z 0-9 . _ -",
                             key="add_username")
    name = st.text_input("Display name", max_chars=120, key="add_name")
    email = st.text_input("E-mail (for single sign-on)", max_chars=254, key="add_email")
    role = st.selectbox("Role", ROLES, format_func=ROLE_LABELS.get, key="add_role")
    area = st.selectbox("Area (area managers only)", ["", *areas],
                        format_func=lambda c: areas.get(c, "—"), key="add_area")
    password = st.text_input("Initial password (leave empty for single sign-on only)",
                             type="password", max_chars=1024, key="add_password")
    if st.form_submit_button("Add user", type="primary"):
        def build(conn):
            area_id = commands.area_id_for_code(conn, area) if area else None
            return commands.AddUser(conn, username.strip().lower(), name.strip() or username,
                                    role, password=password or None,
                                    email=email.strip() or None, area_id=area_id,
                                    actor=scope.username)
        apply(build, ADD_KEYS, "The user was not added:",
              lambda user: f"User {plain(user.username)} added ({role_text(user)}).")

with manage.form("manage_user"):
    st.subheader("Change a user")
    who = st.selectbox("User", accounts["username"].tolist(), index=None,
                       placeholder="Choose a user", key="change_user")
    action = st.radio("Change", CHANGES, index=None, horizontal=True, key="change_action")
    new_password = st.text_input("New password (for a reset)", type="password",
                                 max_chars=1024, key="change_password")
    new_role = st.selectbox("New role (for a role change)", ROLES, index=None,
                            placeholder="Keep the role", format_func=ROLE_LABELS.get,
                            key="change_role")
    new_area = st.selectbox("New area (for an area manager)", ["", *areas],
                            format_func=lambda c: areas.get(c, "Keep the area"),
                            key="change_area")
    if st.form_submit_button("Apply", type="primary"):
        if who is None or action is None:
            st.error("Choose a user and a change first.", icon=":material/error:")
        else:
            current_role = accounts.set_index("username").at[who, "role"]
            commands_for = {
                "Disable": lambda c: commands.DisableUser(c, who, actor=scope.username),
                "Enable": lambda c: commands.EnableUser(c, who, actor=scope.username),
                "Reset password": lambda c: commands.ResetPassword(
                    c, who, new_password, actor=scope.username),
                "Change role or area": lambda c: commands.ChangeRole(
                    c, who, new_role or current_role,
                    area_id=commands.area_id_for_code(c, new_area) if new_area else None,
                    actor=scope.username),
            }
            said = {"Disable": "is disabled", "Enable": "is enabled",
                    "Reset password": "has a new password; any lock-out is cleared"}
            apply(commands_for[action], CHANGE_KEYS, "Nothing was changed:",
                  lambda user: f"{plain(user.username)} " + said.get(
                      action, f"is now {role_text(user)}") + ".")
