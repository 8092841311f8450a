"""The conversations view: gold and system tasks side by side and the misplaced messages, on a
hand-made chat whose system tasks are written out so that every case appears once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.evaluation.conversations import (
    REPO,
    ChatMessage,
    Conversations,
    GoldTaskRow,
    SystemTask,
    gold_tasks,
    known_sets,
)
from core.evaluation.conversations_view import ConversationsView, figures_frame, side_by_side

CHAT = [  # (id, minute, author, text, gold task)
    ("m1", 0, "Olena", "Morning all", None),
    ("m2", 1, "Kate", "Checkout fails on Android", "G1"),
    ("m3", 2, "Max", "+1, same here", "G1"),
    ("m4", 3, "Max", "I'll fix it", "G1"),
    ("m5", 4, "Ira", "Please add the banner", "G2"),
    ("m6", 5, "Kate", "How do I export orders?", "G3"),
    ("m7", 6, "Max", "Settings, Export", "G3"),
    ("m8", 7, "Oksana", "Checkout fails again", "G4"),
    ("m9", 8, "Nazar", "lunch?", None),
    ("m10", 9, "Vadym", "I wish we had gift cards", "G5"),
    ("m11", 10, "Vadym", "with a design like the shop's", "G5"),
    ("m12", 11, "Ira", "ok", None),
]
GOLD = [  # (task, kind, priority, status, assignee, duplicate_of)
    ("G1", "bug", "high", "in_progress", "max", None),
    ("G2", "task", "medium", "new", None, None),
    ("G3", "question", "low", "answered", None, None),
    ("G4", "bug", "high", "new", None, "G1"),
    ("G5", "feature", "low", "new", None, None),
]
SYSTEM = [
    SystemTask(10, frozenset({"m2", "m3"}), "bug", "high", "new", title="Checkout fails on Android"),
    SystemTask(11, frozenset({"m4"}), "task", "medium", "in_progress", assignee="Max"),  # split off G1
    SystemTask(12, frozenset({"m5", "m9"}), "task", "medium", "new"),  # "lunch?" joined it
    SystemTask(13, frozenset({"m8"}), "bug", "high", "new", merged_into=10),  # the duplicate, merged
    SystemTask(14, frozenset({"m1", "m11", "m12"}), "feature", "low", "new"),  # too little of G5
]


def chat(chat_id: str = "-1") -> Conversations:
    """The hand-made chat as a loaded data set (in chat `chat_id`)."""
    messages = [
        (no, ChatMessage(id=id, chat_id=chat_id, sent_at=f"2026-03-02T09:{minute:02d}:00+02:00",
                         author=author, text=text, task=task))
        for no, (id, minute, author, text, task) in enumerate(CHAT, start=1)
    ]  # fmt: skip
    roots = {task: id for id, *_, task in reversed(CHAT) if task}
    tasks = [
        (no, GoldTaskRow(task=task, kind=kind, priority=priority, status=status, assignee=assignee,
                         duplicate_of=duplicate_of, root=roots[task], title=f"title of {task}"))
        for no, (task, kind, priority, status, assignee, duplicate_of) in enumerate(GOLD, start=1)
    ]  # fmt: skip
    return Conversations([m for _, m in messages], gold_tasks(messages, tasks))


@pytest.fixture
def view() -> ConversationsView:
    return side_by_side(chat(), SYSTEM, roles={"m2": "source", "m3": "plus_one"}, llm_calls=3)


def column(frame: Any, name: str) -> list[Any]:
    return list(frame[name].to_list())


def test_each_gold_task_sits_beside_its_match_then_the_spurious_tasks(view: ConversationsView) -> None:
    tasks = view.tasks
    assert column(tasks, "match") == [
        "matched",
        "matched",
        "settled in the chat",
        "missed",
        "spurious",
        "spurious",
    ]
    assert column(tasks, "gold_task") == ["G1", "G2", "G3", "G5", None, None]
    assert column(tasks, "system_task") == [10, 12, None, None, 11, 14]  # 13 is folded into 10
    g1 = tasks.row(0, named=True)
    assert (g1["duplicates"], g1["gold_title"], g1["title"]) == (
        ["G4"],
        "title of G1",
        "Checkout fails on Android",
    )
    assert (g1["gold_messages"], g1["messages"], g1["jaccard"], g1["also_in"]) == (4, 3, 0.75, [11])
    assert (g1["gold_status"], g1["status"], g1["gold_assignee"], g1["assignee"]) == (
        "in_progress",
        "new",
        "max",
        None,
    )
    assert g1["disagree"] == ["status", "assignee"]
    assert column(tasks, "gold_in_task")[1] == ["", "G2"]  # a message of no gold task rode along
    assert column(tasks, "also_in")[3] == [14] and column(tasks, "gold_in_task")[5] == ["", "G5"]


def test_the_figures_are_those_of_the_same_folding_and_matching(view: ConversationsView) -> None:
    figures = view.score
    assert (figures.gold_tasks, figures.tasks_opened, figures.matched, figures.llm_calls) == (4, 5, 2, 3)
    assert figures.recall == 0.75  # G1, G2 matched; G3 settled in the chat; G5 missed


def test_every_message_says_where_it_is_where_gold_wants_it_and_what_is_wrong(
    view: ConversationsView,
) -> None:
    messages = view.messages
    assert column(messages, "id") == [m[0] for m in CHAT]
    assert column(messages, "system_task") == [14, 10, 10, 11, 12, None, None, 10, 12, None, 14, 14]
    assert column(messages, "expected_task") == [None, 10, 10, 10, 12, None, None, 10, None, None, None, None]
    assert column(messages, "role")[:4] == [None, "source", "plus_one", None]
    wrong = {row["id"]: row["problem"] for row in view.misplaced().iter_rows(named=True)}
    assert wrong == {
        "m1": "in a task, gold: none", "m4": "in another task", "m9": "in a task, gold: none",
        "m10": "in no task", "m11": "its gold task matched no task", "m12": "in a task, gold: none",
    }  # fmt: skip
    assert str(messages["sent_at"].dtype) == "Datetime(time_unit='us', time_zone='UTC')"
    assert messages["sent_at"][0].hour == 7


def test_a_gold_task_filter_keeps_its_row_its_messages_and_the_intruders_in_its_match(
    view: ConversationsView,
) -> None:
    g1 = view.for_gold_task("G1")
    assert column(g1.tasks, "gold_task") == ["G1"]
    assert column(g1.messages, "id") == ["m2", "m3", "m4", "m8"]  # the duplicate's report too
    assert column(view.for_gold_task("G2").messages, "id") == ["m5", "m9"]
    assert column(view.for_gold_task("G2").misplaced(), "id") == ["m9"]
    assert column(view.for_gold_task("G5").messages, "id") == ["m10", "m11"]  # matched nothing
    assert view.for_gold_task("nope").messages.is_empty()


def test_a_run_that_opened_nothing_shows_every_gold_task_and_no_spurious_row() -> None:
    empty = side_by_side(chat(), [])
    assert column(empty.tasks, "match") == ["missed", "missed", "settled in the chat", "missed"]
    assert empty.messages["system_task"].null_count() == len(CHAT)
    assert set(empty.misplaced()["id"]) == {"m2", "m3", "m4", "m5", "m8", "m10", "m11"}


def test_the_figures_read_as_tracker_eval_prints_them(view: ConversationsView) -> None:
    figures = dict(figures_frame(view.score).iter_rows())
    assert list(figures)[:2] == ["gold-task recall", "triage load"]
    assert (figures["gold-task recall"], figures["tasks opened"], figures["LLM calls"]) == ("0.75", "5", "3")
    assert figures_frame(side_by_side(chat(), []).score).row(1) == ("triage load", "0.0")


def test_threads_dev_is_offered_first_when_the_shared_folder_holds_it(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    [demo] = known_sets(root)
    assert demo.name == "demo chat (ours)" and demo.tasks == root / "evals/datasets/demo_threads_tasks.jsonl"
    shared = tmp_path / "shared" / "datasets"
    shared.mkdir(parents=True)
    (shared / "threads_dev.jsonl").touch()
    assert [s.name for s in known_sets(root)] == ["demo chat (ours)"]  # its tasks file is missing
    (shared / "threads_dev_tasks.jsonl").touch()
    dev, _ = known_sets(root)
    assert (dev.messages, dev.tasks) == (shared / "threads_dev.jsonl", shared / "threads_dev_tasks.jsonl")
    assert all(s.messages.is_file() for s in known_sets(REPO))  # ours is in the repository
