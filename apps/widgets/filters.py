"""The task filter row: chat, kind and priority, and on the Tasks screen more."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import streamlit as st

from apps import context, data
from core.models import Kind, Priority, TaskStatus
from core.triage.queries import TaskFilter


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
        created = st.columns([1, 1, 2])
        flt.created_from, flt.created_to = _day_range(
            created[0].date_input("Created between", value=[], key=f"{prefix}_created")
        )
        flt.exported_to = created[1].selectbox(
            "Exported to", data.export_targets(url), index=None, key=f"{prefix}_exported_to"
        )
        flt.search = created[2].text_input("Search titles and message text", key=f"{prefix}_search").strip()
    return flt


def _day_range(chosen: Any) -> tuple[datetime | None, datetime | None]:
    """The UTC instants bounding the chosen days (the end day included)."""
    days: list[date] = list(chosen) if isinstance(chosen, tuple | list) else [chosen] if chosen else []
    if not days:
        return None, None
    start = datetime.combine(days[0], time.min, UTC)
    return start, datetime.combine(days[-1], time.min, UTC) + timedelta(days=1)
