"""The trackers' webhooks to us: GitHub (`X-Hub-Signature-256`) and Jira (its secret, sent as
`X-Hub-Signature: sha256=...`). A good signature's closed / reopened / reassigned issue
changes the task through `inbound.take_back`; anything else is acknowledged and ignored."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from sqlmodel import Session

from core.exports.inbound import take_back, task_values
from core.exports.targets import config_of, get_target
from core.exports.vault import Vault

SIGNATURE_HEADERS = {"github": "X-Hub-Signature-256", "jira": "X-Hub-Signature"}


class BadSignature(Exception):
    """The request is not signed with the target's hook secret (or the target has none)."""


def signed(secret: str, body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def receive(
    session: Session, vault: Vault, target: str, headers: dict[str, str], body: bytes
) -> list[dict[str, Any]]:
    """Check the signature, then apply the issue's state; returns the events (none: ignored)."""
    row = get_target(session, target)
    if row is None or row.type not in SIGNATURE_HEADERS:
        raise LookupError(f"no GitHub or Jira target named {target!r}")
    secret = config_of(row, vault).hook_secret
    presented = headers.get(SIGNATURE_HEADERS[row.type].lower(), "")
    if secret is None or not signed(secret.get_secret_value(), body, presented):
        raise BadSignature(f"{SIGNATURE_HEADERS[row.type]} does not match target {target}'s hook secret")
    payload = json.loads(body)
    found = github_change(payload) if row.type == "github" else jira_change(payload)
    return take_back(session, target, *found) if found else []


def github_change(payload: dict[str, Any]) -> tuple[str, Any] | None:
    """An `issues` event: closed (completed / not planned), reopened, (un)assigned."""
    issue = payload.get("issue") or {}
    if payload.get("action") not in ("closed", "reopened", "assigned", "unassigned") or "number" not in issue:
        return None
    closed, rejected = issue.get("state") == "closed", issue.get("state_reason") == "not_planned"
    assignee = (issue.get("assignee") or {}).get("login")
    return str(issue["number"]), lambda task: task_values(task, closed, rejected, assignee or task.assignee)


def jira_change(payload: dict[str, Any]) -> tuple[str, Any] | None:
    """A `jira:issue_updated` event: status category done or not, the assignee."""
    issue = payload.get("issue") or {}
    if payload.get("webhookEvent") != "jira:issue_updated" or "key" not in issue:
        return None
    fields = issue.get("fields") or {}
    category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
    resolution = (fields.get("resolution") or {}).get("name")
    person = fields.get("assignee") or {}
    assignee = person.get("displayName") or person.get("accountId")
    rejected = resolution in ("Won't Do", "Won't Fix", "Declined")
    return str(issue["key"]), lambda task: task_values(
        task, category == "done", rejected, assignee or task.assignee
    )
