"""SQLModel tables: messages, issues (classification results), tasks, exports and friends."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ColumnElement,
    DateTime,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=DateTime(timezone=True), nullable=nullable, index=index)


def trigram_index(name: str, column: str) -> Index:
    """A pg_trgm GIN index: makes ILIKE '%words%' searches fast on big tables."""
    return Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


class Kind(StrEnum):
    bug = "bug"
    feature = "feature"
    question = "question"
    task = "task"
    noise = "noise"


ACTIONABLE_KINDS = (Kind.bug, Kind.feature, Kind.question, Kind.task)


class Priority(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"


class TaskStatus(StrEnum):
    new = "new"
    accepted = "accepted"
    in_progress = "in_progress"
    done = "done"
    rejected = "rejected"


class MessageStatus(StrEnum):
    pending = "pending"
    classified = "classified"
    failed = "failed"
    skipped = "skipped"
    """Service messages and the like: stored, never classified."""


class TaskMessageRole(StrEnum):
    """Why a message is linked to a task."""

    source = "source"
    """The message opened the task (at most one task each)."""
    manual = "manual"
    """Linked by a person when creating the task."""
    duplicate = "duplicate"
    """Another report of the same problem (another person, another chat), or a message of a
    task merged into this one."""
    detail = "detail"
    """More about the work: reproduction, diagnosis, discussion."""
    update = "update"
    """Moves the work on: taken, fixed, deployed, withdrawn, escalated."""
    answer = "answer"
    """Someone else's answer to the question the task asks."""
    plus_one = "plus_one"
    """"+1", "same here", "у мене теж": one more reporter, never a task."""


class Resolution(StrEnum):
    """Why a done task is done, when it is not plain work finished."""

    answered = "answered"
    """A question answered in the chat."""


class ChangeOrigin(StrEnum):
    """Who changed a task: the chat (a message is the evidence), a person, or the team's tracker."""

    chat = "chat"
    human = "human"
    tracker = "tracker"
    """The exported issue was closed, reopened or reassigned there (author: the target's name)."""
    llm = "llm"
    """The LLM wrote the title and summary from the conversation (core.conversations.summaries)."""


class LabelAction(StrEnum):
    """What a person did, as recorded on a label."""

    accept = "accept"
    reject = "reject"
    correct = "correct"
    assign = "assign"
    merge = "merge"
    track = "track"
    ignore = "ignore"
    move = "move"
    """A message moved to another task or a task of its own: a grouping label."""


class LabelOrigin(StrEnum):
    """Where a person took the decision."""

    dashboard = "dashboard"
    api = "api"
    bot = "bot"


class MessageBase(SQLModel):
    """What a chat message says and where it comes from: every channel gives these columns."""

    source: str = Field(max_length=32)
    chat_id: str = Field(max_length=128)
    external_id: str = Field(max_length=128)
    text: str = Field(sa_type=Text)
    chat_title: str | None = Field(default=None, max_length=256)
    author_id: str | None = Field(default=None, max_length=128)
    author: str | None = Field(default=None, max_length=256)
    sent_at: datetime | None = _ts()
    reply_to_external_id: str | None = Field(default=None, max_length=128)
    thread_id: str | None = Field(default=None, max_length=128)
    thread_title: str | None = Field(default=None, max_length=256)
    media_kind: str | None = Field(default=None, max_length=32)
    forwarded_from: str | None = Field(default=None, max_length=256)


class MessageRecord(MessageBase):
    """A stored message as readers see it: the columns the system sets on top of the channel's."""

    edited_at: datetime | None = _ts()
    deleted_at: datetime | None = _ts()
    """When the channel said the message was deleted: it is kept, marked (Slack deletions)."""
    reply_to_id: int | None = Field(default=None, sa_type=BigInteger, foreign_key="messages.id")
    conversation_id: int | None = Field(default=None, sa_type=BigInteger, foreign_key="conversations.id")
    status: MessageStatus = Field(default=MessageStatus.pending, sa_type=String(16))
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Message(MessageRecord, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("source", "chat_id", "external_id", name="uq_messages_source_chat_ext"),
        Index("ix_messages_chat_sent", "chat_id", "sent_at"),
        Index("ix_messages_status_next", "status", "next_attempt_at"),
        Index(
            "ix_messages_reply_waiting",
            "source",
            "chat_id",
            "reply_to_external_id",
            postgresql_where=text("reply_to_id IS NULL AND reply_to_external_id IS NOT NULL"),
        ),
        Index("ix_messages_reply_to_id", "reply_to_id", postgresql_where=text("reply_to_id IS NOT NULL")),
        Index(
            "ix_messages_conversation",
            "conversation_id",
            postgresql_where=text("conversation_id IS NOT NULL"),
        ),
        Index("ix_messages_text_fts", text("to_tsvector('simple'::regconfig, text)"), postgresql_using="gin"),
    )

    id: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    revision: int = 1
    """Bumped on every edit; a classification belongs to one revision."""
    next_attempt_at: datetime | None = _ts()
    last_error: str | None = Field(default=None, sa_type=Text)


SEARCH_CONFIG: ColumnElement[Any] = literal_column("'simple'::regconfig")
MESSAGE_WORDS = func.to_tsvector(SEARCH_CONFIG, Message.__table__.c.text)  # type: ignore[attr-defined]
"""The words of a message's text, for full-text search: the expression ix_messages_text_fts indexes."""


class Provenance(SQLModel):
    """How a classification was obtained: classifier, model and prompt versions, spend, doubts."""

    # Lengths on the column types only: an outcome is not refused for a long model name.
    classifier: str = Field(sa_type=String(32))
    classifier_version: str | None = Field(default=None, sa_type=String(64))
    model: str | None = Field(default=None, sa_type=String(128))
    prompt_version: str | None = Field(default=None, sa_type=String(64))
    input_tokens: int = 0
    output_tokens: int = 0
    llm_calls: int = 0
    latency_ms: float = 0.0
    needs_review: bool = False
    error: str | None = Field(default=None, sa_type=Text)

    def provenance(self) -> dict[str, Any]:
        """The provenance fields alone, to record on another row."""
        return {name: getattr(self, name) for name in Provenance.model_fields}


class IssueBase(Provenance):
    """A message's classification (empty when it failed) and its provenance."""

    kind: Kind | None = Field(default=None, sa_type=String(16))
    priority: Priority | None = Field(default=None, sa_type=String(16))
    title: str | None = Field(default=None, max_length=200)
    confidence: float | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Issue(IssueBase, table=True):
    """The AI classification result of one message revision; one current per message."""

    __tablename__ = "issues"
    __table_args__ = (
        Index(
            "uq_issues_current_message",
            "message_id",
            unique=True,
            postgresql_where="is_current",
        ),
    )

    id: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    message_id: int = Field(sa_type=BigInteger, foreign_key="messages.id", index=True)
    revision: int = 1
    is_current: bool = True


class TaskBase(SQLModel):
    """What a person says a task is: the fields a new task is given."""

    title: str = Field(max_length=200)
    kind: Kind = Field(default=Kind.task, sa_type=String(16))
    priority: Priority = Field(default=Priority.medium, sa_type=String(16))
    description: str | None = Field(default=None, sa_type=Text)
    assignee: str | None = Field(default=None, max_length=128)


class TaskRecord(TaskBase):
    """A stored task as readers see it: its state and where it came from."""

    status: TaskStatus = Field(default=TaskStatus.new, sa_type=String(16))
    chat_id: str | None = Field(default=None, max_length=128)
    confidence: float | None = None
    needs_review: bool = False
    merged_into_id: int | None = Field(default=None, sa_type=BigInteger, foreign_key="tasks.id")
    resolution: Resolution | None = Field(default=None, sa_type=String(16))
    reporters: int = 1
    """People who reported the problem: the first report, duplicates and "+1"s."""
    version: int = 1
    """Optimistic lock: an update names the version it saw."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Task(TaskRecord, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_status_priority_created", "status", "priority_rank", "created_at"),
        Index("ix_tasks_chat", "chat_id"),
        Index("ix_tasks_created", "created_at"),
        Index(
            "ix_tasks_triage",
            "status",
            "priority_rank",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_where=text("merged_into_id IS NULL"),
        ),
        Index("ix_tasks_assignee", "assignee"),
        trigram_index("ix_tasks_title_trgm", "title"),
    )

    id: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    priority_rank: int = 2
    """0 = critical … 3 = low: sorts critical first with a plain index."""


class TaskMessage(SQLModel, table=True):
    """Which messages a task came from; `source` messages open at most one task each."""

    __tablename__ = "task_messages"
    __table_args__ = (
        Index(
            "uq_task_messages_source_message",
            "message_id",
            unique=True,
            postgresql_where="role = 'source'",
        ),
        Index("ix_task_messages_message", "message_id"),
    )

    task_id: int = Field(sa_type=BigInteger, foreign_key="tasks.id", primary_key=True)
    message_id: int = Field(sa_type=BigInteger, foreign_key="messages.id", primary_key=True)
    role: TaskMessageRole = Field(default=TaskMessageRole.source, sa_type=String(16))


class Conversation(SQLModel, table=True):
    """Messages of one chat about one thing: a reply chain, a topic's exchange, the follow-ups.

    `authors` and `terms` summarise the messages for placing the next one; a conversation
    opens a task with its first actionable message.
    """

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_chat_last", "source", "chat_id", "last_message_at"),)

    id: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    source: str = Field(max_length=32)
    chat_id: str = Field(max_length=128)
    thread_id: str | None = Field(default=None, max_length=128)
    task_id: int | None = Field(default=None, sa_type=BigInteger, foreign_key="tasks.id", index=True)
    started_at: datetime = Field(sa_type=DateTime(timezone=True))
    last_message_at: datetime = Field(sa_type=DateTime(timezone=True))
    last_author_id: str | None = Field(default=None, max_length=128)
    message_count: int = 0
    authors: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSONType))
    """author id -> name of everyone who wrote in it."""
    terms: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSONType))
    """Word stems of its messages and their counts (text.terms)."""


class TaskChange(SQLModel, table=True):
    """One change of a task's field, with the message that caused it (chat) or the person."""

    __tablename__ = "task_changes"
    __table_args__ = (
        # Where a batch's messages already stand (placement reads the changes they caused).
        Index("ix_task_changes_message", "message_id", postgresql_where=text("message_id IS NOT NULL")),
    )

    id: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    task_id: int = Field(sa_type=BigInteger, foreign_key="tasks.id", index=True)
    field: str = Field(max_length=32)
    old: str | None = Field(default=None, max_length=256)
    new: str | None = Field(default=None, max_length=256)
    origin: ChangeOrigin = Field(sa_type=String(16))
    message_id: int | None = Field(default=None, sa_type=BigInteger, foreign_key="messages.id")
    author: str | None = Field(default=None, max_length=256)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class ExportStatus(StrEnum):
    """Where a task's export to one target stands."""

    pending = "pending"
    """To create (or to bring up to date) in the target; the worker picks it up."""
    exported = "exported"
    """The target has it, as of `synced_version`."""
    failed = "failed"
    """The target refused it (a 4xx): `last_error` says why; a person can retry."""


class ExportTrigger(StrEnum):
    """When a target receives a task on its own (besides a person's "Export to ...")."""

    accept = "accept"
    create = "create"
    critical = "critical"


class ExportTarget(SQLModel, table=True):
    """A tracker tasks are exported to: Redmine, GitHub, Jira or a webhook.

    The token or signing secret is stored Fernet-encrypted (core.exports.vault).
    """

    __tablename__ = "export_targets"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    type: str = Field(max_length=16)
    url: str = Field(max_length=1024)
    project: str | None = Field(default=None, max_length=256)
    secret: str | None = Field(default=None, sa_type=Text)
    """The encrypted token (Redmine, GitHub, Jira) or signing secret (webhook)."""
    hook_secret: str | None = Field(default=None, sa_type=Text)
    """The encrypted secret the tracker's own webhooks are signed with (GitHub, Jira)."""
    triggers: list[str] = Field(default_factory=lambda: ["accept"], sa_column=Column(JSONType))
    chats: list[str] = Field(default_factory=list, sa_column=Column(JSONType))
    """Chat ids whose tasks go there on their own; empty: every chat."""
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    """Per-type mappings (kind -> tracker / issue type, priority -> the tracker's, logins)."""
    polled_at: datetime | None = _ts()
    """Redmine: the newest `updated_on` seen by the poller."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class TaskExport(SQLModel, table=True):
    """A task in one target: written before the call, so a crash never makes a second one."""

    __tablename__ = "task_exports"
    __table_args__ = (
        UniqueConstraint("task_id", "target", name="uq_task_exports_task_target"),
        Index("ix_task_exports_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_task_exports_external", "target", "external_id"),
    )

    id: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    task_id: int = Field(sa_type=BigInteger, foreign_key="tasks.id", index=True)
    target: str = Field(max_length=64)
    external_id: str | None = Field(default=None, max_length=256)
    url: str | None = Field(default=None, max_length=1024)
    status: ExportStatus = Field(default=ExportStatus.pending, sa_type=String(16))
    marker: str = Field(max_length=64)
    """Ours, written into the external issue: looked for before creating it again."""
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    next_attempt_at: datetime | None = _ts()
    leased_until: datetime | None = _ts()
    """A worker is calling the target until then; another one leaves the row alone."""
    synced_version: int = 0
    """The task version the target last received."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Label(SQLModel, table=True):
    """A human decision about a message: the best training and evaluation data there is."""

    __tablename__ = "labels"
    __table_args__ = (Index("ix_labels_task", "task_id"),)

    id: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    message_id: int = Field(sa_type=BigInteger, foreign_key="messages.id", index=True)
    task_id: int | None = Field(default=None, sa_type=BigInteger, foreign_key="tasks.id")
    kind: Kind = Field(sa_type=String(16))
    priority: Priority | None = Field(default=None, sa_type=String(16))
    title: str | None = Field(default=None, max_length=200)
    action: LabelAction = Field(sa_type=String(32))
    origin: LabelOrigin = Field(sa_type=String(32))
    author: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Event(SQLModel, table=True):
    """Outbox of live events; `seq` orders them for WebSocket catch-up (?since=SEQ)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_type_seq", "type", "seq"),)

    seq: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    type: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Prompt(SQLModel, table=True):
    __tablename__ = "prompts"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=64, unique=True)
    text: str = Field(sa_type=Text)
    model: str | None = Field(default=None, max_length=128)
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    active: bool = False
    notes: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class LocalModel(SQLModel, table=True):
    """A trained local classifier: its version, training data hash and metrics."""

    __tablename__ = "local_models"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=64, unique=True)
    data_hash: str = Field(max_length=64)
    path: str = Field(max_length=1024)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    n_examples: int = 0
    active: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class EvalRun(SQLModel, table=True):
    __tablename__ = "eval_runs"

    id: int | None = Field(default=None, primary_key=True)
    dataset: str = Field(max_length=512)
    classifier: str = Field(max_length=32)
    classifier_version: str | None = Field(default=None, max_length=64)
    prompt_version: str | None = Field(default=None, max_length=64)
    model: str | None = Field(default=None, max_length=128)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    predictions: list[Any] = Field(default_factory=list, sa_column=Column(JSONType))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class LLMCacheEntry(SQLModel, table=True):
    """Cached LLM results keyed by hash(text, context, prompt version, model)."""

    __tablename__ = "llm_cache"

    key: str = Field(max_length=64, primary_key=True)
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


PRIORITY_RANK = {Priority.critical: 0, Priority.high: 1, Priority.medium: 2, Priority.low: 3}


class TaskSummary(SQLModel, table=True):
    """How many conversation messages a task's LLM title and summary were written from."""

    __tablename__ = "task_summaries"

    task_id: int = Field(sa_type=BigInteger, foreign_key="tasks.id", primary_key=True, ondelete="CASCADE")
    messages: int
    key: str = Field(max_length=64)
    """The cache key the summary was found under (message ids, prompt version, model)."""
    summarized_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class SummaryCall(SQLModel, table=True):
    """One LLM call made for task summaries (several tasks each): what it cost."""

    __tablename__ = "summary_calls"

    id: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    tasks: int
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class MailboxState(SQLModel, table=True):
    """How far a mailbox has been read: the highest UID stored, under the UIDVALIDITY it
    belongs to (a new UIDVALIDITY means the server renumbered the folder)."""

    __tablename__ = "mailbox_states"

    mailbox: str = Field(max_length=128, primary_key=True)
    """The mailbox as a chat: host/folder, the chat id its emails are stored under."""
    uid_validity: int = Field(sa_type=BigInteger)
    last_uid: int = Field(sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
