"""Admin: user accounts. Every change is written to the audit log in the same transaction."""

import streamlit as st

from dashboard.access import auth
from dashboard.app import ui
from dashboard.commands import users as commands
from dashboard.data.schema import ROLES
from queries import reference

scope = ui.require_page("admin_users")
st.title("Users")
st.caption("Passwords are stored only as argon2id hashes. Accounts are never deleted: "
           "disable them, so the audit log keeps its meaning.")
eng = ui.engine()
with eng.connect() as conn:
    users = auth.list_users(conn)
    offices = reference.offices(conn)
areas = dict(zip(offices["area_code"], offices["area"], strict=False))

st.dataframe(ui.yes_no(users), hide_index=True, width="stretch", column_config={
    "has_password": "Local password",
    "locked_until": st.column_config.DatetimeColumn("Locked until")})


def run(change, success: str) -> None:
    """Run one command in a transaction; show its error's message next to the form."""
    try:
        with eng.begin() as conn:
            change(conn)
    except commands.UserError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.success(success, icon=":material/check_circle:")


add, manage = st.columns(2)
with add.form("add_user", clear_on_submit=True):
    st.subheader("Add a user")
    username = st.text_input("Username", max_chars=64, help="3-64 of a-z 0-9 . _ -")
    name = st.text_input("Display name", max_chars=120)
    email = st.text_input("E-mail (for single sign-on)", max_chars=254)
    role = st.selectbox("Role", ROLES)
    area = st.selectbox("Area (area managers only)", ["", *areas],
                        format_func=lambda c: areas.get(c, "—"))
    password = st.text_input("Initial password (leave empty for single sign-on only)",
                             type="password", max_chars=1024)
    if st.form_submit_button("Add user", type="primary"):
        def create(conn):
            area_id = commands.area_id_for_code(conn, area) if area else None
            commands.AddUser(conn, username.strip().lower(), name.strip() or username, role,
                             password=password or None, email=email.strip() or None,
                             area_id=area_id, actor=scope.username).run()
        run(create, f"User {username} added.")

with manage.form("manage_user"):
    st.subheader("Change a user")
    who = st.selectbox("User", users["username"].tolist())
    action = st.radio("Change", ["Disable", "Enable", "Reset password"], horizontal=True)
    new_password = st.text_input("New password (for a reset)", type="password",
                                 max_chars=1024)
    if st.form_submit_button("Apply", type="primary"):
        changes = {
            "Disable": lambda c: commands.DisableUser(c, who, actor=scope.username).run(),
            "Enable": lambda c: commands.EnableUser(c, who, actor=scope.username).run(),
            "Reset password": lambda c: commands.ResetPassword(
                c, who, new_password, actor=scope.username).run(),
        }
        run(changes[action], f"{action} done for {who}.")
