"""A real Redmine (Debian's `redmine` + `redmine-sqlite` packages) on a free loopback port.

Debian's Redmine serves instances from /usr/share/redmine/instances/NAME (config, log, tmp,
files); REDMINE_INSTANCE may be a relative path, so a temp dir becomes an instance of its
own: its own database.yml (SQLite in the temp dir), secret key, logs and pids. The schema
and default data are made with rake; the REST API, the admin's API key and a project are
written into the SQLite database before the server starts (no extra Rails boot). Rails runs
on WEBrick, loaded before Bundler (the Gemfile names no server).
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from core.runtime.embedded import free_port

REDMINE = Path("/usr/share/redmine")
INSTALL = "sudo apt-get install -y redmine redmine-sqlite ruby-webrick"
PROJECT = "tracker"


@dataclass(frozen=True)
class RunningRedmine:
    url: str
    key: str
    project: str = PROJECT

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-Redmine-API-Key": self.key}, timeout=30)

    def issues(self, **params: str) -> list[dict[str, object]]:
        with self.client() as c:
            answer = c.get(
                "/issues.json",
                params={"project_id": self.project, "status_id": "*", "limit": "100", **params},
            )
            answer.raise_for_status()
            return list(answer.json()["issues"])


def available() -> bool:
    return (REDMINE / "bin" / "rails").exists()


def _env(root: Path) -> dict[str, str]:
    relative = "../" * 8 + str(root).lstrip("/")  # instances/ is a symlink: up to / whatever its depth
    return {**os.environ, "REDMINE_INSTANCE": relative, "RAILS_ENV": "production", "REDMINE_LANG": "en",
            "RUBYOPT": "-rwebrick"}  # fmt: skip


def prepare(root: Path) -> str:
    """A new instance in `root`: schema, default data, REST API on, the admin's key (returned)."""
    for sub in ("config", "log", "tmp", "files", "public"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    database = root / "redmine.sqlite3"
    (root / "config" / "database.yml").write_text(
        f"production:\n  adapter: sqlite3\n  database: {database}\n  encoding: utf8\n"
    )
    (root / "config" / "secret_key.txt").write_text(secrets.token_hex(32))
    for task in ("db:migrate", "redmine:load_default_data"):  # in one rake, the data found no tables
        subprocess.run(["bin/rake", task], cwd=REDMINE, env=_env(root), check=True, capture_output=True)
    key = secrets.token_hex(20)
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO settings (name, value, updated_on) VALUES ('rest_api_enabled', '1', datetime())"
        )
        db.execute("UPDATE users SET must_change_passwd = 0 WHERE login = 'admin'")
        db.execute(
            "INSERT INTO tokens (user_id, action, value, created_on) VALUES (1, 'api', ?, datetime())", (key,)
        )
    return key


@contextmanager
def redmine_server(root: Path, timeout: float = 300) -> Iterator[RunningRedmine]:
    """Prepare an instance in `root`, serve it on a free loopback port, make the project."""
    key = prepare(root)
    port = free_port()
    log = (root / "log" / "server.out").open("wb")
    args = [
        "bin/rails",
        "server",
        "-u",
        "webrick",
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "-P",
        str(root / "server.pid"),
    ]
    proc = subprocess.Popen(args, cwd=REDMINE, env=_env(root), stdout=log, stderr=subprocess.STDOUT)
    try:
        running = RunningRedmine(f"http://127.0.0.1:{port}", key)
        _wait_up(running, proc, timeout)
        _make_project(running)
        yield running
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_up(redmine: RunningRedmine, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Redmine exited with {proc.returncode} before serving")
        try:
            with redmine.client() as c:
                if c.get("/users/current.json").status_code == 200:
                    return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"Redmine not serving within {timeout}s")


def _make_project(redmine: RunningRedmine) -> None:
    project = {"name": "Tracker", "identifier": redmine.project, "is_public": True, "tracker_ids": [1, 2, 3],
               "enabled_module_names": ["issue_tracking"]}  # fmt: skip
    with redmine.client() as c:
        c.post("/projects.json", json={"project": project}).raise_for_status()


def remove(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)


@contextmanager
def killing_proxy(upstream: str, kill: Callable[[], None]) -> Iterator[str]:
    """A loopback proxy to Redmine that runs `kill` once Redmine has answered the first issue
    create, before the answer goes back: the caller dies between the create and its commit."""
    fired = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._forward(b"")

        def do_PUT(self) -> None:
            self._forward(self.rfile.read(int(self.headers.get("Content-Length", 0))))

        def do_POST(self) -> None:
            self._forward(self.rfile.read(int(self.headers.get("Content-Length", 0))))

        def _forward(self, body: bytes) -> None:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            answer = httpx.request(
                self.command, upstream + self.path, content=body, headers=headers, timeout=60
            )
            if self.command == "POST" and self.path.startswith("/issues") and not fired.is_set():
                fired.set()
                kill()
            self.send_response(answer.status_code)
            self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
