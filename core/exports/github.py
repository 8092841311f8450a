"""GitHub Issues target (REST, api.github.com or an Enterprise `/api/v3` base): labels for kind
and priority, assignee by login (`options.logins`: our assignee -> GitHub login).

Our marker is an HTML comment in the body; `find` searches the repository's issues for it.
GitHub's own webhooks (`issues`: closed, reopened, assigned) come back through `hooks`.
"""

from __future__ import annotations

from typing import Any

import httpx

from core.exports.document import Document
from core.exports.http import call
from core.exports.target import Refused, Remote, TargetConfig

API_VERSION = "2022-11-28"


class GitHub:
    def __init__(self, config: TargetConfig, client: httpx.AsyncClient) -> None:
        if config.secret is None or not config.project or "/" not in config.project:
            raise Refused(f"target {config.name}: GitHub needs --token and --project OWNER/REPO")
        self.config, self.client = config, client
        self.repo = f"{config.url}/repos/{config.project}"
        self.headers = {
            "Authorization": f"Bearer {config.secret.get_secret_value()}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
        }

    async def find(self, doc: Document) -> Remote | None:
        query = f'"{doc.marker}" repo:{self.config.project} is:issue in:body'
        found = await call(
            self.client, "GET", f"{self.config.url}/search/issues", params={"q": query}, headers=self.headers
        )
        items = found.json()["items"]
        return _remote(items[0]) if items else None

    async def create(self, doc: Document) -> Remote:
        answer = await call(
            self.client, "POST", f"{self.repo}/issues", json=self._fields(doc), headers=self.headers
        )
        return _remote(answer.json())

    async def update(self, remote: Remote, doc: Document) -> None:
        closed = doc.task["status"] in ("done", "rejected")
        fields = {**self._fields(doc), "state": "closed" if closed else "open"}
        if closed:
            fields["state_reason"] = "not_planned" if doc.task["status"] == "rejected" else "completed"
        await call(
            self.client,
            "PATCH",
            f"{self.repo}/issues/{remote.external_id}",
            json=fields,
            headers=self.headers,
        )

    async def check(self) -> str:
        user = (await call(self.client, "GET", f"{self.config.url}/user", headers=self.headers)).json()
        await call(self.client, "GET", self.repo, headers=self.headers)
        return f"GitHub user {user['login']}, repository {self.config.project}"

    def _fields(self, doc: Document) -> dict[str, Any]:
        task = doc.task
        body = f"{doc.text()}\n\n<!-- {doc.marker_line} -->"
        fields: dict[str, Any] = {
            "title": task["title"],
            "body": body,
            "labels": [task["kind"], f"priority:{task['priority']}"],
        }
        login = self.config.options.get("logins", {}).get(task.get("assignee") or "")
        if login:
            fields["assignees"] = [login]
        return fields


def _remote(issue: dict[str, Any]) -> Remote:
    return Remote(str(issue["number"]), issue.get("html_url"))
