"""What a message in a task's conversation changes about the task: the chat keeps it current.

Each change is recorded in task_changes with the message as evidence. A change already
recorded for the same message and field is not made again (redelivery, re-classification),
and a field a person has set is never changed by the chat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from core.conversations.signals import Escalation, Signals
from core.db import driver, execute_each, insert_sql
from core.models import (
    PRIORITY_RANK,
    ChangeOrigin,
    Issue,
    Kind,
    Message,
    Priority,
    Resolution,
    Task,
    TaskChange,
    TaskMessageRole,
    TaskStatus,
    utcnow,
)

RAISES_AT = (3, 5)
"""Reporter counts at which the priority goes up a level."""
_RANKED = sorted(Priority, key=lambda p: PRIORITY_RANK[p])
_WORKING = (TaskStatus.new, TaskStatus.accepted, TaskStatus.in_progress)


@dataclass(frozen=True)
class Said:
    """One message in a task's conversation, and what it says."""

    message: Message
    issue: Issue
    signals: Signals
    role: TaskMessageRole
    opener: str | None
    """Author id of the message that opened the task."""
    delegate: str | None = None
    """The chat member it hands the work to ("Олег оновить до вечора")."""


def role_of(
    task: Task, message: Message, issue: Issue, signals: Signals, opener: str | None
) -> TaskMessageRole:
    """Why the message belongs to the task."""
    if signals.plus_one:
        return TaskMessageRole.plus_one
    if task.kind == Kind.question and message.author_id != opener and _answers(issue, signals):
        return TaskMessageRole.answer
    if signals.moves_work or signals.offers or signals.escalation or signals.not_a_bug or signals.is_a_bug:
        return TaskMessageRole.update
    return TaskMessageRole.detail


def _answers(issue: Issue, signals: Signals) -> bool:
    """Not asking back, and not taking or offering the work asked for ("Хтось оновить?" "я оновлю")."""
    return (
        not (signals.asks or signals.plus_one or signals.take or signals.offers)
        and issue.kind != Kind.question
    )


def changes(task: Task, said: Said) -> dict[str, Any]:
    """The fields the message changes (before the human and evidence checks)."""
    new: dict[str, Any] = {}
    new.update(_status(task, said))
    new.update(_priority(task, said))
    new.update(_kind(task, said))
    return {k: v for k, v in new.items() if getattr(task, k) != v}


def _kind(task: Task, said: Said) -> dict[str, Any]:
    """ "Not a bug" makes a bug a question (or the feature it asks for), "тогда баг" a question
    or a feature a bug (an answered question reopens); put in the backlog
    ("заведу на 3.2", "закинув у беклог"), a question or a not-a-bug is a feature request
    waiting for work, no longer answered."""
    signals = said.signals
    if signals.defer and (task.kind == Kind.question or (signals.not_a_bug and task.kind == Kind.bug)):
        reopened = task.status == TaskStatus.done and task.resolution == Resolution.answered
        return {"kind": Kind.feature, **({"status": TaskStatus.new, "resolution": None} if reopened else {})}
    if signals.not_a_bug and task.kind == Kind.bug:
        return {"kind": Kind.feature if said.issue.kind == Kind.feature else Kind.question}
    if signals.is_a_bug and task.kind in (Kind.question, Kind.feature):  # "Тогда баг: ..."
        reopened = task.status == TaskStatus.done and task.resolution == Resolution.answered
        return {"kind": Kind.bug, **({"status": TaskStatus.new, "resolution": None} if reopened else {})}
    if _reporter_helped(task, said):
        return {"kind": Kind.question}
    if _takes_what_was_asked(task, said):
        return {"kind": Kind.task}
    return {}


def _takes_what_was_asked(task: Task, said: Said) -> bool:
    """Someone takes what an open question asked for ("Хтось оновить?" "я оновлю"), or offers it
    ("Клієнт просить усі замовлення за 2023" "Зберігаємо все, можу вивантажити"): it is work."""
    return (
        (said.signals.take or said.signals.offers) and task.kind == Kind.question
        and task.status in _WORKING and said.message.author_id != said.opener
    )  # fmt: skip


def from_issue(task: Task, issue: Issue) -> dict[str, Any]:
    """A new classification of the message that opened the task (an edit, an LLM review),
    while nobody has triaged it: noise withdraws the task."""
    if task.status != TaskStatus.new or issue.kind is None:
        return {}
    if issue.kind == Kind.noise:
        return {"status": TaskStatus.rejected, "needs_review": issue.needs_review}
    priority = issue.priority or Priority.medium
    return {
        "kind": issue.kind,
        "priority": priority,
        "priority_rank": PRIORITY_RANK[priority],
        "title": issue.title or task.title,
        "confidence": issue.confidence,
        "needs_review": issue.needs_review,
    }


def _status(task: Task, said: Said) -> dict[str, Any]:
    signals, author = said.signals, said.message.author
    if task.status not in _WORKING:
        return {}
    if signals.withdraw and not signals.done and said.role != TaskMessageRole.answer:
        return {"status": TaskStatus.rejected}
    if signals.defer:  # "додав у беклог": noted for later, neither done nor answered
        return {}
    if (task.kind == Kind.question and _answered(said)) or _reporter_helped(task, said):
        return {"status": TaskStatus.done, "resolution": Resolution.answered}
    if signals.done and not signals.merged and not signals.asks and not _reports_failure(said):
        return {"status": TaskStatus.done, "assignee": task.assignee or author}
    if _reporter_confirmed(task, said):
        return {"status": TaskStatus.done}
    if said.delegate:
        return {"status": TaskStatus.in_progress, "assignee": said.delegate}
    if signals.take or signals.merged or signals.partly or _takes_what_was_asked(task, said):
        return {"status": TaskStatus.in_progress, "assignee": task.assignee or author}
    if signals.look and task.assignee is None and said.role != TaskMessageRole.source:
        return {"status": TaskStatus.in_progress, "assignee": author}
    return {}


def _reports_failure(said: Said) -> bool:
    """A report of a problem that tells what was done before it broke ("Оновив додаток, і тепер
    вхід падає з 500"), or a request that tells what was done on the way ("треба банер до
    четверга, макет скинула в Figma"): nothing is finished."""
    return said.role == TaskMessageRole.source and (said.issue.kind == Kind.bug or said.signals.needs)


def _reporter_helped(task: Task, said: Said) -> bool:
    """The reporter of a problem nobody took thanks for the help ("дякую, зайшла"): it was a
    question, answered in the chat."""
    signals = said.signals
    return (
        task.kind == Kind.bug and task.status == TaskStatus.new and task.assignee is None
        and said.role != TaskMessageRole.source and said.message.author_id == said.opener
        and signals.grateful and not (signals.asks or signals.moves_work or signals.escalation)
    )  # fmt: skip


def _reporter_confirmed(task: Task, said: Said) -> bool:
    """The reporter of a problem someone works on says it works now ("Клієнт завантажив свій
    файл, все пройшло 🎉", "Customers confirmed, thanks!"): fixed."""
    return (
        task.kind == Kind.bug and task.status == TaskStatus.in_progress and said.signals.works
        and said.role != TaskMessageRole.source and said.message.author_id == said.opener
    )  # fmt: skip


def _answered(said: Said) -> bool:
    if said.role == TaskMessageRole.answer:
        return True
    return said.message.author_id == said.opener and said.signals.thanks


def _priority(task: Task, said: Said) -> dict[str, Any]:
    level = said.signals.escalation
    if level == Escalation.critical:
        return _at_least(task, Priority.critical)
    if level == Escalation.urgent:
        return _raised(task)
    return {}


def _at_least(task: Task, priority: Priority) -> dict[str, Any]:
    if PRIORITY_RANK[priority] >= PRIORITY_RANK[task.priority]:
        return {}
    return {"priority": priority, "priority_rank": PRIORITY_RANK[priority]}


def _raised(task: Task) -> dict[str, Any]:
    """One level up (critical stays critical)."""
    return _at_least(task, _RANKED[max(PRIORITY_RANK[task.priority] - 1, 0)])


def more_reporters(task: Task) -> dict[str, Any]:
    """One more reporter; at RAISES_AT reporters the priority goes up a level."""
    new: dict[str, Any] = {"reporters": task.reporters + 1}
    if task.reporters + 1 in RAISES_AT:
        new.update(_raised(task))
    return new


OPENER = f"""
    SELECT m.author_id FROM messages m JOIN task_messages tm ON tm.message_id = m.id
    WHERE tm.task_id = t.id AND tm.role = '{TaskMessageRole.source}' LIMIT 1
"""
"""Author id of the message that opened the task t (a column of a query over tasks t)."""
HELD = f"""
    SELECT array_agg(ch.field) FROM task_changes ch
    WHERE ch.task_id = t.id AND (
        ch.origin = '{ChangeOrigin.human}' AND NOT (ch.field = 'status' AND ch.new = '{TaskStatus.accepted}')
        OR ch.origin = '{ChangeOrigin.llm}' AND ch.field IN ('title', 'description'))
"""
"""The fields of the task t a person set (accepting aside) or the LLM wrote (title, description):
null for none (a column of a query over tasks t)."""
_OPENERS = f"SELECT ({OPENER}), ({HELD}) FROM tasks t WHERE t.id = %(task)s"

_LINK = insert_sql("task_messages", ("task_id", "message_id", "role"))
"""A task's message link, inserted as plain rows on the driver (once per batch)."""
Hold = tuple[str | None, frozenset[str]]
"""A task's opener (author id) and the fields people hold."""


def hold(opener: str | None, held: list[str] | None) -> Hold:
    """The hold read by `OPENER` and `HELD` (held is null for none)."""
    return opener, frozenset(held or ())


STANDING = """
    SELECT task_id, message_id, role, NULL AS field FROM task_messages WHERE message_id = ANY(%(messages)s)
    UNION ALL
    SELECT task_id, message_id, NULL, field FROM task_changes WHERE message_id = ANY(%(messages)s)
"""
"""The links of the messages (with their role) and the changes they made (the field), in one
read (store.Chats reads it with the batch's conversations)."""


@dataclass(frozen=True)
class Standing:
    """Where a message stands with a task."""

    opener: str | None
    """Author id of the message that opened the task."""
    link: TaskMessageRole | None
    """The message's role in the task, if it is attached already."""
    blocked: frozenset[str]
    """Fields the chat may not change: set by a person (accepting does not count: the chat
    still moves accepted work on), a title and description the LLM wrote from the whole
    conversation, or already changed by this very message (a redelivery)."""


class Standings:
    """Where a batch's messages stand with their tasks: their links and the changes they
    made (read once for the batch: `STANDING`), each task's opener and human-held fields (read
    once per task), kept current as placement links messages and opens tasks."""

    def __init__(
        self,
        session: Session,
        rows: Iterable[Any],
        tasks: Mapping[int, Hold] | None = None,
    ) -> None:
        """`rows`: what `STANDING` read for the batch's messages; `tasks`: the openers and held
        fields of tasks already read (by `OPENER`, `HELD`)."""
        self.session = session
        self.links: dict[tuple[int, int], TaskMessageRole] = {}
        self.recorded: dict[tuple[int, int], set[str]] = {}
        for task_id, message_id, role, changed in rows:
            if role is not None:
                self.links[task_id, message_id] = TaskMessageRole(role)
            else:
                self.recorded.setdefault((task_id, message_id), set()).add(changed)
        self.tasks: dict[int, Hold] = dict(tasks or {})
        self.unwritten: list[dict[str, Any]] = []

    def of(self, task_id: int, message_id: int) -> Standing:
        opener, held = self._task(task_id)
        blocked = set(held) | self.recorded.get((task_id, message_id), set())
        if "priority" in blocked:
            blocked.add("priority_rank")
        return Standing(opener, self.links.get((task_id, message_id)), frozenset(blocked))

    def _task(self, task_id: int) -> Hold:
        if task_id not in self.tasks:
            row = driver(self.session).execute(_OPENERS, {"task": task_id}).fetchone()
            self.tasks[task_id] = hold(*row) if row else hold(None, None)
        return self.tasks[task_id]

    def held(self, task_id: int) -> frozenset[str]:
        """The task's fields a person set (or the LLM wrote)."""
        return self._task(task_id)[1]

    def link(self, task_id: int, message_id: int, role: TaskMessageRole) -> None:
        """Attach the message to the task (written with the batch's other links by `write`)."""
        if (task_id, message_id) not in self.links:
            self.links[task_id, message_id] = role
            self.unwritten.append({"task_id": task_id, "message_id": message_id, "role": role.value})

    def write(self) -> None:
        """Insert the links made since the last write, in one round trip."""
        if self.unwritten:
            execute_each(self.session, _LINK, self.unwritten)
            self.unwritten = []

    def opened(self, task_id: int, opener: str | None) -> None:
        """A task opened by this batch: its opener, nothing held by a person yet."""
        self.tasks[task_id] = (opener, frozenset())


def apply(
    session: Session,
    task: Task,
    new: dict[str, Any],
    *,
    origin: ChangeOrigin,
    message: Message | None = None,
    author: str | None = None,
) -> dict[str, Any]:
    """Set the fields, each with a task_changes row (its evidence: the message or the person),
    inserted at once on the driver (the ORM's flush would read each new row's id back);
    returns what changed."""
    done = {k: v for k, v in new.items() if getattr(task, k) != v}
    changes = [_change(task, key, value) for key, value in done.items() if key != "priority_rank"]
    if changes:
        evidence = {"origin": ChangeOrigin(origin).value, "message_id": message.id if message else None,
                    "author": message.author if message else author, "created_at": utcnow()}  # fmt: skip
        execute_each(session, _CHANGE, [change | evidence for change in changes])
    for key, value in done.items():
        setattr(task, key, value)
    if done:
        task.version += 1
        task.updated_at = utcnow()
        session.add(task)
    return done


_CHANGED = [c.name for c in TaskChange.__table__.c if c.name != "id"]  # type: ignore[attr-defined]
_CHANGE = insert_sql("task_changes", _CHANGED)
"""One change of a task's field, on the driver."""


def _change(task: Task, key: str, value: Any) -> dict[str, Any]:
    old = getattr(task, key)
    return {
        "task_id": task.id or 0,
        "field": key,
        "old": None if old is None else str(old)[:256],
        "new": None if value is None else str(value)[:256],
    }
