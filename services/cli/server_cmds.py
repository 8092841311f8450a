"""`tracker up | demo | api | worker`: run the system on embedded or configured servers."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console

from core.config import Settings
from core.runtime.embedded import child_env
from core.runtime.secrets import with_secrets
from core.runtime.system import System, open_system
from services.cli.reload import restarted_on_change

console = Console(stderr=True)
DASHBOARD = Path(__file__).parents[2] / "apps" / "dashboard.py"


def _prepared() -> System:
    settings = with_secrets(Settings())
    settings.runtime_dir.mkdir(parents=True, exist_ok=True)
    with console.status("starting PostgreSQL and NATS…"):
        return open_system(settings)


def _command(part: str, settings: Settings, reload: bool = False) -> list[str]:
    """How `tracker` starts one part of the system: a child process (no service imports another),
    with `reload` one that restarts when its code changes."""
    python = sys.executable
    command = [python, "-m", f"services.{part}"]
    if part == "dashboard":
        # toolbarMode=viewer: no "Deploy" button or developer menu for the people who triage.
        command = [
            python, "-m", "streamlit", "run", str(DASHBOARD), "--server.headless=true",
            f"--server.port={settings.dashboard_port}", "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false", "--client.toolbarMode=viewer",
        ]  # fmt: skip
    return restarted_on_change(part, command) if reload else command


def _everything(settings: Settings) -> list[str]:
    """The parts `tracker up` runs: the bot too when it has a token."""
    return ["api", "worker", "dashboard"] + (["bot"] if settings.telegram_bot_token else [])


def _wait_healthy(settings: Settings, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{settings.api_url}/api/health", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


def _supervise(
    system: System,
    parts: list[str],
    after_start: Callable[[System], None] | None = None,
    reload: bool = False,
) -> int:
    """Run the parts as children until one exits or a signal comes; then stop everything."""
    settings = system.settings
    stop = {"signal": 0}

    def on_signal(signum: int, _frame: object) -> None:
        stop["signal"] = signum

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    env = child_env(settings)
    procs = {part: subprocess.Popen(_command(part, settings, reload), env=env) for part in parts}
    code = 0
    try:
        if "api" not in parts or _wait_healthy(settings):
            _announce(settings, list(procs))
            if after_start is not None:
                after_start(system)
        else:
            console.print("[red]the API did not become healthy; see the output above[/red]")
            code = 1
        while code == 0 and not stop["signal"]:
            exited = [(n, p.returncode) for n, p in procs.items() if p.poll() is not None]
            if exited:
                console.print(f"[red]{exited[0][0]} exited with {exited[0][1]}; stopping[/red]")
                code = exited[0][1] or 1
            time.sleep(0.2)
    finally:
        _stop_children(procs)
        system.close()
        console.print("stopped")
    return code


def _stop_children(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in procs.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _announce(settings: Settings, parts: list[str]) -> None:
    key = settings.api_key.get_secret_value() if settings.api_key else ""
    console.print(f"[bold green]Task Tracker is up[/bold green] ({', '.join(parts)})")
    if "api" in parts:
        console.print(f"  API:        {settings.api_url}  (docs: {settings.api_url}/docs)")
        console.print(f"  API key:    {key}")
    if "dashboard" in parts:
        password = settings.dashboard_password.get_secret_value() if settings.dashboard_password else ""
        console.print(f"  Dashboard:  http://127.0.0.1:{settings.dashboard_port}  (password: {password})")
    console.print(f"  Data:       {settings.runtime_dir}")
    console.print("  Ctrl-C stops everything.")


def up(
    reload: Annotated[bool, typer.Option(help="Restart a part when its code changes (development)")] = False,
) -> None:
    """Start PostgreSQL, NATS, the API, the worker (and dashboard, bot) in the foreground."""
    system = _prepared()
    raise typer.Exit(_supervise(system, _everything(system.settings), reload=reload))


def demo() -> None:
    """`up`, then import a demo team chat through the real pipeline."""
    system = _prepared()
    raise typer.Exit(_supervise(system, _everything(system.settings), after_start=send_demo))


def send_demo(system: System) -> None:
    """Import the bundled demo chat (a Telegram Desktop export) through core."""
    from services.cli.telegram_cmds import import_demo

    report = import_demo(system)
    console.print(f"  Demo:       {report.stored} new demo chat messages imported")


def api(
    port: Annotated[int | None, typer.Option(help="Port (default TRACKER_API_PORT)")] = None,
) -> None:
    """Run one API process (several may run at once on different ports)."""
    system = _prepared()
    if port:
        system.settings = system.settings.model_copy(update={"api_port": port})
    raise typer.Exit(_supervise(system, ["api"]))


def worker() -> None:
    """Run one worker process (several may run at once)."""
    raise typer.Exit(run_parts(["worker"]))


def dashboard() -> None:
    """Run only the dashboard (start the API and worker with `tracker up`, or `tracker api` / `worker`)."""
    raise typer.Exit(run_parts(["dashboard"]))


def run_parts(parts: list[str]) -> int:
    """Run some parts of the system on the configured or embedded servers until stopped."""
    return _supervise(_prepared(), parts)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `tracker` app."""
    for command in (up, demo, api, worker, dashboard):
        app.command()(command)
