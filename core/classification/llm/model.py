"""Which pydantic-ai model and output mode talk to the configured LLM server."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from pydantic_ai import NativeOutput, PromptedOutput, ToolOutput
from pydantic_ai.models import Model
from pydantic_ai.models.ollama import OllamaModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.ollama import OllamaProvider
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.settings import ModelSettings

from core.classification.llm.schema import BatchResult
from core.config import Settings

OutputMode = Literal["native", "tool", "prompted"]
OutputSpec = NativeOutput[BatchResult] | ToolOutput[BatchResult] | PromptedOutput[BatchResult]
OUTPUT_NAME = "final_result"


def output_mode(settings: Settings) -> OutputMode:
    """The configured mode; `auto` picks what each server supports.

    Ollama enforces a JSON schema (NativeOutput); a generic OpenAI-compatible server such as
    llama.cpp's may not, so it gets the schema in the prompt plus a JSON-object response format.
    """
    if settings.llm_output_mode != "auto":
        return settings.llm_output_mode
    return "native" if settings.llm_provider == "ollama" else "prompted"


def output_spec(mode: OutputMode, output: type[BaseModel] = BatchResult) -> Any:
    """The pydantic-ai output marker for a mode (an OutputSpec for the classifier's output)."""
    if mode == "native":
        return NativeOutput(output, name=OUTPUT_NAME)
    if mode == "tool":
        return ToolOutput(output, name=OUTPUT_NAME)
    return PromptedOutput(output, name=OUTPUT_NAME)


def mode_settings(
    mode: OutputMode, settings: Settings, output: type[BaseModel] = BatchResult
) -> ModelSettings:
    """Request fields a mode needs on the wire (see STACK_NOTES: llama.cpp server)."""
    if mode == "prompted":
        schema = output.model_json_schema()
        return {"extra_body": {"response_format": {"type": "json_object", "schema": schema}}}
    if mode == "tool" and settings.llm_provider == "openai":
        forced = {"type": "function", "function": {"name": OUTPUT_NAME}}
        return {"extra_body": {"tool_choice": forced}}
    return {}


def base_settings(settings: Settings) -> ModelSettings:
    """Settings for every request: one attempt within the timeout (the pipeline retries)."""
    return {"timeout": settings.llm_timeout, "max_retries": 0}


def build_model(settings: Settings) -> Model:
    """The pydantic-ai model for the configured provider."""
    if settings.llm_provider == "ollama":
        base_url = settings.ollama_url.rstrip("/").removesuffix("/v1") + "/v1"
        return OllamaModel(settings.llm_model, provider=OllamaProvider(base_url=base_url))
    api_key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
    provider = OpenAIProvider(base_url=settings.llm_base_url, api_key=api_key)
    return OpenAIChatModel(settings.llm_model, provider=provider)


PROMPT_SETTING_KEYS = ("temperature", "top_p", "seed", "presence_penalty", "frequency_penalty")


def prompt_settings(values: dict[str, Any]) -> ModelSettings:
    """The sampling settings a prompt version was written with (other keys are ignored)."""
    return {k: values[k] for k in PROMPT_SETTING_KEYS if k in values}  # type: ignore[return-value]
