"""The stand-ins' request checks (tests/support/api_shapes.py, from GitHub's OpenAPI description
and Atlassian's REST v3 docs) refuse what the real services refuse, and accept what our GitHub
and Jira targets send."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from core.exports.document import Document, Said
from core.exports.github import GitHub
from core.exports.jira import Jira, adf
from core.exports.target import TargetConfig
from tests.support.api_shapes import (
    ISSUES_CREATE,
    ISSUES_UPDATE,
    adf_document,
    github_errors,
    jira_field_errors,
)

DOC = Document(
    marker="0123abcd",
    task={"id": 7, "title": "checkout fails", "kind": "bug", "priority": "high", "status": "done",
          "reporters": 2, "assignee": "ira", "description": None, "link": "http://dash/task?task=7"},
    chat={"source": "telegram", "id": "-100", "title": "Payments"},
    conversation=[Said(1, "Olena", "2026-12-01T10:00:00+00:00", "checkout fails", "source", None),
                  Said(2, "Dmytro", None, "", "detail", 1)],
)  # fmt: skip


def config(type_: str, token: str, project: str) -> TargetConfig:
    return TargetConfig(
        "t", type_, "http://x", project, SecretStr(token), options={"logins": {"ira": "ira-x"}}
    )


@pytest.mark.parametrize(
    ("body", "fields", "required", "codes"),
    [
        ({"body": "no title"}, ISSUES_CREATE, ("title",), [("title", "missing_field")]),
        ({"title": "t", "label": ["bug"]}, ISSUES_CREATE, ("title",), [("label", "unexpected")]),
        ({"title": "t", "labels": [1]}, ISSUES_CREATE, ("title",), [("labels", "invalid")]),
        ({"title": True}, ISSUES_CREATE, ("title",), [("title", "invalid")]),
        ({"state": "resolved"}, ISSUES_UPDATE, (), [("state", "invalid")]),
        ({"state_reason": "wontfix"}, ISSUES_UPDATE, (), [("state_reason", "invalid")]),
        ({"title": None, "state_reason": "duplicate"}, ISSUES_UPDATE, (), []),
    ],
)
def test_github_bodies_checked_against_the_description(
    body: dict[str, object],
    fields: dict[str, object],
    required: tuple[str, ...],
    codes: list[tuple[str, str]],
) -> None:
    errors = github_errors(body, fields, required)  # type: ignore[arg-type]
    assert [(e["field"], e["code"]) for e in errors] == codes


def test_jira_fields_and_documents_checked() -> None:
    assert set(jira_field_errors({"summary": "s"}, creating=True)) == {"project", "issuetype"}
    assert "status" in jira_field_errors({"status": {"name": "Done"}}, creating=False)
    assert "summary" in jira_field_errors({"summary": "two\nlines"}, creating=False)
    assert "labels" in jira_field_errors({"labels": ["tt marker"]}, creating=False)
    assert "description" in jira_field_errors({"description": "plain text"}, creating=False)
    empty_text = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": ""}]}],
    }
    assert not adf_document(empty_text), "ADF forbids empty text nodes"
    assert not adf_document({**adf("x"), "attrs": {}}), "the doc node takes no other properties"
    assert not adf_document({"type": "doc", "version": 1, "content": [{"type": "text", "text": "x"}]})


def test_what_our_targets_send_passes_the_checks() -> None:
    client = httpx.AsyncClient()
    github = GitHub(config("github", "ghp_x", "team/app"), client)
    create = github._fields(DOC)
    assert github_errors(create, ISSUES_CREATE, ("title",)) == []
    assert github_errors({**create, "state": "closed", "state_reason": "completed"}, ISSUES_UPDATE) == []
    jira = Jira(config("jira", "bot@example.com:tok", "APP"), client)
    fields = {"project": {"key": "APP"}, "labels": ["tt-0123abcd"], **jira._fields(DOC)}
    assert jira_field_errors(fields, creating=True) == {}
    assert jira_field_errors(jira._fields(DOC), creating=False) == {}
    assert adf_document(fields["description"])
