"""Real processes for integration tests: API servers and workers as subprocesses."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import nats
from nats.js.errors import NotFoundError

from core.config import Settings
from core.runtime.embedded import child_env, free_port
from core.runtime.queue import make_broker, stream_name

# A process that starts in seconds alone took 95 s at load 15 on 2 cores (aiogram, pydantic-ai imports).
STARTUP_SECONDS = 240.0


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    env = child_env(settings)
    env.update(
        TRACKER_QUEUE_NAME=settings.queue_name,
        TRACKER_CLASSIFIER=settings.classifier,
        TRACKER_TASK_ACK_WAIT=str(settings.task_ack_wait),
        TRACKER_QUEUE_REPLICAS=str(settings.queue_replicas),
        TRACKER_RETRY_BASE_SECONDS=str(settings.retry_base_seconds),
        TRACKER_RETRY_MAX_SECONDS=str(settings.retry_max_seconds),
        TRACKER_LLM_PROVIDER=settings.llm_provider,
        TRACKER_LLM_MODEL=settings.llm_model,
        TRACKER_OLLAMA_URL=settings.ollama_url,
    )
    if settings.llm_base_url:
        env["TRACKER_LLM_BASE_URL"] = settings.llm_base_url
    env.update(extra)
    return env


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 15) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


@contextmanager
def api_process(
    settings: Settings, port: int | None = None, *, healthy: bool = True, **extra: str
) -> Iterator[str]:
    """A real API server (uvicorn in its own process); yields its base URL once /api/health
    says 200 (with healthy=False: once it answers at all, e.g. 503 with a server down)."""
    port = port or free_port()
    env = env_for(settings, TRACKER_API_PORT=str(port), TRACKER_API_HOST="127.0.0.1", **extra)
    proc = subprocess.Popen([sys.executable, "-m", "services.api"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, statuses=(200,) if healthy else (200, 503))
        yield url
    finally:
        stop_process(proc)


@contextmanager
def worker_process(settings: Settings, **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = spawn_worker(settings, **extra)
    try:
        yield proc
    finally:
        stop_process(proc)


def spawn_worker(settings: Settings, **extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "services.worker"], env=env_for(settings, **extra))


def worker_ready(settings: Settings) -> bool:
    """Whether a worker is pulling from the settings' queue (a fetch waits on its consumer)."""
    return asyncio.run(_pulling(settings))


async def _pulling(settings: Settings) -> bool:
    durable = make_broker(settings).consumer_config.durable_name
    nc = await nats.connect(servers=settings.nats_servers)
    try:
        info = await nc.jetstream().consumer_info(stream_name(settings), durable)
    except NotFoundError:
        return False
    finally:
        await nc.close()
    return bool(info.num_waiting)


def wait_healthy(
    url: str,
    proc: subprocess.Popen[bytes] | None = None,
    timeout: float = STARTUP_SECONDS,
    statuses: tuple[int, ...] = (200,),
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} was healthy")
        try:
            if httpx.get(f"{url}/api/health", timeout=10).status_code in statuses:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not healthy within {timeout}s")


def wait_until(predicate, timeout: float = 60, interval: float = 0.1, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


os.environ.setdefault("PYTHONUNBUFFERED", "1")
