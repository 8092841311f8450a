"""Dashboard benchmark: the triage screen over 100,000 tasks and 1,000,000 messages.

    uv run python -m evals.bench_dashboard [--tasks 100000] [--messages 1000000] [--work 1000]

Starts embedded PostgreSQL and NATS in a temporary data dir, bulk-loads a history with SQL
(generate_series: messages, their classifications, tasks, human labels, outbox events),
then prints:
  1. the load time and table sizes;
  2. the triage screen's data call (core.triage.inbox.task_cards) and the whole screen rendered by
     Streamlit's AppTest, cold caches each time (target: <= 1.5 s);
  3. `tracker dashboard` (a real Streamlit server) driven in Debian's headless Chromium while a
     person works through --work tasks (accept, or reject every fifth): the screen's first load,
     each decision's time until the next screen is shown, and the dashboard process's memory
     (target: < 500 MB).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import Engine, text

from core.config import Settings
from core.db import session_scope
from core.models import Kind, TaskStatus
from core.runtime.embedded import free_port
from core.triage.inbox import task_cards
from core.triage.queries import TaskFilter
from evals.harness import embedded_system

DASHBOARD = Path(__file__).parents[1] / "apps" / "dashboard.py"
PASSWORD = "bench-dashboard-password"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip

LOAD = [
    # Messages: 20 chats, 300 authors, every tenth a reply to the one before, over 90 days.
    """
    INSERT INTO messages (id, source, chat_id, chat_title, external_id, author_id, author, text, sent_at,
                          reply_to_external_id, reply_to_id, revision, status, attempts, created_at)
    SELECT i, 'bench', 'chat-' || (i % 20), 'Team chat ' || (i % 20), i::text, 'u' || (i % 300),
           'user ' || (i % 300),
           (ARRAY['checkout fails with 502 after the last deploy', 'please add CSV export to the reports',
                  'how do I reset my password?', 'thanks, works now', 'помилка при оплаті карткою',
                  'ошибка в отчёте за март: двойные суммы', 'can we get dark mode?', '+1',
                  'онови сертифікат до пʼятниці', 'the invoice PDF shows the wrong VAT rate'])[1 + i % 10]
             || ' (#' || i || ')',
           now() - make_interval(secs => (:messages - i) * 7.77),
           CASE WHEN i % 10 = 0 THEN (i - 1)::text END, CASE WHEN i % 10 = 0 THEN i - 1 END,
           1, 'classified', 1, now() - make_interval(secs => (:messages - i) * 7.77)
    FROM generate_series(1, :messages) AS i
    """,
    # One current classification per message; one in five by an LLM.
    """
    INSERT INTO issues (id, message_id, revision, is_current, kind, priority, title, confidence, classifier,
                        classifier_version, model, prompt_version, input_tokens, output_tokens, llm_calls,
                        latency_ms, needs_review, created_at)
    SELECT m.id, m.id, 1, true, k.kind,
           CASE WHEN k.kind <> 'noise' THEN (ARRAY['critical', 'high', 'medium', 'low'])[1 + m.id % 4] END,
           left(m.text, 80), 0.5 + (m.id % 50) / 100.0, CASE WHEN llm THEN 'llm' ELSE 'local' END, 'bench-1',
           CASE WHEN llm THEN 'qwen2.5:3b' ELSE 'local:bench-1' END, 'v1', CASE WHEN llm THEN 400 ELSE 0 END,
           CASE WHEN llm THEN 40 ELSE 0 END, CASE WHEN llm THEN 1 ELSE 0 END,
           CASE WHEN llm THEN 900 ELSE 0.2 END, false, m.created_at
    FROM messages m
    CROSS JOIN LATERAL (
        SELECT (ARRAY['bug', 'feature', 'question', 'noise', 'task', 'noise', 'bug', 'noise', 'task', 'bug'])
               [1 + m.id % 10] AS kind,
               m.id % 5 = 0 AS llm) k
    """,
    # Tasks: every message i * (messages / tasks) opens one; the newest third still to triage.
    """
    INSERT INTO tasks (id, title, description, kind, priority, priority_rank, status, assignee, chat_id,
                       confidence, needs_review, version, created_at, updated_at)
    SELECT t, left(m.text, 80), m.text, coalesce(nullif(i.kind, 'noise'), 'task'),
           coalesce(i.priority, 'medium'),
           array_position(ARRAY['critical','high','medium','low'], coalesce(i.priority, 'medium')) - 1,
           CASE WHEN t > :tasks * 2 / 3 THEN 'new'
                ELSE (ARRAY['accepted','in_progress','done','rejected'])[1 + t % 4] END,
           CASE WHEN t % 3 = 0 THEN 'dev' || (t % 12) END, m.chat_id, i.confidence, false, 1,
           m.created_at, m.created_at
    FROM generate_series(1, :tasks) AS t
    JOIN messages m ON m.id = t * (:messages / :tasks)
    JOIN issues i ON i.message_id = m.id
    """,
    """
    INSERT INTO task_messages (task_id, message_id, role)
    SELECT id, id * (:messages / :tasks), 'source' FROM tasks
    """,
    # A human decision on every task that left the inbox.
    """
    INSERT INTO labels (message_id, task_id, kind, priority, title, action, origin, author, created_at)
    SELECT tm.message_id, t.id, CASE WHEN t.status = 'rejected' THEN 'noise' ELSE t.kind END,
           CASE WHEN t.status <> 'rejected' THEN t.priority END, t.title,
           CASE WHEN t.status = 'rejected' THEN 'reject' ELSE 'accept' END, 'dashboard', 'bench',
           t.created_at + make_interval(mins => (5 + t.id % 300)::int)
    FROM tasks t JOIN task_messages tm ON tm.task_id = t.id WHERE t.status <> 'new'
    """,
    # The outbox: a created and a classified event per message, a created event per task.
    """
    INSERT INTO events (type, payload, created_at)
    SELECT CASE WHEN i % 2 = 0 THEN 'message.created' ELSE 'message.classified' END,
           jsonb_build_object('message_id', i / 2), now()
    FROM generate_series(1, :messages * 2) AS i
    """,
    """
    INSERT INTO events (type, payload, created_at)
    SELECT 'task.created', jsonb_build_object('id', id), now() FROM tasks
    """,
]
SEQUENCES = {"messages": "id", "issues": "id", "tasks": "id"}


def load(engine: Engine, tasks: int, messages: int) -> None:
    """The whole history, written by the database itself."""
    params = {"tasks": tasks, "messages": messages}
    with engine.begin() as conn:
        for statement in LOAD:
            start = time.perf_counter()
            conn.execute(text(statement), params)
            print(f"    {statement.split()[2]:<14} {time.perf_counter() - start:6.1f} s")
        for table, column in SEQUENCES.items():
            sequence = f"pg_get_serial_sequence('{table}', '{column}')"
            conn.execute(text(f"SELECT setval({sequence}, max({column})) FROM {table}"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    """(first, median of the rest) seconds."""
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return seconds[0], statistics.median(seconds[1:] or seconds)


def data_calls(engine: Engine) -> None:
    """The triage screen's one data call, and a few others the screens make."""
    cases = {
        "inbox, page 1": (TaskFilter(status=[TaskStatus.new]), 0),
        "inbox, page 400": (TaskFilter(status=[TaskStatus.new]), 25 * 399),
        "inbox, one chat + kind": (TaskFilter(status=[TaskStatus.new], chat_id="chat-7", kind=[Kind.bug]), 0),
        "all tasks, search 'VAT'": (TaskFilter(search="VAT"), 0),
        "all tasks, search 'оплаті'": (TaskFilter(search="оплаті"), 0),
    }
    for name, (flt, offset) in cases.items():

        def call(flt: TaskFilter = flt, offset: int = offset) -> None:
            with session_scope(engine) as session:
                task_cards(session, flt, limit=25, offset=offset)

        first, median = timed(call, 6)
        print(f"    {name:<28} first {first * 1000:6.0f} ms   median {median * 1000:6.0f} ms")


def apptest_render(settings: Settings) -> None:
    """The whole triage screen through Streamlit's AppTest, caches cleared before each run."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ.update(_dashboard_env(settings))
    at = AppTest.from_file(str(DASHBOARD), default_timeout=120)
    at.session_state["logged_in"] = True
    at.run()
    at.switch_page("views/triage.py")

    def render() -> None:
        st.cache_data.clear()
        at.run()
        assert not at.exception, at.exception

    first, median = timed(render, 11)
    cards = sum(1 for m in at.markdown if m.value.startswith("**#"))
    print(
        f"    triage screen (AppTest)      first {first:6.2f} s    median {median:6.2f} s   ({cards} cards)"
    )
    st.cache_resource.clear()


def _dashboard_env(settings: Settings) -> dict[str, str]:
    return {
        "TRACKER_DATABASE_URL": settings.database_url or "",
        "TRACKER_NATS_URL": settings.nats_url or "",
        "TRACKER_QUEUE_NAME": settings.queue_name,
        "TRACKER_DATA_DIR": str(settings.runtime_dir),
        "TRACKER_DASHBOARD_PASSWORD": PASSWORD,
    }


@contextmanager
def dashboard_server(settings: Settings) -> Iterator[tuple[str, psutil.Process]]:
    """`tracker dashboard` on a free port; yields its URL and the Streamlit process."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env |= _dashboard_env(settings) | {"TRACKER_DASHBOARD_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from services.cli import main; main()", "dashboard"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _serving(f"{url}/_stcore/health"):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the dashboard did not start")
            time.sleep(0.2)
        [streamlit] = psutil.Process(proc.pid).children(recursive=True)
        yield url, streamlit
    finally:
        proc.terminate()
        proc.wait(30)


def _serving(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def settled(page: Any) -> None:
    """The screen's run is over and no element from the run before is left (what a person waits for)."""
    from playwright.sync_api import expect

    expect(page.locator('[data-test-script-state="notRunning"]')).to_have_count(1, timeout=30_000)
    expect(page.locator('[data-stale="true"]')).to_have_count(0, timeout=30_000)


def work_through(settings: Settings, work: int) -> None:
    """A person at the real dashboard, deciding on `work` tasks one after the other."""
    from playwright.sync_api import expect, sync_playwright

    if not Path("/usr/bin/chromium").exists():
        raise SystemExit("Debian's Chromium is missing: apt-get install -y chromium chromium-driver")
    with dashboard_server(settings) as (url, streamlit), sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.get_by_label("Dashboard password").fill(PASSWORD)
        start = time.perf_counter()
        page.get_by_role("button", name="Log in").click()
        cards = page.locator("[class*='st-key-task-']")
        expect(cards.first).to_be_visible(timeout=60_000)
        print(f"    login to first triage screen   {time.perf_counter() - start:6.2f} s (browser + server)")
        rss = [streamlit.memory_info().rss]
        decisions = []
        for i in range(work):
            task_id = (cards.first.get_attribute("class") or "").split("st-key-task-")[1].split()[0]
            card = page.locator(f".st-key-task-{task_id}")
            verb, button = ("Rejected", "Reject as noise") if i % 5 == 4 else ("Accepted", "Accept")
            start = time.perf_counter()
            card.get_by_role("button", name=button).click()
            expect(page.get_by_text(f"{verb} task #{task_id}")).to_be_visible(timeout=30_000)
            settled(page)
            expect(card).to_have_count(0)
            decisions.append(time.perf_counter() - start)
            rss.append(streamlit.memory_info().rss)
            if (i + 1) % 100 == 0:
                print(f"      {i + 1:5d} decided   rss {rss[-1] / 2**20:6.0f} MB")
        browser.close()
    mb = [r / 2**20 for r in rss]
    decisions.sort()
    print(f"    decision to next screen        median {statistics.median(decisions):.2f} s   "
          f"p95 {decisions[int(len(decisions) * 0.95) - 1]:.2f} s   max {decisions[-1]:.2f} s")  # fmt: skip
    print(f"    dashboard process memory   start {mb[0]:.0f} MB  peak {max(mb):.0f} MB  end {mb[-1]:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--work", type=int, default=1000, help="tasks to decide on in the browser (0: skip)")
    args = parser.parse_args()
    with embedded_system() as system:
        settings, engine = system.settings, system.engine
        print(f"1. loading {args.messages:,} messages and {args.tasks:,} tasks")
        start = time.perf_counter()
        load(engine, args.tasks, args.messages)
        print(f"    loaded and analyzed in {time.perf_counter() - start:.1f} s")
        print("2. triage screen")
        data_calls(engine)
        apptest_render(settings)
        if args.work:
            print(f"3. working through {args.work} tasks in Chromium")
            work_through(settings, args.work)


if __name__ == "__main__":
    main()
