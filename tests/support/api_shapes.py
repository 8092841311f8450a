"""The request shapes the stand-ins accept, written by hand from the published descriptions of
the operations we call (nothing copied: a few checks per operation, each citing it).

GitHub: github/rest-api-description, descriptions/api.github.com/api.github.com.2022-11-28.yaml,
operationIds `issues/create`, `issues/update`, `search/issues-and-pull-requests`.
Jira Cloud REST v3 (developer.atlassian.com/cloud/jira/platform/rest/v3): "Create issue"
(POST /rest/api/3/issue), "Edit issue" (PUT /rest/api/3/issue/{key}), "Transition issue"
(POST .../transitions), "Search for issues using JQL enhanced search" (GET /rest/api/3/search/jql),
and the Atlassian Document Format (developer.atlassian.com/cloud/jira/platform/apis/document/structure).

The stand-ins are stricter than the real services in one way: a field the description does not
name is refused (GitHub and Jira drop some silently), so a misspelt field fails our tests
instead of vanishing in production.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]


def of(*types: type, null: bool = False) -> Check:
    """A value of one of these JSON types (bool is not an integer here), or null when allowed."""
    return lambda v: (v is None and null) or (isinstance(v, types) and not isinstance(v, bool))


def one_of(*values: str, null: bool = False) -> Check:
    return lambda v: (v is None and null) or v in values


def array(item: Check) -> Check:
    return lambda v: isinstance(v, list) and all(item(x) for x in v)


_LABEL = of(str, dict)  # a name, or {id, name, description, color}
ISSUES_CREATE: dict[str, Check] = {  # operationId issues/create; required: title
    "title": of(str, int),
    "body": of(str),
    "assignee": of(str, null=True),
    "milestone": of(str, int, null=True),
    "labels": array(_LABEL),
    "assignees": array(of(str)),
    "issue_field_values": array(of(dict)),
    "type": of(str, null=True),
    "parent_issue_id": of(int),
}
ISSUES_UPDATE: dict[str, Check] = {  # operationId issues/update; nothing required
    **ISSUES_CREATE,
    "title": of(str, int, null=True),
    "body": of(str, null=True),
    "state": one_of("open", "closed"),
    "state_reason": one_of("completed", "not_planned", "duplicate", "reopened", null=True),
    "duplicate_issue_id": of(int),
    "assignees": array(of(str, dict)),
    "type": of(str, dict, null=True),
}
SEARCH_ISSUES = {"q", "sort", "order", "per_page", "page", "advanced_search"}
"""operationId search/issues-and-pull-requests: its query parameters; `q` required."""


def github_errors(
    data: Any, fields: dict[str, Check], required: tuple[str, ...] = ()
) -> list[dict[str, str]]:
    """GitHub's 422 `errors` for a request body: missing, unknown or mistyped fields."""
    if not isinstance(data, dict):
        return [{"resource": "Issue", "code": "invalid", "message": "body must be a JSON object"}]
    missing = [{"resource": "Issue", "field": f, "code": "missing_field"} for f in required if f not in data]
    wrong = [
        {"resource": "Issue", "field": f, "code": "invalid" if f in fields else "unexpected"}
        for f, value in data.items()
        if f not in fields or not fields[f](value)
    ]
    return missing + wrong


JIRA_CREATE_BODY = {"fields", "update", "historyMetadata", "properties", "transition"}
JIRA_EDIT_BODY = {"fields", "update", "historyMetadata", "properties"}
JIRA_REQUIRED = ("project", "issuetype", "summary")
"""Create issue: the fields every project's create screen requires."""
JIRA_NOT_EDITABLE = ("project", "status")
"""Edit issue: a status changes only by a transition, a project only by a move."""
SUMMARY_MAX = 255
_BLOCKS = {"paragraph", "heading", "bulletList", "orderedList", "codeBlock", "blockquote", "rule", "panel"}
_INLINES = {"text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status"}


def jira_field_errors(fields: Any, *, creating: bool) -> dict[str, str]:
    """Jira's 400 `errors` (field -> message) for the `fields` of a create or an edit."""
    if not isinstance(fields, dict):
        return {"fields": "fields must be an object"}
    errors = {f: f"{f} is required." for f in JIRA_REQUIRED if creating and f not in fields}
    if not creating:
        errors |= {f: f"Field '{f}' cannot be set. It is not on the appropriate screen, or unknown."
                   for f in JIRA_NOT_EDITABLE if f in fields}  # fmt: skip
    summary = fields.get("summary", "")
    if not isinstance(summary, str) or len(summary) > SUMMARY_MAX or "\n" in summary:
        errors["summary"] = "Summary must be less than 255 characters and on one line."
    if not all(isinstance(label, str) and label and " " not in label for label in fields.get("labels", [])):
        errors["labels"] = "Labels cannot contain spaces."
    if "description" in fields and not adf_document(fields["description"]):
        errors["description"] = (
            "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
        )
    return errors


def adf_document(doc: Any) -> bool:
    """The ADF root: exactly version 1, type doc and block content; no empty text nodes."""
    return (
        isinstance(doc, dict)
        and set(doc) == {"version", "type", "content"}
        and (doc["version"], doc["type"]) == (1, "doc")
        and isinstance(doc["content"], list)
        and all(_node(n, _BLOCKS) for n in doc["content"])
    )


def _node(node: Any, allowed: set[str]) -> bool:
    if not isinstance(node, dict) or node.get("type") not in allowed:
        return False
    if node["type"] == "text":
        return isinstance(node.get("text"), str) and bool(node["text"])
    inner = _INLINES if node["type"] in ("paragraph", "heading", "codeBlock") else _BLOCKS | {"listItem"}
    return all(_node(n, inner) for n in node.get("content", []))
