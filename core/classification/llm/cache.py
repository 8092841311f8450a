"""LLM result cache keyed by (text, reply-to context, prompt version, model)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col

from core.db import session_scope
from core.models import LLMCacheEntry, utcnow

CachedResult = dict[str, Any]


def cache_key(text: str, reply_to: str | None, prompt_version: str, model: str) -> str:
    """A stable 64-hex-digit key; any change of its four parts gives another key."""
    payload = json.dumps([text, reply_to, prompt_version, model], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


class LLMCache(Protocol):
    """Where the LLM classifier looks results up before calling the model."""

    async def get_many(self, keys: Sequence[str]) -> dict[str, CachedResult]: ...

    async def put_many(self, entries: Mapping[str, CachedResult]) -> None: ...


class MemoryCache:
    """A process-local cache, for evaluation without a database and for tests."""

    def __init__(self) -> None:
        self.entries: dict[str, CachedResult] = {}

    async def get_many(self, keys: Sequence[str]) -> dict[str, CachedResult]:
        """The cached results among `keys`."""
        return {k: self.entries[k] for k in keys if k in self.entries}

    async def put_many(self, entries: Mapping[str, CachedResult]) -> None:
        """Store results (the newest wins)."""
        self.entries.update(entries)


class DatabaseCache:
    """The `llm_cache` table, shared by every worker; safe under concurrent writers."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def get_many(self, keys: Sequence[str]) -> dict[str, CachedResult]:
        """The cached results among `keys`."""
        return await asyncio.to_thread(self._get, list(keys)) if keys else {}

    async def put_many(self, entries: Mapping[str, CachedResult]) -> None:
        """Store results; a key another worker stored first is updated."""
        if entries:
            await asyncio.to_thread(self._put, dict(entries))

    def _get(self, keys: list[str]) -> dict[str, CachedResult]:
        query = select(col(LLMCacheEntry.key), col(LLMCacheEntry.result)).where(
            col(LLMCacheEntry.key).in_(keys)
        )
        with session_scope(self._engine) as session:
            return {key: dict(result) for key, result in session.execute(query)}

    def _put(self, entries: dict[str, CachedResult]) -> None:
        now = utcnow()
        rows = [{"key": k, "result": v, "created_at": now} for k, v in sorted(entries.items())]
        statement = insert(LLMCacheEntry).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=["key"], set_={"result": statement.excluded.result, "created_at": now}
        )
        with session_scope(self._engine) as session:
            session.execute(statement)
