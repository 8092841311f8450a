"""Cached reads for the screens, each one call into core.

Live screens pass the newest event seq as part of the cache key: a committed change makes
the next rerun read afresh, while the reruns in between (every click) come from memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import streamlit as st

from apps import context
from core import events
from core.classification import prompts
from core.classification.local import registry as model_registry
from core.evaluation import stored as stored_runs
from core.exports.queries import exports_of, exports_of_tasks
from core.exports.targets import list_targets
from core.messages import reads as messages
from core.messages.reads import MessageFilter
from core.models import LocalModel, TaskStatus
from core.schemas import ExportPublic, MessagePublic, TaskDetail, TaskPublic
from core.triage import analytics, inbox, queries
from core.triage.inbox import TaskCard
from core.triage.queries import SortKey, TaskFilter

PAGES = 32
"""Cached pages kept per reader: bounds the memory a long session can take."""


def _session(url: str) -> Any:
    """A transaction on the dashboard's database (`url`, the same one, keys the caches)."""
    return context.system().session()


def latest_seq(url: str, types: Sequence[str]) -> int:
    """Uncached: the probe that tells whether anything changed."""
    with _session(url) as session:
        return events.latest_seq(session, types)


@st.cache_data(max_entries=PAGES, show_spinner=False)
def task_cards(url: str, flt: TaskFilter, offset: int, limit: int, seq: int) -> tuple[list[TaskCard], int]:
    with _session(url) as session:
        return inbox.task_cards(session, flt, limit=limit, offset=offset)


@st.cache_data(max_entries=PAGES, show_spinner=False)
def task_list(
    url: str, flt: TaskFilter, offset: int, limit: int, sort: SortKey, seq: int
) -> tuple[list[TaskPublic], int]:
    with _session(url) as session:
        found, total = queries.list_tasks(session, flt, limit=limit, offset=offset, sort=sort)
        return [TaskPublic.model_validate(t) for t in found], total


@st.cache_data(max_entries=PAGES, show_spinner=False)
def task_exports(url: str, task_ids: tuple[int, ...], seq: int) -> dict[int, list[ExportPublic]]:
    """The exports of a page of tasks (one query)."""
    with _session(url) as session:
        return exports_of_tasks(session, list(task_ids))


Evidence = dict[int, tuple[str | None, str]]
"""The messages the task's history cites: id -> (author, text)."""


@st.cache_data(max_entries=PAGES, show_spinner=False)
def task_page(url: str, task_id: int, seq: int) -> tuple[TaskDetail, Evidence]:
    """The task with its conversation, history and similar tasks, and the history's evidence
    (messages since moved out of the task included). TaskNotFound when there is none."""
    with _session(url) as session:
        detail = queries.task_detail(session, task_id)
        detail.exports = exports_of(session, task_id)
        evidence: Evidence = {m.message_id: (m.author, m.text) for m in detail.messages}
        cited = sorted({c.message_id for c in detail.history if c.message_id} - evidence.keys())
        for message_id, message in messages.messages_by_ids(session, cited).items():
            evidence[message_id] = (message.author, message.text)
        return detail, evidence


@st.cache_data(ttl=30, show_spinner=False)
def export_targets(url: str) -> list[str]:
    """The names of the export targets (`tracker exports add`)."""
    with _session(url) as session:
        return [row.name for row in list_targets(session)]


Column = tuple[list[TaskPublic], int]


def board(url: str, flt: TaskFilter, per_status: int, seq: int) -> dict[TaskStatus, Column]:
    """The first tasks of each status column and how many the column holds."""
    columns = {}
    for status in flt.status or TaskStatus:
        columns[status] = task_list(url, replace(flt, status=[status]), 0, per_status, "triage", seq)
    return columns


@st.cache_data(max_entries=PAGES, show_spinner=False)
def message_feed(
    url: str, flt: MessageFilter, offset: int, limit: int, seq: int
) -> tuple[list[MessagePublic], int]:
    with _session(url) as session:
        return messages.list_messages(session, flt, limit=limit, offset=offset)


@st.cache_data(ttl=60, show_spinner=False)
def channels(url: str) -> list[str]:
    """The channels messages came through (telegram, slack, email…)."""
    with _session(url) as session:
        return messages.list_sources(session)


@st.cache_data(ttl=60, show_spinner=False)
def chats(url: str) -> dict[str, str | None]:
    with _session(url) as session:
        return messages.list_chats(session)


@st.cache_data(ttl=60, show_spinner=False)
def assignees(url: str) -> list[str]:
    with _session(url) as session:
        return queries.list_assignees(session)


@st.cache_data(ttl=60, max_entries=8, show_spinner="Aggregating…")
def figures(url: str, days: int) -> dict[str, pl.DataFrame]:
    """Every analytics frame for the last `days` days."""
    since = datetime.now(UTC) - timedelta(days=days)
    with _session(url) as session:
        kinds = analytics.kinds_per_day(session, since)
        return {
            "messages_per_day": analytics.messages_per_day(session, since),
            "by_channel": analytics.by_channel(session, since),
            "kind_mix": analytics.kind_mix(kinds),
            "noise_share": analytics.noise_share(kinds),
            "triage_delay": analytics.triage_delay(session, since),
            "llm_usage": analytics.llm_usage(session, since),
            "confidence": analytics.confidence_histogram(session, since),
            "agreement": analytics.agreement(session, since),
        }


@st.cache_data(ttl=10, show_spinner=False)
def prompt_versions(url: str) -> tuple[prompts.PromptVersion, list[dict[str, Any]]]:
    """The active prompt and every stored version (text left out of the list)."""
    with _session(url) as session:
        rows = [p.model_dump(exclude={"text"}) for p in prompts.list_prompts(session)]
        return prompts.get_active_prompt(session), rows


@st.cache_data(ttl=10, show_spinner=False)
def local_models(url: str) -> list[LocalModel]:
    with _session(url) as session:
        return model_registry.list_local_models(session)


@st.cache_data(ttl=10, show_spinner=False)
def eval_runs(url: str) -> list[dict[str, Any]]:
    with _session(url) as session:
        return stored_runs.list_eval_runs(session)


def forget_classifier_state() -> None:
    """After an action on the Classifier screen: show its effect at once."""
    for reader in (prompt_versions, local_models, eval_runs):
        reader.clear()
