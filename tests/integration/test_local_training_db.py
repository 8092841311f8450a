"""Training from human labels in PostgreSQL, LocalModel registration, EvalRun saving."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import select
from typer.testing import CliRunner

from core.classification.dataset import seed_examples
from core.classification.local.training import human_label_examples, llm_label_examples, train_local_model
from core.db import session_scope
from core.models import EvalRun, Issue, Kind, Label, LocalModel, Message, Priority
from services.cli import app


def add_message(session: object, ext: str, text: str, reply_to: int | None = None) -> Message:
    msg = Message(source="test", chat_id="c1", external_id=ext, text=text, reply_to_id=reply_to)
    session.add(msg)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    return msg


def test_labels_issues_and_registration(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine) as s:
        parent = add_message(s, "1", "експорт у PDF падає з помилкою")
        child = add_message(s, "2", "+1 і в мене", reply_to=parent.id)
        other = add_message(s, "3", "додайте фільтр по складах")
        assert parent.id and child.id and other.id
        s.add(Label(message_id=parent.id, kind=Kind.question, action="correct", origin="dashboard"))
        s.add(
            Label(message_id=parent.id, kind=Kind.bug, priority=Priority.high, action="correct", origin="bot")
        )
        s.add(Label(message_id=child.id, kind=Kind.noise, action="accept", origin="dashboard"))
        s.add(Issue(message_id=other.id, kind=Kind.feature, priority=Priority.medium, confidence=0.95,
                    classifier="llm"))  # fmt: skip
        s.add(Issue(message_id=parent.id, kind=Kind.task, confidence=0.99, classifier="llm"))
    with session_scope(engine) as s:
        human = {e.text: e for e in human_label_examples(s)}
        assert human["експорт у PDF падає з помилкою"].kind == Kind.bug  # the latest label wins
        assert human["+1 і в мене"].reply_to == "експорт у PDF падає з помилкою"
        llm = llm_label_examples(s, 0.9)
        assert [e.text for e in llm] == ["додайте фільтр по складах"]  # labeled messages excluded
        assert llm_label_examples(s, 0.99) == []

        result = train_local_model(seed_examples()[::4], tmp_path, s, llm_min_confidence=0.9)
        assert result.sources["human_labels"] == 2 and result.sources["llm_labels"] == 1
        assert result.model_id is not None
    with session_scope(engine) as s:
        rows = s.exec(select(LocalModel)).all()
        active = [r for r in rows if r.active]
        assert [r.version for r in active] == [result.artifact.version]
        assert active[0].n_examples == result.artifact.n_examples and active[0].path == str(result.path)
        assert active[0].metrics["sources"]["human_labels"] == 2


def test_eval_saves_a_run_and_reads_db_dataset(engine: Engine, database_url: str, tmp_path: Path) -> None:
    with session_scope(engine) as s:
        msg = add_message(s, "eval-1", "як змінити пароль?")
        assert msg.id
        s.add(Label(message_id=msg.id, kind=Kind.question, action="accept", origin="api"))
    env = {"TRACKER_DATA_DIR": str(tmp_path), "TRACKER_DATABASE_URL": database_url}
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"text": "checkout returns 500", "kind": "bug"}) + "\n")
    res = CliRunner().invoke(app, ["eval", "--dataset", str(data), "--format", "json"], env=env)
    assert res.exit_code == 0, res.output
    run_id = json.loads(res.stdout)["eval_run_id"]
    with session_scope(engine) as s:
        run = s.get(EvalRun, run_id)
        assert run is not None and run.classifier == "local" and run.metrics["n"] == 1
        assert run.predictions[0]["gold_kind"] == "bug"
    res = CliRunner().invoke(app, ["eval", "--dataset", "db", "--format", "json"], env=env)
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    with session_scope(engine) as s:  # the module's database holds other tests' labels too
        triaged = human_label_examples(s)
        run = s.get(EvalRun, report["eval_run_id"])
        assert run is not None
    assert report["n"] == len(run.predictions) == len(triaged)
    assert "question" in {p["gold_kind"] for p in run.predictions}  # the label given above
