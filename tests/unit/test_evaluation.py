"""Data set loading, metrics, the evaluation runner and the `tracker eval` / `train` CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from core.classification.dataset import DatasetError, load_jsonl, parse_lines
from core.classification.types import Classification, MessageInput, Outcome
from core.evaluation.metrics import Prediction, compute_metrics, macro_f1
from core.evaluation.nlbse import issue_text, run_nlbse24
from core.evaluation.runner import evaluate, pydantic_evals_report
from core.models import Kind, Priority
from services.cli import app

runner = CliRunner()
TINY: list[dict[str, object]] = [
    {"text": "checkout returns 500", "kind": "bug", "priority": "critical", "extra": 1},
    {"text": "додайте темну тему", "kind": "feature", "priority": "low", "lang": "uk"},
    {"text": "як змінити пароль?", "kind": "question", "priority": "low"},
    {"text": "онови сертифікат до п'ятниці", "kind": "task", "priority": "high", "reply_to": None},
    {"text": "дякую!", "kind": "noise", "priority": None, "id": "n1"},
]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows))
    return path


# --- loading -------------------------------------------------------------------------


def test_load_valid_file_ignores_other_fields(tmp_path: Path) -> None:
    rows = load_jsonl(write_jsonl(tmp_path / "d.jsonl", [*TINY[:2], "", *TINY[2:]]))
    assert [r.kind for r in rows] == [Kind.bug, Kind.feature, Kind.question, Kind.task, Kind.noise]
    assert rows[0].priority == Priority.critical and rows[0].id == "1"
    assert rows[4].id == "n1" and rows[4].priority is None


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"text": "a", "kind": "bug"}', '{"text": "b", "kind": '], r":2: malformed JSON"),
        (['{"text": "a", "kind": "bugg"}'], r":1: unknown kind 'bugg'"),
        (['{"kind": "bug"}'], r":1: missing required field\(s\): text"),
        (['{"text": "a"}'], r":1: missing required field\(s\): kind"),
        (['{"text": "", "kind": "bug"}'], r":1: field 'text' must be a non-empty string"),
        (['{"text": "a", "kind": "bug", "priority": "urgent"}'], r":1: unknown priority 'urgent'"),
        (["[1, 2]"], r":1: expected a JSON object"),
        (['{"text": "a", "kind": "bug", "reply_to": 5}'], r":1: field 'reply_to' must be a string"),
    ],
)
def test_bad_lines_name_the_line(lines: list[str], message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        parse_lines(lines, "set.jsonl")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    with pytest.raises(DatasetError, match="empty data set"):
        load_jsonl(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        load_jsonl(tmp_path / "nope.jsonl")


# --- metrics -------------------------------------------------------------------------


def pred(
    gold: str, kind: str | None, conf: float = 0.5, gp: str | None = "medium", p: str | None = "medium"
) -> Prediction:
    return Prediction(
        id="x", gold_kind=gold, gold_priority=gp, kind=kind, priority=p, confidence=conf, title=""
    )


def test_metrics_on_known_data() -> None:
    preds = [
        pred("bug", "bug", 0.95), pred("bug", "feature", 0.95), pred("feature", "feature", 0.5, p="low"),
        pred("noise", "noise", 0.99, gp=None, p=None), pred("question", None, 0.0),
    ]  # fmt: skip
    m = compute_metrics(preds, seconds=2.0)
    assert m["n"] == 5 and m["accuracy"] == 0.6
    assert m["per_class"]["bug"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert m["per_class"]["feature"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}
    assert m["per_class"]["task"]["support"] == 0
    # macro over the kinds present in the gold labels: bug, feature, question, noise
    assert m["macro_f1"] == round((0.6667 + 0.6667 + 0.0 + 1.0) / 4, 4)
    assert m["confusion"]["bug"]["feature"] == 1 and m["confusion"]["question"]["error"] == 1
    assert m["priority_accuracy"] == 0.75
    assert m["accuracy_at_conf_0_9"] == round(2 / 3, 4) and m["coverage_at_conf_0_9"] == 0.6
    assert m["errors"] == 1 and m["messages_per_second"] == 2.5


class Fixed:
    """A stand-in classifier: says `bug` for everything and reports LLM spend."""

    name = "fixed"

    def __init__(self) -> None:
        self.batches: list[int] = []

    async def classify(self, messages: list[MessageInput]) -> list[Outcome]:
        self.batches.append(len(messages))
        result = Classification(kind=Kind.bug, priority=Priority.high, title="t", confidence=0.95)
        return [Outcome(result=result, classifier="fixed", classifier_version="v1", llm_calls=1, input_tokens=10, output_tokens=2,
                        prompt_version="p1") for _ in messages]  # fmt: skip


async def test_evaluate_runs_any_classifier_in_batches(tmp_path: Path) -> None:
    rows = load_jsonl(write_jsonl(tmp_path / "d.jsonl", TINY))
    clf = Fixed()
    done: list[int] = []
    result = await evaluate(clf, rows, batch_size=2, progress=done.append)
    assert clf.batches == [2, 2, 1] and sum(done) == 5
    m = result.metrics
    assert m["accuracy"] == 0.2 and m["llm_calls"] == 5 and m["tokens"] == 60
    assert result.classifier_version == "v1" and result.prompt_version == "p1"
    report = await pydantic_evals_report(rows, result)
    assert len(report.cases) == 5


# --- CLI -----------------------------------------------------------------------------

REQUIRED = {"n", "accuracy", "macro_f1", "per_class", "confusion", "priority_accuracy", "accuracy_at_conf_0_9",
            "coverage_at_conf_0_9", "llm_calls", "tokens", "seconds", "messages_per_second"}  # fmt: skip


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"TRACKER_DATA_DIR": str(tmp_path / "data"), "TRACKER_DATABASE_URL": "", "NO_COLOR": "1"}


def test_cli_eval_json(tmp_path: Path, env: dict[str, str]) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", TINY)
    res = runner.invoke(app, ["eval", "--dataset", str(data), "--format", "json"], env=env)
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert set(report) >= REQUIRED
    assert report["n"] == 5 and report["classifier"] == "local" and report["llm_calls"] == 0
    assert set(report["per_class"]) == {k.value for k in Kind}
    assert (tmp_path / "data" / "models" / "ACTIVE").is_file()


def test_cli_eval_table(tmp_path: Path, env: dict[str, str]) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", TINY)
    res = runner.invoke(app, ["eval", "--dataset", str(data)], env=env)
    assert res.exit_code == 0, res.output
    assert "macro_f1" in res.stdout and "confusion" in res.stdout


def test_cli_eval_bad_line(tmp_path: Path, env: dict[str, str]) -> None:
    data = write_jsonl(tmp_path / "bad.jsonl", [json.dumps(TINY[0]), '{"text": "x", "kind": "wish"}'])
    res = runner.invoke(app, ["eval", "--dataset", str(data), "--format", "json"], env=env)
    assert res.exit_code == 2
    assert "bad.jsonl:2" in res.stderr and "unknown kind 'wish'" in res.stderr


def test_cli_eval_bad_model_file(tmp_path: Path, env: dict[str, str]) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", TINY)
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"junk")
    res = runner.invoke(app, ["eval", "--dataset", str(data), "--model", str(bad)], env=env)
    assert res.exit_code == 2 and "cannot load local model" in res.stderr


def test_cli_eval_needs_a_dataset(env: dict[str, str]) -> None:
    res = runner.invoke(app, ["eval"], env=env)
    assert res.exit_code == 2 and "--dataset" in res.stderr


def test_cli_eval_llm_not_configured(tmp_path: Path, env: dict[str, str]) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", TINY)
    res = runner.invoke(app, ["eval", "--dataset", str(data), "--classifier", "llm"],
                        env={**env, "TRACKER_LLM_PROVIDER": "openai", "TRACKER_LLM_BASE_URL": ""})  # fmt: skip
    assert res.exit_code == 3
    assert "TRACKER_OLLAMA_URL" in res.stderr and "TRACKER_LLM_BASE_URL" in res.stderr


def test_cli_eval_llm_unreachable(tmp_path: Path, env: dict[str, str], model_requests: None) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", TINY)
    res = runner.invoke(app, ["eval", "--dataset", str(data), "--classifier", "llm", "--format", "json"],
                        env={**env, "TRACKER_OLLAMA_URL": "http://127.0.0.1:9", "TRACKER_LLM_RETRIES": "0",
                             "TRACKER_LLM_TIMEOUT": "2"})  # fmt: skip
    assert res.exit_code == 3, res.output
    assert "TRACKER_OLLAMA_URL" in res.stderr


def test_cli_train(tmp_path: Path, env: dict[str, str]) -> None:
    data = write_jsonl(tmp_path / "seed.jsonl", TINY * 6)
    res = runner.invoke(app, ["train", "--examples", str(data), "--no-db", "--format", "json"], env=env)
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["n_examples"] == 30 and Path(report["path"]).is_file() and report["database"] is False


# --- NLBSE'24 ------------------------------------------------------------------------


def write_nlbse(root: Path) -> Path:
    """A tiny invented stand-in with the benchmark's columns (two repositories)."""
    import csv

    texts = {
        "bug": ["App crashes on start", "Error 500 when saving", "Segfault in parser", "Wrong result after update"],
        "feature": ["Add dark mode", "Support YAML config", "Allow custom themes", "New export option please"],
        "question": ["How do I configure X?", "Where is the setting?", "What does this flag do?", "How to install?"],
    }  # fmt: skip
    for split in ("train", "test"):
        with (root / f"issues_{split}.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["repo", "created_at", "label", "title", "body"])
            for repo in ("a/one", "b/two"):
                for label, titles in texts.items():
                    for t in titles:
                        w.writerow(
                            [repo, "2024-01-01", label, t, f"<!-- template --> details about {t.lower()}"]
                        )
    return root


def test_nlbse_protocol_on_tiny_data(tmp_path: Path) -> None:
    result = run_nlbse24(write_nlbse(tmp_path))
    assert set(result["repos"]) == {"a/one", "b/two"}
    assert result["mean_macro_f1"] == round(sum(r["macro_f1"] for r in result["repos"].values()) / 2, 4)
    assert all(r["n_train"] == 12 and r["n_test"] == 12 for r in result["repos"].values())


def test_nlbse_cli_json(tmp_path: Path, env: dict[str, str]) -> None:
    res = runner.invoke(app, ["eval", "--benchmark", "nlbse24", "--data", str(write_nlbse(tmp_path)),
                              "--format", "json"], env=env)  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["benchmark"] == "nlbse24"


def test_nlbse_missing_data(tmp_path: Path, env: dict[str, str]) -> None:
    res = runner.invoke(
        app, ["eval", "--benchmark", "nlbse24", "--data", str(tmp_path), "--format", "json"], env=env
    )
    assert res.exit_code == 2 and "issues_train.csv" in res.stderr


def test_issue_text_and_macro_f1() -> None:
    assert issue_text("T", "a <!-- x --> b ```code``` c") == "T . a   b  codeblock  c"
    assert macro_f1(["a", "a", "b"], ["a", "b", "b"]) == pytest.approx((2 / 3 + 2 / 3) / 2)
