"""Tasks, messages and health on a real API process, PostgreSQL and NATS: filters, paging
and sort checked against the rows themselves; health naming the server that is down."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from core.config import Settings
from core.models import PRIORITY_RANK, Priority
from core.runtime.embedded import EmbeddedNats, free_port, nats_server_binary
from core.triage.pipeline import classify_messages
from tests.support.api import AUTH, api_settings, message, row_counts
from tests.support.classifiers import ScriptedClassifier
from tests.support.processes import api_process, stop_process, wait_until

CHATS = {
    "alpha": [
        "checkout fails on submit",
        "please add CSV export",
        "how do I invite people to the workspace?",
        "thanks!",
    ],
    "beta": ["payment fails with 502", "I wish there was a dark mode", "ok"],
}
MANUAL = [("bug", "critical"), ("feature", "low"), ("task", "medium"), ("question", "high"), ("bug", "low")]
FILTERS: list[dict[str, Any]] = [
    {"status": "new"},
    {"status": ["accepted", "done"]},
    {"status": "rejected"},
    {"kind": "bug"},
    {"kind": ["feature", "question"]},
    {"priority": "critical"},
    {"priority": ["low", "high"]},
    {"chat_id": "alpha"},
    {"chat_id": "beta", "kind": "bug"},
    {"chat_id": "nobody"},
    {"status": "new", "kind": "bug", "priority": "high"},
    {"assignee": "ira"},
]


@pytest.fixture(scope="module")
def module_settings(database_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return api_settings(tmp_path_factory.mktemp("api"), database_url, nats_url, "apitasks")


@pytest.fixture(scope="module")
def api_url(module_settings: Settings) -> Iterator[str]:
    with api_process(module_settings) as url:
        yield url


@pytest.fixture(scope="module")
def client(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, headers=AUTH, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def posted(client: httpx.Client) -> dict[str, list[dict[str, Any]]]:
    """Messages in two chats, stored through the API, each by another person (five pieces of
    work, not one person's conversation)."""
    return {
        chat: [client.post("/api/messages", json=message(f"{chat}-{i}", chat_id=chat, text=t,
                                                         author_id=f"{chat}-{i}", author=f"Person {i}")).json()
               for i, t in enumerate(texts)]
        for chat, texts in CHATS.items()
    }  # fmt: skip


@pytest.fixture(scope="module")
async def classified(
    posted: dict[str, list[dict[str, Any]]], engine: Engine, module_settings: Settings
) -> None:
    """The real pipeline classifies them (a scripted classifier) and opens tasks with a chat."""

    async def publish(_: list[dict[str, Any]]) -> None:
        return None

    ids = [m["id"] for chat in posted.values() for m in chat]
    classifier = ScriptedClassifier()
    await classify_messages(
        ids, engine=engine, settings=module_settings, classifier=classifier, publish=publish
    )


@pytest.fixture(scope="module")
def dataset(
    posted: dict[str, list[dict[str, Any]]], classified: None, client: httpx.Client, engine: Engine
) -> dict[str, Any]:
    """Plus manual tasks of every kind and priority, and some triage decisions."""
    source = posted["alpha"][0]["id"]
    manual = [
        client.post("/api/tasks", json={"title": f"manual {k} {p}", "kind": k, "priority": p,
                                        "message_ids": [source]}).json()
        for k, p in MANUAL
    ]  # fmt: skip
    for task, change in zip(
        manual, [{"status": "accepted"}, {"status": "done"}, {"assignee": "ira"}], strict=False
    ):
        assert client.patch(f"/api/tasks/{task['id']}", json=change).status_code == 200
    beta_bug = next(t for t in all_tasks(engine) if t["chat_id"] == "beta" and t["kind"] == "bug")
    assert client.patch(f"/api/tasks/{beta_bug['id']}", json={"status": "rejected"}).status_code == 200
    return {"messages": posted, "manual": manual}


def all_tasks(engine: Engine) -> list[dict[str, Any]]:
    """Every listable task as stored (the oracle for filters and order)."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM tasks WHERE merged_into_id IS NULL"))
        return [dict(r._mapping) for r in rows]


def matches(task: dict[str, Any], flt: dict[str, Any]) -> bool:
    for name, wanted in flt.items():
        if name == "search":
            if wanted not in task["title"].lower():
                return False
        elif task[name] not in (wanted if isinstance(wanted, list) else [wanted]):
            return False
    return True


def listed(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get("/api/tasks", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_dataset_has_pipeline_and_manual_tasks(dataset: dict[str, Any], engine: Engine) -> None:
    tasks = all_tasks(engine)
    assert {t["chat_id"] for t in tasks} == {"alpha", "beta", None}
    assert len(tasks) == 5 + len(MANUAL)  # every actionable message got one task; "thanks!" and "ok" none


@pytest.mark.parametrize("flt", FILTERS, ids=[str(f) for f in FILTERS])
def test_filters_return_exactly_the_matching_tasks(
    dataset: dict[str, Any], client: httpx.Client, engine: Engine, flt: dict[str, Any]
) -> None:
    expected = {t["id"] for t in all_tasks(engine) if matches(t, flt)}
    page = listed(client, limit=500, **flt)
    assert {t["id"] for t in page["items"]} == expected
    assert page["total"] == len(expected)
    assert all(t["chat_id"] == flt["chat_id"] for t in page["items"]) if "chat_id" in flt else True


def test_filters_are_not_vacuous(dataset: dict[str, Any], engine: Engine) -> None:
    tasks = all_tasks(engine)
    empty = [f for f in FILTERS if f != {"chat_id": "nobody"} and not any(matches(t, f) for t in tasks)]
    assert not empty


def test_pages_cover_every_task_once(dataset: dict[str, Any], client: httpx.Client, engine: Engine) -> None:
    total = len(all_tasks(engine))
    seen: list[int] = []
    for offset in range(0, total + 3, 3):
        page = listed(client, limit=3, offset=offset)
        assert page["total"] == total and page["limit"] == 3 and page["offset"] == offset
        assert len(page["items"]) == min(3, max(total - offset, 0))
        seen += [t["id"] for t in page["items"]]
    assert sorted(seen) == sorted(t["id"] for t in all_tasks(engine))
    assert seen == [t["id"] for t in listed(client, limit=500)["items"]]


def test_filtered_pages(dataset: dict[str, Any], client: httpx.Client, engine: Engine) -> None:
    expected = [t for t in all_tasks(engine) if t["status"] == "new"]
    first = listed(client, status="new", limit=2)
    rest = listed(client, status="new", limit=500, offset=2)
    assert first["total"] == rest["total"] == len(expected)
    assert len(first["items"]) == 2
    assert {t["id"] for t in first["items"] + rest["items"]} == {t["id"] for t in expected}


SORTS = {
    "triage": lambda t: (t["priority_rank"], -t["created_at"].timestamp(), -t["id"]),
    "newest": lambda t: (-t["created_at"].timestamp(), -t["id"]),
    "oldest": lambda t: (t["created_at"].timestamp(), -t["id"]),
    "priority": lambda t: (t["priority_rank"], t["id"], -t["id"]),
    "updated": lambda t: (-t["updated_at"].timestamp(), -t["id"]),
}


@pytest.mark.parametrize("sort", sorted(SORTS))
def test_sort_orders(dataset: dict[str, Any], client: httpx.Client, engine: Engine, sort: str) -> None:
    expected = [t["id"] for t in sorted(all_tasks(engine), key=SORTS[sort])]
    assert [t["id"] for t in listed(client, sort=sort, limit=500)["items"]] == expected


def test_default_order_is_triage(dataset: dict[str, Any], client: httpx.Client) -> None:
    items = listed(client, limit=500)["items"]
    assert items == listed(client, sort="triage", limit=500)["items"]
    ranks = [PRIORITY_RANK[Priority(t["priority"])] for t in items]
    assert ranks == sorted(ranks) and items[0]["priority"] == "critical"


def test_post_task_links_messages(dataset: dict[str, Any], client: httpx.Client, engine: Engine) -> None:
    first, second = (m["id"] for m in dataset["messages"]["beta"][:2])
    before = row_counts(engine)
    response = client.post(
        "/api/tasks", json={"title": "  Both beta reports  ", "message_ids": [second, first, second]}
    )
    assert response.status_code == 201, response.text
    task = response.json()
    assert task["title"] == "Both beta reports"
    assert (task["kind"], task["priority"], task["status"], task["version"]) == ("task", "medium", "new", 1)
    assert sorted(task["message_ids"]) == sorted([first, second])
    after = row_counts(engine)
    assert (after["tasks"], after["task_messages"], after["events"]) == (
        before["tasks"] + 1, before["task_messages"] + 2, before["events"] + 1,
    )  # fmt: skip
    fetched = client.get(f"/api/tasks/{task['id']}").json()  # the task, and its conversation too
    assert {k: fetched[k] for k in task} | {"message_ids": sorted(fetched["message_ids"])} == task | {
        "message_ids": sorted(task["message_ids"])
    }
    assert [(m["message_id"], m["role"]) for m in fetched["messages"]] == [
        (first, "manual"),
        (second, "manual"),
    ]
    assert fetched["history"] == []


def test_get_task_shows_its_messages(dataset: dict[str, Any], client: httpx.Client) -> None:
    task = dataset["manual"][4]
    fetched = client.get(f"/api/tasks/{task['id']}").json()
    assert fetched["message_ids"] == [dataset["messages"]["alpha"][0]["id"]]
    assert (fetched["kind"], fetched["priority"]) == ("bug", "low")


def test_patch_changes_fields_and_records_labels(
    dataset: dict[str, Any], client: httpx.Client, engine: Engine
) -> None:
    task = client.post(
        "/api/tasks", json={"title": "to triage", "message_ids": [dataset["messages"]["alpha"][1]["id"]]}
    ).json()
    before = row_counts(engine)
    change = {
        "status": "in_progress",
        "kind": "bug",
        "priority": "critical",
        "title": "Triaged",
        "expected_version": 1,
    }
    response = client.patch(f"/api/tasks/{task['id']}", json=change)
    assert response.status_code == 200, response.text
    patched = response.json()
    assert {k: patched[k] for k in ("status", "kind", "priority", "title", "version")} == {
        "status": "in_progress", "kind": "bug", "priority": "critical", "title": "Triaged", "version": 2,
    }  # fmt: skip
    assert client.get(f"/api/tasks/{task['id']}").json() == patched
    after = row_counts(engine)
    assert (after["labels"], after["events"]) == (before["labels"] + 1, before["events"] + 1)
    stale = client.patch(f"/api/tasks/{task['id']}", json={"status": "done", "expected_version": 1})
    assert stale.status_code == 409


def test_patch_without_a_change_changes_nothing(
    dataset: dict[str, Any], client: httpx.Client, engine: Engine
) -> None:
    task = dataset["manual"][2]
    current = client.get(f"/api/tasks/{task['id']}").json()
    before = row_counts(engine)
    same = client.patch(f"/api/tasks/{task['id']}", json={"kind": current["kind"], "title": current["title"]})
    assert same.status_code == 200 and same.json()["version"] == current["version"]
    assert row_counts(engine) == before


def test_messages_filter_by_chat_with_their_issue(dataset: dict[str, Any], client: httpx.Client) -> None:
    page = client.get("/api/messages", params={"chat_id": "beta"}).json()
    expected = sorted((m["id"] for m in dataset["messages"]["beta"]), reverse=True)
    assert [m["id"] for m in page["items"]] == expected and page["total"] == len(expected)
    by_text = {m["text"]: m for m in page["items"]}
    assert by_text["payment fails with 502"]["issue"]["kind"] == "bug"
    assert by_text["I wish there was a dark mode"]["issue"]["kind"] == "feature"
    assert by_text["ok"]["issue"]["kind"] == "noise" and by_text["ok"]["issue"]["priority"] is None
    assert all(m["status"] == "classified" and m["issue"]["classifier"] == "scripted" for m in page["items"])


def test_messages_pages_and_status(dataset: dict[str, Any], client: httpx.Client) -> None:
    alpha = sorted((m["id"] for m in dataset["messages"]["alpha"]), reverse=True)
    first = client.get("/api/messages", params={"chat_id": "alpha", "limit": 3}).json()
    second = client.get("/api/messages", params={"chat_id": "alpha", "limit": 3, "offset": 3}).json()
    assert [m["id"] for m in first["items"] + second["items"]] == alpha
    assert first["total"] == second["total"] == len(alpha)
    pending = client.post("/api/messages", json=message("alpha-pending", chat_id="alpha")).json()
    waiting = client.get("/api/messages", params={"chat_id": "alpha", "status": "pending"}).json()
    assert [m["id"] for m in waiting["items"]] == [pending["id"]] and waiting["items"][0]["issue"] is None
    assert client.get(f"/api/messages/{pending['id']}").json()["status"] == "pending"


def test_health_is_ok_with_both_servers(api_url: str) -> None:
    response = httpx.get(f"{api_url}/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"postgres": "ok", "nats": "ok"}, "down": []}


def test_health_names_postgres_when_it_is_down(module_settings: Settings, tmp_path: Path) -> None:
    nowhere = f"postgresql+psycopg://tracker@127.0.0.1:{free_port()}/tracker"
    settings = module_settings.model_copy(update={"database_url": nowhere, "data_dir": tmp_path})
    with api_process(settings, healthy=False) as url:
        response = httpx.get(f"{url}/api/health", timeout=30)
        assert response.status_code == 503
        body = response.json()
        assert body["down"] == ["postgres"] and body["checks"]["nats"] == "ok"
        assert body["checks"]["postgres"].startswith("down")
        refused = httpx.post(f"{url}/api/messages", json=message("lost"), headers=AUTH, timeout=30)
        assert refused.status_code == 503, refused.text
        assert refused.json()["detail"][0]["field"] == "postgres"


def test_health_names_nats_while_it_is_down_and_recovers(module_settings: Settings, tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats").start()
    port = int(server.url.rsplit(":", 1)[1])
    settings = module_settings.model_copy(update={"nats_url": server.url, "data_dir": tmp_path})
    restarted: subprocess.Popen[bytes] | None = None
    try:
        with api_process(settings) as url:
            server.stop()
            wait_until(lambda: httpx.get(f"{url}/api/health", timeout=30).status_code == 503, what="503")
            body = httpx.get(f"{url}/api/health", timeout=30).json()
            assert body["down"] == ["nats"] and body["checks"]["postgres"] == "ok"
            stored = httpx.post(f"{url}/api/messages", json=message("nats-down"), headers=AUTH, timeout=60)
            assert stored.status_code == 201, stored.text  # stored; the worker's sweep queues it later
            assert stored.json()["status"] == "pending"
            restarted = subprocess.Popen(
                [nats_server_binary(), "-js", "-sd", str(tmp_path / "js2"), "-a", "127.0.0.1", "-p", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            wait_until(lambda: httpx.get(f"{url}/api/health", timeout=30).status_code == 200, what="recovery")
    finally:
        server.stop()
        if restarted is not None:
            stop_process(restarted)
