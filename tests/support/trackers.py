"""Stand-ins for GitHub's and Jira's REST APIs, written from their public documentation
(GitHub REST 2022-11-28: issues, search; Jira Cloud REST v3: issue, transitions, search/jql,
myself, project). Each keeps its issues in memory, checks the credentials and the request
shapes the published descriptions give (tests/support/api_shapes.py), and answers with the
documented status codes and error bodies."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from tests.support.api_shapes import (
    ISSUES_CREATE,
    ISSUES_UPDATE,
    JIRA_CREATE_BODY,
    JIRA_EDIT_BODY,
    SEARCH_ISSUES,
    github_errors,
    jira_field_errors,
)

Reply = tuple[int, Any]
Route = tuple[str, re.Pattern[str], Callable[..., Reply]]


class StandIn:
    routes: list[Route]

    def __init__(self) -> None:
        self.issues: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.url = ""

    def authorized(self, headers: Any) -> bool:
        raise NotImplementedError

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> Reply:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.calls.append((method, parts.path))
            if not self.authorized(headers):
                return 401, {"message": "Bad credentials"}
            for verb, pattern, answer in self.routes:
                found = pattern.fullmatch(parts.path)
                if found and verb == method:
                    data = json.loads(body) if body else {}
                    return answer(*found.groups(), query=query, data=data)
        return 404, {"message": "Not Found"}


class GitHubStandIn(StandIn):
    def __init__(self, token: str, repo: str) -> None:
        super().__init__()
        self.token, self.repo = token, repo
        r = re.escape(repo)
        self.routes = [
            ("GET", re.compile("/user"), lambda **_: (200, {"login": "tracker-bot", "id": 1})),
            ("GET", re.compile(f"/repos/({r})"), lambda name, **_: (200, {"full_name": name})),
            ("POST", re.compile(f"/repos/{r}/issues"), self.create),
            ("PATCH", re.compile(f"/repos/{r}/issues/(\\d+)"), self.update),
            ("GET", re.compile("/search/issues"), self.search),
        ]

    def authorized(self, headers: Any) -> bool:
        return bool(headers.get("Authorization") == f"Bearer {self.token}")

    def create(self, *, data: dict[str, Any], **_: Any) -> Reply:
        errors = github_errors(data, ISSUES_CREATE, required=("title",))
        if errors:
            return 422, {"message": "Validation Failed", "errors": errors}
        number = len(self.issues) + 1
        issue = {"number": number, "state": "open", "state_reason": None, "assignees": [],
                 "html_url": f"https://github.com/{self.repo}/issues/{number}"}  # fmt: skip
        self.issues[str(number)] = issue
        return 201, self._public(issue, data)

    def update(self, number: str, *, data: dict[str, Any], **_: Any) -> Reply:
        issue = self.issues.get(number)
        if issue is None:
            return 404, {"message": "Not Found"}
        errors = github_errors(data, ISSUES_UPDATE)
        if errors:
            return 422, {"message": "Validation Failed", "errors": errors}
        return 200, self._public(issue, data)

    def _public(self, issue: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        issue.update(
            {k: v for k, v in data.items() if k in ("title", "body", "state", "state_reason", "assignees")}
        )
        issue["labels"] = [{"name": n} for n in data.get("labels", [])] or issue.get("labels", [])
        return dict(issue)

    def search(self, *, query: dict[str, str], **_: Any) -> Reply:
        q = query.get("q", "")
        phrase = re.search(r'"([^"]+)"', q)
        if set(query) - SEARCH_ISSUES or f"repo:{self.repo}" not in q or phrase is None:
            return 422, {"message": "Validation Failed"}
        items = [dict(i) for i in self.issues.values() if phrase.group(1) in (i.get("body") or "")]
        return 200, {"total_count": len(items), "incomplete_results": False, "items": items}


class JiraStandIn(StandIn):
    TYPES = ("Bug", "Story", "Task", "Epic")
    PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
    STATUSES: ClassVar[dict[str, tuple[str, str]]] = {
        "11": ("To Do", "new"),
        "21": ("In Progress", "indeterminate"),
        "31": ("Done", "done"),
    }
    """The default workflow: every status reachable from every other, by the transition's id."""

    def __init__(self, email: str, token: str, project: str) -> None:
        super().__init__()
        self.basic, self.project = base64.b64encode(f"{email}:{token}".encode()).decode(), project
        api, key = "/rest/api/3", "([A-Z0-9]+-\\d+)"
        self.routes = [
            (
                "GET",
                re.compile(f"{api}/myself"),
                lambda **_: (200, {"accountId": "5b10a2844c20165700ede21g", "displayName": "Tracker Bot"}),
            ),
            ("GET", re.compile(f"{api}/project/([A-Z0-9]+)"), self.get_project),
            ("POST", re.compile(f"{api}/issue"), self.create),
            ("PUT", re.compile(f"{api}/issue/{key}"), self.update),
            ("GET", re.compile(f"{api}/issue/{key}"), self.get_issue),
            ("GET", re.compile(f"{api}/issue/{key}/transitions"), self.transitions),
            ("POST", re.compile(f"{api}/issue/{key}/transitions"), self.transition),
            ("GET", re.compile(f"{api}/search/jql"), self.search),
            ("GET", re.compile(f"{api}/search"), lambda **_: (410, {"errorMessages": [
                "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."]})),
        ]  # fmt: skip

    def authorized(self, headers: Any) -> bool:
        return bool(headers.get("Authorization") == f"Basic {self.basic}")

    def get_project(self, key: str, **_: Any) -> Reply:
        if key != self.project:
            return 404, {"errorMessages": [f"No project could be found with key '{key}'."], "errors": {}}
        return 200, {"key": key, "name": "Tracker"}

    def create(self, *, data: dict[str, Any], **_: Any) -> Reply:
        fields = data.get("fields", {})
        errors = self._invalid(data, JIRA_CREATE_BODY, creating=True)
        if not errors and fields["project"].get("key") != self.project:
            errors = {"project": "valid project is required"}
        if errors:
            return 400, {"errorMessages": [], "errors": errors}
        key = f"{self.project}-{len(self.issues) + 1}"
        status = {"name": "To Do", "statusCategory": {"key": "new"}}
        self.issues[key] = {"key": key, "fields": {**fields, "status": status}}
        return 201, {
            "id": str(10000 + len(self.issues)),
            "key": key,
            "self": f"{self.url}/rest/api/3/issue/{key}",
        }

    def update(self, key: str, *, data: dict[str, Any], **_: Any) -> Reply:
        if key not in self.issues:
            return self._missing()
        errors = self._invalid(data, JIRA_EDIT_BODY, creating=False)
        if errors:
            return 400, {"errorMessages": [], "errors": errors}
        self.issues[key]["fields"].update(data.get("fields", {}))
        return 204, None

    def get_issue(self, key: str, *, query: dict[str, str], **_: Any) -> Reply:
        if key not in self.issues:
            return self._missing()
        wanted = query.get("fields", "*all").split(",")
        fields = {k: v for k, v in self.issues[key]["fields"].items() if "*all" in wanted or k in wanted}
        return 200, {"key": key, "fields": fields}

    def transitions(self, key: str, **_: Any) -> Reply:
        if key not in self.issues:
            return self._missing()
        offered = [{"id": i, "name": name, "to": {"name": name, "statusCategory": {"key": category}}}
                   for i, (name, category) in self.STATUSES.items()]  # fmt: skip
        return 200, {"transitions": offered}

    def transition(self, key: str, *, data: dict[str, Any], **_: Any) -> Reply:
        chosen = (data.get("transition") or {}).get("id")
        if key not in self.issues:
            return self._missing()
        if (
            set(data) - {"transition", "fields", "update", "historyMetadata", "properties"}
            or chosen not in self.STATUSES
        ):
            return 400, {
                "errorMessages": [f"Transition id '{chosen}' is not valid for this issue."],
                "errors": {},
            }
        name, category = self.STATUSES[chosen]
        self.issues[key]["fields"]["status"] = {"name": name, "statusCategory": {"key": category}}
        return 204, None

    def _invalid(self, data: dict[str, Any], allowed: set[str], *, creating: bool) -> dict[str, str]:
        if set(data) - allowed:
            return {key: f'Unrecognized field "{key}"' for key in set(data) - allowed}
        fields = data.get("fields", {})
        errors = jira_field_errors(fields, creating=creating)
        if "issuetype" in fields and (fields["issuetype"] or {}).get("name") not in self.TYPES:
            errors["issuetype"] = "Specify a valid issue type"
        if "priority" in fields and (fields["priority"] or {}).get("name") not in self.PRIORITIES:
            errors["priority"] = "Specify the Priority (name) in the string format"
        return errors

    def _missing(self) -> Reply:
        return 404, {
            "errorMessages": ["Issue does not exist or you do not have permission to see it."],
            "errors": {},
        }

    def search(self, *, query: dict[str, str], **_: Any) -> Reply:
        label = re.search(r'labels = "([^"]+)"', query.get("jql", ""))
        if label is None:
            return 400, {"errorMessages": ["Error in the JQL Query"], "errors": {}}
        found = [
            {"key": i["key"]} for i in self.issues.values() if label.group(1) in i["fields"].get("labels", [])
        ]
        return 200, {"issues": found, "isLast": True}


@contextmanager
def serving(stand_in: StandIn) -> Iterator[StandIn]:
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, data = stand_in.handle(self.command, self.path, self.headers, body)
            payload = b"" if data is None else json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = _any

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()
