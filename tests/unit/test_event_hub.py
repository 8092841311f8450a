"""The API's event hub: every committed event reaches each client once, in seq order, whatever
order NATS brings them in (the outbox table is stood in for by a list)."""

from __future__ import annotations

import asyncio
from typing import Any

from services.api.state import LAGGING, EventHub

Event = dict[str, Any]


def event(seq: int) -> Event:
    return {"type": "message.created", "seq": seq, "payload": {"id": seq}}


class Outbox:
    """Committed events; counts how often the hub had to read it."""

    def __init__(self, seqs: list[int]) -> None:
        self.rows = [event(s) for s in seqs]
        self.reads = 0

    async def fetch(self, after: int) -> list[Event]:
        self.reads += 1
        return [e for e in self.rows if e["seq"] > after][:1000]

    async def latest(self) -> int:
        return max((e["seq"] for e in self.rows), default=0)


def drain(queue: asyncio.Queue[Event]) -> list[int]:
    seqs = []
    while not queue.empty():
        seqs.append(queue.get_nowait()["seq"])
    return seqs


async def test_in_order_events_need_no_database_read() -> None:
    outbox = Outbox([1, 2, 3])
    hub = EventHub(outbox.fetch, outbox.latest, last=0)
    client = hub.subscribe()
    await hub.receive([event(1), event(2)])
    await hub.receive([event(3)])
    assert drain(client) == [1, 2, 3] and outbox.reads == 0


async def test_out_of_order_and_duplicate_events_are_delivered_once_in_order() -> None:
    outbox = Outbox([1, 2, 3, 4, 5])
    hub = EventHub(outbox.fetch, outbox.latest, last=0)
    client = hub.subscribe()
    await hub.receive([event(3), event(4)])  # another process published 3-4 before 1-2 arrived
    await hub.receive([event(1), event(2)])
    await hub.receive([event(5), event(4)])
    assert drain(client) == [1, 2, 3, 4, 5]


async def test_a_rolled_back_seq_leaves_a_gap_that_does_not_block() -> None:
    outbox = Outbox([1, 3])  # seq 2 was taken by a transaction that rolled back
    hub = EventHub(outbox.fetch, outbox.latest, last=0)
    client = hub.subscribe()
    await hub.receive([event(1)])
    await hub.receive([event(3)])
    assert drain(client) == [1, 3]


async def test_events_nats_lost_are_found_by_catch_up() -> None:
    outbox = Outbox([1, 2, 3])
    hub = EventHub(outbox.fetch, outbox.latest, last=0)
    client = hub.subscribe()
    await hub.receive([event(1)])
    await hub.catch_up()
    assert drain(client) == [1, 2, 3]


async def test_a_new_hub_starts_after_the_newest_stored_event() -> None:
    outbox = Outbox([1, 2, 3])
    hub = EventHub(outbox.fetch, outbox.latest)
    client = hub.subscribe()
    await hub.catch_up()
    outbox.rows.append(event(4))
    await hub.receive([event(4)])
    assert drain(client) == [4]


async def test_catch_up_pages_through_a_long_outage() -> None:
    outbox = Outbox(list(range(1, 2501)))
    hub = EventHub(outbox.fetch, outbox.latest, last=0)
    client = hub.subscribe()
    await hub.catch_up()
    assert drain(client) == list(range(1, 2501)) and outbox.reads == 3


async def test_a_client_too_far_behind_is_told_to_resume_and_dropped() -> None:
    outbox = Outbox([1, 2, 3, 4])
    hub = EventHub(outbox.fetch, outbox.latest, last=0, client_queue_size=2)
    slow, fast = hub.subscribe(), hub.subscribe()
    await hub.receive([event(1), event(2)])
    drain(fast)
    await hub.receive([event(3), event(4)])
    assert slow.get_nowait() is LAGGING and slow.empty()
    assert slow not in hub.clients
    assert drain(fast) == [3, 4]
