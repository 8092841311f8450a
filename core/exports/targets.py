"""Stored targets: add, list, remove, and open one as a `Target` for a call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import httpx
from pydantic import SecretStr
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.config import Settings
from core.db import driver
from core.exports import github, jira, redmine, webhook
from core.exports.target import Refused, Target, TargetConfig
from core.exports.vault import Vault
from core.models import ExportTarget, ExportTrigger

Opener = Callable[[TargetConfig, httpx.AsyncClient], Target]
TYPES: dict[str, Opener] = {
    "webhook": webhook.Webhook,
    "redmine": redmine.Redmine,
    "github": github.GitHub,
    "jira": jira.Jira,
}
NEEDS_PROJECT = ("redmine", "github", "jira")


class InvalidTarget(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def add_target(
    session: Session,
    row: ExportTarget,
    vault: Vault,
    secret: SecretStr | None,
    hook_secret: SecretStr | None = None,
) -> ExportTarget:
    """Store a new target, its secrets sealed; a bad field raises InvalidTarget naming it."""
    _check(row)
    row.secret, row.hook_secret = vault.seal(secret), vault.seal(hook_secret)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise InvalidTarget("name", f"a target named {row.name!r} exists already") from None
    return row


def _check(row: ExportTarget) -> None:
    if row.type not in TYPES:
        raise InvalidTarget("type", f"{row.type!r} is not one of {', '.join(sorted(TYPES))}")
    if not row.url.startswith(("http://", "https://")):
        raise InvalidTarget("url", "must start with http:// or https://")
    if row.type in NEEDS_PROJECT and not row.project:
        raise InvalidTarget("project", f"a {row.type} target needs --project")
    unknown = sorted(set(row.triggers) - set(ExportTrigger))
    if unknown:
        raise InvalidTarget("on", f"{unknown} not among {[t.value for t in ExportTrigger]}")


def list_targets(session: Session) -> list[ExportTarget]:
    return list(session.exec(select(ExportTarget).order_by(col(ExportTarget.name))).all())


class Rule(NamedTuple):
    """What planning needs of a target: its name, and which tasks it takes on its own."""

    name: str
    triggers: list[str] | None
    chats: list[str] | None


_RULES = "SELECT name, triggers, chats FROM export_targets ORDER BY name"


def target_rules(session: Session) -> list[Rule]:
    """Every target's rule, read on the driver: the pipeline reads them after each batch that
    changed a task, and a select through the session costs five times more."""
    return [Rule(*row) for row in driver(session).execute(_RULES)]


def get_target(session: Session, name: str) -> ExportTarget | None:
    return session.exec(select(ExportTarget).where(ExportTarget.name == name)).first()


def remove_target(session: Session, name: str) -> bool:
    row = get_target(session, name)
    if row is not None:
        session.delete(row)
    return row is not None


def config_of(row: ExportTarget, vault: Vault) -> TargetConfig:
    """The target with its secrets opened, for a call."""
    return TargetConfig(
        row.name,
        row.type,
        row.url.rstrip("/"),
        row.project,
        vault.open(row.secret),
        vault.open(row.hook_secret),
        dict(row.options or {}),
    )


def open_target(config: TargetConfig, client: httpx.AsyncClient) -> Target:
    if config.type not in TYPES:
        raise Refused(f"target {config.name}: unknown type {config.type!r}")
    return TYPES[config.type](config, client)


def public(row: ExportTarget) -> dict[str, Any]:
    """What a person may see of a target: everything but its secrets (only whether it has them)."""
    data = row.model_dump(mode="json", exclude={"secret", "hook_secret"})
    return {**data, "has_secret": row.secret is not None, "has_hook_secret": row.hook_secret is not None}


async def check(config: TargetConfig, settings: Settings) -> str:
    """Call the target with its credentials: whom they act as (raises ExportError when they fail)."""
    async with httpx.AsyncClient(timeout=settings.export_timeout) as client:
        return await open_target(config, client).check()
