"""The `tracker` command: one Typer app; each module registers its own commands."""

from __future__ import annotations

import typer

from services.cli import (
    eval_cmds,
    export_cmds,
    mail_cmds,
    prompt_cmds,
    server_cmds,
    slack_cmds,
    telegram_cmds,
    train_cmds,
)

app = typer.Typer(
    name="tracker",
    help="Task Tracker: turns team chat messages into tracked tasks.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
for module in (
    server_cmds,
    train_cmds,
    eval_cmds,
    telegram_cmds,
    slack_cmds,
    mail_cmds,
    prompt_cmds,
    export_cmds,
):
    module.register(app)


def main() -> None:
    app()
