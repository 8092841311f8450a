"""Gold and system tasks side by side, and the messages each got wrong: the conversations view
of the notebooks over a replay (core.evaluation.conversations_replay).

Tasks are folded and matched exactly as the figures are (core.evaluation.conversations_score):
a duplicate gold task counts with its original, a merged system task with its target, and a
message in several system tasks counts in the first one. A message is misplaced when it is not
where its gold task's match is: in another task, in no task while its gold task has a match,
in a task while gold says none (no task, or a question answered in the chat that matched no
task), or anywhere when its gold task matched no task and needed one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC

import polars as pl
from sqlalchemy import Engine

from core.classification.types import Classifier
from core.config import Settings
from core.db import session_scope
from core.evaluation.conversations import ChatMessage, Conversations, GoldTask, SystemTask
from core.evaluation.conversations_replay import in_time_order, message_roles, replay, system_tasks
from core.evaluation.conversations_score import (
    FIGURES,
    RESOLVED_BY_THE_CHAT,
    ConversationScore,
    agrees,
    fold_gold,
    fold_system,
    jaccard,
    match,
    score,
)

FIELDS = ("kind", "priority", "status", "assignee")
"""The labels compared on a matched pair."""

TASK_SCHEMA = pl.Schema({
    "match": pl.Utf8(), "gold_task": pl.Utf8(), "duplicates": pl.List(pl.Utf8()), "gold_title": pl.Utf8(),
    "system_task": pl.Int64(), "title": pl.Utf8(), "jaccard": pl.Float64(), "gold_messages": pl.Int64(),
    "messages": pl.Int64(), "also_in": pl.List(pl.Int64()), "gold_in_task": pl.List(pl.Utf8()),
    **{name: pl.Utf8() for f in FIELDS for name in (f"gold_{f}", f)}, "disagree": pl.List(pl.Utf8()),
})  # fmt: skip
"""One row per gold task (duplicates folded in) with its matched system task, then one per
spurious system task. match: matched, missed, settled in the chat (answered or cancelled, no
task holds it: right) or spurious. also_in: other system tasks holding some of the gold
task's messages; gold_in_task: the gold tasks of the system task's messages ("" for none)."""

MESSAGE_SCHEMA = pl.Schema({
    "id": pl.Utf8(), "sent_at": pl.Datetime("us", "UTC"), "chat": pl.Utf8(), "author": pl.Utf8(),
    "text": pl.Utf8(), "reply_to": pl.Utf8(), "gold_task": pl.Utf8(), "system_task": pl.Int64(),
    "expected_task": pl.Int64(), "role": pl.Utf8(), "misplaced": pl.Boolean(), "problem": pl.Utf8(),
})  # fmt: skip
"""One row per message in time order. gold_task: its own gold task (a duplicate's id, not its
original's); system_task: the (folded) task holding it; expected_task: its gold task's match."""


@dataclass(frozen=True)
class Placement:
    """Where each message is and where gold says it belongs, after folding and matching."""

    gold_of: dict[str, str]
    """Message -> its gold task's original (messages of no task are absent)."""
    task_of: dict[str, Hashable]
    """Message -> the first folded system task holding it."""
    match_of: dict[str, SystemTask]
    """Gold original -> its matched system task."""
    needs_task: set[str]
    """Unmatched gold originals that needed a task (not answered or cancelled in the chat)."""


@dataclass(frozen=True)
class ConversationsView:
    """The figures of a replay, its tasks side by side and every message with where it went."""

    score: ConversationScore
    tasks: pl.DataFrame
    messages: pl.DataFrame

    def misplaced(self) -> pl.DataFrame:
        """The messages the system put somewhere else than gold did."""
        return self.messages.filter(pl.col("misplaced"))

    def for_gold_task(self, task: str) -> ConversationsView:
        """The gold task's row, and its messages (duplicates' too) with those of its match."""
        row = self.tasks.filter(pl.col("gold_task") == task)
        members = [task, *(row["duplicates"][0] if row.height else [])]
        matched = row["system_task"][0] if row.height else None
        in_match = pl.col("system_task").eq(matched) if matched is not None else pl.lit(False)
        messages = self.messages.filter(pl.col("gold_task").is_in(members) | in_match)
        return replace(self, tasks=row, messages=messages)


def placement(gold: Sequence[GoldTask], system: Sequence[SystemTask]) -> Placement:
    """Where the folded tasks put each message; gold and system as conversations_score folds them."""
    pairs = match(gold, system)
    task_of: dict[str, Hashable] = {}
    for task in system:
        for message in task.messages:
            task_of.setdefault(message, task.id)
    match_of = {g.id: s for g, s in pairs}
    return Placement(
        gold_of={m: g.id for g in gold for m in g.messages}, task_of=task_of, match_of=match_of,
        needs_task={g.id for g in gold if g.id not in match_of and g.status not in RESOLVED_BY_THE_CHAT},
    )  # fmt: skip


def problem(message: str, where: Placement) -> str | None:
    """Why the message is misplaced, or None when it is where gold says."""
    actual, gold = where.task_of.get(message), where.gold_of.get(message)
    if gold in where.needs_task:
        return "in no task" if actual is None else "its gold task matched no task"
    expected = where.match_of[gold].id if gold in where.match_of else None
    if actual == expected:
        return None
    if actual is None:
        return "in no task"
    return "in a task, gold: none" if expected is None else "in another task"


def task_rows(
    gold: Sequence[GoldTask], folded: Sequence[GoldTask], where: Placement
) -> list[dict[str, object]]:
    """One row per folded gold task: its match (if any) beside it, label by label."""
    rows = []
    for g in folded:
        s = where.match_of.get(g.id)
        held_by = {where.task_of[m] for m in g.messages if m in where.task_of}
        holders = sorted(held_by - {s.id if s else None}, key=str)
        settled = not holders and g.id not in where.needs_task
        row = {"match": "matched" if s else "settled in the chat" if settled else "missed",
               "gold_task": g.id, "duplicates": [d.id for d in gold if d.id != g.id and d.root in g.messages],
               "gold_title": g.title, "gold_messages": len(g.messages), "also_in": holders,
               **{f"gold_{f}": getattr(g, f) for f in FIELDS}}  # fmt: skip
        if s:
            row |= system_columns(s, where) | {"jaccard": round(jaccard(g.messages, s.messages), 4)}
            row["disagree"] = [f for f in FIELDS if not agrees(f, g, s)]
        rows.append(row)
    return rows


def system_columns(task: SystemTask, where: Placement) -> dict[str, object]:
    """A system task's side of a row: id, title, size, labels and whose messages it holds."""
    gold_in = sorted({where.gold_of.get(m, "") for m in task.messages})
    return {"system_task": task.id, "title": task.title, "messages": len(task.messages),
            "gold_in_task": gold_in, **{f: getattr(task, f) for f in FIELDS}}  # fmt: skip


def message_rows(
    messages: Sequence[ChatMessage], where: Placement, roles: Mapping[str, str]
) -> list[dict[str, object]]:
    """Each message (time order) with its gold task, its system task, its role and what is wrong."""
    rows = []
    for m in in_time_order(messages):
        expected = where.match_of.get(where.gold_of.get(m.id, ""))  # None also when it needs none
        why = problem(m.id, where)
        rows.append({
            "id": m.id, "sent_at": m.sent_at.astimezone(UTC), "chat": m.chat_title or m.chat_id,
            "author": m.author, "text": m.text, "reply_to": m.reply_to, "gold_task": m.task,
            "system_task": where.task_of.get(m.id), "expected_task": expected and expected.id,
            "role": roles.get(m.id), "misplaced": why is not None, "problem": why,
        })  # fmt: skip
    return rows


def side_by_side(
    data: Conversations,
    system: Sequence[SystemTask],
    roles: Mapping[str, str] | None = None,
    llm_calls: int = 0,
) -> ConversationsView:
    """The view of a run: the system tasks (in the order opened) against the data set's gold."""
    gold, folded = fold_gold(data.gold_tasks), fold_system(system)
    where = placement(gold, folded)
    matched = {s.id for s in where.match_of.values()}
    spurious = [t for t in folded if t.id not in matched]
    rows = task_rows(data.gold_tasks, gold, where)
    rows += [{"match": "spurious", **system_columns(t, where)} for t in spurious]
    return ConversationsView(
        score=score(data.gold_tasks, system, llm_calls),
        tasks=pl.DataFrame(rows, schema=TASK_SCHEMA),
        messages=pl.DataFrame(message_rows(data.messages, where, roles or {}), schema=MESSAGE_SCHEMA),
    )


def figures_frame(score: ConversationScore) -> pl.DataFrame:
    """figure, value (as text: counts whole, "n/a" without a denominator), in the order
    `tracker eval --conversations` prints them."""
    figures = score.as_dict()
    rows = [(label, "n/a" if figures[key] is None else str(figures[key])) for label, key in FIGURES]
    return pl.DataFrame(rows, schema={"figure": pl.Utf8, "value": pl.Utf8}, orient="row")


async def replay_view(
    data: Conversations, *, engine: Engine, settings: Settings, classifier: Classifier
) -> ConversationsView:
    """Replay the data set into the database behind `engine` (a scratch one) and build its view."""
    stored = await replay(data.messages, engine=engine, settings=settings, classifier=classifier)

    def read_back() -> ConversationsView:
        with session_scope(engine) as session:
            tasks, llm_calls = system_tasks(session, stored)
            return side_by_side(data, tasks, message_roles(session, stored), llm_calls)

    return await asyncio.to_thread(read_back)
