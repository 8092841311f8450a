"""The structured output the LLM returns: one result per fenced message id."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from core.classification.types import Classification
from core.models import Kind, Priority


class ItemResult(BaseModel):
    """The classification of one message, by the rules in the instructions."""

    model_config = ConfigDict(use_attribute_docstrings=True, coerce_numbers_to_str=True)

    id: str
    """The id attribute of the <message> tag this result is for."""
    kind: Kind
    """bug, feature, question, task or noise."""
    priority: Priority | None = None
    """critical, high, medium or low; null when kind is noise."""
    title: str = ""
    """One line of at most 80 characters, in the message's language: what must be done or what is wrong."""
    confidence: float = Field(ge=0.0, le=1.0)
    """Probability from 0 to 1 that kind is right."""

    @field_validator("kind", "priority", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        """Accept "Bug" or "HIGH"; an empty or "none" priority means none."""
        if not isinstance(value, str):
            return value
        value = value.strip().lower()
        return None if value in ("", "none", "null", "n/a") else value

    @field_validator("confidence", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> Any:
        """Read a percentage (85) as a probability (0.85)."""
        if isinstance(value, int | float) and 1 < value <= 100:
            return value / 100
        return value

    def classification(self) -> Classification:
        """The taxonomy result this item states."""
        return Classification(
            kind=self.kind, priority=self.priority, title=self.title, confidence=self.confidence
        ).normalized()


class BatchResult(BaseModel):
    """One result per message, each with the id of its <message> tag."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[ItemResult]
    """The results, one per message id given."""

    _rejected: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _drop_invalid_items(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> BatchResult:
        """Keep the valid items and note the invalid ones, which are then retried alone."""
        if not (isinstance(data, dict) and isinstance(data.get("items"), list)):
            result: BatchResult = handler(data)
            return result
        valid: list[ItemResult] = []
        rejected: list[str] = []
        for raw in data["items"]:
            try:
                valid.append(ItemResult.model_validate(raw))
            except ValidationError as exc:
                rejected.append(_describe(raw, exc))
        result = handler({**data, "items": valid})
        result._rejected = rejected
        return result

    @property
    def rejected(self) -> list[str]:
        """Why items were dropped (for the retry prompt and the error text)."""
        return self._rejected

    def by_id(self) -> dict[str, ItemResult]:
        """The items by message id; the first one wins when an id repeats."""
        found: dict[str, ItemResult] = {}
        for item in self.items:
            found.setdefault(item.id.strip(), item)
        return found


def _describe(raw: Any, exc: ValidationError) -> str:
    item_id = raw.get("id") if isinstance(raw, dict) else None
    problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return f"item {item_id!r}: {problems}"
