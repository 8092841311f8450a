"""The dashboard served by `tracker up`, in headless Chromium (Debian's, else one Playwright
installed): a task posted through the API shows up by itself, one click accepts it, and the API
and its WebSocket say so; the Tasks list narrowed to the tasks exported to a target. Without Playwright (the e2e group) or a browser the test is skipped
with the command that installs them; in CI it fails."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from core.runtime.embedded import free_port
from evals.webhook_receiver import Receiver, running
from tests.support.processes import stop_process, wait_healthy, wait_until
from tests.support.requirements import BROWSER_INSTALL, debian_chromium, missing, require_e2e_group

try:
    from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
    from playwright.sync_api import Error as PlaywrightError
except ImportError:  # the e2e group is not installed: the `chromium` fixture says what to install
    pass

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
ACTIONABLE = (
    "Checkout fails with error 500 for every card payment since the 10:00 deploy, customers cannot pay"
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    require_e2e_group("playwright", "Playwright (the browser driver)")
    with sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()


def launch_chromium(p: Playwright) -> Browser:
    """Debian's Chromium if installed, else the one `playwright install chromium` downloaded."""
    debian = debian_chromium()
    try:
        return p.chromium.launch(
            executable_path=str(debian) if debian else None, headless=True, args=CHROMIUM_FLAGS
        )
    except PlaywrightError as exc:
        if debian is None and "Executable doesn't exist" in str(exc):
            missing("A Chromium browser (Debian's or Playwright's)", BROWSER_INSTALL)
        raise


@pytest.fixture
def tracker(database_url: str, nats_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`tracker up` on the suite's PostgreSQL and NATS, with its own ports and data dir."""
    data_dir, api_port, dashboard_port = tmp_path / "data", free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")} | {
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_NATS_URL": nats_url,
        "TRACKER_DATA_DIR": str(data_dir),
        "TRACKER_API_PORT": str(api_port),
        "TRACKER_DASHBOARD_PORT": str(dashboard_port),
        "TRACKER_CLASSIFIER": "local",
        "TRACKER_QUEUE_NAME": f"e2e{uuid.uuid4().hex[:8]}",
    }
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        up = subprocess.Popen(
            [sys.executable, "-c", "from services.cli import main; main()", "up"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    api, dashboard = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{dashboard_port}"
    try:
        wait_healthy(api, up, timeout=120)
        wait_until(lambda: _serving(f"{dashboard}/_stcore/health"), timeout=60, what="the dashboard")
        yield {
            "api": api,
            "dashboard": dashboard,
            "key": (data_dir / "api_key").read_text().strip(),
            "password": (data_dir / "dashboard_password").read_text().strip(),
            "log": log,
            "env": env,
        }
    finally:
        stop_process(up, timeout=60)


def _serving(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


class WebSocketEvents:
    """What a WebSocket client of the API receives, collected in a thread."""

    def __init__(self, api: str, key: str) -> None:
        self.received: list[dict[str, Any]] = []
        self._url = api.replace("http://", "ws://") + "/ws"
        self._headers = {"Authorization": f"Bearer {key}"}
        self._open = threading.Event()
        self._ws: Any = None
        threading.Thread(target=self._read, daemon=True).start()
        assert self._open.wait(10), "the WebSocket did not open"

    def _read(self) -> None:
        with connect(self._url, additional_headers=self._headers) as ws:
            self._ws = ws
            self._open.set()
            for frame in ws:
                self.received.append(json.loads(frame))

    def close(self) -> None:
        self._ws.close()


def log_in(page: Page, tracker: dict[str, Any]) -> None:
    page.goto(tracker["dashboard"])
    page.get_by_label("Your name, recorded on your triage decisions").fill("e2e tester")
    page.get_by_label("Dashboard password").fill(tracker["password"])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Triage inbox")).to_be_visible(timeout=30_000)


def test_a_posted_task_arrives_by_itself_and_is_accepted_with_one_click(
    chromium: Browser, tracker: dict[str, Any]
) -> None:
    api = httpx.Client(
        base_url=tracker["api"], headers={"Authorization": f"Bearer {tracker['key']}"}, timeout=30
    )
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    log_in(page, tracker)
    expect(page.get_by_test_id("stMainMenu")).to_be_visible()  # the toolbar is drawn, without
    expect(page.get_by_test_id("stAppDeployButton")).to_have_count(0)  # "Deploy" (toolbarMode=viewer)
    ARTIFACTS.mkdir(exist_ok=True)

    token = uuid.uuid4().hex[:8]
    text = f"{ACTIONABLE} (ticket {token})"
    posted = api.post("/api/messages", json={"source": "api", "chat_id": "e2e", "external_id": token,
                                             "text": text, "author": "Olena", "chat_title": "Payments"})  # fmt: skip
    assert posted.status_code == 201, posted.text
    task = _wait_for_task(api, token)
    card = page.locator(f".st-key-task-{task['id']}")
    expect(card).to_be_visible(timeout=60_000)  # no reload: the live probe brings it in
    seen = datetime.now(UTC)
    expect(card).to_contain_text("Olena")
    expect(card).to_contain_text("Payments")
    page.screenshot(path=str(ARTIFACTS / "dashboard_triage.png"), full_page=True)

    events = WebSocketEvents(tracker["api"], tracker["key"])
    try:
        card.get_by_role("button", name="Accept").click()
        expect(page.get_by_text(f"Accepted task #{task['id']}.")).to_be_visible(timeout=30_000)
        wait_until(lambda: api.get(f"/api/tasks/{task['id']}").json()["status"] == "accepted", timeout=30,
                   what="the API to show the task accepted")  # fmt: skip
        wait_until(
            lambda: _accepted_event(events.received, task["id"]), timeout=30, what="the WebSocket event"
        )
    finally:
        events.close()
    page.screenshot(path=str(ARTIFACTS / "dashboard_accepted.png"), full_page=True)
    expect(card).to_have_count(0)
    _record_latency(task, seen)


def _wait_for_task(api: httpx.Client, token: str) -> dict[str, Any]:
    """The task the worker opened for the posted message (found by full-text search)."""
    found: dict[str, Any] = {}

    def opened() -> bool:
        items = api.get("/api/tasks", params={"search": token}).json()["items"]
        found.update(items[0] if items else {})
        return bool(items)

    wait_until(opened, timeout=120, what="the worker to open a task for the posted message")
    return found


def _accepted_event(received: list[dict[str, Any]], task_id: int) -> bool:
    return any(
        e["type"] == "task.updated" and e["payload"]["id"] == task_id and e["payload"]["status"] == "accepted"
        for e in received
    )


def _record_latency(task: dict[str, Any], seen: datetime) -> None:
    """How long the task took from its commit to the screen (a figure, not a test assertion)."""
    created = datetime.fromisoformat(re.sub(r"Z$", "+00:00", task["created_at"]))
    figure = {
        "task_created_to_visible_seconds": round((seen - created).total_seconds(), 2),
        "at": time.time(),
    }
    (ARTIFACTS / "dashboard_live.json").write_text(json.dumps(figure) + "\n")
    print(f"\nlive: task visible {figure['task_created_to_visible_seconds']} s after it was committed")


def test_tasks_list_narrowed_to_the_tasks_exported_to_a_target(
    chromium: Browser, tracker: dict[str, Any]
) -> None:
    token, target = uuid.uuid4().hex[:8], f"hook-{uuid.uuid4().hex[:6]}"
    api = httpx.Client(
        base_url=tracker["api"], headers={"Authorization": f"Bearer {tracker['key']}"}, timeout=30
    )
    with running(Receiver("whsec-e2e")) as receiver:
        added = subprocess.run(
            [sys.executable, "-c", "from services.cli import main; main()", "exports", "add", target,
             "--type", "webhook", "--url", receiver.url, "--secret", "whsec-e2e"],
            env=tracker["env"], capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        sent, _ = (api.post("/api/tasks", json={"title": f"{t} {token}", "kind": "bug"}).json()
                      for t in ("sent", "kept"))  # fmt: skip
        assert api.patch(f"/api/tasks/{sent['id']}", json={"status": "accepted"}).status_code == 200
        wait_until(lambda: api.get("/api/tasks", params={"exported_to": target}).json()["total"] == 1,
                   timeout=60, what="the worker to export the accepted task")  # fmt: skip
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    log_in(page, tracker)
    page.get_by_role("link", name="Tasks").click()
    page.get_by_label("Search titles and message text").fill(token)
    page.get_by_label("Search titles and message text").press("Enter")
    expect(page.get_by_text("2 tasks", exact=True)).to_be_visible(timeout=30_000)
    page.get_by_test_id("stSelectbox").filter(has_text="Exported to").click()
    page.get_by_role("option", name=target).click()
    expect(page.get_by_text("1 task", exact=True)).to_be_visible(timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard_exported_to.png"), full_page=True)
