"""Pieces the screens share: filters, task cards, message blocks, paging, notices."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
import streamlit as st

from apps import actions, context, data
from apps.actions import card_key
from core.models import Kind, LocalModel, Priority, TaskStatus
from core.schemas import IssuePublic, MessagePublic, TaskPublic
from core.triage.inbox import TaskCard
from core.triage.queries import TaskFilter

KINDS, PRIORITIES, STATUSES = list(Kind), list(Priority), list(TaskStatus)
PRIORITY_COLOR = {"critical": "red", "high": "orange", "medium": "blue", "low": "gray"}
MESSAGES_PER_CARD = 3
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def md(text: str | None) -> str:
    """Text from chats shown as itself: no markdown, links, colours or maths get through."""
    return _MARKDOWN.sub(r"\\\1", text or "").replace("\n", "  \n")


def show_flash() -> None:
    """What the last action did, or why it did nothing (in one slot, however many notices)."""
    with st.container():
        for level, text in st.session_state.pop("flash", []):
            (st.success if level == "success" else st.error)(text)


def page_offset(key: str, scope: object, size: int) -> int:
    """The offset of the page chosen in the pager under `key`; a new `scope` (filters) starts at page 1."""
    return (int(st.session_state.get(_pager_key(key, scope)) or 1) - 1) * size


def pager(key: str, scope: object, total: int, size: int) -> None:
    if total > size:
        st.pagination(-(-total // size), key=_pager_key(key, scope))


def past_the_end(key: str, offset: int, shown: int) -> None:
    """A page that emptied (its tasks were decided): start again at the first page."""
    if offset and not shown:
        st.session_state[f"{key}_round"] = st.session_state.get(f"{key}_round", 0) + 1
        st.rerun()


def _pager_key(key: str, scope: object) -> str:
    """A pager per filter and round: a fresh one starts at page 1 without writing widget state."""
    digest = zlib.crc32(repr(scope).encode())
    return f"{key}:{digest}:{st.session_state.get(f'{key}_round', 0)}"


def chat_name(chats: dict[str, str | None]) -> Callable[[str], str]:
    return lambda chat_id: chats.get(chat_id) or chat_id


def task_filter(prefix: str, *, statuses: Sequence[TaskStatus] = (), more: bool = False) -> TaskFilter:
    """Filter widgets in one row; `statuses` fixes the status, `more` adds dates and search."""
    url = context.database_url()
    chats = data.chats(url)
    row = st.columns(5 if more else 3)
    flt = TaskFilter(
        status=list(statuses) or None,
        chat_id=row[0].selectbox(
            "Chat", list(chats), index=None, format_func=chat_name(chats), key=f"{prefix}_chat"
        ),
        kind=row[1].multiselect("Kind", list(Kind), key=f"{prefix}_kind"),
        priority=row[2].multiselect("Priority", list(Priority), key=f"{prefix}_priority"),
    )
    if more:
        flt.assignee = row[3].selectbox("Assignee", data.assignees(url), index=None, key=f"{prefix}_assignee")
        flt.status = row[4].multiselect("Status", list(TaskStatus), key=f"{prefix}_status")
        created = st.columns([1, 2])
        flt.created_from, flt.created_to = _day_range(
            created[0].date_input("Created between", value=[], key=f"{prefix}_created")
        )
        flt.search = created[1].text_input("Search titles and message text", key=f"{prefix}_search").strip()
    return flt


def _day_range(chosen: Any) -> tuple[datetime | None, datetime | None]:
    """The UTC instants bounding the chosen days (the end day included)."""
    days: list[date] = list(chosen) if isinstance(chosen, tuple | list) else [chosen] if chosen else []
    if not days:
        return None, None
    start = datetime.combine(days[0], time.min, UTC)
    return start, datetime.combine(days[-1], time.min, UTC) + timedelta(days=1)


def badges(task: TaskPublic) -> str:
    confidence = f" · confidence {task.confidence:.2f}" if task.confidence is not None else ""
    return (
        f":{PRIORITY_COLOR[task.priority]}-badge[{task.priority}] :violet-badge[{task.kind}] "
        f":gray-badge[{task.status}]{confidence}"
    )


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def count(n: int, thing: str) -> str:
    """'1 task', '2 tasks'."""
    return f"{n:,} {thing}" + ("" if n == 1 else "s")


def message_block(message: MessagePublic, parent: MessagePublic | None = None) -> None:
    """Author, chat, time, reply context and text of one message."""
    chat, sent = message.chat_title or message.chat_id, message.sent_at or message.created_at
    st.markdown(f"**{md(message.author or 'someone')}** in *{md(chat)}* · {when(sent)}")
    if parent is not None:
        st.caption(f"↪ replying to {md(parent.author or 'someone')}: {md(parent.text[:300])}")
    elif message.reply_to_external_id:
        st.caption("↪ replying to a message that is not stored")
    st.markdown(md(message.text[:2000]))


def decided_by(issue: IssuePublic | None) -> str:
    if issue is None:
        return "Not classified: created by hand"
    version = f" {issue.classifier_version}" if issue.classifier_version else ""
    return (
        f"Classified by {issue.classifier}{version} · model {issue.model or '—'} · "
        f"prompt {issue.prompt_version or '—'}" + (" · needs review" if issue.needs_review else "")
    )


def triage_card(card: TaskCard) -> None:
    """One task to decide on: what it is, where it came from, and the decisions."""
    task = card.task
    tid, version = task.id, task.version
    with st.container(border=True, key=f"task-{tid}"):
        head = st.columns([0.04, 0.96], vertical_alignment="center")
        head[0].checkbox("Select", key=card_key("pick", tid, version), label_visibility="collapsed")
        head[1].markdown(f"**#{tid} · {md(task.title)}**  \n{badges(task)}")
        for message in card.messages[:MESSAGES_PER_CARD]:
            message_block(message, card.parents.get(message.reply_to_id or 0))
        if len(card.messages) > MESSAGES_PER_CARD:
            st.caption(f"… and {len(card.messages) - MESSAGES_PER_CARD} more messages")
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


def task_number(label: str, key: str, where: Any = st) -> None:
    """An input for a task number, empty until given."""
    where.number_input(label, value=None, min_value=1, step=1, format="%d", key=key)


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


def board_card(task: TaskPublic) -> None:
    """A task on the board, with a move to another status."""
    tid, version = task.id, task.version
    with st.container(border=True, key=f"board-{tid}"):
        st.markdown(f"**#{tid} · {md(task.title)}**  \n{badges(task)}")
        if task.assignee:
            st.caption(f"Assigned to {md(task.assignee)}")
        st.selectbox(
            "Move to", STATUSES, index=STATUSES.index(task.status),
            key=card_key("status", tid, version), on_change=actions.move, args=(tid, version),
        )  # fmt: skip


def task_rows(items: Sequence[TaskPublic]) -> list[dict[str, Any]]:
    return [
        {
            "id": t.id, "title": t.title, "kind": t.kind, "priority": t.priority, "status": t.status,
            "assignee": t.assignee, "chat": t.chat_id, "confidence": t.confidence,
            "created": t.created_at, "updated": t.updated_at,
        }
        for t in items
    ]  # fmt: skip


def message_rows(items: Sequence[MessagePublic]) -> list[dict[str, Any]]:
    return [
        {
            "id": m.id, "sent": m.sent_at or m.created_at, "chat": m.chat_title or m.chat_id,
            "author": m.author, "text": m.text[:200], "status": m.status,
            "kind": m.issue.kind if m.issue else None, "priority": m.issue.priority if m.issue else None,
            "confidence": m.issue.confidence if m.issue else None,
            "classifier": m.issue.classifier if m.issue else None, "reply to": m.reply_to_id,
        }
        for m in items
    ]  # fmt: skip


def model_rows(models: Sequence[LocalModel]) -> list[dict[str, Any]]:
    """Local model versions with their cross-validated scores and where their examples came from."""
    return [
        {
            "version": m.version, "active": m.active, "examples": m.n_examples, "trained": m.created_at,
            "macro_f1": m.metrics.get("cv_macro_f1", m.metrics.get("macro_f1")),
            "accuracy": m.metrics.get("cv_accuracy", m.metrics.get("accuracy")),
            "sources": ", ".join(f"{n} {k}" for k, n in (m.metrics.get("sources") or {}).items()),
        }
        for m in models
    ]  # fmt: skip


EVAL_METRICS = ("n", "accuracy", "macro_f1", "accuracy_at_conf_0_9", "coverage_at_conf_0_9", "llm_calls")


def eval_table(runs: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """One row per evaluation run: what was scored, on what, and the headline metrics."""
    return pl.DataFrame([_eval_row(r) for r in runs])


def _eval_row(run: dict[str, Any]) -> dict[str, Any]:
    scored = {k: run[k] for k in ("dataset", "classifier", "prompt_version", "model")}
    return {"run": run["id"], "when": run["created_at"], **scored} | {
        k: run["metrics"].get(k) for k in EVAL_METRICS
    }
