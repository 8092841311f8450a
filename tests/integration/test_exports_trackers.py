"""Exports to GitHub Issues and Jira against stand-ins written from their public API docs,
and their webhooks back to a real API process: good signatures change the task, bad ones
are refused (401) and change nothing."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from core.config import Settings
from core.db import session_scope
from core.exports import targets
from core.exports.delivery import Courier, claim, push
from core.exports.vault import vault
from core.models import ExportTarget, LabelOrigin, Task
from core.triage.commands import change_task, merge_task
from tests.integration.test_exports import accept, drain, export_row, new_task, no_targets, queued
from tests.support.api import AUTH, api_settings
from tests.support.processes import api_process
from tests.support.trackers import GitHubStandIn, JiraStandIn, serving

__all__ = ["no_targets"]  # each test starts with no target (autouse)
TOKEN, HOOK_SECRET = "ghp_0123456789abcdef", "hook-secret-42"


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    with serving(GitHubStandIn(TOKEN, "team/app")) as stand_in:
        yield stand_in  # type: ignore[misc]


@pytest.fixture
def jira() -> Iterator[JiraStandIn]:
    with serving(JiraStandIn("bot@example.com", TOKEN, "APP")) as stand_in:
        yield stand_in  # type: ignore[misc]


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"export_timeout": 10, "export_retry_base": 0.01, "export_lease": 1})


def add(
    engine: Engine,
    settings: Settings,
    name: str,
    type_: str,
    url: str,
    project: str,
    token: str,
    **extra: Any,
) -> None:
    with session_scope(engine) as session:
        row = ExportTarget(name=name, type=type_, url=url, project=project, **extra)
        targets.add_target(session, row, vault(settings), SecretStr(token), SecretStr(HOOK_SECRET))


async def create_then_die(engine: Engine, settings: Settings, export_id: int) -> None:
    """Claim the export and create the issue, then stop before recording it (a crash)."""
    async with httpx.AsyncClient(timeout=10) as client:
        courier = Courier(engine, settings, vault(settings), client, publish=lambda _: asyncio.sleep(0))
        with session_scope(engine) as session:
            job = claim(session, export_id, courier)
        await push(job, client)  # type: ignore[arg-type]


def test_github_issue_with_labels_found_by_marker_after_a_crash(
    engine: Engine, fast: Settings, github: GitHubStandIn
) -> None:
    add(engine, fast, "gh", "github", github.url, "team/app", TOKEN, options={"logins": {"ira": "ira-gh"}})
    task_id = new_task(engine, title="avatar upload fails")
    with session_scope(engine) as session:
        change_task(session, task_id, {"assignee": "ira"}, origin=LabelOrigin.api)
    [export_id] = queued(accept(engine, task_id))
    asyncio.run(create_then_die(engine, fast, export_id))
    assert asyncio.run(drain(engine, fast, [export_id])) in (["busy", "exported"], ["exported"])
    [issue] = github.issues.values()
    assert [label["name"] for label in issue["labels"]] == ["bug", "priority:high"]
    assert issue["assignees"] == ["ira-gh"] and export_row(engine, task_id, "gh").marker in issue["body"]
    assert export_row(engine, task_id, "gh").url == issue["html_url"]
    with session_scope(engine) as session:
        _, recorded = change_task(session, task_id, {"status": "done"}, origin=LabelOrigin.api)
    assert asyncio.run(drain(engine, fast, queued(recorded))) == ["exported"]
    assert (issue["state"], issue["state_reason"]) == ("closed", "completed")


def test_jira_issue_in_adf_and_a_400_stored(engine: Engine, fast: Settings, jira: JiraStandIn) -> None:
    add(engine, fast, "jr", "jira", jira.url, "APP", f"bot@example.com:{TOKEN}")
    add(
        engine,
        fast,
        "jr-bad",
        "jira",
        jira.url,
        "APP",
        f"bot@example.com:{TOKEN}",
        options={"issue_types": {"bug": "Gadget"}},
    )
    task_id = new_task(engine, title="sync drops comments")
    assert sorted(asyncio.run(drain(engine, fast, queued(accept(engine, task_id))))) == ["exported", "failed"]
    [issue] = jira.issues.values()
    fields = issue["fields"]
    assert (fields["issuetype"]["name"], fields["priority"]["name"], fields["summary"]) == (
        "Bug",
        "High",
        "sync drops comments",
    )
    assert fields["description"]["type"] == "doc" and "Olena" in json.dumps(fields["description"])
    assert export_row(engine, task_id, "jr").url == f"{jira.url}/browse/{issue['key']}"
    assert "Specify a valid issue type" in export_row(engine, task_id, "jr-bad").last_error
    wrong = targets.config_of(ExportTarget(name="x", type="jira", url=jira.url, project="APP",
                                           secret=vault(fast).seal(SecretStr("bot@example.com:nope"))), vault(fast))  # fmt: skip
    with pytest.raises(Exception, match="401"):
        asyncio.run(targets.check(wrong, fast))


@pytest.fixture(scope="module")
def api(
    database_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Settings]]:
    settings = api_settings(tmp_path_factory.mktemp("hooks"), database_url, nats_url, "exporthooks")
    with api_process(settings) as url:
        yield url, settings


def signed(body: bytes) -> str:
    return "sha256=" + hmac.new(HOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


def exported_task(engine: Engine, settings: Settings, target: str, external_id: str) -> int:
    """A task exported to `target` as `external_id` (as the worker would have recorded it)."""
    task_id = new_task(engine, title=f"exported to {target} {external_id}")
    accept(engine, task_id)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE task_exports SET status = 'exported', external_id = %s, synced_version = t.version"
            " FROM tasks t WHERE t.id = task_exports.task_id AND task_id = %s AND target = %s",
            (external_id, task_id, target),
        )
    return task_id


def hook(
    url: str, target: str, body: dict[str, Any], header: str, signature: str | None = None
) -> httpx.Response:
    raw = json.dumps(body).encode()
    return httpx.post(
        f"{url}/api/exports/hooks/{target}", content=raw, headers={header: signature or signed(raw)}
    )


def status_of(engine: Engine, task_id: int) -> str:
    with session_scope(engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task.status


def test_github_and_jira_webhooks_good_and_bad_signatures(engine: Engine, api: tuple[str, Settings]) -> None:
    url, settings = api
    add(engine, settings, "gh-hook", "github", "https://api.github.com", "team/app", TOKEN)
    add(engine, settings, "jr-hook", "jira", "https://team.atlassian.net", "APP", f"bot@example.com:{TOKEN}")
    gh_task, jr_task = (
        exported_task(engine, settings, "gh-hook", "7"),
        exported_task(engine, settings, "jr-hook", "APP-3"),
    )
    closed = {
        "action": "closed",
        "issue": {"number": 7, "state": "closed", "state_reason": "completed", "assignee": {"login": "ira"}},
    }
    forged = hook(url, "gh-hook", closed, "X-Hub-Signature-256", "sha256=" + "0" * 64)
    assert forged.status_code == 401 and forged.json()["detail"][0]["field"] == "signature"
    assert status_of(engine, gh_task) == "accepted"
    assert hook(url, "gh-hook", closed, "X-Hub-Signature-256").json() == {"changed": 1}
    assert status_of(engine, gh_task) == "done"
    assert hook(url, "gh-hook", closed, "X-Hub-Signature-256").json() == {"changed": 0}, (
        "a repeat changes nothing"
    )
    done = {
        "webhookEvent": "jira:issue_updated",
        "issue": {"key": "APP-3", "fields": {"status": {"statusCategory": {"key": "done"}}}},
    }
    assert hook(url, "jr-hook", done, "X-Hub-Signature", signed(b"other")).status_code == 401
    assert hook(url, "jr-hook", done, "X-Hub-Signature").json() == {"changed": 1}
    assert status_of(engine, jr_task) == "done"
    assert hook(url, "nobody", done, "X-Hub-Signature").status_code == 404
    history = httpx.get(f"{url}/api/tasks/{gh_task}", headers=AUTH).json()["history"]
    expected = {"field": "status", "new": "done", "origin": "tracker", "author": "gh-hook"}.items()
    assert any(expected <= change.items() for change in history)
    assert any(change["field"] == "assignee" and change["new"] == "ira" for change in history)


def statuses(engine: Engine, task_id: int) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT target, status FROM task_exports WHERE task_id = %s", (task_id,))
        return {target: status for target, status in rows}


def test_jira_both_ways_without_echo(
    engine: Engine, api: tuple[str, Settings], jira: JiraStandIn, github: GitHubStandIn
) -> None:
    """Our changes reach Jira (fields by an edit, the status by a transition); Jira's webhook
    closing the issue closes the task, goes on to GitHub, and is not sent back to Jira."""
    url, settings = api
    fast = settings.model_copy(update={"export_timeout": 10, "export_retry_base": 0.01, "export_lease": 1})
    add(engine, fast, "jr-both", "jira", jira.url, "APP", f"bot@example.com:{TOKEN}")
    add(engine, fast, "gh-both", "github", github.url, "team/app", TOKEN)
    task_id = new_task(engine, title="export button greyed out")
    asyncio.run(drain(engine, fast, queued(accept(engine, task_id))))
    assert statuses(engine, task_id) == {"gh-both": "exported", "jr-both": "exported"}
    [key] = jira.issues
    with session_scope(engine) as session:
        values = {
            "title": "export button greyed out for admins",
            "priority": "critical",
            "status": "in_progress",
        }
        _, recorded = change_task(session, task_id, values, origin=LabelOrigin.api)
    asyncio.run(drain(engine, fast, queued(recorded)))
    assert statuses(engine, task_id) == {"gh-both": "exported", "jr-both": "exported"}
    fields = jira.issues[key]["fields"]
    assert (fields["summary"], fields["priority"]["name"], fields["status"]["name"]) == (
        "export button greyed out for admins",
        "Highest",
        "In Progress",
    )
    assert ("POST", f"/rest/api/3/issue/{key}/transitions") in jira.calls
    done = {
        "webhookEvent": "jira:issue_updated",
        "issue": {"key": key, "fields": {"status": {"statusCategory": {"key": "done"}},
                                         "assignee": {"displayName": "Ira"}}},
    }  # fmt: skip
    assert hook(url, "jr-both", done, "X-Hub-Signature").json() == {"changed": 1}
    assert status_of(engine, task_id) == "done"
    with session_scope(engine) as session:
        assert session.get(Task, task_id).assignee == "Ira"  # type: ignore[union-attr]
    assert export_row(engine, task_id, "jr-both").status == "exported", "no echo back to Jira"
    calls = len(jira.calls)
    asyncio.run(drain(engine, fast, [export_row(engine, task_id, "gh-both").id]))
    assert statuses(engine, task_id) == {"gh-both": "exported", "jr-both": "exported"}
    assert github.issues["1"]["state"] == "closed" and len(jira.calls) == calls
    assert hook(url, "jr-both", done, "X-Hub-Signature").json() == {"changed": 0}


def test_merged_exported_task_hands_its_issue_to_the_survivor(
    engine: Engine, fast: Settings, github: GitHubStandIn
) -> None:
    """A merge never makes a second issue: the survivor takes over the absorbed task's issue
    where it has none of its own; where both have one, the absorbed task's is left as it is."""
    add(engine, fast, "gh-merge", "github", github.url, "team/app", TOKEN)
    absorbed, survivor = new_task(engine, title="pdf export slow"), new_task(engine, title="pdf slow")
    asyncio.run(drain(engine, fast, queued(accept(engine, absorbed))))
    with session_scope(engine) as session:
        _, recorded = merge_task(session, absorbed, survivor)
    asyncio.run(drain(engine, fast, queued(recorded)))
    assert statuses(engine, absorbed) == {} and statuses(engine, survivor) == {"gh-merge": "exported"}
    [issue] = github.issues.values()
    assert issue["title"] == "pdf slow" and "pdf export slow" in issue["body"], "the survivor's story"
    assert export_row(engine, survivor, "gh-merge").url == issue["html_url"]
    third = new_task(engine, title="pdf export takes minutes")
    asyncio.run(drain(engine, fast, queued(accept(engine, third))))
    with session_scope(engine) as session:
        _, recorded = merge_task(session, third, survivor)
    asyncio.run(drain(engine, fast, queued(recorded)))
    assert statuses(engine, survivor) == {"gh-merge": "exported"}
    assert len(github.issues) == 2 and "pdf export takes minutes" in issue["body"]
    assert export_row(engine, third, "gh-merge").url == github.issues["2"]["html_url"], "left as it is"
