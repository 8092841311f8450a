"""The marimo notebooks run headless (app.run() and script mode) against the suite's PostgreSQL,
configured through TRACKER_* variables as `tracker` reads them; UI actions are given as values."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.classification.prompts import DEFAULT_PROMPT, get_active_prompt, get_prompt
from core.db import session_scope
from core.evaluation.data import SEED_HELD_OUT, TRIAGED
from core.evaluation.stored import list_eval_runs, saved_runs
from core.models import EvalRun, LLMCacheEntry, Message
from core.runtime.embedded import free_port
from tests.conftest import create_database, engine_on
from tests.integration.test_conversation_eval import MESSAGES, write_chat
from tests.support.llm_stub import ALL_BUGS, StubLLM, stub_llm_server
from tests.support.triage_data import TRIAGED as ROWS
from tests.support.triage_data import add_triaged

# The notebooks reach their LLM over HTTP: the stand-in server, or a closed port (LLM down).
pytestmark = [pytest.mark.backbone, pytest.mark.usefixtures("model_requests")]
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Widget:
    """A UI element as a notebook cell reads it: a pressed button, a ticked box, typed text."""

    value: Any = True


def notebook(name: str) -> Any:
    return importlib.import_module(f"notebooks.{name}").app


def said(outputs: Any, words: str) -> bool:
    """Whether some cell's output (a callout, markdown, a stack of them) contains `words`."""
    return any(words in str(getattr(o, "text", "")) for o in outputs)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data dir for the module: the local models are trained once."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def triaged_url(postgres_server_url: str) -> str:
    url = create_database(postgres_server_url)
    with engine_on(url) as engine:
        add_triaged(engine)
    return url


@pytest.fixture
def llm() -> Iterator[StubLLM]:
    with stub_llm_server() as stub:
        yield stub


def configure(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, database_url: str, llm_url: str | None
) -> None:
    """The TRACKER_* environment: this database, this data dir, an LLM that answers or a closed port."""
    env = {
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_DATA_DIR": str(data_dir),
        "TRACKER_LLM_PROVIDER": "openai",
        "TRACKER_LLM_BASE_URL": llm_url or f"http://127.0.0.1:{free_port()}/v1",
        "TRACKER_LLM_MODEL": "stub",
        "TRACKER_LLM_BATCH_SIZE": "2",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TRACKER_EVAL_DATASET", raising=False)


# --- classifier_eval ---------------------------------------------------------------------


def test_eval_on_an_empty_database_says_so_and_scores_the_local_classifier_on_the_seed_set(
    postgres_server_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, data_dir, create_database(postgres_server_url), None)
    outputs, defs = notebook("classifier_eval").run()
    assert defs["data"].name == SEED_HELD_OUT
    assert said(outputs, "The database holds no triaged messages yet")
    assert defs["llm_problem"] and said(outputs, "The LLM cannot be used")
    assert list(defs["mode_picker"].options) == ["local"]
    assert list(defs["runs"].results) == ["local"]
    local = defs["runs"].results["local"]
    assert local.classifier_version.startswith("seed-train-")  # a model that never saw the held-out part
    assert local.metrics["n"] == len(defs["data"].examples) and local.metrics["macro_f1"] > 0.5


def test_eval_compares_local_llm_and_cascade_on_triaged_messages_and_saves_a_run(
    triaged_url: str, data_dir: Path, llm: StubLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, data_dir, triaged_url, llm.base_url)
    app = notebook("classifier_eval")
    chosen = {"mode_picker": Widget(["local", "llm", "cascade"]), "run_button": Widget()}
    outputs, defs = app.run(defs={**chosen, "save_button": Widget()})
    runs, data = defs["runs"], defs["data"]
    llm_run, cascade_run = (f"{mode} · {defs['active_prompt'].version} · stub" for mode in ("llm", "cascade"))
    assert data.name == TRIAGED and len(data.examples) == len(ROWS) and defs["llm_problem"] is None
    assert list(runs.results) == ["local", llm_run, cascade_run] and not runs.failures
    asked = runs.results[llm_run]
    assert asked.metrics["macro_f1"] == 1.0  # the stand-in labels these texts by their keywords
    assert asked.metrics["llm_calls"] == len(ROWS) // 2 and asked.metrics["tokens"] == 120 * len(ROWS) // 2
    assert max(len(b) for b in llm.batches) <= 2 and llm.most_in_flight <= 4  # batch size, concurrency
    assert set(defs["pair"]) == {"local", llm_run}
    disagreement = defs["disagreement"]
    assert disagreement.height == sum(
        a.kind != b.kind for a, b in zip(runs.results["local"].predictions, asked.predictions, strict=True)
    )
    assert {"text", "reply_to", "gold_kind", "kind_a", "kind_b", "right"} <= set(disagreement.columns)
    assert defs["wrong"].height == sum(not p.correct for p in runs.results["local"].predictions)
    run_id = defs["saved_run_numbers"]["local"]
    with engine_on(triaged_url) as engine, session_scope(engine) as session:
        assert run_id in {r["id"] for r in list_eval_runs(session)}  # what the dashboard lists
        assert run_id in saved_runs(session, TRIAGED).values()
        cached = session.scalar(select(func.count()).select_from(LLMCacheEntry))
    assert cached == len(ROWS)  # the shared result cache holds the LLM's answers
    calls = len(llm.batches)
    _, again = app.run(defs=chosen)
    assert len(llm.batches) == calls and again["runs"].results[llm_run].metrics["llm_calls"] == 0
    assert said(outputs, "as run #")


def test_eval_reads_a_file_without_labels_and_still_classifies_it(
    triaged_url: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, data_dir, triaged_url, None)
    raw = tmp_path / "raw.jsonl"
    raw.write_text("\n".join(json.dumps({"text": t}) for t in ("checkout fails again", "дякую!")))
    monkeypatch.setenv("TRACKER_EVAL_DATASET", str(raw))
    outputs, defs = notebook("classifier_eval").run()
    assert said(outputs, "no labels") and defs["data"].name == TRIAGED
    assert [m.text for m in defs["choice"].unlabeled] == ["checkout fails again", "дякую!"]
    assert said(outputs, "here is what the local classifier says")
    assert defs["runs"].results["local"].metrics["n"] == len(ROWS)


def test_eval_runs_as_a_script_on_a_named_file_and_saves_every_run(
    triaged_url: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, data_dir, triaged_url, None)
    path = tmp_path / "tiny.jsonl"
    path.write_text("\n".join(json.dumps({"text": t, "kind": k}) for t, k, _ in ROWS))
    done = subprocess.run(
        [sys.executable, "notebooks/classifier_eval.py", "--dataset", str(path), "--save"],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"data: {len(ROWS)} labeled messages from {path}" in done.stdout
    assert "note: The LLM server at" in done.stdout and "│ local" in done.stdout
    with engine_on(triaged_url) as engine, session_scope(engine) as session:
        stored = session.scalars(select(EvalRun).where(EvalRun.dataset == str(path))).all()
    assert [r.classifier for r in stored] == ["local"] and stored[0].metrics["n"] == len(ROWS)


# --- conversations_eval -----------------------------------------------------------------


def chat_files(folder: Path) -> dict[str, Widget]:
    """The invented chat of test_conversation_eval, picked as "other files"."""
    messages, tasks = write_chat(folder, team=1)
    return {"set_picker": Widget("other files"), "messages_path": Widget(str(messages)),
            "tasks_path": Widget(str(tasks))}  # fmt: skip


def test_conversations_replays_a_chat_and_shows_gold_and_system_tasks_side_by_side(
    postgres_server_url: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = create_database(postgres_server_url)
    configure(monkeypatch, data_dir, url, None)
    app = notebook("conversations_eval")
    outputs, defs = app.run(defs=chat_files(tmp_path))
    view = defs["view"]
    assert list(view.tasks["gold_task"].drop_nulls()) == [
        "T1",
        "T2",
        "T3",
        "T4",
        "T6",
    ]  # T5 is T4's duplicate
    assert list(view.messages["id"]) == [m[0] for m in sorted(MESSAGES, key=lambda m: m[2])]  # time order
    assert defs["figures"].row(0) == ("gold-task recall", str(view.score.recall))
    assert said(outputs, f"{view.misplaced().height} of {len(MESSAGES)} messages misplaced")
    matched = view.tasks.filter(view.tasks["match"] == "matched")
    assert said(outputs, "Checkout fails for Android") and matched.height == view.score.matched
    assert defs["shown_messages"].equals(view.misplaced())  # by default: every gold task, the misplaced
    with engine_on(url) as engine, session_scope(engine) as session:  # the replay went to a scratch database
        assert session.scalar(select(func.count()).select_from(Message)) == 0
    _, one = app.run(
        defs={**chat_files(tmp_path), "gold_filter": Widget("T1"), "only_misplaced": Widget(False)}
    )
    shown = one["shown_messages"]
    assert list(one["shown"].tasks["gold_task"]) == ["T1"]
    assert {"a2", "a3", "a4", "a5"} <= set(shown["id"]) and set(shown["gold_task"].drop_nulls()) == {"T1"}


def test_conversations_says_when_a_data_set_cannot_be_read(
    postgres_server_url: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, data_dir, create_database(postgres_server_url), None)
    files = chat_files(tmp_path) | {"tasks_path": Widget(str(tmp_path / "missing.jsonl"))}
    outputs, defs = notebook("conversations_eval").run(defs=files)
    assert said(outputs, "Cannot read the data set") and said(outputs, "missing.jsonl: no such file")
    assert "view" not in defs


def test_conversations_runs_as_a_script_on_named_files(
    postgres_server_url: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, data_dir, create_database(postgres_server_url), None)
    messages, tasks = write_chat(tmp_path, team=2)
    done = subprocess.run(
        [sys.executable, "notebooks/conversations_eval.py", "--conversations", str(messages), "--tasks", str(tasks)],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "│ gold-task recall" in done.stdout and "│ gold tasks        ┆ 5" in done.stdout
    assert f"of {len(MESSAGES)} messages misplaced; tasks: " in done.stdout


# --- prompt_lab --------------------------------------------------------------------------


def lab_actions(text: str, version: str, *, confirmed: bool) -> dict[str, Any]:
    """Edit the prompt, try it, save it, review it, (confirm,) activate."""
    return {
        "base_prompt": DEFAULT_PROMPT, "editor": Widget(text), "try_button": Widget(),
        "version_name": Widget(version), "save_button": Widget(), "evaluate_button": Widget(),
        "review_mode": Widget("llm"),
        "confirm": Widget(confirmed), "activate_button": Widget(),
    }  # fmt: skip


def test_prompt_lab_tries_saves_reviews_and_activates_a_confirmed_version(
    triaged_url: str, data_dir: Path, llm: StubLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, data_dir, triaged_url, llm.base_url)
    edited = f"{DEFAULT_PROMPT.text}\n{ALL_BUGS}"
    outputs, defs = notebook("prompt_lab").run(defs=lab_actions(edited, "v-bugs", confirmed=True))
    draft = defs["draft_prompt"]
    assert draft.version.startswith("draft-") and draft.text == edited
    assert set(defs["trial_results"]) == {f"llm · {draft.version}"}
    assert any(ALL_BUGS in i for i in llm.instructions)  # the edited text went to the LLM
    beside = defs["beside"]
    assert beside.height == len(defs["sample"]) and beside["human_kind"].n_unique() == 5
    assert set(beside[f"llm · {draft.version}: kind"]) == {"bug"} and "local: kind" in beside.columns
    assert defs["saved_prompt"].version == "v-bugs"
    review = defs["prompt_review"]
    assert (review.candidate.version, review.active.version) == ("v-bugs", "v1")
    assert review.candidate_result.metrics["macro_f1"] < review.active_result.metrics["macro_f1"] == 1.0
    assert len(defs["activated_runs"]) == 2 and said(outputs, "is active")
    with engine_on(triaged_url) as engine, session_scope(engine) as session:
        assert get_active_prompt(session).version == "v-bugs"
        runs = [session.get(EvalRun, i) for i in defs["activated_runs"]]
    assert [r.prompt_version for r in runs if r] == ["v-bugs", "v1"]


def test_prompt_lab_does_not_activate_without_confirmation(
    postgres_server_url: str, data_dir: Path, llm: StubLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = create_database(postgres_server_url)
    with engine_on(url) as engine:
        add_triaged(engine)
    configure(monkeypatch, data_dir, url, llm.base_url)
    outputs, defs = notebook("prompt_lab").run(
        defs=lab_actions("Label chat messages.", "v2", confirmed=False)
    )
    assert defs["prompt_review"].candidate.version == "v2" and defs["activated_runs"] == []
    assert said(outputs, "Not activated: confirm that v2 should replace v1 first")
    with engine_on(url) as engine, session_scope(engine) as session:
        assert get_active_prompt(session).version == "v1" and get_prompt(session, "v2") is not None


def test_prompt_lab_without_an_llm_shows_the_local_classifier_and_keeps_activation_locked(
    triaged_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, data_dir, triaged_url, None)
    actions = lab_actions("Label chat messages, briefly.", "v-offline", confirmed=True)
    outputs, defs = notebook("prompt_lab").run(defs=actions)
    assert said(outputs, "The LLM cannot be used") and defs["trial_results"] == {}
    assert "local: kind" in defs["beside"].columns and defs["beside"]["local: kind"].null_count() == 0
    assert said(outputs, "the review cannot run, so activation stays locked")
    assert "prompt_review" not in defs and "activated_runs" not in defs
    with engine_on(triaged_url) as engine, session_scope(engine) as session:
        assert get_active_prompt(session).version != "v-offline"


def test_prompt_lab_on_an_empty_database_samples_the_seed_set_and_locks_activation(
    postgres_server_url: str, data_dir: Path, llm: StubLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, data_dir, create_database(postgres_server_url), llm.base_url)
    outputs, defs = notebook("prompt_lab").run(defs=lab_actions("Label chat messages.", "v2", confirmed=True))
    assert defs["sample_data"].name == SEED_HELD_OUT and said(outputs, "holds no triaged messages yet")
    assert said(outputs, "There are no triaged messages") and "prompt_review" not in defs
