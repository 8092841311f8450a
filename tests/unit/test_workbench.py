"""Is the LLM usable? Probes against a closed port and a stand-in server on loopback."""

from __future__ import annotations

from typing import Any

import pytest

from core.classification.prompts import DEFAULT_PROMPT
from core.config import Settings
from core.evaluation.prompt_review import draft, next_version
from core.evaluation.workbench import llm_problem
from core.runtime.embedded import free_port
from tests.support.llm_stub import stub_llm_server


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, database_url=None, **values)  # type: ignore[call-arg]


async def test_an_openai_provider_without_a_base_url_is_named() -> None:
    problem = await llm_problem(settings(llm_provider="openai"))
    assert problem and "TRACKER_LLM_BASE_URL" in problem and "local classifier" in problem


@pytest.mark.parametrize("provider", ["openai", "ollama"])
async def test_a_closed_port_is_not_reachable(provider: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    problem = await llm_problem(settings(llm_provider=provider, llm_base_url=f"{url}/v1", ollama_url=url))
    assert problem and "not reachable" in problem and url in problem


async def test_a_server_that_answers_is_usable_and_a_missing_ollama_model_is_named() -> None:
    with stub_llm_server(models=["qwen2.5:3b", "llama3:latest"]) as stub:
        assert await llm_problem(settings(llm_provider="openai", llm_base_url=stub.base_url)) is None
        assert await llm_problem(settings(ollama_url=stub.url, llm_model="qwen2.5:3b")) is None
        assert await llm_problem(settings(ollama_url=stub.url, llm_model="llama3")) is None
        missing = await llm_problem(settings(ollama_url=stub.url, llm_model="mistral"))
    assert missing and "ollama pull mistral" in missing and "qwen2.5:3b" in missing


def test_a_draft_is_named_by_its_text_and_keeps_the_base_settings() -> None:
    one, same, other = (
        draft("Label.", DEFAULT_PROMPT),
        draft("Label.", DEFAULT_PROMPT),
        draft("Label!", DEFAULT_PROMPT),
    )
    assert one == same and one.version != other.version and one.version.startswith("draft-")
    assert one.settings == DEFAULT_PROMPT.settings and one.text == "Label."
    assert draft(DEFAULT_PROMPT.text, DEFAULT_PROMPT) is DEFAULT_PROMPT  # unchanged: its cached answers count


def test_the_next_version_follows_the_highest_number() -> None:
    assert next_version(["v1", "v9", "v10", "draft-x", "custom"]) == "v11"
    assert next_version([]) == "v1"
