"""The notices that actions leave for the next render (apps.actions.flash writes them)."""

from __future__ import annotations

import streamlit as st


def show_flash() -> None:
    """What the last action did, or why it did nothing (in one slot, however many notices)."""
    with st.container():
        for level, text in st.session_state.pop("flash", []):
            (st.success if level == "success" else st.error)(text)
