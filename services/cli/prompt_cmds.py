"""`tracker prompts list | show | add | activate`: the LLM classifier's prompt versions."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from core.classification import prompts
from core.config import Settings
from core.db import Session
from core.runtime.system import open_system
from services.cli.output import console, fail

prompts_app = typer.Typer(name="prompts", help="Prompt versions of the LLM classifier.", no_args_is_help=True)


@contextmanager
def _session() -> Iterator[Session]:
    """A transaction on the system's database (the data dir's embedded one started if needed)."""
    with open_system(Settings(), nats=False) as system, system.session() as session:
        yield session


@prompts_app.command("list")
def list_cmd() -> None:
    """List the stored versions; * marks the active one."""
    table = Table("", "version", "model", "settings", "created", "notes")
    with _session() as session:
        for row in prompts.list_prompts(session):
            table.add_row(
                "*" if row.active else "",
                row.version,
                row.model or "",
                json.dumps(row.settings or {}),
                f"{row.created_at:%Y-%m-%d %H:%M}",
                row.notes or "",
            )
    console.print(table)


@prompts_app.command("show")
def show(
    version: Annotated[str | None, typer.Argument(help="Version (default: the active one)")] = None,
) -> None:
    """Print one version's text and what it was written for."""
    with _session() as session:
        if version is None:
            version = prompts.get_active_prompt(session).version
        row = prompts.get_prompt(session, version)
    if row is None:
        raise fail(f"no prompt version {version!r}; see `tracker prompts list`", 1)
    current = prompts.as_version(row)
    console.print(f"[bold]version[/bold] {current.version}{'  (active)' if row.active else ''}")
    console.print(f"[bold]model[/bold]   {current.model or '-'}")
    console.print(f"[bold]settings[/bold] {json.dumps(current.settings)}")
    if row.notes:
        console.print(f"[bold]notes[/bold]   {row.notes}")
    console.print()
    console.print(current.text, markup=False, highlight=False)


def _read_text(file: Path | None, text: str | None) -> str:
    if (file is None) == (text is None):
        raise typer.BadParameter("give the prompt with exactly one of --file or --text")
    if text is not None:
        return text
    assert file is not None
    if str(file) == "-":
        return sys.stdin.read()
    try:
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {file}: {exc.strerror}", param_hint="--file") from exc


def _parse_settings(pairs: list[str]) -> dict[str, Any]:
    """key=value pairs; values are read as JSON when they parse (0.2, true), else as text."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{pair!r} is not key=value", param_hint="--setting")
        try:
            values[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[key.strip()] = raw
    return values


@prompts_app.command("add")
def add(
    version: Annotated[str, typer.Argument(help="New version name, e.g. v2")],
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Prompt text file ('-': stdin)")] = None,
    text: Annotated[str | None, typer.Option("--text", help="Prompt text")] = None,
    model: Annotated[str | None, typer.Option(help="Model it was written for")] = None,
    setting: Annotated[
        list[str] | None, typer.Option("--setting", "-s", help="Sampling setting, e.g. temperature=0.2")
    ] = None,
    notes: Annotated[str | None, typer.Option(help="What changed and why")] = None,
    activate: Annotated[bool, typer.Option(help="Make it the active version")] = False,
) -> None:
    """Store a new prompt version (the worker picks it up when activated, no restart)."""
    body = _read_text(file, text)
    values = _parse_settings(setting or [])
    with _session() as session:
        try:
            prompts.add_prompt(session, version, body, model=model, settings=values, notes=notes)
        except ValueError as exc:
            raise fail(str(exc), 1) from exc
        if activate:
            prompts.activate_prompt(session, version)
    console.print(f"added prompt {version}" + (" (active)" if activate else ""))


@prompts_app.command("activate")
def activate_cmd(version: Annotated[str, typer.Argument(help="Version to make active")]) -> None:
    """Make a version the active one; running workers switch to it within seconds."""
    with _session() as session:
        try:
            prompts.activate_prompt(session, version)
        except KeyError as exc:
            raise fail(f"no prompt version {version!r}; see `tracker prompts list`", 1) from exc
    console.print(f"prompt {version} is active")


def register(app: typer.Typer) -> None:
    """Add `tracker prompts ...` to the `tracker` app."""
    app.add_typer(prompts_app)
