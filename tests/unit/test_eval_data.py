"""Evaluation data: the seed set's held-out part, stratified samples, files without labels, fallbacks."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from core.classification.dataset import DatasetError, Example, load_jsonl
from core.classification.local.model import train
from core.classification.local.store import active_model_path
from core.evaluation import data as eval_data
from core.evaluation.data import (
    SEED_HELD_OUT,
    TRIAGED,
    EvalData,
    UnlabeledDataset,
    choose_data,
    default_source,
    from_file,
    seed_split,
    stratified_sample,
)
from core.models import Kind


def examples(counts: dict[Kind, int]) -> list[Example]:
    return [Example(f"{kind} {i}", kind, id=f"{kind}-{i}") for kind, n in counts.items() for i in range(n)]


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


def test_the_seed_split_holds_out_a_fifth_of_every_kind_and_is_stable() -> None:
    train_part, held = seed_split()
    everything = load_jsonl(eval_data.SEED_PATH)
    assert {e.id for e in train_part}.isdisjoint({e.id for e in held})
    assert len(train_part) + len(held) == len(everything)
    per_kind, held_kind = Counter(e.kind for e in everything), Counter(e.kind for e in held)
    assert all(held_kind[k] == round(per_kind[k] * 0.2) for k in per_kind)
    assert [e.id for e in seed_split()[1]] == [e.id for e in held]


def test_a_stratified_sample_takes_up_to_n_of_every_kind_the_same_way_for_a_seed() -> None:
    rows = examples({Kind.bug: 10, Kind.feature: 10, Kind.question: 2, Kind.task: 7, Kind.noise: 0})
    sample = stratified_sample(rows, per_kind=3, seed=1)
    assert Counter(e.kind for e in sample) == {Kind.bug: 3, Kind.feature: 3, Kind.question: 2, Kind.task: 3}
    assert len({e.id for e in sample}) == len(sample)
    assert stratified_sample(rows, 3, seed=1) == sample
    assert {e.id for e in stratified_sample(rows, 3, seed=2)} != {e.id for e in sample}


def test_a_file_without_kinds_is_unlabeled_and_keeps_its_messages(tmp_path: Path) -> None:
    path = write(tmp_path / "raw.jsonl", [{"text": "checkout fails"}, {"text": "same", "reply_to": "x"}])
    with pytest.raises(UnlabeledDataset, match="no labels") as caught:
        from_file(path)
    assert [(m.id, m.text, m.reply_to) for m in caught.value.messages] == [
        ("1", "checkout fails", None),
        ("2", "same", "x"),
    ]


def test_a_partly_labeled_file_names_the_line_without_a_kind(tmp_path: Path) -> None:
    path = write(tmp_path / "mixed.jsonl", [{"text": "a", "kind": "bug"}, {"text": "b"}])
    with pytest.raises(DatasetError, match=r":2: missing required field\(s\): kind") as caught:
        from_file(path)
    assert not isinstance(caught.value, UnlabeledDataset)


def test_choose_data_uses_what_was_asked_for_when_it_can() -> None:
    triaged = EvalData(TRIAGED, examples({Kind.bug: 2}), "2 triaged")
    assert choose_data("db", None, triaged).data is triaged
    assert choose_data("seed", None, triaged).data.name == SEED_HELD_OUT
    assert default_source(None) == "db" and default_source("x.jsonl") == "file"


@pytest.mark.parametrize(
    ("triaged", "problem"),
    [
        (None, "No database is reachable"),
        (EvalData(TRIAGED, [], "0 triaged"), "holds no triaged messages yet"),
    ],
)
def test_without_triaged_messages_the_seed_held_out_part_is_scored(
    triaged: EvalData | None, problem: str
) -> None:
    choice = choose_data("db", None, triaged)
    assert choice.data.name == SEED_HELD_OUT
    assert len(choice.problems) == 1 and problem in choice.problems[0] and "held-out" in choice.problems[0]


def test_a_bad_or_unlabeled_file_falls_back_and_says_why(tmp_path: Path) -> None:
    triaged = EvalData(TRIAGED, examples({Kind.task: 1}), "1 triaged")
    missing = choose_data("file", str(tmp_path / "nope.jsonl"), triaged)
    assert missing.data is triaged and "no such file" in missing.problems[0]
    assert "No data set file given" in choose_data("file", "", triaged).problems[0]
    raw = choose_data("file", str(write(tmp_path / "raw.jsonl", [{"text": "hi"}])), None)
    assert raw.data.name == SEED_HELD_OUT and "no labels" in raw.problems[0]
    assert [m.text for m in raw.unlabeled] == ["hi"]


def test_the_held_out_model_is_trained_once_and_never_activated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained: list[int] = []

    def quick(rows: list[Example]) -> object:
        trained.append(len(rows))
        return train(rows[::5], calibrate=False)

    monkeypatch.setattr(eval_data, "train", quick)
    first = eval_data.held_out_local(tmp_path)
    again = eval_data.held_out_local(tmp_path)
    assert trained == [len(seed_split()[0])]
    assert first.classifier_version == again.classifier_version
    assert first.classifier_version.startswith("seed-train-")
    assert active_model_path(tmp_path) is None
