"""Scripted classifiers for pipeline tests: they follow the Classifier protocol exactly."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.classification.types import Classification, LLMUnavailable, MessageInput, Outcome
from core.models import Kind, Priority

KEYWORDS = {"fails": Kind.bug, "please add": Kind.task, "how": Kind.question, "wish": Kind.feature}


def keyword_kind(text: str) -> Kind:
    lowered = text.lower()
    return next((kind for word, kind in KEYWORDS.items() if word in lowered), Kind.noise)


@dataclass
class ScriptedClassifier:
    """Labels by keyword; can be told to be unreachable or to fail, and counts its calls."""

    name: str = "scripted"
    unavailable: bool = False
    fail_ids: set[str] = field(default_factory=set)
    calls: list[list[str]] = field(default_factory=list)

    async def classify(self, messages: list[MessageInput]) -> list[Outcome]:
        self.calls.append([m.id for m in messages])
        if self.unavailable:
            raise LLMUnavailable("connection refused")
        return [self._one(m) for m in messages]

    def _one(self, message: MessageInput) -> Outcome:
        if message.id in self.fail_ids:
            return Outcome(
                result=None, classifier=self.name, error="output failed validation after 2 retries"
            )
        kind = keyword_kind(message.text)
        result = Classification(
            kind=kind,
            priority=None if kind == Kind.noise else Priority.high,
            title=message.text[:80],
            confidence=0.9,
        )
        return Outcome(
            result=result,
            classifier=self.name,
            classifier_version="1",
            input_tokens=10,
            output_tokens=5,
            llm_calls=1,
        )
