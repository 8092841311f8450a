"""Optional notice in the chat when a critical task opens (TRACKER_TELEGRAM_NOTIFY_CRITICAL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from core import events
from core.config import Settings
from core.models import Message, Priority
from core.telegram import SOURCE
from core.telegram.convert import is_allowed
from core.telegram.replies import critical_text


@dataclass(frozen=True)
class Notice:
    chat_id: int
    reply_to: int
    text: str


def critical_notice(session: Session, settings: Settings, event: dict[str, Any]) -> Notice | None:
    """The reply to send for a task.created event, when it is a critical task from a served chat."""
    task = event.get("payload") or {}
    if event.get("type") != events.TASK_CREATED or task.get("priority") != Priority.critical:
        return None
    source = session.exec(
        select(Message).where(col(Message.id).in_(task.get("message_ids") or []), Message.source == SOURCE)
    ).first()
    if source is None or not is_allowed(settings, int(source.chat_id)):
        return None
    return Notice(
        int(source.chat_id), int(source.external_id), critical_text(task["id"], task["kind"], task["title"])
    )
