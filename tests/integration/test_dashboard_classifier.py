"""Classifier screen in AppTest against a real PostgreSQL: what runs now, prompt versions, retraining, evals."""

from __future__ import annotations

import pytest
import streamlit as st
from sqlalchemy import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from apps.actions import card_key
from core.classification import prompts
from core.classification.local.store import active_model_path
from core.config import Settings
from core.db import session_scope
from core.models import EvalRun, LocalModel
from tests.support.dashboard import CLASSIFIER, TRIAGE, click, new_task, open_page, texts

pytestmark = pytest.mark.usefixtures("dashboard")


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_shows_what_classifies_now_and_activates_another_prompt(engine: Engine, settings: Settings) -> None:
    at = open_page(CLASSIFIER)
    assert metrics(at) == {"Mode": "local", "LLM": settings.llm_model, "Active prompt": "v1",
                           "Local model": "built-in seed model"}  # fmt: skip
    assert "Return exactly one result per message" in at.code[0].value
    with session_scope(engine) as session:
        prompts.add_prompt(session, "v2-short", "Classify each message.", notes="shorter")
    st.cache_data.clear()  # the screen re-reads prompt versions every 10 s
    at.run()
    at.selectbox(key="prompt_choice").select("v2-short")
    click(at.run(), "activate_prompt")
    assert metrics(at)["Active prompt"] == "v2-short"
    assert "Prompt v2-short is now active" in texts(at)
    with session_scope(engine) as session:
        assert prompts.get_active_prompt(session).version == "v2-short"


def test_retrain_learns_from_human_decisions_and_activates_the_model(
    engine: Engine, settings: Settings
) -> None:
    task_id = new_task(engine, settings, "кнопка оплати не працює")
    triage = open_page(TRIAGE)
    click(triage, card_key("accept", task_id, 1))  # one human decision to learn from
    at = open_page(CLASSIFIER)
    click(at, "retrain")
    with session_scope(engine) as session:
        [model] = session.exec(select(LocalModel)).all()
    assert model.active and model.metrics["sources"]["human_labels"] == 1
    assert metrics(at)["Local model"] == model.version
    assert active_model_path(settings.runtime_dir) is not None  # the worker loads this one
    assert f"Trained local model {model.version}" in texts(at)
    assert list(at.dataframe[1].value["version"]) == [model.version]


def test_evaluation_runs_are_listed_with_their_metrics(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as session:
        for f1 in (0.71, 0.78):
            session.add(EvalRun(dataset="evals/datasets/seed.jsonl", classifier="local", classifier_version="x",
                                metrics={"n": 906, "accuracy": f1 + 0.05, "macro_f1": f1}, predictions=[{"id": 1}]))  # fmt: skip
    at = open_page(CLASSIFIER)
    runs = at.dataframe[2].value
    assert list(runs["macro_f1"]) == [0.78, 0.71] and list(runs["n"]) == [906, 906]
    assert len(at.get("vega_lite_chart")) == 1
