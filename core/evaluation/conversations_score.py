"""Scoring the tasks a system opened from conversations against gold tasks.

Pure functions over plain data; the rules are those of the threads_dev README
("Scoring (implement exactly)"). Where it is silent the choices are stated here:
- greedy matching breaks a tie in Jaccard by preferring the pair whose system task holds
  the gold root, then the gold task listed first, then the system task listed first
  (callers list system tasks in the order they were opened);
- a message in several system tasks counts, for B-cubed, in the first one listed;
- triage load and each accuracy are None when their denominator is 0.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, TypeVar

from core.conversations import grouping
from core.evaluation.conversations import GoldTask, SystemTask, assignee_token

STATUS_MATCHES = {
    "new": {"new", "accepted"},
    "in_progress": {"in_progress", "accepted"},
    "done": {"done"},
    "answered": {"done"},
    "cancelled": {"rejected"},
}
"""Gold status -> the system task statuses that agree with it."""

RESOLVED_BY_THE_CHAT = {"answered", "cancelled"}
"""Gold statuses that need no task at all: the chat itself settled them."""

FIGURES = (
    ("gold-task recall", "recall"), ("triage load", "triage_load"),
    ("B-cubed precision", "bcubed_precision"), ("B-cubed recall", "bcubed_recall"),
    ("B-cubed F1", "bcubed_f1"),
    ("kind accuracy", "kind_accuracy"), ("priority accuracy", "priority_accuracy"),
    ("status accuracy", "status_accuracy"), ("assignee accuracy", "assignee_accuracy"),
    ("LLM calls", "llm_calls"), ("tasks opened", "tasks_opened"), ("gold tasks", "gold_tasks"),
    ("matched", "matched"),
)  # fmt: skip
"""How the figures of a ConversationScore are called where people read them, in that order."""

T = TypeVar("T", GoldTask, SystemTask)


@dataclass(frozen=True)
class ConversationScore:
    """The figures of one run (see the module docstring for the rules)."""

    gold_tasks: int
    tasks_opened: int
    matched: int
    recall: float | None
    triage_load: float | None
    bcubed_precision: float | None
    bcubed_recall: float | None
    bcubed_f1: float | None
    kind_accuracy: float | None
    priority_accuracy: float | None
    status_accuracy: float | None
    assignee_accuracy: float | None
    llm_calls: int

    def as_dict(self) -> dict[str, Any]:
        """The figures by name, for JSON output."""
        return asdict(self)


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def _root_of(task_id: Hashable, parent: dict[Any, Any], what: str) -> Hashable:
    """Follow `parent` links to the task that is not folded into another."""
    seen = {task_id}
    while parent[task_id] is not None:
        task_id = parent[task_id]
        if task_id not in parent:
            raise ValueError(f"{what} {task_id!r} is not among the tasks")
        if task_id in seen:
            raise ValueError(f"{what} {task_id!r} is folded into itself (a cycle)")
        seen.add(task_id)
    return task_id


def _fold(tasks: Sequence[T], into: Callable[[T], Hashable | None], what: str) -> list[T]:
    """Keep the tasks folded into no other, each with the messages of those folded into it."""
    parent = {t.id: into(t) for t in tasks}
    kept = {t.id: t for t in tasks if into(t) is None}
    messages: dict[Hashable, set[str]] = {key: set() for key in kept}
    for task in tasks:
        messages[_root_of(task.id, parent, what)].update(task.messages)
    return [replace(t, messages=frozenset(messages[key])) for key, t in kept.items()]


def fold_gold(tasks: Sequence[GoldTask]) -> list[GoldTask]:
    """Fold each duplicate report into its original: its messages join the original's."""
    return _fold(tasks, lambda t: t.duplicate_of, "gold task")


def fold_system(tasks: Sequence[SystemTask]) -> list[SystemTask]:
    """Fold each task merged into another into its target: its messages join the target's."""
    return _fold(tasks, lambda t: t.merged_into, "task")


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Overlap of two message sets: |a ∩ b| / |a ∪ b| (0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def eligible(gold: GoldTask, system: SystemTask) -> bool:
    """A pair may match: Jaccard >= 0.3, or the system task holds the gold root message."""
    return jaccard(gold.messages, system.messages) >= 0.3 or gold.root in system.messages


def match(gold: Sequence[GoldTask], system: Sequence[SystemTask]) -> list[tuple[GoldTask, SystemTask]]:
    """Greedy one-to-one matching of the eligible pairs by highest Jaccard (ties: module doc)."""
    candidates = sorted(
        (-jaccard(g.messages, s.messages), g.root not in s.messages, gi, si)
        for gi, g in enumerate(gold)
        for si, s in enumerate(system)
        if eligible(g, s)
    )
    pairs: list[tuple[GoldTask, SystemTask]] = []
    used_gold: set[int] = set()
    used_system: set[int] = set()
    for _, _, gi, si in candidates:
        if gi not in used_gold and si not in used_system:
            used_gold.add(gi)
            used_system.add(si)
            pairs.append((gold[gi], system[si]))
    return pairs


def recall(
    gold: Sequence[GoldTask], system: Sequence[SystemTask], pairs: Sequence[tuple[GoldTask, SystemTask]]
) -> float | None:
    """Matched gold tasks / gold tasks; an answered or cancelled one counts when no system
    task holds any of its messages (the system rightly left it out)."""
    matched = {g.id for g, _ in pairs}
    opened = set().union(*(s.messages for s in system))
    left_out = [g for g in gold if g.id not in matched and g.status in RESOLVED_BY_THE_CHAT]
    recalled = len(matched) + sum(1 for g in left_out if not g.messages & opened)
    return _ratio(recalled, len(gold))


def triage_load(gold: Sequence[GoldTask], system: Sequence[SystemTask]) -> float | None:
    """System tasks left new / gold tasks left new: 1.0 is a triager's own inbox."""
    return _ratio(sum(s.status == "new" for s in system), sum(g.status == "new" for g in gold))


def bcubed(
    gold: Sequence[GoldTask], system: Sequence[SystemTask]
) -> tuple[float | None, float | None, float | None]:
    """B-cubed precision, recall and F1 over the messages of gold tasks."""
    return grouping.bcubed((g.messages for g in gold), (s.messages for s in system))


def agrees(field: str, gold: GoldTask, system: SystemTask) -> bool:
    """Whether a pair agrees on kind, priority, status (STATUS_MATCHES) or assignee (its token)."""
    if field == "status":
        return system.status in STATUS_MATCHES[gold.status]
    if field == "assignee":
        return assignee_token(gold.assignee) == assignee_token(system.assignee)
    return bool(getattr(gold, field) == getattr(system, field))


def accuracy(field: str, pairs: Sequence[tuple[GoldTask, SystemTask]]) -> float | None:
    """Share of matched pairs that agree on kind, priority, status or assignee."""
    return _ratio(sum(agrees(field, g, s) for g, s in pairs), len(pairs))


def score(
    gold_tasks: Iterable[GoldTask], system_tasks: Iterable[SystemTask], llm_calls: int = 0
) -> ConversationScore:
    """Every figure of a run, after folding duplicates and merged tasks."""
    opened = list(system_tasks)
    gold, system = fold_gold(list(gold_tasks)), fold_system(opened)
    pairs = match(gold, system)
    precision, recall_, f1 = bcubed(gold, system)
    return ConversationScore(
        gold_tasks=len(gold), tasks_opened=len(opened), matched=len(pairs),
        recall=recall(gold, system, pairs), triage_load=triage_load(gold, system),
        bcubed_precision=precision, bcubed_recall=recall_, bcubed_f1=f1,
        kind_accuracy=accuracy("kind", pairs), priority_accuracy=accuracy("priority", pairs),
        status_accuracy=accuracy("status", pairs), assignee_accuracy=accuracy("assignee", pairs),
        llm_calls=llm_calls,
    )  # fmt: skip
