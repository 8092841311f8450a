"""The classification contract (../shared/TAXONOMY.md) as types every classifier shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel, Field, field_validator

from core.models import Kind, Priority


class Classification(BaseModel):
    """What a classifier says about one message."""

    kind: Kind = Field(description="bug | feature | question | task | noise (see taxonomy)")
    priority: Priority | None = Field(
        default=None, description="critical | high | medium | low; null for noise"
    )
    title: str = Field(
        default="",
        max_length=200,
        description="One line, at most 80 characters, in the message's own language",
    )
    confidence: float = Field(ge=0.0, le=1.0, description="Estimated probability that kind is right")

    @field_validator("title")
    @classmethod
    def _one_line(cls, v: str) -> str:
        return " ".join(v.split())[:80]

    def normalized(self) -> Classification:
        """Noise has no priority; everything actionable has one (medium by default)."""
        if self.kind == Kind.noise:
            return self.model_copy(update={"priority": None})
        return self.model_copy(update={"priority": self.priority or Priority.medium})


@dataclass(frozen=True)
class MessageInput:
    """A message as classifiers see it: its text and the text it replies to."""

    id: str
    text: str
    reply_to: str | None = None


@dataclass
class Outcome:
    """A classification plus how it was obtained (recorded on the issue row)."""

    result: Classification | None
    classifier: str
    classifier_version: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    llm_calls: int = 0
    latency_ms: float = 0.0
    needs_review: bool = False
    error: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


class LLMUnavailable(Exception):
    """The LLM endpoint cannot be reached: the message must wait, not get a wrong label."""


class Classifier(Protocol):
    """Anything that classifies a batch of messages, one outcome per input, same order."""

    name: str

    async def classify(self, messages: list[MessageInput]) -> list[Outcome]: ...
