"""Task cards for triage: each task with its messages, their classification and reply context."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from core.exports.queries import exports_of_tasks
from core.messages.reads import messages_by_ids
from core.models import TaskMessageRole
from core.schemas import ExportPublic, IssuePublic, MessagePublic, TaskPublic
from core.triage.queries import SortKey, TaskFilter, list_tasks, task_message_roles


@dataclass
class TaskCard:
    """What a person needs to decide about a task without opening anything else."""

    task: TaskPublic
    messages: list[MessagePublic] = field(default_factory=list)
    parents: dict[int, MessagePublic] = field(default_factory=dict)
    """The messages this task's messages reply to, by id."""
    roles: dict[int, TaskMessageRole] = field(default_factory=dict)
    """Why each message belongs to the task (report, detail, update, +1 …), by id."""
    exports: list[ExportPublic] = field(default_factory=list)
    """Where the task went: each target's status and link."""

    @property
    def decided_by(self) -> IssuePublic | None:
        """The classification that opened the task (its first classified message's)."""
        return next((m.issue for m in self.messages if m.issue is not None), None)


def task_cards(
    session: Session, flt: TaskFilter, *, limit: int = 25, offset: int = 0, sort: SortKey = "triage"
) -> tuple[list[TaskCard], int]:
    """One page of task cards and how many tasks match in all."""
    tasks, total = list_tasks(session, flt, limit=limit, offset=offset, sort=sort)
    links = task_message_roles(session, [t.id or 0 for t in tasks])
    messages = messages_by_ids(session, [m for roles in links.values() for m in roles])
    parent_ids = {m.reply_to_id for m in messages.values() if m.reply_to_id is not None}
    known = messages | messages_by_ids(session, sorted(parent_ids - messages.keys()))
    exports = exports_of_tasks(session, [t.id or 0 for t in tasks])
    cards = []
    for task in tasks:
        own = [messages[i] for i in links[task.id or 0] if i in messages]
        replied = [m.reply_to_id for m in own if m.reply_to_id is not None]
        public = TaskPublic.model_validate(task)
        public.message_ids = list(links[task.id or 0])
        parents = {i: known[i] for i in replied if i in known}
        cards.append(TaskCard(public, own, parents, links[task.id or 0], exports[task.id or 0]))
    return cards, total
