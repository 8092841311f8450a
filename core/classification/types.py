"""The classification contract (../shared/TAXONOMY.md) as types every classifier shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, Field, field_validator

from core.models import Kind, Priority, Provenance


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


class Outcome(Provenance):
    """A classification (None when none came out) and how it was obtained: the issue row's provenance."""

    result: Classification | None


class LLMUnavailable(Exception):
    """The LLM endpoint cannot be reached: the message must wait, not get a wrong label."""


class Classifier(Protocol):
    """Anything that classifies a batch of messages, one outcome per input, same order."""

    name: str

    async def classify(self, messages: list[MessageInput]) -> list[Outcome]: ...
