"""The work queue: TaskIQ on NATS JetStream (work-queue retention, one durable consumer)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StreamConfig
from taskiq import AckableMessage, AsyncBroker
from taskiq.kicker import AsyncKicker
from taskiq_nats import PullBasedJetStreamBroker

from core.config import Settings

CLASSIFY_TASK = "tracker.classify_messages"
EXPORT_TASK = "tracker.export_task"
CHUNK = 50
"""Messages a classification job carries."""
JOINED = 5 * CHUNK
"""Messages the worker classifies and stores in one batch at most: the jobs that waited together."""


class PullBroker(PullBasedJetStreamBroker):
    """taskiq-nats' pull broker, surviving an idle fetch.

    nats-py's fetch() can end an empty wait with a plain asyncio.TimeoutError, which
    taskiq-nats does not catch (only nats' own TimeoutError, a subclass): the listener
    died ("Exception found while listening to the broker") and taskiq restarted it,
    dropping the messages it had fetched but not started (redelivered after ack_wait).
    """

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        while True:
            try:
                fetched = await self.consumer.fetch(
                    batch=self.pull_consume_batch, timeout=self.pull_consume_timeout
                )
            except TimeoutError:  # both kinds (asyncio.TimeoutError is TimeoutError since 3.11)
                continue
            for message in fetched:
                yield AckableMessage(data=message.data, ack=message.ack)


def stream_name(settings: Settings) -> str:
    return f"{settings.queue_name}_tasks".replace(".", "_")


def events_subject(settings: Settings) -> str:
    return f"{settings.queue_name}.events"


def make_broker(settings: Settings, nats_url: str | None = None) -> AsyncBroker:
    """The JetStream broker every process uses to enqueue (API) or consume (worker)."""
    subject = f"{settings.queue_name}.tasks"
    durable = f"{settings.queue_name}_worker".replace(".", "_")
    return PullBroker(
        servers=[nats_url] if nats_url else settings.nats_servers or ["nats://127.0.0.1:4222"],
        subject=subject,
        stream_name=stream_name(settings),
        durable=durable,
        stream_config=StreamConfig(
            name=stream_name(settings),
            subjects=[subject],
            retention=RetentionPolicy.WORK_QUEUE,
            num_replicas=settings.queue_replicas,
        ),
        consumer_config=ConsumerConfig(
            durable_name=durable,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=settings.task_ack_wait,
            max_ack_pending=1000,
        ),
        pull_consume_batch=10,
        pull_consume_timeout=1.0,
        max_reconnect_attempts=-1,
    )


async def enqueue_classification(broker: AsyncBroker, message_ids: list[int]) -> None:
    """Queue classification of these messages (in chunks the worker handles in one go).

    The chunks are published together, not each after the previous one's acknowledgement:
    NATS gets them in one write and acknowledges them together (an import queues
    thousands; one by one, each cost a round trip and several turns of the event loop).
    """
    kicker: AsyncKicker[..., None] = AsyncKicker(CLASSIFY_TASK, broker, {})
    chunks = [message_ids[start : start + CHUNK] for start in range(0, len(message_ids), CHUNK)]
    outcomes = await asyncio.gather(*(kicker.kiq(chunk) for chunk in chunks), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


async def enqueue_exports(broker: AsyncBroker, export_ids: list[int]) -> None:
    """Queue exports for the worker (one job each: each is its own call to a tracker)."""
    kicker: AsyncKicker[..., None] = AsyncKicker(EXPORT_TASK, broker, {})
    outcomes = await asyncio.gather(*(kicker.kiq(i) for i in export_ids), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
