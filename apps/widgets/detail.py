"""The task page's parts: which task, its head, its conversation with moves, its history with
evidence, and the similar open tasks with a one-click merge."""

from __future__ import annotations

import streamlit as st

from apps import actions
from apps.actions import card_key, move_key
from apps.data import Evidence
from apps.widgets.cards import task_link, task_number
from apps.widgets.text import badges, conversation_size, export_badge, md, role_badge, when
from core.models import ChangeOrigin
from core.schemas import TaskChangePublic, TaskDetail, TaskMessagePublic

CHOSEN = "task_page_id"
"""Session key of the "Task #" input."""
EVIDENCE_CHARS = 300


def chosen_task() -> int | None:
    """The task to show: the one the address names (?task=ID), or the one typed in."""
    asked = st.query_params.get(actions.TASK_PARAM, "")
    if asked.isdigit():
        st.session_state[CHOSEN] = int(asked)
    task_number("Task #", CHOSEN, on_change=_follow_input)
    chosen = st.session_state.get(CHOSEN)
    return int(chosen) if chosen is not None else None


def _follow_input() -> None:
    """The typed number goes into the address, so that the address keeps naming the task shown."""
    chosen = st.session_state.get(CHOSEN)
    if chosen is None:
        st.query_params.pop(actions.TASK_PARAM, None)
    else:
        actions.open_task(int(chosen))


def head(task: TaskDetail) -> None:
    """Title, badges, size of the conversation, reporters, assignee and resolution."""
    st.subheader(f"#{task.id} · {md(task.title)}")
    st.markdown(badges(task))
    facts = [conversation_size(len(task.messages), task)]
    facts.append(f"assigned to {md(task.assignee)}" if task.assignee else "nobody assigned")
    facts.append(f"resolution: {task.resolution}" if task.resolution else "no resolution")
    st.caption(" · ".join(facts))
    if task.merged_into_id is not None:
        st.info(f"This task was merged into task #{task.merged_into_id}.")
        task_link(task.merged_into_id, f"Open task #{task.merged_into_id}")
    if task.description:
        st.markdown(md(task.description))


def conversation(task: TaskDetail) -> None:
    """Every message of the task in the order sent, each with its role and a move."""
    st.subheader("Conversation")
    for message in task.messages:
        with st.container(border=True, key=f"message-{message.message_id}"):
            row = st.columns([0.85, 0.15])
            sent = when(message.sent_at) if message.sent_at else "time unknown"
            row[0].markdown(
                f"**{md(message.author or 'someone')}** · {sent} · {role_badge(message.role)}  \n"
                f"{md(message.text[:2000])}"
            )
            if task.merged_into_id is None:
                with row[1]:
                    _move(task, message)


def _move(task: TaskDetail, message: TaskMessagePublic) -> None:
    """Move the message to another task, or split it off into a new one (drawn only when open)."""
    tid, mid, version = task.id, message.message_id, task.version
    move = st.popover("Move", key=card_key(f"move:{mid}", tid, version), on_change="rerun")
    with move:
        if move.open:
            task_number("To task #", move_key(mid, tid, version))
            st.button("Move there", key=card_key(f"move_there:{mid}", tid, version),
                      on_click=actions.move_message, args=(tid, mid, version))  # fmt: skip
            st.button("Move to a new task", key=card_key(f"split:{mid}", tid, version),
                      on_click=actions.split_message, args=(tid, mid))  # fmt: skip


def similar(task: TaskDetail) -> None:
    """The open tasks most like this one, each to open or to merge this one into."""
    st.subheader("Similar open tasks")
    if not task.similar:
        st.caption("No open task is like this one.")
    for other in task.similar:
        with st.container(border=True, key=f"similar-{other.id}"):
            st.markdown(f"**#{other.id} · {md(other.title)}**  \n"
                        f":gray-badge[{other.status}] · similarity {other.similarity:.2f}")  # fmt: skip
            with st.container(horizontal=True, vertical_alignment="center"):
                st.button("Merge into this", key=card_key(f"merge_into:{other.id}", task.id, task.version),
                          on_click=actions.merge_into, args=(task.id, task.version, other.id),
                          disabled=task.merged_into_id is not None)  # fmt: skip
                task_link(other.id, "Open")


def history(task: TaskDetail, evidence: Evidence) -> None:
    """Every change of the task, oldest first, with what caused it."""
    st.subheader("History")
    if not task.history:
        st.caption("Nothing has changed since the task was opened.")
    for change in task.history:
        st.markdown(
            f"{when(change.created_at)} · **{change.field}** {md(change.old or '—')} → "
            f"{md(change.new or '—')}  \n{_because(change, evidence)}"
        )


def _because(change: TaskChangePublic, evidence: Evidence) -> str:
    """The evidence of a change: the message it came from, or the person who made it."""
    if change.origin == ChangeOrigin.human:
        return f"by {md(change.author or 'a person')}"
    if change.message_id is None or change.message_id not in evidence:
        return "by the chat"
    author, text = evidence[change.message_id]
    return f"from {md(author or 'someone')}'s message: “{md(text[:EVIDENCE_CHARS])}”"


def exports(task: TaskDetail, targets: list[str]) -> None:
    """Where the task was exported: each target's status, link and refusal; "Export to ..."."""
    st.subheader("Exports")
    for export in task.exports:
        why = f"  \n{md(export.last_error[:300])}" if export.last_error else ""
        st.markdown(f"{export_badge(export)}{why}")
    if not task.exports:
        st.caption("Not exported.")
    if targets:
        row = st.columns([0.6, 0.4], vertical_alignment="bottom")
        row[0].selectbox("Target", targets, key=actions.export_key(task.id), label_visibility="collapsed")
        row[1].button("Export to …", key=f"export-{task.id}", on_click=actions.export_to, args=(task.id,))
