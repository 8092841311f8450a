"""The conversations table: the open conversations a batch's messages may join (read once
per batch), joining, opening."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from functools import lru_cache
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple, Protocol, TypeVar

import orjson
from sqlalchemy import Column, DateTime, Float, func, inspect, text
from sqlalchemy.orm import configure_mappers, make_transient_to_detached
from sqlmodel import Session, col, select

from core.conversations.features import Open, name_stems
from core.conversations.progress import HELD, OPENER, STANDING, Hold, hold
from core.conversations.text import merge, name_key
from core.db import driver, execute_each, insert_sql, json_text, read_all
from core.models import Conversation, Message, Resolution, Task, TaskStatus, utcnow

WINDOW = timedelta(hours=72)
"""How long a quiet conversation stays open to follow-ups ("the next morning ...")."""
CANDIDATES = 20
"""The most recently active conversations of the chat a message is weighed against."""
OPEN_STATUSES = (TaskStatus.new, TaskStatus.accepted, TaskStatus.in_progress)
OPEN_VALUES = [s.value for s in OPEN_STATUSES]
"""The open statuses as the database holds them (statement parameters)."""
D = TypeVar("D", bound="Dated")


class Weighed(NamedTuple):
    """What weighing a conversation needs of its task."""

    status: str
    resolution: str | None
    assignee: str | None
    kind: str

    @classmethod
    def of(cls, task: Task | None) -> Weighed | None:
        return None if task is None else cls(task.status, task.resolution, task.assignee, task.kind)


def closed(task: Task | Weighed | None) -> bool:
    """The task was done or withdrawn (an answered question does not count: asking more is
    still about it)."""
    ended = (TaskStatus.done, TaskStatus.rejected)
    return task is not None and task.status in ended and task.resolution != Resolution.answered


def _locks(messages: Iterable[Message]) -> dict[str, str]:
    """The locks that serialise placement per chat for the transaction, in one order (no
    deadlock): their keys by parameter name."""
    keys = sorted({f"conv\x1f{m.source}\x1f{m.chat_id}" for m in messages})
    return {f"lock{i}": key for i, key in enumerate(keys)}


_LOCK = "SELECT pg_advisory_xact_lock(hashtext(%({})s))"


def sent_at(message: Message) -> datetime:
    return message.sent_at or message.created_at or utcnow()


class Dated(Protocol):
    """A conversation as `recent` weighs it (a row, or a training replay's state)."""

    @property
    def id(self) -> int | None: ...
    @property
    def thread_id(self) -> str | None: ...
    @property
    def last_message_at(self) -> datetime: ...


def recent(pool: Iterable[D], thread_id: str | None, at: datetime, replied: int | None) -> list[D]:
    """The conversations of a chat a message sent `at` is weighed against: those of its forum
    topic active within WINDOW (latest first, at most CANDIDATES) and the one it replies to."""
    since = at - WINDOW
    live = [c for c in pool if c.id == replied or (c.thread_id == thread_id and c.last_message_at >= since)]
    live.sort(key=lambda c: c.last_message_at, reverse=True)
    return [*live[:CANDIDATES], *(c for c in live[CANDIDATES:] if c.id == replied)]


@dataclass(slots=True)
class ConversationState:
    """A conversation's row as placement holds it: read plain, changed in memory as messages
    join it, written back in one statement (`Chats.write`), never through the ORM's flush."""

    id: int
    source: str
    chat_id: str
    thread_id: str | None
    task_id: int | None
    started_at: datetime
    last_message_at: datetime
    last_author_id: str | None = None
    message_count: int = 0
    authors: dict[str, str] = field(default_factory=dict)
    terms: dict[str, int] = field(default_factory=dict)


_CHANGEABLE = ("task_id", "last_message_at", "last_author_id", "message_count", "authors", "terms")
"""What placement changes of a conversation (each by assigning a new value)."""


_changeable: Callable[[ConversationState], tuple[Any, ...]] = attrgetter(*_CHANGEABLE)
"""Those fields' values, in that order."""


_COLUMNS = [f.name for f in fields(ConversationState)]
"""The conversations table's columns, as placement holds them."""


class Chats:
    """The open conversations of a batch's chats and their tasks, kept current in memory as the
    batch's messages join and open them (placing a message then reads nothing). The chats are
    locked for the transaction and read, with where the batch's messages stand, in one round
    trip."""

    def __init__(self, session: Session, messages: Sequence[Message]) -> None:
        self.session = session
        self.batch = {m.id: m for m in messages}
        self.parents: dict[int, int] = {}
        """The conversation of each stored message outside the batch that its messages reply to."""
        self.pool: dict[tuple[str, str], list[ConversationState]] = {}
        self.by_id: dict[int, ConversationState] = {}
        self.written: dict[int, tuple[Any, ...]] = {}
        """Each conversation's row as the database holds it (what `write` compares with)."""
        self.tasks: dict[int, Task] = {}
        self.task_rows: dict[int, tuple[Any, ...]] = {}
        """The columns of each task read with its conversation, in `_TASK_NAMES` order (a `Task`
        is made of them when the batch needs one)."""
        self.holds: dict[int, Hold] = {}
        """Each task's opener and the fields people hold (progress.Standings)."""
        self.standing: list[Any] = []
        """Where the batch's messages stand (the rows of progress.STANDING)."""
        if messages:
            self._load(messages)

    def _load(self, messages: Sequence[Message]) -> None:
        since = min(sent_at(m) for m in messages) - WINDOW
        topics = list({(m.source, m.chat_id, m.thread_id or "") for m in messages})
        known = list({m.conversation_id for m in messages if m.conversation_id})
        parents = list({m.reply_to_id for m in messages if m.reply_to_id and m.reply_to_id not in self.batch})
        sources, chats, threads = (list(column) for column in zip(*topics, strict=True))
        locks = _locks(messages)
        params = {"sources": sources, "chats": chats, "threads": threads, "since": since, "known": known,
                  "parents": parents, "messages": [m.id for m in messages], "open": OPEN_VALUES,
                  **locks}  # fmt: skip
        statements = [*(_LOCK.format(name) for name in locks), _POOL, STANDING]
        *_, pool, self.standing = read_all(self.session, statements, params)
        for written, opener, held, replied in pool:
            row = _pool_row(written)
            conversation = self._add(ConversationState(*row[:_TASK_AT]))
            task = row[_TASK_AT:]
            self.parents.update(dict.fromkeys(replied or (), conversation.id))
            if task[_TASK_ID] is not None:
                self.task_rows[task[_TASK_ID]] = task
                self.holds[task[_TASK_ID]] = hold(opener, held)

    def conversation_of(self, message_id: int | None) -> int | None:
        """The conversation the message (of the batch, or one it replies to) was placed in."""
        message = self.batch.get(message_id)
        return message.conversation_id if message else self.parents.get(message_id or 0)

    def _add(self, conversation: ConversationState) -> ConversationState:
        """A conversation the batch's messages are weighed against."""
        self.pool.setdefault((conversation.source, conversation.chat_id), []).append(conversation)
        return self._track(conversation)

    def _track(self, conversation: ConversationState) -> ConversationState:
        """A conversation whose changes `write` sends."""
        self.by_id[conversation.id] = conversation
        self.written[conversation.id] = _changeable(conversation)
        return conversation

    def get(self, conversation_id: int) -> ConversationState | None:
        if conversation_id not in self.by_id:
            row = driver(self.session).execute(_ONE, {"id": conversation_id}).fetchone()
            return self._track(ConversationState(*row)) if row else None
        return self.by_id[conversation_id]

    def write(self) -> None:
        """Write the conversations changed since read (or last written), in one round trip."""
        changed = [c for c in self.by_id.values() if _changeable(c) != self.written[c.id]]
        if changed:
            rows = [_stored(dict(zip(_CHANGEABLE, _changeable(c), strict=True), id=c.id)) for c in changed]
            execute_each(self.session, _UPDATE, rows)
            self.written.update((c.id, _changeable(c)) for c in changed)

    def candidates(self, message: Message, replied: int | None) -> list[Open]:
        """The conversations the message is weighed against, summarised, latest first."""
        pool = self._chat(message)
        if replied is not None and all(c.id != replied for c in pool):
            pool = [*pool, *filter(None, [self.get(replied)])]
        chosen = recent(pool, message.thread_id, sent_at(message), replied)
        return [self._summary(rank, c) for rank, c in enumerate(chosen)]

    def carrying(self, message: Message, task_id: int | None) -> ConversationState | None:
        """The conversation of the message's forum topic that carries on the task, the latest."""
        here = [c for c in self._chat(message) if c.thread_id == message.thread_id and c.task_id == task_id]
        return max(here, key=lambda c: c.last_message_at, default=None)

    def taken_elsewhere(self, message: Message) -> list[ConversationState]:
        """The conversations of the message's chat in its other forum topics whose open task the
        message's author took."""
        if message.author is None:
            return []
        elsewhere = (c for c in self._chat(message) if c.thread_id != message.thread_id)
        return [c for c in elsewhere if self._taken_by(c, message.author)]

    def _taken_by(self, conversation: ConversationState, author: str) -> bool:
        task = self._weighed(conversation.task_id)
        return task is not None and task.status in OPEN_STATUSES and task.assignee == author

    def _chat(self, message: Message) -> list[ConversationState]:
        """The conversations of the message's chat the batch weighs."""
        return self.pool.get((message.source, message.chat_id), [])

    def _summary(self, rank: int, conversation: ConversationState) -> Open:
        task = self._weighed(conversation.task_id)
        authors = conversation.authors or {}
        return Open(
            id=conversation.id, thread_id=conversation.thread_id,
            last_message_at=conversation.last_message_at, last_author_id=conversation.last_author_id,
            authors=authors, terms=conversation.terms or {},
            has_task=task is not None and task.status in OPEN_STATUSES,
            assignee=task.assignee if task else None, kind=task.kind if task else None, rank=rank,
            names=name_stems(authors), closed=closed(task),
        )  # fmt: skip

    def _weighed(self, task_id: int | None) -> Weighed | None:
        """What weighing a conversation needs of its task: the task as the batch changed it,
        else as read."""
        if task_id in self.tasks or task_id not in self.task_rows:
            return Weighed.of(self.task(task_id))
        return Weighed(*_weighed_columns(self.task_rows[task_id]))

    def task(self, task_id: int | None) -> Task | None:
        """A task of the batch's conversations (read once: with its conversation, or alone)."""
        if task_id is not None and task_id not in self.tasks:
            row = self.task_rows.get(task_id)
            found = (
                as_loaded(self.session, dict(zip(_TASK_NAMES, row, strict=True)))
                if row
                else self.session.get(Task, task_id)
            )
            if found is not None:
                self.tasks[task_id] = found
        return self.tasks.get(task_id or 0)

    def open(self, message: Message, terms: dict[str, int]) -> ConversationState:
        """A new conversation of the message, weighed for the batch's later messages."""
        return self._add(open_conversation(self.session, message, terms))


def as_loaded(session: Session, columns: dict[str, Any]) -> Task:
    """The task whose row holds these columns, as if the session had loaded it (no read): the
    one it holds already, else one made of them."""
    held = session.identity_map.get(session.identity_key(Task, columns["id"]))
    if held is not None:
        return held  # type: ignore[no-any-return]
    configure_mappers()  # (a no-op once the session has run a query)
    task = _TASKS.new_instance()  # as the ORM makes a task it loads: Task(...) costs ten times more
    task.__dict__.update(columns)
    make_transient_to_detached(task)
    session.add(task)
    return task


_TASKS = inspect(Task).class_manager
_TASK_NAMES = [c.name for c in Task.__table__.c]  # type: ignore[attr-defined]
_TASK_AT, _TASK_ID = len(_COLUMNS), _TASK_NAMES.index("id")
"""Where a pool row's task columns start, and where its id is among them."""
_weighed_columns: Callable[[tuple[Any, ...]], tuple[Any, ...]] = itemgetter(
    *(_TASK_NAMES.index(name) for name in Weighed._fields)
)
"""A pool row's task columns that `Weighed` holds, in its order."""
_POOL_COLUMNS = [
    *(Conversation.__table__.c[name] for name in _COLUMNS),  # type: ignore[attr-defined]
    *(Task.__table__.c[name] for name in _TASK_NAMES),  # type: ignore[attr-defined]
]
"""A pool row's conversation and task columns, in order."""


def _reader(column: Column[Any]) -> Callable[[Any], Any] | None:
    """How a column's value is read back from JSON, where it is not as JSON gives it."""
    if isinstance(column.type, DateTime):
        return datetime.fromisoformat
    return float if isinstance(column.type, Float) else None


_READERS = [(at, read) for at, column in enumerate(_POOL_COLUMNS) if (read := _reader(column)) is not None]


@lru_cache(maxsize=1024)
def _pool_row(written: str) -> tuple[Any, ...]:
    """A pool row's conversation and task columns, from the JSON array the server writes them
    as: decoded once for each distinct row (a chat's conversations are read with every batch,
    and most are as the last batch read them). Its values are shared: whoever changes one
    assigns a new value, as `join` does."""
    values = orjson.loads(written)
    for at, read in _READERS:
        if values[at] is not None:
            values[at] = read(values[at])
    return tuple(values)


_WRITTEN = ", ".join([*(f"c.{name}" for name in _COLUMNS), *(f"t.{name}" for name in _TASK_NAMES)])
_POOL = f"""
    SELECT json_build_array({_WRITTEN})::text, ({OPENER}), ({HELD}),
        (SELECT array_agg(m.id) FROM messages m WHERE m.conversation_id = c.id AND m.id = ANY(%(parents)s))
    FROM conversations c LEFT JOIN tasks t ON t.id = c.task_id
    WHERE c.id IN (
        SELECT id FROM (
            SELECT id, row_number() OVER (
                PARTITION BY source, chat_id, thread_id ORDER BY last_message_at DESC) AS rank
            FROM conversations
            WHERE (source, chat_id, coalesce(thread_id, '')) IN (
                SELECT * FROM unnest(%(sources)s::text[], %(chats)s::text[], %(threads)s::text[]))
              AND last_message_at >= %(since)s
        ) latest WHERE rank <= {CANDIDATES})
      OR c.id = ANY(%(known)s)
      OR c.id IN (
        SELECT conversation_id FROM messages WHERE id = ANY(%(parents)s) AND conversation_id IS NOT NULL)
      OR c.id IN (
        SELECT o.id FROM conversations o JOIN tasks ot ON ot.id = o.task_id
        WHERE (o.source, o.chat_id) IN (SELECT * FROM unnest(%(sources)s::text[], %(chats)s::text[]))
          AND (o.source, o.chat_id, coalesce(o.thread_id, '')) NOT IN (
            SELECT * FROM unnest(%(sources)s::text[], %(chats)s::text[], %(threads)s::text[]))
          AND o.last_message_at >= %(since)s AND ot.assignee IS NOT NULL
          AND ot.status = ANY(%(open)s) AND ot.merged_into_id IS NULL)
"""
"""The conversations a batch's messages are weighed against, read once per batch (on the
driver: it is read for every message of a quiet chat): the CANDIDATES latest of each forum topic
of the batch active since then (no message of the batch is weighed against any other; one further
down only rises by a message that replies into it, and is read as the one replied to), those of
its messages and of the stored messages outside it that its messages reply to (its parents), and
those of the chats' other forum topics whose task someone took and is open (`taken_elsewhere`).
With each: its columns and its task's as one JSON array (`_pool_row`), the task's opener and
held fields, and the parents it holds."""
_ONE = f"SELECT {', '.join(_COLUMNS)} FROM conversations WHERE id = %(id)s"
_JSON = ("authors", "terms")


def _placeholder(name: str) -> str:
    """The column's value in a statement on the driver (JSON given as text, `_stored`)."""
    return f"%({name})s" + ("::jsonb" if name in _JSON else "")


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """A conversation's values as the driver's statements take them: JSON as text."""
    return values | {name: json_text(values[name]) for name in _JSON}


_UPDATE = "UPDATE conversations SET {} WHERE id = %(id)s".format(
    ", ".join(f"{name} = {_placeholder(name)}" for name in _CHANGEABLE)
)
"""A conversation's changeable fields written (on the driver: once per batch)."""


def open_conversation(
    session: Session, message: Message, terms: dict[str, int], task_id: int | None = None
) -> ConversationState:
    """A new conversation holding the message (of the task, if given), inserted at once (its id
    is known) without flushing the session: the batch's other pending writes wait for its one
    flush."""
    conversation = ConversationState(
        id=0,
        source=message.source,
        chat_id=message.chat_id,
        thread_id=message.thread_id,
        task_id=task_id,
        started_at=sent_at(message),
        last_message_at=sent_at(message),
    )
    join(conversation, message, terms)
    [inserted] = driver(session).execute(_INSERT, _values(conversation)).fetchone()
    conversation.id = message.conversation_id = inserted
    return conversation


def _values(conversation: ConversationState) -> dict[str, Any]:
    """`_INSERT`'s values: the row's columns but its id."""
    return _stored({name: getattr(conversation, name) for name in _INSERTED})


_INSERTED = [name for name in _COLUMNS if name != "id"]
_INSERT = insert_sql("conversations", _INSERTED, _placeholder) + " RETURNING id"


def join(conversation: ConversationState, message: Message, terms: dict[str, int]) -> None:
    """Place the message in the conversation and fold it into the summary."""
    message.conversation_id = conversation.id
    conversation.message_count += 1
    conversation.last_message_at = max(conversation.last_message_at, sent_at(message))
    conversation.last_author_id = message.author_id
    if message.author_id:
        conversation.authors = {**(conversation.authors or {}), message.author_id: message.author or ""}
    conversation.terms = merge(conversation.terms or {}, terms)


def messages_of(session: Session, conversation_id: int) -> list[Message]:
    return list(
        session.exec(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(func.coalesce(Message.sent_at, Message.created_at), col(Message.id))
        )
    )


_MEMBERS = text(
    "SELECT DISTINCT author FROM messages WHERE source = :source AND chat_id = :chat AND author IS NOT NULL"
)


def member_named(session: Session, message: Message, name: str) -> str | None:
    """The chat's member called `name` ("Назар" finds "Назар Гуменюк"), if exactly one is."""
    params = {"source": message.source, "chat": message.chat_id}
    found = {a for (a,) in session.execute(_MEMBERS, params) if goes_by(a, name)}
    return found.pop() if len(found) == 1 else None


def goes_by(person: str, name: str) -> bool:
    """Whether `person` ("Назар Гуменюк", "Bohdan Shevchyk") is called `name` ("Назар", "Богдан")."""
    return name_key(name.lower()) in name_stems({"": person})
