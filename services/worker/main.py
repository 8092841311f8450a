"""The worker: TaskIQ on NATS JetStream runs classification; a sweeper retries due messages."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

import httpx
from taskiq.api import run_receiver_task

from core.classification.factory import build_classifier
from core.classification.types import Classifier
from core.config import Settings
from core.conversations.summaries import Summarizer, build_summarizer
from core.db import session_scope
from core.exports.delivery import Courier, claim_due_exports, deliver
from core.exports.inbound import poll_redmine
from core.exports.vault import vault
from core.runtime.bootstrap import Services
from core.runtime.embedded import stop_on_signals
from core.runtime.group_commit import GroupCommit
from core.runtime.queue import CLASSIFY_TASK, EXPORT_TASK, JOINED, enqueue_exports
from core.runtime.system import open_system
from core.triage.pipeline import claim_due, classify_messages

log = logging.getLogger("tracker.worker")


def register_tasks(services: Services, classifier: Classifier, courier: Courier) -> None:
    """Bind the queue's task names to core's use cases. Classification tasks that arrive while
    a batch is being stored go out together in the next batch (group commit)."""

    async def classify_batch(message_ids: list[int]) -> None:
        await classify_messages(
            message_ids,
            engine=services.engine,
            settings=services.settings,
            classifier=classifier,
            publish=services.publish,
        )

    joined = GroupCommit(classify_batch, max_items=JOINED)

    async def classify(message_ids: list[int]) -> None:
        await joined(message_ids)

    async def export(export_id: int) -> str:
        return await deliver(export_id, courier)

    services.broker.register_task(classify, task_name=CLASSIFY_TASK)
    services.broker.register_task(export, task_name=EXPORT_TASK)


async def sweep(services: Services, interval: float = 1.0) -> None:
    """Re-queue messages whose retry time has come (LLM was down, or a crash lost them)."""
    lease = services.settings.task_ack_wait
    while True:
        try:
            due = await asyncio.to_thread(_claim, services, lease)
            await services.enqueue(list(due))
        except Exception:
            log.exception("sweep failed; trying again")
        await asyncio.sleep(interval)


async def sweep_exports(services: Services, interval: float = 0.5) -> None:
    """Queue exports whose time has come: retries, crashed calls, lost queue messages."""
    lease = services.settings.export_lease
    while True:
        try:
            due = await asyncio.to_thread(_claim_exports, services, lease)
            if due:
                await enqueue_exports(services.broker, due)
        except Exception:
            log.exception("export sweep failed; trying again")
        await asyncio.sleep(interval)


async def summarize(summarizer: Summarizer, services: Services) -> None:
    """Rounds of LLM titles and summaries of the tasks due one; an absent LLM waits a round.

    The LLM's absence is logged when it starts and when it ends, not every round."""
    waiting: str | None = None
    while True:
        try:
            report = await summarizer.round(services.publish)
            waiting = _log_llm_wait(waiting, report.unavailable)
        except Exception:
            log.exception("summaries failed; trying again")
        await asyncio.sleep(services.settings.summary_interval)


def _log_llm_wait(waiting: str | None, unavailable: str | None) -> str | None:
    """Log a change in the LLM's availability; returns what the next round compares with."""
    if unavailable and not waiting:
        log.info("summaries wait for the LLM: %s", unavailable)
    elif waiting and not unavailable:
        log.info("the LLM answers again; summaries go on")
    return unavailable


async def poll_trackers(courier: Courier) -> None:
    """Take back what changed in the trackers that have no webhooks to us (Redmine)."""
    while True:
        try:
            await poll_redmine(courier)
        except Exception:
            log.exception("polling the trackers failed; trying again")
        await asyncio.sleep(courier.settings.export_poll_interval)


async def run_worker(
    settings: Settings, classifier: Classifier | None = None, stop: asyncio.Event | None = None
) -> None:
    """Consume classification tasks until `stop` is set (or SIGINT/SIGTERM arrives)."""
    stop = stop or stop_on_signals()
    with open_system(settings, migrate=False) as system:  # `tracker up` migrated already
        services = await system.services(worker=True)
        async with httpx.AsyncClient(timeout=system.settings.export_timeout) as client:
            courier = Courier(
                system.engine, system.settings, vault(system.settings), client, services.publish
            )
            register_tasks(
                services, classifier or build_classifier(system.settings, engine=system.engine), courier
            )
            loops = [
                asyncio.create_task(run_receiver_task(services.broker, max_async_tasks=16, max_prefetch=0)),
                asyncio.create_task(sweep(services)),
                asyncio.create_task(sweep_exports(services)),
                asyncio.create_task(poll_trackers(courier)),
            ]
            summarizer = build_summarizer(system.settings, system.engine)
            if summarizer is not None:
                loops.append(asyncio.create_task(summarize(summarizer, services)))
            log.info("worker ready (classifier=%s)", settings.classifier)
            await stop.wait()
            for task in reversed(loops):
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        await services.close()


def _claim(services: Services, lease: float) -> list[int]:
    with session_scope(services.engine) as session:
        return claim_due(session, lease)


def _claim_exports(services: Services, lease: float) -> list[int]:
    with session_scope(services.engine) as session:
        return claim_due_exports(session, lease)
