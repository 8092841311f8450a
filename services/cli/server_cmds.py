"""`tracker up | demo | api | worker`: run the system on embedded or configured servers."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console

from core.config import Settings
from core.runtime.embedded import child_env, stop_on_signals
from core.runtime.secrets import with_secrets
from core.runtime.supervision import ChildProcess, GaveUp, Part, RestartPolicy, supervise, watched_servers
from core.runtime.system import System, open_system
from services.cli.reload import restarted_on_change

console = Console(stderr=True)
DASHBOARD = Path(__file__).parents[2] / "apps" / "dashboard.py"
HEALTHY_SECONDS = 120.0


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
    """The parts `tracker up` runs: the bot too when it has a token, the mail follower when
    there is a mailbox."""
    optional = {"bot": settings.telegram_bot_token, "mail": settings.email_imap_url}
    return ["api", "worker", "dashboard"] + [part for part, wanted in optional.items() if wanted]


class _NotHealthy(Exception):
    """The API did not answer /api/health with 200 in time."""


async def _api_healthy(settings: Settings) -> bool:
    """Whether /api/health says 200 within HEALTHY_SECONDS."""
    try:
        async with asyncio.timeout(HEALTHY_SECONDS), httpx.AsyncClient(timeout=1) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{settings.api_url}/api/health")).status_code == 200:
                        return True
                await asyncio.sleep(0.1)
    except TimeoutError:
        return False


def _supervise(
    system: System,
    parts: list[str],
    after_start: Callable[[System], None] | None = None,
    reload: bool = False,
) -> int:
    """Run the parts as children, restarted when they exit, until Ctrl-C / SIGTERM (or one keeps
    exiting); then stop everything."""
    try:
        return asyncio.run(_run(system, parts, after_start, reload))
    finally:
        system.close()
        console.print("stopped")


async def _run(
    system: System, parts: list[str], after_start: Callable[[System], None] | None, reload: bool
) -> int:
    settings = system.settings
    stop = stop_on_signals()
    env = child_env(settings)
    children = [ChildProcess(part, _command(part, settings, reload), env) for part in parts]
    watched: list[Part] = [*children, *watched_servers(system.servers, settings.server_check_interval)]
    try:
        for child in children:
            await child.start()
        started = _started(system, parts, after_start)
        await supervise(watched, RestartPolicy.from_settings(settings), stop, _say, also=[started])
        return 0
    except GaveUp as exc:
        console.print(str(exc), style="red", markup=False, highlight=False, soft_wrap=True)
        return 1
    except _NotHealthy:
        console.print("[red]the API did not become healthy; see the output above[/red]")
        return 1
    finally:
        await asyncio.gather(*(child.stop() for child in children))


async def _started(system: System, parts: list[str], after_start: Callable[[System], None] | None) -> None:
    """Once the API answers: say where everything is, then run the after-start hook (the demo)."""
    if "api" in parts and not await _api_healthy(system.settings):
        raise _NotHealthy
    _announce(system.settings, parts)
    if after_start is not None:
        await asyncio.to_thread(after_start, system)


def _say(text: str) -> None:
    console.print(
        f"{time.strftime('%H:%M:%S')} {text}", style="yellow", markup=False, highlight=False, soft_wrap=True
    )


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
    console.print("  A part that exits is restarted; Ctrl-C stops everything.")


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
