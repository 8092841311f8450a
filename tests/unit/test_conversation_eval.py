"""Scoring conversations against gold tasks: each rule on hand-made cases worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from core.classification.dataset import DatasetError
from core.evaluation.conversations import GoldTask, SystemTask, assignee_token, load_conversations
from core.evaluation.conversations_score import (
    accuracy,
    bcubed,
    eligible,
    fold_gold,
    fold_system,
    jaccard,
    match,
    recall,
    score,
    triage_load,
)
from services.cli import app


def gold(id: str, messages: str, root: str | None = None, **labels: Any) -> GoldTask:
    """A gold task over space-separated message ids; the root is the first unless named."""
    ids = messages.split()
    defaults = {"kind": "bug", "priority": "medium", "status": "new"}
    return GoldTask(id=id, messages=frozenset(ids), root=root or ids[0], **(defaults | labels))


def task(id: str, messages: str, **labels: Any) -> SystemTask:
    defaults = {"kind": "bug", "priority": "medium", "status": "new"}
    return SystemTask(id=id, messages=frozenset(messages.split()), **(defaults | labels))


def ids(pairs: list[tuple[GoldTask, SystemTask]]) -> list[tuple[str, object]]:
    return [(g.id, s.id) for g, s in pairs]


# --- folding ---------------------------------------------------------------------------


def test_a_gold_duplicate_folds_into_its_original_with_its_messages() -> None:
    original = gold("A", "a1 a2", kind="bug", status="done", assignee="dima")
    duplicate = gold("B", "b1", kind="question", status="new", duplicate_of="A")
    [folded] = fold_gold([original, duplicate])
    assert folded.id == "A" and folded.messages == {"a1", "a2", "b1"}
    assert (folded.root, folded.kind, folded.status, folded.assignee) == ("a1", "bug", "done", "dima")


def test_merged_system_tasks_fold_into_their_final_target() -> None:
    tasks = [task("t1", "a"), task("t2", "b", merged_into="t1"), task("t3", "c", merged_into="t2")]
    assert [(t.id, t.messages) for t in fold_system(tasks)] == [("t1", {"a", "b", "c"})]


def test_folding_refuses_cycles_and_unknown_targets() -> None:
    with pytest.raises(ValueError, match="cycle"):
        fold_system([task("t1", "a", merged_into="t2"), task("t2", "b", merged_into="t1")])
    with pytest.raises(ValueError, match="not among"):
        fold_system([task("t1", "a", merged_into="t9")])


# --- matching --------------------------------------------------------------------------


def test_jaccard_is_shared_over_all_messages() -> None:
    assert jaccard(frozenset("abc"), frozenset("bcd")) == 0.5
    assert jaccard(frozenset(), frozenset()) == 0.0


def test_a_pair_is_eligible_from_0_3_jaccard_or_when_the_task_holds_the_gold_root() -> None:
    g = gold("G", "m1 m2 m3 m4 m5 m6")
    assert eligible(g, task("exactly 0.3", "m2 m3 m4 x1 x2 x3 x4"))  # 3 / 10
    assert not eligible(g, task("0.25", "m2 m3 x1 x2"))  # 2 / 8
    assert eligible(g, task("root, 1/9", "m1 x1 x2 x3"))


def test_greedy_matching_takes_the_highest_jaccard_and_each_task_once() -> None:
    g1, g2 = gold("G1", "a b c"), gold("G2", "c d", root="d")
    whole, d_only = task("S1", "a b c d"), task("S2", "d")
    # G1-S1 0.75 first; G2-S1 (0.5) is then taken, so G2 gets S2 (0.5, its root)
    assert ids(match([g1, g2], [d_only, whole])) == [("G1", "S1"), ("G2", "S2")]


def test_a_jaccard_tie_goes_to_the_task_holding_the_gold_root() -> None:
    g = gold("G", "a b c d")
    assert ids(match([g], [task("S1", "b c"), task("S2", "a b")])) == [("G", "S2")]


def test_a_full_tie_goes_to_the_gold_task_then_the_system_task_listed_first() -> None:
    both = task("S", "a b c d")
    assert ids(match([gold("G1", "a b"), gold("G2", "c d")], [both])) == [("G1", "S")]
    assert ids(match([gold("G2", "c d"), gold("G1", "a b")], [both])) == [("G2", "S")]
    g = gold("G", "a b c d", root="a")
    assert ids(match([g], [task("S1", "b c"), task("S2", "c d")])) == [("G", "S1")]


# --- recall and triage load ------------------------------------------------------------


def test_recall_counts_left_out_answered_and_cancelled_tasks_only_when_no_task_holds_them() -> None:
    matched = gold("A", "a1")
    answered_alone = gold("B", "b1 b2", status="answered")
    cancelled_touched = gold("C", "c1 c2 c3 c4", status="cancelled")
    done_missed = gold("D", "d1", status="done")
    gold_tasks = [matched, answered_alone, cancelled_touched, done_missed]
    system = [task("S1", "a1"), task("S2", "c4 x1 x2")]  # S2: 1/6, not C's root: no match
    pairs = match(gold_tasks, system)
    assert ids(pairs) == [("A", "S1")]
    assert recall(gold_tasks, system, pairs) == 0.5  # A and B of four


def test_triage_load_is_new_system_tasks_over_new_gold_tasks_after_folding() -> None:
    gold_tasks = [gold("A", "a"), gold("B", "b"), gold("C", "c", status="done")]
    system = [task("S1", "a"), task("S2", "b"), task("S3", "c"), task("S4", "d", status="accepted"),
              task("S5", "e", merged_into="S1")]  # fmt: skip
    assert score(gold_tasks, system).triage_load == 1.5  # S1-S3 of two
    assert triage_load([gold("A", "a", status="done")], [task("S", "a")]) is None


# --- grouping --------------------------------------------------------------------------


def test_bcubed_over_gold_messages_with_unplaced_ones_as_singletons() -> None:
    gold_tasks = [gold("G1", "a b c"), gold("G2", "d e")]
    system = [task("S1", "a b n"), task("S2", "c d")]  # n: in no gold task, ignored; e: in no task
    # precision a 1, b 1, c 1/2, d 1/2, e 1 = 4/5; recall a 2/3, b 2/3, c 1/3, d 1/2, e 1/2 = 8/15
    assert bcubed(gold_tasks, system) == (0.8, 0.5333, 0.64)


def test_a_message_in_several_tasks_counts_in_the_first_listed() -> None:
    # a in {a} (P 1, R 1/2), b in {a b} (P 1, R 1)
    assert bcubed([gold("G", "a b")], [task("S1", "a"), task("S2", "a b")]) == (1.0, 0.75, 0.8571)


def test_bcubed_has_no_figures_without_gold_messages() -> None:
    assert bcubed([], [task("S", "a")]) == (None, None, None)


# --- accuracies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gold_status", "right", "wrong"),
    [
        ("new", {"new", "accepted"}, {"in_progress", "done", "rejected"}),
        ("in_progress", {"in_progress", "accepted"}, {"new", "done", "rejected"}),
        ("done", {"done"}, {"new", "accepted", "in_progress", "rejected"}),
        ("answered", {"done"}, {"new", "accepted", "in_progress", "rejected"}),
        ("cancelled", {"rejected"}, {"new", "accepted", "in_progress", "done"}),
    ],
)
def test_status_correspondence(gold_status: str, right: set[str], wrong: set[str]) -> None:
    g = gold("G", "a", status=gold_status)
    for status in right:
        assert accuracy("status", [(g, task("S", "a", status=status))]) == 1.0, status
    for status in wrong:
        assert accuracy("status", [(g, task("S", "a", status=status))]) == 0.0, status


def test_kind_and_priority_accuracy_over_matched_pairs() -> None:
    pairs = [(gold("G", "a", kind="bug", priority="high"), task("S", "a", kind=k, priority=p))
             for k, p in [("bug", "high"), ("bug", "low"), ("feature", "high"), ("bug", "high")]]  # fmt: skip
    assert accuracy("kind", pairs) == 0.75
    assert accuracy("priority", pairs) == 0.75
    assert accuracy("kind", []) is None


def test_assignee_compares_the_gold_token_with_the_first_word_of_the_system_assignee() -> None:
    cases = [("dima", "Dima Lysenko", 1.0), ("nazar", "Назар Гуменюк", 1.0), (None, None, 1.0),
             ("ira", None, 0.0), (None, "Max", 0.0), ("max", "Maxim Petrenko", 0.0)]  # fmt: skip
    for gold_name, system_name, expected in cases:
        pair = (gold("G", "a", assignee=gold_name), task("S", "a", assignee=system_name))
        assert accuracy("assignee", [pair]) == expected, (gold_name, system_name)


def test_assignee_token_follows_the_ukrainian_national_transliteration() -> None:
    names = ["Софія Гнатюк", "Андрій", "Юлія", "Євген", "Згорани", "  ", None]
    assert [assignee_token(n) for n in names] == [
        "sofiia",
        "andrii",
        "yuliia",
        "yevhen",
        "zghorany",
        None,
        None,
    ]


# --- every figure at once --------------------------------------------------------------


def test_score_of_one_task_per_message() -> None:
    gold_tasks = [
        gold("A", "m1 m2 m3", kind="bug", priority="high", status="done", assignee="dima"),
        gold("B", "m4", kind="question", priority="low", status="answered"),
        gold("C", "m5", kind="bug", priority="high", status="done", assignee="dima", duplicate_of="A"),
        gold("D", "m6 m7", kind="task", priority="medium", status="new"),
    ]
    system = [
        task("S1", "m1", kind="bug", priority="high"),
        task("S2", "m2 n1", kind="bug"),  # n1: a "+1" in no gold task
        task("S3", "m5", kind="bug", priority="high", merged_into="S1"),
        task("S4", "m6", kind="task"),
        task("S5", "m7", kind="feature", priority="low"),
    ]
    # folded: A {m1 m2 m3 m5}, B {m4}, D {m6 m7}; S1 {m1 m5}, S2, S4, S5
    # matches: A-S1 (0.5, root), D-S4 (0.5, root; beats D-S5 at 0.5); B: no task holds m4
    # B-cubed recall: m1 2/4, m5 2/4, m2 1/4, m3 1/4, m4 1, m6 1/2, m7 1/2 = 3.5 / 7
    result = score(gold_tasks, system, llm_calls=7)
    assert result.as_dict() == {
        "gold_tasks": 3, "tasks_opened": 5, "matched": 2, "recall": 1.0, "triage_load": 4.0,
        "bcubed_precision": 1.0, "bcubed_recall": 0.5, "bcubed_f1": 0.6667,
        "kind_accuracy": 1.0, "priority_accuracy": 1.0, "status_accuracy": 0.5,
        "assignee_accuracy": 0.5, "llm_calls": 7,
    }  # fmt: skip


# --- loading ---------------------------------------------------------------------------


def message(id: str, task: str | None, **fields: Any) -> dict[str, Any]:
    row = {"id": id, "chat_id": -100, "chat_title": "Team", "topic": None, "sent_at": "2026-01-05T09:00:00+02:00",
           "author_id": 7, "author": "Ira Savchuk", "text": f"text {id}", "reply_to": None, "edited": False,
           "task": task, "lang": "en"}  # fmt: skip
    return row | fields


def gold_row(task: str, root: str, **fields: Any) -> dict[str, Any]:
    row = {"task": task, "kind": "bug", "priority": "high", "title": "t", "status": "done",
           "assignee": "ira", "duplicate_of": None, "root": root, "note": "n"}  # fmt: skip
    return row | fields


def write(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def load(tmp_path: Path, messages: list[Any], tasks: list[Any]) -> Any:
    return load_conversations(write(tmp_path / "m.jsonl", messages), write(tmp_path / "t.jsonl", tasks))


def test_loading_builds_gold_tasks_from_the_messages(tmp_path: Path) -> None:
    data = load(tmp_path, [message("1", "T1"), message("2", None), message("3", "T1"), message("4", "T2")],
                [gold_row("T1", "1"), gold_row("T2", "4", duplicate_of="T1")])  # fmt: skip
    assert [m.chat_id for m in data.messages] == ["-100"] * 4
    assert [(t.id, t.messages, t.duplicate_of) for t in data.gold_tasks] == [
        ("T1", {"1", "3"}, None), ("T2", {"4"}, "T1")]  # fmt: skip


@pytest.mark.parametrize(
    ("messages", "tasks", "error"),
    [
        ([message("1", "T1"), "{oops"], [gold_row("T1", "1")], "m.jsonl:2: malformed JSON"),
        ([{k: v for k, v in message("1", "T1").items() if k != "sent_at"}], [gold_row("T1", "1")],
         "m.jsonl:1: field 'sent_at': Field required"),
        ([message("1", "T1", sent_at="2026-01-05T09:00:00")], [gold_row("T1", "1")], "m.jsonl:1: field 'sent_at'"),
        ([message("1", "T1"), message("1", "T1")], [gold_row("T1", "1")], "m.jsonl:2: field 'id': '1' is already"),
        ([message("1", "T9")], [gold_row("T1", "1")], "m.jsonl:1: field 'task': 'T9' is not in"),
        ([message("1", "T1")], [gold_row("T1", "1", kind="noise")], "t.jsonl:1: field 'kind'"),
        ([message("1", "T1")], [gold_row("T1", "1", status="closed")], "t.jsonl:1: field 'status'"),
        ([message("1", "T1"), message("2", "T2")], [gold_row("T1", "1"), gold_row("T2", "1")],
         "t.jsonl:2: field 'root': message '1' belongs to 'T1'"),
        ([message("1", "T1")], [gold_row("T1", "9")], "t.jsonl:1: field 'root': no message '9'"),
        ([message("1", "T1"), message("2", "T2"), message("3", "T3")],
         [gold_row("T1", "1"), gold_row("T2", "2", duplicate_of="T1"), gold_row("T3", "3", duplicate_of="T2")],
         "t.jsonl:3: field 'duplicate_of': 'T2' is no original task"),
        ([message("1", "T1")], [], "t.jsonl: empty"),
    ],
)  # fmt: skip
def test_bad_input_names_the_line_and_the_field(
    tmp_path: Path, messages: list[Any], tasks: list[Any], error: str
) -> None:
    with pytest.raises(DatasetError) as caught:
        load(tmp_path, messages, tasks)
    assert error in str(caught.value)


# --- tracker eval --conversations: what it refuses before touching a database ------------


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--conversations", "{messages}"], "give both --conversations"),
        (
            ["--conversations", "{messages}", "--tasks", "{tasks}", "--classifier", "llm"],
            "local classifier only",
        ),
        (["--conversations", "{messages}", "--tasks", "{tasks}"], "m.jsonl:2: malformed JSON"),
    ],
)
def test_cli_refuses_what_it_cannot_replay(tmp_path: Path, args: list[str], error: str) -> None:
    paths = {"messages": write(tmp_path / "m.jsonl", [message("1", "T1"), "{oops"]),
             "tasks": write(tmp_path / "t.jsonl", [gold_row("T1", "1")])}  # fmt: skip
    env = {"TRACKER_DATA_DIR": str(tmp_path / "data"), "TRACKER_DATABASE_URL": "", "NO_COLOR": "1"}
    res = CliRunner().invoke(app, ["eval", *(a.format(**paths) for a in args)], env=env)
    assert res.exit_code == 2 and error in res.stderr, res.output
