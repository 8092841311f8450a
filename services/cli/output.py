"""What every `tracker` command prints through: the consoles, the output format, the error exit."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
err = Console(stderr=True)


class Format(StrEnum):
    table = "table"
    json = "json"


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `error: message` on stderr; raise the returned Exit to end with `code`."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def warn(message: str) -> None:
    """Print `warning: message` on stderr."""
    err.print(f"[yellow]warning:[/yellow] {escape(message)}", highlight=False, soft_wrap=True)


def cell(value: Any) -> str:
    """A figure as a table shows it: floats to 4 places, a dash for none."""
    if value is None:
        return "—"
    return f"{value:.4f}" if isinstance(value, float) else str(value)
