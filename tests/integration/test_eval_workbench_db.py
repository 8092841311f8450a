"""Evaluation against a real PostgreSQL: triaged messages as a data set, saved runs, the database
the notebooks find, and prompt versions activated only after a confirmed review."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, func, select

from core.classification.prompts import DEFAULT_PROMPT, PromptVersion, get_active_prompt, get_prompt
from core.db import session_scope
from core.evaluation.data import TRIAGED, EvalData, triaged
from core.evaluation.prompt_review import PromptReview, ReviewError, activate_reviewed, review, save_version
from core.evaluation.runs import RunSpec, evaluate_specs
from core.evaluation.stored import load_eval_run, save_eval_run, saved_runs
from core.evaluation.workbench import open_database
from core.models import EvalRun, Kind, Label
from core.runtime.embedded import free_port
from tests.support.classifiers import ScriptedClassifier, keyword_kind
from tests.support.fake_llm import ScriptedLLM, gold, llm_settings
from tests.support.triage_data import PARENT, add_triaged
from tests.support.triage_data import TRIAGED as ROWS

pytestmark = pytest.mark.backbone


@pytest.fixture(scope="module")
def data(engine: Engine) -> EvalData:
    add_triaged(engine)
    with session_scope(engine) as session:
        return triaged(session)


def test_triaged_messages_carry_their_latest_label_and_reply_context(engine: Engine, data: EvalData) -> None:
    assert data.name == TRIAGED and len(data.examples) == len(ROWS)
    same_here = next(e for e in data.examples if e.text == "same here")
    assert same_here.kind == Kind.noise and same_here.reply_to == PARENT
    with session_scope(engine) as session:  # a later decision replaces the earlier one
        label = session.scalars(select(Label).where(Label.kind == Kind.noise)).first()
        assert label is not None
        session.add(Label(message_id=label.message_id, kind=Kind.question, action="correct", origin="bot"))
    with session_scope(engine) as session:
        again = triaged(session)
    assert len(again.examples) == len(ROWS)
    assert (
        sum(e.kind == Kind.noise for e in again.examples)
        == sum(e.kind == Kind.noise for e in data.examples) - 1
    )
    with session_scope(engine) as session:
        session.add(Label(message_id=label.message_id, kind=Kind.noise, action="correct", origin="bot"))


async def test_a_saved_run_comes_back_whole_and_is_listed_by_data_set(engine: Engine, data: EvalData) -> None:
    runs = await evaluate_specs(
        [RunSpec("local")], data.examples, llm_settings(), local=ScriptedClassifier("local")
    )
    result = runs.results["local"]
    with session_scope(engine) as session:
        run_id = save_eval_run(session, result, data.name)
    with session_scope(engine) as session:
        listed = saved_runs(session, TRIAGED)
        loaded = load_eval_run(session, run_id or 0)
        assert saved_runs(session, "other.jsonl") == {}
        with pytest.raises(KeyError):
            load_eval_run(session, 10**9)
    assert run_id in listed.values() and next(iter(listed)).startswith(f"#{run_id} local")
    assert loaded.predictions == result.predictions and loaded.metrics == result.metrics


def test_the_notebooks_find_the_configured_database_or_say_why_not(database_url: str) -> None:
    found = open_database(llm_settings(database_url=database_url))
    assert found.problem is None and found.settings.database_url == database_url and found.engine
    closed = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none"
    missing = open_database(llm_settings(database_url=closed))
    assert missing.settings.database_url is None and missing.engine is None
    assert missing.problem and missing.problem.startswith("No database: TRACKER_DATABASE_URL cannot be used")


def test_a_saved_version_is_inactive_and_keeps_the_base_settings(engine: Engine) -> None:
    name = f"t-{uuid.uuid4().hex[:6]}"
    with session_scope(engine) as session:
        saved = save_version(session, name, "Label chat messages.", DEFAULT_PROMPT, notes="shorter")
        active = get_active_prompt(session)
    assert saved.settings == DEFAULT_PROMPT.settings and active.version != name
    with session_scope(engine) as session:
        for bad in (name, "draft-123", " ", "x" * 65):
            with pytest.raises(ValueError):
                save_version(session, bad, "text", DEFAULT_PROMPT)


async def reviewed(engine: Engine, data: EvalData, text: str) -> PromptReview:
    name = f"r-{uuid.uuid4().hex[:6]}"
    with session_scope(engine) as session:
        candidate = save_version(session, name, text, DEFAULT_PROMPT)
        active = get_active_prompt(session)
    llm = ScriptedLLM(lambda text: gold(keyword_kind(text).value))
    return await review(candidate, active, data, llm_settings(), model=llm.model(), concurrency=2)


def eval_runs(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(EvalRun)) or 0)


async def test_activation_needs_a_confirmed_review_of_the_stored_text(engine: Engine, data: EvalData) -> None:
    done = await reviewed(engine, data, f"Label chat messages. {uuid.uuid4()}")
    assert set(done.results()) == {f"candidate {done.candidate.version}", f"active {done.active.version}"}
    assert done.candidate_result.prompt_version == done.candidate.version
    assert done.active_result.metrics["n"] == len(data.examples)
    before = eval_runs(engine)
    with session_scope(engine) as session, pytest.raises(ReviewError, match="confirm"):
        activate_reviewed(session, done, confirmed=False)
    edited = PromptReview(PromptVersion(done.candidate.version, "other text"), done.active, data,
                          done.candidate_result, done.active_result)  # fmt: skip
    with session_scope(engine) as session, pytest.raises(ReviewError, match="differs"):
        activate_reviewed(session, edited, confirmed=True)
    sample = PromptReview(done.candidate, done.active, EvalData("sample", data.examples, "x"),
                          done.candidate_result, done.active_result)  # fmt: skip
    with session_scope(engine) as session, pytest.raises(ReviewError, match="triaged"):
        activate_reviewed(session, sample, confirmed=True)
    assert eval_runs(engine) == before
    with session_scope(engine) as session:
        ids = activate_reviewed(session, done, confirmed=True)
    with session_scope(engine) as session:
        assert get_active_prompt(session).version == done.candidate.version
        stored = [session.get(EvalRun, i) for i in ids]
        assert [r.prompt_version for r in stored if r] == [done.candidate.version, done.active.version]
        assert {r.dataset for r in stored if r} == {TRIAGED}


async def test_a_review_goes_stale_when_another_version_is_activated(engine: Engine, data: EvalData) -> None:
    first = await reviewed(engine, data, f"one {uuid.uuid4()}")
    second = await reviewed(engine, data, f"two {uuid.uuid4()}")
    with session_scope(engine) as session:
        activate_reviewed(session, first, confirmed=True)
    with session_scope(engine) as session, pytest.raises(ReviewError, match="the active version is now"):
        activate_reviewed(session, second, confirmed=True)
    with session_scope(engine) as session:
        assert get_prompt(session, second.candidate.version) is not None
        assert get_active_prompt(session).version == first.candidate.version


async def test_a_review_needs_triaged_messages_and_another_version(data: EvalData) -> None:
    with pytest.raises(ReviewError, match="none"):
        await review(
            DEFAULT_PROMPT,
            PromptVersion("v0", "Label."),
            EvalData(TRIAGED, [], ""),
            llm_settings(),
        )
    with pytest.raises(ReviewError, match="active version already"):
        await review(DEFAULT_PROMPT, DEFAULT_PROMPT, data, llm_settings())
