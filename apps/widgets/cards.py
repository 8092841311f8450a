"""Task cards: one task to decide on in the triage inbox, or to move on the board."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from apps import actions
from apps.actions import card_key
from apps.widgets.text import (
    badges,
    conversation_size,
    count,
    decided_by,
    export_badge,
    md,
    role_badge,
    when,
)
from core.models import Kind, Priority, TaskMessageRole, TaskStatus
from core.schemas import MessagePublic, TaskPublic
from core.triage.inbox import TaskCard

KINDS, PRIORITIES, STATUSES = list(Kind), list(Priority), list(TaskStatus)
MESSAGES_PER_CARD = 3
TASK_PAGE = "views/task.py"


def task_link(task_id: int, label: str, where: Any = st) -> None:
    """A link to the task page showing this task."""
    where.page_link(TASK_PAGE, label=label, icon=":material/open_in_new:",
                    query_params={actions.TASK_PARAM: str(task_id)})  # fmt: skip


def message_block(
    message: MessagePublic, parent: MessagePublic | None = None, role: TaskMessageRole | None = None
) -> None:
    """Author, chat, time, role in the task, reply context and text of one message."""
    chat, sent = message.chat_title or message.chat_id, message.sent_at or message.created_at
    badge = f" {role_badge(role)}" if role else ""
    deleted = " · :red[deleted]" if message.deleted_at else ""
    where = f"*{md(chat)}* ({md(message.source)})"
    st.markdown(f"**{md(message.author or 'someone')}** in {where} · {when(sent)}{badge}{deleted}")
    if parent is not None:
        st.caption(f"↪ replying to {md(parent.author or 'someone')}: {md(parent.text[:300])}")
    elif message.reply_to_external_id:
        st.caption("↪ replying to a message that is not stored")
    st.markdown(md(message.text[:2000]))


def triage_card(card: TaskCard) -> None:
    """One task to decide on: what it is, where it came from, and the decisions."""
    task = card.task
    tid, version = task.id, task.version
    with st.container(border=True, key=f"task-{tid}"):
        head = st.columns([0.04, 0.96], vertical_alignment="center")
        head[0].checkbox("Select", key=card_key("pick", tid, version), label_visibility="collapsed")
        head[1].markdown(f"**#{tid} · {md(task.title)}**  \n{badges(task)}")
        st.caption(conversation_size(len(card.messages), task))
        if card.exports:
            st.markdown(" · ".join(export_badge(e) for e in card.exports), help="Exports to trackers")
        _messages(card, card.messages[:MESSAGES_PER_CARD])
        if len(card.messages) > MESSAGES_PER_CARD:
            st.caption(f"… and {count(len(card.messages) - MESSAGES_PER_CARD, 'more message')}")
        _conversation(card)
        st.caption(decided_by(card.decided_by))
        with st.container(horizontal=True):
            st.button("Accept", key=card_key("accept", tid, version), type="primary",
                      on_click=actions.accept, args=(tid, version))  # fmt: skip
            st.button("Reject as noise", key=card_key("reject", tid, version),
                      on_click=actions.reject, args=(tid, version))  # fmt: skip
        # Lazy: the editing widgets are built only for the card whose expander is open.
        edit = st.expander("Correct, assign or merge", key=card_key("edit", tid, version), on_change="rerun")
        with edit:
            if edit.open:
                _correction_form(task)
                _assign_and_merge(task)


def _messages(card: TaskCard, messages: list[MessagePublic]) -> None:
    for message in messages:
        message_block(message, card.parents.get(message.reply_to_id or 0), card.roles.get(message.id))


def _conversation(card: TaskCard) -> None:
    """The whole conversation, drawn only while its expander is open, and the task page."""
    tid, version = card.task.id, card.task.version
    whole = st.expander("Conversation", key=card_key("conversation", tid, version), on_change="rerun")
    with whole:
        if whole.open:
            _messages(card, card.messages)
            task_link(tid, "Open the task page: history, similar tasks, move and merge")


def _correction_form(task: TaskPublic) -> None:
    tid, version = task.id, task.version
    with st.form(key=card_key("correct", tid, version), border=False):
        cols = st.columns([3, 1, 1])
        cols[0].text_input("Title", value=task.title, max_chars=200, key=card_key("title", tid, version))
        cols[1].selectbox("Kind", KINDS, index=KINDS.index(task.kind), key=card_key("kind", tid, version))
        priority = card_key("priority", tid, version)
        cols[2].selectbox("Priority", PRIORITIES, index=PRIORITIES.index(task.priority), key=priority)
        st.form_submit_button(
            "Save", key=card_key("save", tid, version), on_click=actions.correct, args=(tid, version)
        )


def _assign_and_merge(task: TaskPublic) -> None:
    tid, version = task.id, task.version
    cols = st.columns(2, vertical_alignment="bottom")
    cols[0].text_input(
        "Assignee", value=task.assignee or "", max_chars=128, key=card_key("assignee", tid, version)
    )
    cols[1].button(
        "Assign", key=card_key("assign", tid, version), on_click=actions.assign, args=(tid, version)
    )
    task_number("Merge into task #", card_key("merge_into", tid, version), cols[0])
    cols[1].button("Merge", key=card_key("merge", tid, version), on_click=actions.merge, args=(tid, version))


def task_number(label: str, key: str, where: Any = st, on_change: Callable[[], None] | None = None) -> None:
    """An input for a task number, empty until given."""
    where.number_input(label, value=None, min_value=1, step=1, format="%d", key=key, on_change=on_change)


def board_card(task: TaskPublic) -> None:
    """A task on the board, with a move to another status."""
    tid, version = task.id, task.version
    with st.container(border=True, key=f"board-{tid}"):
        st.markdown(f"**#{tid} · {md(task.title)}**  \n{badges(task)}")
        if task.assignee:
            st.caption(f"Assigned to {md(task.assignee)}")
        task_link(tid, "Open")
        st.selectbox(
            "Move to", STATUSES, index=STATUSES.index(task.status),
            key=card_key("status", tid, version), on_change=actions.move, args=(tid, version),
        )  # fmt: skip
