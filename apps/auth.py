"""The password gate: until the dashboard password is given, the login form is all there is."""

from __future__ import annotations

import hmac
import time

import streamlit as st

from apps import context

WRONG_PASSWORD = (
    "Wrong password. `tracker up` prints it at start; it is also stored in "
    "<data dir>/dashboard_password, or set TRACKER_DASHBOARD_PASSWORD."
)


def logged_in() -> bool:
    return bool(st.session_state.get("logged_in"))


def login_page() -> None:
    """Name (recorded on decisions) and password."""
    st.title("Task Tracker")
    with st.form("login"):
        name = st.text_input("Your name, recorded on your triage decisions", key="login_name")
        password = st.text_input("Dashboard password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted:
        if _is_dashboard_password(password):
            st.session_state.logged_in = True
            st.session_state.author = name.strip() or "dashboard"
            st.rerun()
        time.sleep(0.5)  # slows guessing down
        st.error(WRONG_PASSWORD)


def _is_dashboard_password(given: str) -> bool:
    expected = context.settings().dashboard_password
    return expected is not None and hmac.compare_digest(given.encode(), expected.get_secret_value().encode())


def logout() -> None:
    for key in ("logged_in", "author"):
        st.session_state.pop(key, None)
