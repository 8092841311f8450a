"""`tracker import …`: the group every channel's history import adds its command to."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

console = Console(stderr=True)
import_app = typer.Typer(help="Bring chat history in.", no_args_is_help=True)
Shown = Callable[[int, int, int, int], None]
"""Progress so far: done, total, new messages, known ones."""


def fail(message: str, code: int = 1) -> typer.Exit:
    """Say what went wrong (and how to fix it) on stderr; exit with `code`."""
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextlib.contextmanager
def counted_progress(what: str, wanted: bool = True) -> Iterator[Shown | None]:
    """A progress bar over a count (day files, mailbox messages), on a terminal."""
    if not (wanted and console.is_terminal):
        yield None
        return
    columns = (
        TextColumn(f"importing {what}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[stored]:,} new, {task.fields[existing]:,} known"), TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("import", total=None, stored=0, existing=0)
        yield lambda done, total, stored, existing: bar.update(
            task, completed=done, total=total, stored=stored, existing=existing
        )
