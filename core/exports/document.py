"""What lands in the tracker: the task and its whole conversation, as versioned JSON and as text.

The JSON is the webhook's body (README: "Export document"); the trackers get the same
content as their description. `SCHEMA` names the version; fields are only ever added.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from core.models import Message, Task, TaskMessage

SCHEMA = "task-tracker.export/1"
MARKER_PREFIX = "task-tracker-export:"


@dataclass(frozen=True)
class Said:
    """One message of the task's conversation."""

    message_id: int
    author: str | None
    sent_at: str | None
    text: str
    role: str
    reply_to: int | None


@dataclass(frozen=True)
class Document:
    """A task as a target receives it."""

    marker: str
    """Ours, unique per task and target: the trackers' issues carry it, webhooks get it as
    the delivery id (X-Tracker-Delivery)."""
    task: dict[str, Any]
    chat: dict[str, Any]
    conversation: list[Said] = field(default_factory=list)

    def as_json(self, event: str, sent_at: datetime) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "event": event,
            "delivery": self.marker,
            "sent_at": sent_at.isoformat(),
            "task": self.task,
            "chat": self.chat,
            "conversation": [asdict(said) for said in self.conversation],
        }

    def text(self) -> str:
        """The description: the conversation with authors, times and replies, the chat, the link."""
        task, chat = self.task, self.chat
        merged = task.get("merged_into")
        head = [
            *([f"Duplicate of task {merged['id']}: {merged['link']}"] if merged else []),
            f"{task['kind']} · {task['priority']} · {task['reporters']} reporter(s)",
            f"Chat: {chat.get('title') or chat.get('id') or '-'} ({chat.get('source') or 'manual'})",
            f"Task: {task['link']}",
            "",
        ]
        lines = [_line(said) for said in self.conversation] or [task.get("description") or ""]
        return "\n".join([*head, *lines, "", self.marker_line])

    @property
    def marker_line(self) -> str:
        return f"{MARKER_PREFIX}{self.marker}"


def _line(said: Said) -> str:
    reply = f" (reply to #{said.reply_to})" if said.reply_to else ""
    who = f"{said.author or 'someone'} #{said.message_id}{reply}"
    return f"[{said.sent_at or '?'}] {who} [{said.role}]: {said.text}"


def build(session: Session, task: Task, marker: str, link: str) -> Document:
    """The document of a task as it stands now."""
    rows = session.exec(
        select(Message, TaskMessage.role)
        .join(TaskMessage, col(TaskMessage.message_id) == Message.id)
        .where(TaskMessage.task_id == task.id)
        .order_by(col(Message.sent_at), col(Message.id))
    ).all()
    said = [
        Said(m.id or 0, m.author, m.sent_at.isoformat() if m.sent_at else None, m.text, role, m.reply_to_id)
        for m, role in rows
    ]
    first = rows[0][0] if rows else None
    chat = {"source": first.source, "id": first.chat_id, "title": first.chat_title} if first else {}
    return Document(marker, task_fields(task, link), chat, said)


def merged_into(doc: Document, survivor_id: int, link: str) -> Document:
    """The document of a task merged into another: closed as a duplicate of it (the tracker's
    issue for the survivor carries the conversation on)."""
    survivor = {"id": survivor_id, "link": link}
    return replace(
        doc, task={**doc.task, "status": "rejected", "resolution": "duplicate", "merged_into": survivor}
    )


def task_fields(task: Task, link: str) -> dict[str, Any]:
    data = task.model_dump(
        mode="json", exclude={"priority_rank", "merged_into_id", "needs_review"}, warnings=False
    )
    return {**data, "link": link}
