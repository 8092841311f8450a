"""Task Tracker dashboard: `streamlit run apps/dashboard.py` (what `tracker up` runs).

The screens live in apps/views/, not apps/pages/: Streamlit runs a `pages/` folder as an
old-style multipage app on a fresh server, which would serve a screen before the login gate.
"""

from __future__ import annotations

import streamlit as st

from apps import auth

st.set_page_config(page_title="Task Tracker", page_icon=":material/checklist:", layout="wide")

if auth.logged_in():
    pages = {
        "Work": [
            st.Page("views/triage.py", title="Triage inbox", icon=":material/inbox:", default=True),
            st.Page("views/tasks.py", title="Tasks", icon=":material/view_kanban:"),
            st.Page("views/task.py", title="Task", icon=":material/task:"),
            st.Page("views/messages.py", title="Messages", icon=":material/forum:"),
        ],
        "Insight": [
            st.Page("views/analytics.py", title="Analytics", icon=":material/monitoring:"),
            st.Page("views/classifier.py", title="Classifier", icon=":material/model_training:"),
        ],
    }
    st.sidebar.caption(f"Logged in as {st.session_state.get('author', 'dashboard')}")
    st.sidebar.button("Log out", on_click=auth.logout)
    st.navigation(pages).run()
else:
    st.navigation([st.Page(auth.login_page, title="Log in", icon=":material/lock:")]).run()
