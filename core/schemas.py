"""Public shapes: what the API, the bot and importers send and receive."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from annotated_types import Ge, Le
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from core.models import Kind, MessageStatus, Priority, TaskStatus

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


def plausible_time(value: datetime) -> datetime:
    """A timezone-aware time in years 1900-2999 (a naive one is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None
    if not 1900 <= value.year <= 2999:
        raise ValueError("must be between the years 1900 and 2999")
    return value


Storable = Annotated[str, AfterValidator(storable)]
"""A string parameter (query or body) that is safe to send to PostgreSQL."""
RowId = Annotated[int, Ge(1), Le(MAX_ID)]
Offset = Annotated[int, Ge(0), Le(MAX_ID)]

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
ShortText = Annotated[str, StringConstraints(max_length=256)]


class Strict(BaseModel):
    """Input models: unknown fields refused, every string checked by `storable`."""

    model_config = ConfigDict(extra="forbid", strict=False)

    @field_validator("*")
    @classmethod
    def _storable_strings(cls, value: object) -> object:
        return storable(value) if isinstance(value, str) else value


class MessageIn(Strict):
    """One incoming chat message: the public contract of POST /api/messages."""

    source: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    chat_id: Id
    external_id: Id
    text: str = Field(description="Message text; at most TRACKER_MAX_TEXT_BYTES bytes (UTF-8)")
    chat_title: ShortText | None = None
    author_id: Annotated[str, StringConstraints(max_length=128)] | None = None
    author: ShortText | None = None
    sent_at: Annotated[datetime, AfterValidator(plausible_time)] | None = None
    reply_to_external_id: Annotated[str, StringConstraints(max_length=128)] | None = None
    thread_id: Annotated[str, StringConstraints(max_length=128)] | None = None
    thread_title: ShortText | None = None
    media_kind: Annotated[str, StringConstraints(max_length=32)] | None = None
    forwarded_from: ShortText | None = None
    classify: bool = True
    """False stores a message that is never classified (service messages)."""


class MessageBatchIn(Strict):
    messages: list[MessageIn] = Field(min_length=1)


class IssuePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: Kind | None
    priority: Priority | None
    title: str | None
    confidence: float | None
    classifier: str
    classifier_version: str | None
    model: str | None
    prompt_version: str | None
    input_tokens: int
    output_tokens: int
    latency_ms: float
    needs_review: bool
    error: str | None
    created_at: datetime


class MessagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str
    chat_id: str
    chat_title: str | None
    external_id: str
    author_id: str | None
    author: str | None
    text: str
    sent_at: datetime | None
    edited_at: datetime | None
    reply_to_external_id: str | None
    reply_to_id: int | None
    thread_id: str | None
    thread_title: str | None
    media_kind: str | None
    forwarded_from: str | None
    status: MessageStatus
    attempts: int
    created_at: datetime
    issue: IssuePublic | None = None


class TaskCreate(Strict):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    kind: Kind = Kind.task
    priority: Priority = Priority.medium
    description: Annotated[str, StringConstraints(max_length=16384)] | None = None
    message_ids: list[RowId] = Field(default_factory=list, max_length=1000)
    assignee: Annotated[str, StringConstraints(max_length=128)] | None = None


class TaskUpdate(Strict):
    status: TaskStatus | None = None
    kind: Kind | None = None
    priority: Priority | None = None
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = (
        None
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


class TaskPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str | None
    kind: Kind
    priority: Priority
    status: TaskStatus
    assignee: str | None
    chat_id: str | None
    confidence: float | None
    needs_review: bool
    merged_into_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    message_ids: list[int] = Field(default_factory=list)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
