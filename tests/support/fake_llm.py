"""A scripted stand-in for the LLM: a FunctionModel body that reads the fenced messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage

from core.config import Settings
from evals.stand_in_llm import read_batch

Label = Callable[[str], dict[str, Any] | None]


def llm_settings(**overrides: Any) -> Settings:
    """Settings for LLM unit tests, independent of the environment."""
    base: dict[str, Any] = {
        "llm_provider": "ollama",
        "llm_output_mode": "prompted",
        "llm_batch_size": 3,
        "llm_retries": 1,
        "database_url": None,
    }
    return Settings(_env_file=None, **{**base, **overrides})  # type: ignore[call-arg]


def user_prompt(messages: list[ModelMessage]) -> str:
    """The batch prompt of a run (the first user prompt, also during output retries)."""
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    raise AssertionError("no user prompt")


def fenced(prompt: str) -> list[tuple[str, str]]:
    """(id, text) of every fenced message in a prompt."""
    return [(m.id, m.text) for m in read_batch(prompt)]


def gold(kind: str, confidence: float = 0.9) -> dict[str, Any]:
    """A valid item body of the given kind."""
    priority = None if kind == "noise" else "medium"
    return {"kind": kind, "priority": priority, "title": f"{kind} title", "confidence": confidence}


@dataclass
class ScriptedLLM:
    """Answers each fenced message with `label(text)` (None leaves it out); records calls."""

    label: Label
    input_tokens: int = 100
    output_tokens: int = 20
    calls: list[list[str]] = field(default_factory=list)
    infos: list[AgentInfo] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)

    def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompt = user_prompt(messages)
        found = fenced(prompt)
        self.calls.append([text for _, text in found])
        self.infos.append(info)
        self.prompts.append(prompt)
        items = [{"id": i, **body} for i, text in found if (body := self.label(text)) is not None]
        usage = RequestUsage(input_tokens=self.input_tokens, output_tokens=self.output_tokens)
        if info.output_tools:
            part: TextPart | ToolCallPart = ToolCallPart(info.output_tools[0].name, {"items": items})
        else:
            part = TextPart(json.dumps({"items": items}, ensure_ascii=False))
        return ModelResponse(parts=[part], usage=usage)

    def model(self, name: str = "scripted") -> FunctionModel:
        return FunctionModel(self, model_name=name)

    @property
    def batch_sizes(self) -> list[int]:
        return [len(call) for call in self.calls]
