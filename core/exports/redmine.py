"""Redmine target (REST, JSON): project, tracker per kind, priority and status by name,
assignee by login where it maps (`options.logins`: our assignee -> Redmine user id).

Our marker is the description's last line; `find` looks it up with the description filter.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from core.exports.document import Document
from core.exports.http import call
from core.exports.target import Refused, Remote, TargetConfig

TRACKERS = {"bug": "Bug", "feature": "Feature", "question": "Support", "task": "Support"}
PRIORITIES = {"critical": "Immediate", "high": "High", "medium": "Normal", "low": "Low"}
STATUSES = {
    "new": "New",
    "accepted": "New",
    "in_progress": "In Progress",
    "done": "Closed",
    "rejected": "Rejected",
}


class Redmine:
    def __init__(self, config: TargetConfig, client: httpx.AsyncClient) -> None:
        if config.secret is None:
            raise Refused(f"target {config.name}: Redmine needs --token (an API key)")
        self.config, self.client = config, client
        self.headers = {"X-Redmine-API-Key": config.secret.get_secret_value()}
        self._ids: dict[str, dict[str, int]] = {}

    async def find(self, doc: Document) -> Remote | None:
        params = {
            "project_id": self.config.project,
            "status_id": "*",
            "f[]": "description",
            "op[description]": "~",
            "v[description][]": doc.marker,
        }
        issues = (await self._get("/issues.json", params))["issues"]
        return self._remote(issues[0]) if issues else None

    async def create(self, doc: Document) -> Remote:
        issue = {"project_id": self.config.project, **await self._fields(doc)}
        answer = await call(
            self.client, "POST", f"{self.config.url}/issues.json", json={"issue": issue}, headers=self.headers
        )
        return self._remote(answer.json()["issue"])

    async def update(self, remote: Remote, doc: Document) -> None:
        await call(
            self.client,
            "PUT",
            f"{self.config.url}/issues/{remote.external_id}.json",
            json={"issue": await self._fields(doc)},
            headers=self.headers,
        )

    async def check(self) -> str:
        user = (await self._get("/users/current.json"))["user"]
        await self._get(f"/projects/{self.config.project}.json")
        return f"Redmine user {user['login']}, project {self.config.project}"

    async def changed_since(self, since: datetime | None) -> list[dict[str, Any]]:
        """Issues of the project updated at or after `since`, oldest first (100 at a time)."""
        params = {"project_id": self.config.project, "status_id": "*", "sort": "updated_on", "limit": "100"}
        if since:
            params["updated_on"] = f">={since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
        return list((await self._get("/issues.json", params))["issues"])

    async def _fields(self, doc: Document) -> dict[str, Any]:
        task, names = doc.task, self.config.options
        fields: dict[str, Any] = {
            "subject": task["title"],
            "description": doc.text(),
            "tracker_id": await self._id("trackers", names.get("trackers", TRACKERS)[task["kind"]]),
            "priority_id": await self._id(
                "issue_priorities", names.get("priorities", PRIORITIES)[task["priority"]]
            ),
            "status_id": await self._id("issue_statuses", names.get("statuses", STATUSES)[task["status"]]),
        }
        login = names.get("logins", {}).get(task.get("assignee") or "")
        if login:
            fields["assigned_to_id"] = login
        return fields

    async def _id(self, kind: str, name: str) -> int:
        """A tracker's, priority's or status's id by its name (read once per target)."""
        if kind not in self._ids:
            path = "/enumerations/issue_priorities.json" if kind == "issue_priorities" else f"/{kind}.json"
            self._ids[kind] = {row["name"]: row["id"] for row in (await self._get(path))[kind]}
        if name not in self._ids[kind]:
            raise Refused(f"Redmine has no {kind[:-1].replace('_', ' ')} named {name!r}")
        return self._ids[kind][name]

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = await call(
            self.client, "GET", f"{self.config.url}{path}", params=params, headers=self.headers
        )
        return dict(answer.json())

    def _remote(self, issue: dict[str, Any]) -> Remote:
        return Remote(str(issue["id"]), f"{self.config.url}/issues/{issue['id']}")
