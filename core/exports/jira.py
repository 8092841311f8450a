"""Jira target (Cloud REST v3): issue type per kind, priority mapping, the description in
Atlassian Document Format; `--token EMAIL:API_TOKEN` (basic auth).

Our marker is a label of the issue (`tt-<marker>`); `find` looks it up with JQL. Jira sets an
issue's status only through a workflow transition: after the fields, `update` takes the
transition that leads to the task's status category (or to `options.statuses`' status name).
Jira's webhooks (status category done / not done, assignee) come back through `hooks`.
"""

from __future__ import annotations

from typing import Any

import httpx

from core.exports.document import Document
from core.exports.http import call
from core.exports.target import Refused, Remote, TargetConfig

ISSUE_TYPES = {"bug": "Bug", "feature": "Story", "question": "Task", "task": "Task"}
PRIORITIES = {"critical": "Highest", "high": "High", "medium": "Medium", "low": "Low"}
CATEGORIES = {
    "new": "new",
    "accepted": "new",
    "in_progress": "indeterminate",
    "done": "done",
    "rejected": "done",
}
"""Our status -> Jira's status category (To Do, In Progress, Done)."""


def adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document: one paragraph a line."""
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}]}
        for line in text.split("\n")
        if line
    ]
    return {"type": "doc", "version": 1, "content": paragraphs}


def marker_label(doc: Document) -> str:
    return f"tt-{doc.marker}"


class Jira:
    def __init__(self, config: TargetConfig, client: httpx.AsyncClient) -> None:
        secret = config.secret.get_secret_value() if config.secret else ""
        if ":" not in secret or not config.project:
            raise Refused(f"target {config.name}: Jira needs --token EMAIL:API_TOKEN and --project KEY")
        self.config, self.client = config, client
        self.auth = httpx.BasicAuth(*secret.split(":", 1))
        self.api = f"{config.url}/rest/api/3"

    async def find(self, doc: Document) -> Remote | None:
        jql = f'project = "{self.config.project}" AND labels = "{marker_label(doc)}"'
        found = await call(
            self.client, "GET", f"{self.api}/search/jql", params={"jql": jql, "fields": "key"}, auth=self.auth
        )
        issues = found.json()["issues"]
        return self._remote(issues[0]["key"]) if issues else None

    async def create(self, doc: Document) -> Remote:
        fields = {"project": {"key": self.config.project}, "labels": [marker_label(doc)], **self._fields(doc)}
        answer = await call(self.client, "POST", f"{self.api}/issue", json={"fields": fields}, auth=self.auth)
        remote = self._remote(answer.json()["key"])
        await self._move(remote.external_id, doc.task["status"])
        return remote

    async def update(self, remote: Remote, doc: Document) -> None:
        issue = f"{self.api}/issue/{remote.external_id}"
        await call(self.client, "PUT", issue, json={"fields": self._fields(doc)}, auth=self.auth)
        await self._move(remote.external_id, doc.task["status"])

    async def _move(self, key: str, status: str) -> None:
        """Transition the issue to the task's status, unless it is there already."""
        issue = f"{self.api}/issue/{key}"
        wanted = self.config.options.get("statuses", {}).get(status)
        found = await call(self.client, "GET", issue, params={"fields": "status"}, auth=self.auth)
        now = found.json()["fields"]["status"]
        if now["name"] == wanted or (not wanted and now["statusCategory"]["key"] == CATEGORIES[status]):
            return
        offered = (await call(self.client, "GET", f"{issue}/transitions", auth=self.auth)).json()[
            "transitions"
        ]
        chosen = next((t for t in offered if _leads_to(t, wanted, CATEGORIES[status])), None)
        if chosen is None:
            raise Refused(f"Jira offers no transition of {key} to {wanted or CATEGORIES[status]!r}")
        body = {"transition": {"id": chosen["id"]}}
        await call(self.client, "POST", f"{issue}/transitions", json=body, auth=self.auth)

    async def check(self) -> str:
        me = (await call(self.client, "GET", f"{self.api}/myself", auth=self.auth)).json()
        await call(self.client, "GET", f"{self.api}/project/{self.config.project}", auth=self.auth)
        return f"Jira user {me.get('displayName') or me.get('accountId')}, project {self.config.project}"

    def _fields(self, doc: Document) -> dict[str, Any]:
        task, names = doc.task, self.config.options
        fields: dict[str, Any] = {
            "summary": task["title"],
            "description": adf(doc.text()),
            "issuetype": {"name": names.get("issue_types", ISSUE_TYPES)[task["kind"]]},
            "priority": {"name": names.get("priorities", PRIORITIES)[task["priority"]]},
        }
        account = names.get("logins", {}).get(task.get("assignee") or "")
        if account:
            fields["assignee"] = {"accountId": account}
        return fields

    def _remote(self, key: str) -> Remote:
        return Remote(key, f"{self.config.url}/browse/{key}")


def _leads_to(transition: dict[str, Any], name: str | None, category: str) -> bool:
    to = transition.get("to") or {}
    return bool(to.get("name") == name if name else (to.get("statusCategory") or {}).get("key") == category)
