"""The selection bar: the same decision for every ticked task at once."""

from __future__ import annotations

import streamlit as st

from apps import actions, context, data
from apps.widgets.cards import KINDS, PRIORITIES, task_number


def selection_bar() -> None:
    """The same decisions for every ticked task at once."""
    count = len(actions.selected())
    with st.expander(f"Selected: {count} — act on all of them", expanded=count > 0):
        with st.container(horizontal=True):
            st.button("Select all on this page", key="bulk_all", on_click=actions.select_all, args=(True,))
            st.button("Clear selection", key="bulk_none", on_click=actions.select_all, args=(False,))
            st.button("Accept selected", key="bulk_accept", type="primary", on_click=actions.accept_selected)
            st.button("Reject selected as noise", key="bulk_reject", on_click=actions.reject_selected)
        cols = st.columns(4, vertical_alignment="bottom")
        cols[0].selectbox("Kind", KINDS, key="bulk_kind")
        cols[0].button("Set kind", key="bulk_set_kind", on_click=actions.change_selected, args=("kind",))
        cols[1].selectbox("Priority", PRIORITIES, key="bulk_priority")
        cols[1].button(
            "Set priority", key="bulk_set_priority", on_click=actions.change_selected, args=("priority",)
        )
        cols[2].text_input("Assignee", max_chars=128, key="bulk_assignee")
        cols[2].button("Assign selected", key="bulk_assign", on_click=actions.assign_selected)
        task_number("Merge into task #", "bulk_merge_into", cols[3])
        cols[3].button("Merge selected", key="bulk_merge", on_click=actions.merge_selected)
        export_bar()


def export_bar() -> None:
    """ "Export selected to ..." when there are export targets."""
    targets = data.export_targets(context.database_url())
    if targets:
        row = st.columns([0.3, 0.7], vertical_alignment="bottom")
        row[0].selectbox("Export to", targets, key="bulk_export_target")
        row[1].button("Export selected", key="bulk_export", on_click=actions.export_selected)
