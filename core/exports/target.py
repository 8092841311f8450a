"""The one small interface every target implements, and the errors it raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import SecretStr

from core.exports.document import Document


class ExportError(Exception):
    """A call to a target that did not succeed; the message is safe to store and show."""


class Retryable(ExportError):
    """Timeout, 5xx or 429: try again later (after `retry_after` seconds when the target said)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Refused(ExportError):
    """A 4xx (or a configuration we cannot use): failed until a person fixes and retries it."""


@dataclass(frozen=True)
class Remote:
    """The external issue: its id in the target and where people open it."""

    external_id: str
    url: str | None = None


@dataclass(frozen=True)
class TargetConfig:
    """A stored target with its secrets decrypted (never logged: SecretStr)."""

    name: str
    type: str
    url: str
    project: str | None = None
    secret: SecretStr | None = None
    hook_secret: SecretStr | None = None
    options: dict[str, Any] = field(default_factory=dict)


class Target(Protocol):
    """A tracker: find our issue by its marker, create it, bring it up to date, check access."""

    async def find(self, doc: Document) -> Remote | None: ...

    async def create(self, doc: Document) -> Remote: ...

    async def update(self, remote: Remote, doc: Document) -> None: ...

    async def check(self) -> str:
        """Whom the credentials act as (raises Refused when they do not work)."""
        ...
