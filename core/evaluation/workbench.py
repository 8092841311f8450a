"""What an interactive session (the marimo notebooks) needs before it evaluates anything:
a reachable database, found the way the CLI finds it, and whether the LLM answers."""

from __future__ import annotations

import atexit
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine

from core.config import Settings
from core.runtime.system import open_system

LLM_SETUP = (
    "Configure one with TRACKER_OLLAMA_URL=http://HOST:11434 and TRACKER_LLM_MODEL=NAME, or with "
    "TRACKER_LLM_PROVIDER=openai TRACKER_LLM_BASE_URL=http://HOST:PORT/v1 [TRACKER_LLM_API_KEY=...] "
    "TRACKER_LLM_MODEL=NAME. The local classifier works without one."
)


@dataclass
class Workbench:
    """The settings a notebook works with, and the database's engine (None, with the reason, without one)."""

    settings: Settings
    engine: Engine | None
    problem: str | None


def open_database(settings: Settings) -> Workbench:
    """The system's database (migrated), or settings without one and the reason.

    The database is TRACKER_DATABASE_URL when set, else the data dir's embedded server (joined
    when running, otherwise started here and stopped when this process exits).
    """
    try:
        # start=False probes a configured server first: fails within seconds when it is away
        system = open_system(settings, nats=False, start=not settings.database_url)
    except Exception as exc:
        where = (
            "TRACKER_DATABASE_URL"
            if settings.database_url
            else f"the embedded server in {settings.runtime_dir}"
        )
        reason = f"No database: {where} cannot be used ({type(exc).__name__}: {str(exc).strip()[:300]})."
        return Workbench(settings.model_copy(update={"database_url": None}), None, reason)
    atexit.register(system.close)
    return Workbench(system.settings, system.engine, None)


async def llm_problem(settings: Settings, wait: float = 3.0) -> str | None:
    """None when the configured LLM server answers; otherwise why it cannot be used and how to fix it."""
    if problem := llm_config_problem(settings):
        return problem
    url, headers = _models_endpoint(settings)
    try:
        async with httpx.AsyncClient(timeout=wait) as client:
            response = await client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        return f"The LLM server at {url} is not reachable ({type(exc).__name__}: {exc}). {LLM_SETUP}"
    if response.status_code != 200:
        return f"The LLM server at {url} answered HTTP {response.status_code}. {LLM_SETUP}"
    if settings.llm_provider == "ollama":
        return _missing_ollama_model(settings.llm_model, response)
    return None


def llm_config_problem(settings: Settings) -> str | None:
    """Why the LLM settings cannot work whatever the server says, and how to fix it; else None."""
    if settings.llm_provider == "openai" and not settings.llm_base_url:
        return f"TRACKER_LLM_PROVIDER=openai needs TRACKER_LLM_BASE_URL. {LLM_SETUP}"
    return None


def _models_endpoint(settings: Settings) -> tuple[str, dict[str, str]]:
    """The URL that lists the server's models, and the headers it needs."""
    if settings.llm_provider == "ollama":
        return settings.ollama_url.rstrip("/").removesuffix("/v1") + "/api/tags", {}
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return f"{(settings.llm_base_url or '').rstrip('/')}/models", headers


def _missing_ollama_model(model: str, response: httpx.Response) -> str | None:
    try:
        names = {m["name"] for m in response.json().get("models", [])}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if model in names or f"{model}:latest" in names:
        return None
    has = ", ".join(sorted(names)) or "none"
    return f"Ollama answers but has no model {model!r} (it has: {has}): run `ollama pull {model}`."
