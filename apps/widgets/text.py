"""How things read on screen: chat text made inert, times, counts, badges, provenance."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from core.models import TaskMessageRole
from core.schemas import ExportPublic, IssuePublic, TaskPublic

PRIORITY_COLOR = {"critical": "red", "high": "orange", "medium": "blue", "low": "gray"}
ROLES = {
    TaskMessageRole.source: ("report", "blue"),
    TaskMessageRole.detail: ("detail", "gray"),
    TaskMessageRole.update: ("update", "green"),
    TaskMessageRole.answer: ("answer", "green"),
    TaskMessageRole.duplicate: ("duplicate report", "orange"),
    TaskMessageRole.plus_one: ("+1", "violet"),
    TaskMessageRole.manual: ("linked by hand", "gray"),
}
"""How each role of a message in a task reads, and its badge colour."""
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def md(text: str | None) -> str:
    """Text from chats shown as itself: no markdown, links, colours or maths get through."""
    return _MARKDOWN.sub(r"\\\1", text or "").replace("\n", "  \n")


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def count(n: int, thing: str) -> str:
    """'1 task', '2 tasks'."""
    return f"{n:,} {thing}" + ("" if n == 1 else "s")


def badges(task: TaskPublic) -> str:
    confidence = f" · confidence {task.confidence:.2f}" if task.confidence is not None else ""
    return (
        f":{PRIORITY_COLOR[task.priority]}-badge[{task.priority}] :violet-badge[{task.kind}] "
        f":gray-badge[{task.status}]{confidence}"
    )


def export_badge(export: ExportPublic) -> str:
    """'**team-redmine** · :gray-badge[exported] · [42](url)': where the task stands in a tracker."""
    link = f" · [{md(export.external_id or 'open')}]({export.url})" if export.url else ""
    return f"**{md(export.target)}** · :gray-badge[{export.status}]{link}"


def role_badge(role: TaskMessageRole) -> str:
    name, color = ROLES[role]
    return f":{color}-badge[{name}]"


def conversation_size(messages: int, task: TaskPublic) -> str:
    """'6 messages · 2 reporters'."""
    return f"{count(messages, 'message')} · {count(task.reporters, 'reporter')}"


def decided_by(issue: IssuePublic | None) -> str:
    if issue is None:
        return "Not classified: created by hand"
    version = f" {issue.classifier_version}" if issue.classifier_version else ""
    return (
        f"Classified by {issue.classifier}{version} · model {issue.model or '—'} · "
        f"prompt {issue.prompt_version or '—'}" + (" · needs review" if issue.needs_review else "")
    )
