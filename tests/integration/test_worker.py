"""The worker as a real process on JetStream: crash recovery, LLM outage, clean shutdown."""

from __future__ import annotations

import asyncio
import signal
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, text

from core.config import Settings
from core.runtime.embedded import free_port
from core.runtime.system import open_system
from core.schemas import MessageCreate
from tests.support.llm_server import require_llm_server, start_llm_server
from tests.support.processes import (
    STARTUP_SECONDS,
    spawn_worker,
    stop_process,
    wait_until,
    worker_process,
    worker_ready,
)

pytestmark = pytest.mark.backbone

TEXTS = [
    "checkout returns 500 since the deploy",
    "додайте експорт у CSV",
    "а де налаштовується ліміт?",
    "please add Olena to the staging project",
    "дякую!",
]


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


async def post(settings: Settings, n: int) -> str:
    """Store and queue n messages through core (as the API does); returns their chat id."""
    chat = uuid.uuid4().hex
    with open_system(settings, migrate=False) as system:
        services = await system.services()
        try:
            for start in range(0, n, 500):
                batch = [
                    MessageCreate(source="api", chat_id=chat, external_id=str(i), text=f"{TEXTS[i % 5]} #{i}")
                    for i in range(start, min(start + 500, n))
                ]
                await services.receive(batch)
        finally:
            await services.close()
    return chat


def classified(engine: Engine, chat: str) -> int:
    return int(
        scalar(engine, "SELECT count(*) FROM messages WHERE chat_id = :c AND status = 'classified'", c=chat)
    )


@pytest.mark.timeout(900)  # two worker start-ups and 2000 classifications on a loaded machine
def test_sigkill_mid_batch_then_restart_loses_nothing(engine: Engine, settings: Settings) -> None:
    n = 2000
    chat = asyncio.run(post(settings, n))
    worker = spawn_worker(settings)
    try:
        wait_until(
            lambda: classified(engine, chat) >= 50, timeout=STARTUP_SECONDS, what="first classifications"
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        done_at_kill = classified(engine, chat)
        assert done_at_kill < n, "the worker finished before it could be killed"
    finally:
        stop_process(worker)
    with worker_process(settings):
        wait_until(lambda: classified(engine, chat) == n, timeout=480, what="all messages classified")
    per_message = "SELECT count(*) FROM issues i JOIN messages m ON m.id = i.message_id WHERE m.chat_id = :c"
    assert scalar(engine, per_message + " AND i.is_current", c=chat) == n
    duplicates = scalar(
        engine,
        "SELECT count(*) FROM (SELECT l.message_id FROM task_messages l JOIN messages m ON m.id = l.message_id"
        " WHERE m.chat_id = :c AND l.role = 'source' GROUP BY 1 HAVING count(*) > 1) d",
        c=chat,
    )
    assert duplicates == 0
    tasks = scalar(engine, "SELECT count(*) FROM tasks WHERE chat_id = :c", c=chat)
    sources = scalar(
        engine,
        "SELECT count(*) FROM task_messages l JOIN messages m ON m.id = l.message_id"
        " WHERE m.chat_id = :c AND l.role = 'source'",
        c=chat,
    )
    assert tasks == sources > 0


def test_sigterm_stops_the_worker_cleanly(settings: Settings) -> None:
    worker = spawn_worker(settings)
    try:
        wait_until(
            lambda: worker_ready(settings) or worker.poll() is not None,
            timeout=STARTUP_SECONDS,
            what="the worker to start",
        )
        assert worker.poll() is None, "worker died on start"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0
    finally:
        stop_process(worker)


@pytest.mark.timeout(900)  # three waits on a loaded machine, each with its own deadline
def test_llm_down_then_back_messages_wait_then_classify(
    engine: Engine, settings: Settings, tmp_path: Any
) -> None:
    require_llm_server()
    port = free_port()
    llm = settings.model_copy(
        update={
            "classifier": "llm",
            "llm_provider": "openai",
            "llm_base_url": f"http://127.0.0.1:{port}/v1",
            "llm_model": "smollm2",
            "llm_batch_size": 5,
            # A batch of real LLM calls on a loaded machine outlasts the fixture's 10 s: with the
            # lease that short, the sweeper and JetStream hand the same batch out again and again.
            "task_ack_wait": 120.0,
        }
    )
    chat = asyncio.run(post(llm, 6))
    pending = "SELECT count(*) FROM messages WHERE chat_id = :c AND status = 'pending' AND attempts > 0"
    with worker_process(llm, TRACKER_LLM_OUTPUT_MODE="prompted"):
        wait_until(
            lambda: scalar(engine, pending, c=chat) == 6, timeout=STARTUP_SECONDS, what="messages waiting"
        )
        assert scalar(engine, "SELECT count(*) FROM issues i JOIN messages m ON m.id = i.message_id "
                      "WHERE m.chat_id = :c", c=chat) == 0  # fmt: skip
        server = start_llm_server(port, tmp_path / "llm.log")
        try:
            settled = (
                "SELECT count(*) FROM messages WHERE chat_id = :c AND status IN ('classified', 'failed')"
            )
            wait_until(lambda: scalar(engine, settled, c=chat) == 6, timeout=480, what="classification")
        finally:
            stop_process(server)
    issues = "SELECT count(*) FROM issues i JOIN messages m ON m.id = i.message_id WHERE m.chat_id = :c"
    assert scalar(engine, issues + " AND i.is_current", c=chat) == 6
    labelled_or_failed = scalar(
        engine, issues + " AND i.is_current AND ((i.kind IS NOT NULL) <> (i.error IS NOT NULL))", c=chat
    )
    assert labelled_or_failed == 6
