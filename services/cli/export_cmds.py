"""`tracker exports add | list | remove | test`: the trackers tasks are exported to."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from pydantic import SecretStr
from rich.table import Table

from core.config import Settings
from core.db import Session
from core.exports import targets
from core.exports.target import ExportError
from core.exports.vault import Vault, vault
from core.models import ExportTarget, ExportTrigger
from core.runtime.system import open_system
from services.cli.output import console, fail

exports_app = typer.Typer(
    name="exports", help="Export targets: Redmine, GitHub, Jira, webhooks.", no_args_is_help=True
)


@contextmanager
def _session() -> Iterator[tuple[Session, Vault, Settings]]:
    with open_system(Settings(), nats=False) as system, system.session() as session:
        yield session, vault(system.settings), system.settings


Token = Annotated[
    str | None, typer.Option(envvar="TRACKER_EXPORT_TOKEN", help="API token (Jira: user:token)")
]
Secret = Annotated[str | None, typer.Option(envvar="TRACKER_EXPORT_SECRET", help="Webhook signing secret")]
HookSecret = Annotated[
    str | None,
    typer.Option(envvar="TRACKER_EXPORT_HOOK_SECRET", help="Secret of the tracker's webhooks to us"),
]
Project = Annotated[str | None, typer.Option(help="Redmine project, GitHub owner/repo, Jira project key")]
Chats = Annotated[list[str] | None, typer.Option(help="Only tasks of this chat go on their own (repeatable)")]
Triggers = Annotated[
    list[ExportTrigger] | None, typer.Option(help="When tasks go on their own (repeatable; default accept)")
]
Options = Annotated[str | None, typer.Option(help='Mappings as JSON, e.g. {"priorities": {"low": "Low"}}')]


@exports_app.command("add")
def add_cmd(
    name: Annotated[str, typer.Argument(help="A name for the target (what the API and dashboard call it)")],
    type_: Annotated[str, typer.Option("--type", help="redmine, github, jira or webhook")],
    url: Annotated[str, typer.Option(help="The tracker's base URL, or the webhook's URL")],
    token: Token = None,
    secret: Secret = None,
    hook_secret: HookSecret = None,
    project: Project = None,
    chat: Chats = None,
    on: Triggers = None,
    options: Options = None,
) -> None:
    """Add a target; its token or secret is stored encrypted."""
    triggers = [t.value for t in on or [ExportTrigger.accept]]
    row = ExportTarget(name=name, type=type_, url=url, project=project, chats=chat or [], triggers=triggers,
                       options=_options(options))  # fmt: skip
    key = token if type_ != "webhook" else secret
    with _session() as (session, sealer, _):
        try:
            targets.add_target(session, row, sealer, _secret(key), _secret(hook_secret))
        except targets.InvalidTarget as exc:
            raise fail(f"--{exc.field}: {exc.reason}") from None
    console.print(f"target {name} added ({type_}, on {', '.join(triggers)})")


def _secret(value: str | None) -> SecretStr | None:
    return SecretStr(value) if value else None


def _options(text: str | None) -> dict[str, object]:
    try:
        value = json.loads(text) if text else {}
    except json.JSONDecodeError as exc:
        raise fail(f"--options: not JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise fail("--options: must be a JSON object")
    return value


@exports_app.command("list")
def list_cmd() -> None:
    """The targets (secrets are never shown, only whether one is set)."""
    table = Table("name", "type", "url", "project", "on", "chats", "secret")
    with _session() as (session, _, _):
        for row in targets.list_targets(session):
            table.add_row(
                row.name,
                row.type,
                row.url,
                row.project or "",
                ",".join(row.triggers or []),
                ",".join(row.chats or []) or "all",
                "set" if row.secret else "none",
            )
    console.print(table)


@exports_app.command("remove")
def remove_cmd(name: Annotated[str, typer.Argument(help="The target's name")]) -> None:
    """Remove a target (its pending exports fail with a message saying so)."""
    with _session() as (session, _, _):
        if not targets.remove_target(session, name):
            raise fail(f"no target named {name!r}; see `tracker exports list`", 1)
    console.print(f"target {name} removed")


@exports_app.command("test")
def test_cmd(name: Annotated[str, typer.Argument(help="The target's name")]) -> None:
    """Check the target's URL and credentials with one harmless call."""
    with _session() as (session, sealer, settings):
        row = targets.get_target(session, name)
        if row is None:
            raise fail(f"no target named {name!r}; see `tracker exports list`", 1)
        config = targets.config_of(row, sealer)
    try:
        who = asyncio.run(targets.check(config, settings))
    except ExportError as exc:
        raise fail(f"target {name}: {exc}", 1) from None
    console.print(f"target {name} works: {who}")


def register(app: typer.Typer) -> None:
    """Add `tracker exports ...` to the `tracker` app."""
    app.add_typer(exports_app)
