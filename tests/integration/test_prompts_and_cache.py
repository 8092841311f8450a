"""Prompt versions, the LLM cache and `tracker prompts` on a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from core.classification.factory import build_classifier
from core.classification.llm.cache import DatabaseCache, cache_key
from core.classification.llm.classifier import LLMClassifier
from core.classification.prompts import (
    DEFAULT_TEXT,
    ActivePrompt,
    activate_prompt,
    add_prompt,
    get_active_prompt,
    list_prompts,
)
from core.classification.types import MessageInput
from core.db import session_scope
from core.models import Prompt
from services.cli import prompt_cmds
from tests.support.fake_llm import ScriptedLLM, gold, llm_settings

MESSAGES = [MessageInput("1", "checkout returns 500"), MessageInput("2", "add dark mode")]


def active_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count()).where(Prompt.active)) or 0)  # type: ignore[arg-type]


def test_the_built_in_prompt_is_seeded_once_and_active(engine: Engine) -> None:
    with session_scope(engine) as session:
        first = get_active_prompt(session)
    with session_scope(engine) as session:
        again = get_active_prompt(session)
        versions = [p.version for p in list_prompts(session)]
    assert first == again and first.version == "v1" and first.text == DEFAULT_TEXT
    assert versions.count("v1") == 1 and active_count(engine) == 1


def test_activation_reaches_a_running_reader_and_leaves_one_active(engine: Engine) -> None:
    fresh, cached = ActivePrompt(engine, ttl=0), ActivePrompt(engine, ttl=3600)
    before = fresh.current().version
    assert cached.current().version == before
    with session_scope(engine) as session:
        add_prompt(session, "p-act", "Label chat messages.", settings={"temperature": 0.2})
    assert fresh.current().version == before  # added, not active yet
    with session_scope(engine) as session:
        activate_prompt(session, "p-act")
    assert fresh.current().version == "p-act" and fresh.current().settings == {"temperature": 0.2}
    assert cached.current().version == before  # re-read only when its TTL runs out
    assert active_count(engine) == 1
    with session_scope(engine) as session, pytest.raises(ValueError, match="exists"):
        add_prompt(session, "p-act", "again")
    with session_scope(engine) as session, pytest.raises(KeyError):
        activate_prompt(session, "no-such-version")


async def test_database_cache_stores_and_updates_results(engine: Engine) -> None:
    cache = DatabaseCache(engine)
    key = cache_key("text", None, "v1", "m")
    assert await cache.get_many([key]) == {}
    await cache.put_many({key: gold("bug")})
    await cache.put_many({key: gold("task")})  # a second writer of the same key
    assert await cache.get_many([key, "missing"]) == {key: gold("task")}


async def test_a_rerun_in_another_process_costs_no_llm_call(engine: Engine) -> None:
    llm = ScriptedLLM(lambda text: gold("bug"))
    first = await LLMClassifier(llm_settings(), model=llm.model(), cache=DatabaseCache(engine)).classify(
        MESSAGES
    )
    again = await LLMClassifier(llm_settings(), model=llm.model(), cache=DatabaseCache(engine)).classify(
        MESSAGES
    )
    assert len(llm.calls) == 1
    assert [o.result for o in again] == [o.result for o in first]
    assert all(o.llm_calls == 0 and o.input_tokens == 0 for o in again)


async def test_the_worker_classifier_follows_the_active_prompt_without_restart(
    engine: Engine, database_url: str
) -> None:
    llm = ScriptedLLM(lambda text: gold("bug"))
    settings = llm_settings(database_url=database_url)
    classifier = build_classifier(
        settings, "llm", engine=engine, model=llm.model(), prompt=ActivePrompt(engine, ttl=0)
    )
    assert isinstance(classifier, LLMClassifier) and isinstance(classifier.cache, DatabaseCache)
    with session_scope(engine) as session:
        add_prompt(session, "p-worker", "You label messages. p-worker edition.")
        activate_prompt(session, "p-worker")
    [outcome] = await classifier.classify([MessageInput("9", "a message for p-worker")])
    assert outcome.prompt_version == "p-worker"
    assert "p-worker edition" in (llm.infos[-1].instructions or "")
    default = build_classifier(settings, "llm", engine=engine, model=llm.model())
    assert isinstance(default, LLMClassifier) and isinstance(default.prompts, ActivePrompt)


@pytest.fixture
def cli(database_url: str, nats_url: str, tmp_path: Path) -> tuple[CliRunner, typer.Typer, dict[str, str]]:
    app = typer.Typer()
    prompt_cmds.register(app)
    env = {
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_NATS_URL": nats_url,
        "TRACKER_DATA_DIR": str(tmp_path / "data"),
    }
    return CliRunner(), app, env


def test_prompts_cli_add_list_show_activate(
    cli: tuple[CliRunner, typer.Typer, dict[str, str]], tmp_path: Path, engine: Engine
) -> None:
    runner, app, env = cli
    text_file = tmp_path / "v-cli.txt"
    text_file.write_text("Classify every <message>. CLI edition.", encoding="utf-8")

    added = runner.invoke(
        app,
        ["prompts", "add", "v-cli", "--file", str(text_file), "--model", "qwen2.5:3b",
         "-s", "temperature=0.1", "--notes", "shorter rules"],
        env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["prompts", "list"], env=env)
    assert listed.exit_code == 0 and "v1" in listed.output and "v-cli" in listed.output
    shown = runner.invoke(app, ["prompts", "show", "v-cli"], env=env)
    assert "CLI edition" in shown.output and "qwen2.5:3b" in shown.output
    assert '"temperature": 0.1' in shown.output

    activated = runner.invoke(app, ["prompts", "activate", "v-cli"], env=env)
    assert activated.exit_code == 0, activated.output
    active = runner.invoke(app, ["prompts", "show"], env=env)
    assert "v-cli" in active.output and "(active)" in active.output
    assert ActivePrompt(engine, ttl=0).current().version == "v-cli"

    unknown = runner.invoke(app, ["prompts", "activate", "nope"], env=env)
    assert unknown.exit_code == 1 and "no prompt version 'nope'" in unknown.output
    duplicate = runner.invoke(app, ["prompts", "add", "v-cli", "--text", "x"], env=env)
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    neither = runner.invoke(app, ["prompts", "add", "v-none"], env=env)
    assert neither.exit_code == 2 and "--file or --text" in neither.output


def test_tracker_app_has_the_prompts_commands() -> None:
    from services.cli import app

    result = CliRunner().invoke(app, ["prompts", "--help"])
    assert result.exit_code == 0 and "activate" in result.output
