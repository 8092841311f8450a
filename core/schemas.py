"""Public shapes: what the API, the bot and importers send and receive."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from annotated_types import Ge, Le
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
)
from sqlmodel import SQLModel
from sqlmodel.main import SQLModelConfig

from core.models import (
    ChangeOrigin,
    ExportStatus,
    IssueBase,
    Kind,
    MessageBase,
    MessageRecord,
    Priority,
    TaskBase,
    TaskMessageRole,
    TaskRecord,
    TaskStatus,
)

T = TypeVar("T")

MAX_ID = 2**63 - 1
"""Row ids are PostgreSQL bigints: a larger number can name no row."""


def storable(value: str) -> str:
    """Refuse text PostgreSQL cannot store: NUL bytes and lone UTF-16 surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL bytes")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (lone surrogate)") from None
    return value


PLAUSIBLE_YEARS = r"^(19\d\d|2\d\d\d)-"
"""The years a message time may have, as the API schema's pattern says (1900-2999)."""


def plausible_time(value: datetime) -> datetime:
    """A time in years 1900-2999, as written, made timezone-aware UTC (a naive one is taken as UTC)."""
    if not 1900 <= value.year <= 2999:
        raise ValueError("must be between the years 1900 and 2999")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def written_time(value: object) -> object:
    """Refuse a number for a time: the schema offers an ISO 8601 string (or a datetime in Python)."""
    if not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 time such as 2026-11-21T10:00:00Z")
    return value


SentAt = Annotated[
    datetime,
    BeforeValidator(written_time),
    AfterValidator(plausible_time),
    Field(json_schema_extra={"pattern": PLAUSIBLE_YEARS}),
]
"""An ISO 8601 string in JSON (not a number, which the schema does not offer), in years 1900-2999."""
Storable = Annotated[str, AfterValidator(storable)]
"""A string parameter (query or body) that is safe to send to PostgreSQL."""
RowId = Annotated[int, Ge(1), Le(MAX_ID)]
Offset = Annotated[int, Ge(0), Le(MAX_ID)]

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class Strict(SQLModel):
    """Input models: unknown fields refused, every string checked by `storable`.

    A SQLModel, so that the create shapes can take their fields from the tables' bases.
    """

    model_config = SQLModelConfig(extra="forbid", strict=False)

    @field_validator("*")
    @classmethod
    def _storable_strings(cls, value: object) -> object:
        return storable(value) if isinstance(value, str) else value


class MessageCreate(MessageBase, Strict):
    """One incoming chat message: the public contract of POST /api/messages."""

    source: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    chat_id: Id
    external_id: Id
    text: str = Field(description="Message text; at most TRACKER_MAX_TEXT_BYTES bytes (UTF-8)")
    sent_at: SentAt | None = None
    classify: StrictBool = True
    """False stores a message that is never classified (service messages)."""


class MessageBatchIn(Strict):
    messages: list[MessageCreate] = Field(min_length=1)


PUBLIC = SQLModelConfig(json_schema_serialization_defaults_required=True)
"""Output models: a field with a default is still always sent, so the API schema says it is required."""


class IssuePublic(IssueBase):
    """A message's current classification, as the API shows it."""

    model_config = PUBLIC


class MessagePublic(MessageRecord):
    """A stored message and its current classification, as the API shows it."""

    model_config = PUBLIC

    id: int
    issue: IssuePublic | None = None


class TaskCreate(TaskBase, Strict):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(max_length=16384)] | None = None
    message_ids: list[RowId] = Field(default_factory=list, max_length=1000)


def _not_null(schema: dict[str, Any]) -> None:
    """The field's JSON Schema without its null branch: it may be left out, not sent as null."""
    schema["anyOf"] = [branch for branch in schema["anyOf"] if branch != {"type": "null"}]
    schema.pop("default", None)


LEFT_OUT: Any = Field(default=None, json_schema_extra=_not_null)
"""A field that may be left out but not null (a validator refuses null; the schema says so)."""


class TaskUpdate(Strict):
    """Fields left out stay as they are; status, kind, priority and title may not be null."""

    status: TaskStatus | None = LEFT_OUT
    kind: Kind | None = LEFT_OUT
    priority: Priority | None = LEFT_OUT
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = (
        LEFT_OUT
    )
    assignee: Annotated[str, StringConstraints(max_length=128)] | None = None
    expected_version: int | None = None
    """Optimistic lock: the version the client saw; a newer one gives 409."""

    @field_validator("status", "kind", "priority", "title")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


class TaskPublic(TaskRecord):
    """A task and the messages it came from, as the API shows it."""

    model_config = PUBLIC

    id: int
    message_ids: list[int] = Field(default_factory=list)


class TaskMerge(Strict):
    into_id: RowId
    """The task that takes this one's messages (this one is a duplicate of it)."""
    expected_version: int | None = None


class MessageMove(Strict):
    into_id: RowId | None = None
    """The task the message moves to; none: a new task of its own (a split)."""


class TaskMessagePublic(SQLModel):
    """A message of a task's conversation, with its role."""

    model_config = PUBLIC

    message_id: int
    role: TaskMessageRole
    author: str | None = None
    sent_at: datetime | None = None
    text: str


class TaskChangePublic(SQLModel):
    """One change of a task: the field, old and new value, and its evidence."""

    model_config = PUBLIC

    field: str
    old: str | None = None
    new: str | None = None
    origin: ChangeOrigin
    message_id: int | None = None
    author: str | None = None
    created_at: datetime


class SimilarTask(SQLModel):
    """An open task about something alike (a merge candidate)."""

    model_config = PUBLIC

    id: int
    title: str
    status: TaskStatus
    similarity: float


class ExportPublic(SQLModel):
    """A task's export to one target: where it stands and where people open it."""

    model_config = PUBLIC

    target: str
    status: ExportStatus
    external_id: str | None = None
    url: str | None = None
    attempts: int = 0
    last_error: str | None = None
    """The target's reason when it refused (or the last retried error)."""
    updated_at: datetime


class ExportRequest(Strict):
    target: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    """The name of a target (`tracker exports list`)."""


class TaskDetail(TaskPublic):
    """A task with its conversation, its history, the open tasks most like it and its exports."""

    messages: list[TaskMessagePublic] = Field(default_factory=list)
    history: list[TaskChangePublic] = Field(default_factory=list)
    similar: list[SimilarTask] = Field(default_factory=list)
    exports: list[ExportPublic] = Field(default_factory=list)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
