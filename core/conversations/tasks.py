"""One task per conversation: opened by its first actionable message, joined by the rest.

A new report of a problem already open (in this chat or another chat of the source) joins
that task as a duplicate instead of opening another one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from psycopg.rows import namedtuple_row
from sqlalchemy import text
from sqlmodel import Session, col, select

from core import events
from core.conversations import progress
from core.conversations.progress import Standings
from core.conversations.signals import Signals, same_as
from core.conversations.store import (
    OPEN_STATUSES,
    OPEN_VALUES,
    ConversationState,
    goes_by,
    member_named,
    messages_of,
    open_conversation,
    sent_at,
)
from core.conversations.text import merge_all, similarity, terms
from core.db import driver
from core.models import (
    PRIORITY_RANK,
    ChangeOrigin,
    Conversation,
    Issue,
    Kind,
    Message,
    Priority,
    Task,
    TaskMessage,
    TaskMessageRole,
)

Pending = list[tuple[str, dict[str, Any]]]
DUPLICATE_SIMILARITY = 0.45
"""How alike a new report and an open task's conversation must be to be the same problem."""
DUPLICATE_WINDOW = timedelta(days=14)
SAME_SIMILARITY = 0.15
"""How alike a conversation and an earlier one must be when the chat says they are the same."""
_WHEN = frozenset(
    terms(
        "вчора вчера yesterday сьогодні сегодня today зранку утром morning ввечері вечером evening "
        "тижня недели week понеділок вівторок середу четвер п'ятницю суботу неділю понедельник "
        "вторник среду четверг пятницу субботу воскресенье monday tuesday wednesday thursday "
        "friday saturday sunday минулого прошлой last"
    )
)
"""Stems that say when, not which: "те саме, що вчора" names no report."""
DESCRIPTION_LINES = 6


def surviving(session: Session, task: Task | None) -> Task | None:
    """The task itself, or the task it was merged into (at the end of a chain of merges)."""
    while task is not None and task.merged_into_id is not None:
        task = session.get(Task, task.merged_into_id)
    return task


def open_task(
    session: Session, conversation: ConversationState, message: Message, issue: Issue, standings: Standings
) -> tuple[Task, list[int]]:
    """A task for the conversation, from its first actionable message; earlier messages of
    the conversation attach as details. Returns the task and all the conversation's message ids."""
    priority = Priority(issue.priority or Priority.medium)
    task = Task(
        title=issue.title or message.text[:80],
        description=message.text,
        kind=issue.kind or Kind.task,
        priority=priority,
        priority_rank=PRIORITY_RANK[priority],
        chat_id=message.chat_id,
        confidence=issue.confidence,
        needs_review=issue.needs_review,
    )
    session.add(task)
    session.flush()  # its id; the conversation's messages joined so far are stored
    conversation.task_id = task.id
    standings.opened(task.id or 0, message.author_id)
    _link(session, task, message, TaskMessageRole.source, standings)
    held = messages_of(session, conversation.id) if conversation.message_count > 1 else [message]
    for earlier in held:
        if earlier.id != message.id:
            attach(session, task, earlier, TaskMessageRole.detail, standings)
    return task, [m.id or 0 for m in held]


def attach(
    session: Session, task: Task, message: Message, role: TaskMessageRole, standings: Standings
) -> bool:
    """Link the message to the task; False when it already was (a redelivery)."""
    if standings.of(task.id or 0, message.id or 0).link is not None:
        return False
    _link(session, task, message, role, standings)
    return True


def _link(
    session: Session, task: Task, message: Message, role: TaskMessageRole, standings: Standings
) -> None:
    standings.link(task.id or 0, message.id or 0, role)
    if role in (TaskMessageRole.detail, TaskMessageRole.update) and message.text:
        _describe(task, message)


def _describe(task: Task, message: Message) -> None:
    """The description tells the conversation: the report, then who said what (a few lines)."""
    lines = (task.description or "").splitlines()
    if len(lines) < DESCRIPTION_LINES:
        who = message.author or "someone"
        task.description = "\n".join([*lines, f"{who}: {message.text[:300]}"])


_OPEN_REPORTS = """
    SELECT t.id, c.terms FROM conversations c JOIN tasks t ON t.id = c.task_id
    WHERE c.source = %(source)s AND c.last_message_at >= %(since)s AND t.kind = %(kind)s
      AND t.status = ANY(%(open)s) AND t.merged_into_id IS NULL AND c.terms ?| %(stems)s
"""
"""Read on the driver: for every new report of a quiet chat. Only the conversations sharing a
stem with the report (the others are not alike at all) come back to be weighed."""


def duplicate_target(
    session: Session, message: Message, issue: Issue, terms: Mapping[str, int]
) -> Task | None:
    """An open task of the source about the same problem as this new report, if any."""
    params = {"source": message.source, "since": sent_at(message) - DUPLICATE_WINDOW,
              "kind": issue.kind, "open": OPEN_VALUES, "stems": list(terms)}  # fmt: skip
    rows = driver(session).cursor(row_factory=namedtuple_row).execute(_OPEN_REPORTS, params)
    return _most_alike(session, rows, terms, DUPLICATE_SIMILARITY)


def _most_alike(session: Session, rows: Iterable[Any], terms: Mapping[str, int], bar: float) -> Task | None:
    """The task of the (id, terms) row most like `terms`, if at least `bar` alike (the rows are
    read plain; only the one chosen becomes an object)."""
    best, task_id = max(((similarity(terms, r.terms or {}), r.id) for r in rows), default=(0.0, None))
    return session.get(Task, task_id) if task_id is not None and best >= bar else None


def similar_tasks(session: Session, task: Task, limit: int = 5) -> list[tuple[Task, float]]:
    """The open tasks whose conversations are most like this task's, most alike first."""
    own = session.exec(select(Conversation).where(Conversation.task_id == task.id)).all()
    bag = merge_all(c.terms or {} for c in own)
    rows = session.exec(
        select(Conversation, Task)
        .join(Task, col(Task.id) == Conversation.task_id)
        .where(
            col(Task.id) != task.id,
            col(Task.status).in_(OPEN_STATUSES),
            col(Task.merged_into_id).is_(None),
        )
        .order_by(col(Conversation.last_message_at).desc())
        .limit(500)
    ).all()
    best: dict[int, tuple[Task, float]] = {}
    for conversation, other in rows:
        score = similarity(bag, conversation.terms or {})
        if score > best.get(other.id or 0, (other, 0.0))[1]:
            best[other.id or 0] = (other, score)
    return sorted(best.values(), key=lambda pair: -pair[1])[:limit]


def report_duplicate(
    session: Session, conversation: ConversationState, task: Task, message: Message, standings: Standings
) -> Pending:
    """The report joins the open task: one more reporter, the conversation follows the task."""
    conversation.task_id = task.id
    if not attach(session, task, message, TaskMessageRole.duplicate, standings):
        return []
    progress.apply(session, task, progress.more_reporters(task), origin=ChangeOrigin.chat, message=message)
    return [(events.TASK_UPDATED, events.task_payload(task))]


_EARLIER_REPORTS = text(
    """
    SELECT t.id, c.terms, t.assignee, t.status FROM conversations c JOIN tasks t ON t.id = c.task_id
    WHERE c.source = :source AND c.chat_id = :chat AND c.last_message_at >= :since
      AND c.started_at < :started AND t.id <> :task AND t.merged_into_id IS NULL
    """
)
_OPENED_HERE = text(
    """
    SELECT 1 FROM task_messages tm JOIN messages m ON m.id = tm.message_id
    WHERE tm.task_id = :task AND tm.role = 'source' AND m.conversation_id = :conversation
    """
)


def same_as_earlier(
    session: Session,
    conversation: ConversationState,
    task: Task,
    message: Message,
    said: Signals,
    standings: Standings,
) -> tuple[Task, Pending]:
    """The chat says the conversation's problem was reported before ("це те саме, що вчора"):
    the task the conversation opened, where no person decided on it, is merged into the most
    alike earlier task of the chat (open or closed) and the conversation follows that one.
    Returns the task the message now belongs to, and the changes."""
    if standings.held(task.id or 0) or _opened_elsewhere(session, conversation, task):
        return task, []
    earlier = _most_alike_earlier(session, conversation, task, same_as(message.text), said.delegate)
    if earlier is None:
        return task, []
    standings.write()  # the batch's links so far, merged with the rest
    session.execute(_MERGE_LINKS, {"task": task.id, "into": earlier.id})
    progress.apply(session, task, {"merged_into_id": earlier.id}, origin=ChangeOrigin.chat, message=message)
    progress.apply(
        session, earlier, progress.more_reporters(earlier), origin=ChangeOrigin.chat, message=message
    )
    conversation.task_id = earlier.id
    return earlier, [(events.TASK_UPDATED, events.task_payload(t)) for t in (task, earlier)]


_MERGE_LINKS = text(
    """
    INSERT INTO task_messages (task_id, message_id, role)
    SELECT :into, message_id, 'duplicate' FROM task_messages WHERE task_id = :task
    ON CONFLICT DO NOTHING
    """
)


def _opened_elsewhere(session: Session, conversation: ConversationState, task: Task) -> bool:
    params = {"task": task.id, "conversation": conversation.id}
    return session.execute(_OPENED_HERE, params).first() is None


def _most_alike_earlier(
    session: Session, conversation: ConversationState, task: Task, named: str, taker: str
) -> Task | None:
    """The earlier report of the chat most like the conversation, or else the one that what the
    chat says it is the same as (`named`: "що в Агролайн") names, or else the open one the member
    it says is on it took ("Yes, same issue, Bohdan is on it"), if just one."""
    params = {"source": conversation.source, "chat": conversation.chat_id, "task": task.id,
              "started": conversation.started_at,
              "since": conversation.started_at - DUPLICATE_WINDOW}  # fmt: skip
    rows = session.execute(_EARLIER_REPORTS, params).all()
    alike = _most_alike(session, rows, conversation.terms or {}, SAME_SIMILARITY)
    return (
        alike or _named_by(session, rows, named) or _taken_by(session, rows, taker, conversation.terms or {})
    )


def _taken_by(session: Session, rows: Sequence[Any], taker: str, terms: Mapping[str, int]) -> Task | None:
    """Of the open work the member called `taker` took, the one task, or the one most like the
    conversation."""
    if not taker:
        return None
    taken = [r for r in rows if r.assignee and goes_by(r.assignee, taker) and r.status in OPEN_VALUES]
    if len({r.id for r in taken}) == 1:
        return session.get(Task, taken[0].id)
    return _most_alike(session, taken, terms, _ANY)


_ANY = 1e-9
"""Sharing a word at all."""


def _named_by(session: Session, rows: Sequence[Any], named: str) -> Task | None:
    """The earlier report holding the most of the named words, each counted by how few reports
    hold it ("Агролайн" in one report counts 1), if it alone scores 1 or more."""
    words = terms(named).keys() - _WHEN
    held: dict[int, set[str]] = {}
    for r in rows:  # a task carried on in another topic has a conversation there too
        held.setdefault(r.id, set()).update(words & (r.terms or {}).keys())
    holders = Counter(t for found in held.values() for t in found)
    scores = sorted(
        ((sum(1 / holders[t] for t in found), task_id) for task_id, found in held.items()), reverse=True
    )
    if not scores or scores[0][0] < 1 or (len(scores) > 1 and scores[1][0] == scores[0][0]):
        return None
    return session.get(Task, scores[0][1])


def follow(
    session: Session, task: Task, message: Message, issue: Issue, signals: Signals, standings: Standings
) -> Pending:
    """A message of the task's conversation: attach it with its role, apply what it says."""
    stands = standings.of(task.id or 0, message.id or 0)
    role = stands.link or progress.role_of(task, message, issue, signals, stands.opener)
    if stands.link is None:
        _link(session, task, message, role, standings)
    delegate = member_named(session, message, signals.delegate) if signals.delegate else None
    new = progress.changes(task, progress.Said(message, issue, signals, role, stands.opener, delegate))
    if stands.link == TaskMessageRole.source:
        new = {**progress.from_issue(task, issue), **new}
    if stands.link is None and role == TaskMessageRole.plus_one:
        new.update(progress.more_reporters(task))
    allowed = {k: v for k, v in new.items() if k not in stands.blocked}
    changed = progress.apply(session, task, allowed, origin=ChangeOrigin.chat, message=message)
    if stands.link is not None and not changed:
        return []
    return [(events.TASK_UPDATED, events.task_payload(task))]


def detach(session: Session, message: Message, keep: Task | None = None) -> None:
    """Take the message out of the tasks it followed (not those it opened or a person linked
    it to, nor `keep`) and give it a conversation of its own: a person's split."""
    links = session.exec(select(TaskMessage).where(TaskMessage.message_id == message.id)).all()
    for link in links:
        if link.role not in (TaskMessageRole.source, TaskMessageRole.manual) and link.task_id != (
            keep and keep.id
        ):
            session.delete(link)
    open_conversation(session, message, dict(terms(message.text)), keep.id if keep else None)
    session.add(message)
