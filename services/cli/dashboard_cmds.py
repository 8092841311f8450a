"""`tracker dashboard`: the Streamlit dashboard alone, on embedded or configured servers."""

from __future__ import annotations

import signal
import subprocess
import sys

import typer

from core.runtime.embedded import child_env
from services.cli import server_cmds
from services.cli.output import err


def dashboard() -> None:
    """Run only the dashboard (start the API and worker with `tracker up`, or `tracker api` / `worker`)."""
    system = server_cmds._one_part()
    settings = system.settings
    command = server_cmds._optional_children(settings, sys.executable)["dashboard"]
    password = settings.dashboard_password.get_secret_value() if settings.dashboard_password else ""
    url = f"http://127.0.0.1:{settings.dashboard_port}"
    err.print(f"[bold green]Dashboard[/bold green]: {url}  (password: {password})")
    try:
        code = _run_forwarding_signals(command, child_env(settings))
    finally:
        system.close()
    raise typer.Exit(code)


def _run_forwarding_signals(command: list[str], env: dict[str, str]) -> int:
    """Run the dashboard until it exits; Ctrl-C or a SIGTERM here stops it (and then the servers)."""
    proc = subprocess.Popen(command, env=env)

    def forward(signum: int, _frame: object) -> None:
        proc.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    return proc.wait()


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `tracker` app."""
    app.command()(dashboard)
