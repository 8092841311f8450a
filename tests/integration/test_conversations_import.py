"""History imports group the same way as live arrival: a Telegram Desktop export of a chat,
imported and classified in one batch as the worker gets it, forms the same tasks as the same
messages arriving live one at a time."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from core.config import Settings
from core.models import Kind
from core.runtime.bootstrap import Services
from core.telegram.importer import import_export
from core.triage.pipeline import classify_messages
from tests.support.conversations import START, Chat, Line, Verdicts, say

pytestmark = pytest.mark.backbone

CHAT_ID = 1500000077
LINES = [
    Line("Olena", 0, "Доброго ранку! Сьогодні планування о 11"),
    Line("Sergey", 2, "Баг: промокод WELCOME10 применяется дважды при двойном клике", Kind.bug),
    Line("Kate", 3, "Customers can't see the delivery window on the order screen", Kind.feature),
    Line("Dmytro", 5, "Немає захисту від подвійного запиту на промокод", reply=1),
    Line("Anna", 6, "The delivery window is already in my UX backlog", reply=2),
    Line("Dmytro", 7, "Додам idempotency для промокоду, беру", reply=1),
    Line("Yulia", 20, "Хто на обід?"),
    Line("Dmytro", 180, "Промокод пофіксив, задеплоїв ✅", reply=1),
]


def export(lines: list[Line]) -> dict[str, Any]:
    """The chat as Telegram Desktop writes it."""
    return {"name": "Кошик · продукт", "type": "private_supergroup", "id": CHAT_ID, "messages": [
        {"id": i + 1, "type": "message", "date": "2026-11-16T09:00:00",
         "date_unixtime": str(int((START + timedelta(minutes=line.minute)).timestamp())),
         "from": line.author, "from_id": f"user{abs(hash(line.author)) % 10_000}", "text": line.text,
         "text_entities": []} | ({"reply_to_message_id": line.reply + 1} if line.reply is not None else {})
        for i, line in enumerate(lines)
    ]}  # fmt: skip


def partition(engine: Engine, sql: str, params: dict[str, Any]) -> set[frozenset[str]]:
    """The messages of each task, by text."""
    with engine.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    groups: dict[int, set[str]] = {}
    for task_id, message_text in rows:
        groups.setdefault(task_id, set()).add(message_text)
    return {frozenset(g) for g in groups.values()}


TASKS_OF = (
    "SELECT tm.task_id, m.text FROM task_messages tm JOIN messages m ON m.id = tm.message_id "
    "WHERE m.source = :source AND m.chat_id = :chat"
)


async def test_an_imported_chat_forms_the_tasks_its_live_arrival_forms(
    services: Services, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export(LINES), ensure_ascii=False), encoding="utf-8")
    await import_export(services, path)  # stored and queued; the batch is classified below
    with engine.connect() as conn:
        ids = [
            r.id
            for r in conn.execute(text("SELECT id FROM messages WHERE chat_id = :c"), {"c": f"-100{CHAT_ID}"})
        ]
    assert len(ids) == len(LINES)
    verdicts = Verdicts({line.text: line for line in LINES})
    await classify_messages(
        ids, engine=engine, settings=settings, classifier=verdicts, publish=services.publish
    )
    imported = partition(engine, TASKS_OF, {"source": "telegram", "chat": f"-100{CHAT_ID}"})
    live_chat = Chat()
    await say(engine, settings, live_chat, LINES)
    live = partition(engine, TASKS_OF, {"source": live_chat.source, "chat": live_chat.chat_id})
    assert imported == live
    assert len(imported) == 2 and {LINES[1].text, LINES[3].text, LINES[5].text, LINES[7].text} in imported
