"""Message text search (full-text, any language) and the indexes of migration 0003, on real PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.dialects import postgresql
from sqlmodel import select

from core.db import alembic_config, session_scope
from core.messages.ingest import ingest
from core.messages.reads import MessageFilter, list_messages
from core.messages.search import message_text_matches
from core.models import Message
from core.schemas import MessageCreate
from tests.conftest import create_database

pytestmark = pytest.mark.backbone

TEXTS = {
    "pay": "Кнопка ОПЛАТИ не працює на iOS 17.2",
    "mail": "не приходит e-mail с подтверждением заказа",
    "vat": "the invoice PDF has the wrong VAT rate 20%",
}


@pytest.fixture(scope="module")
def stored(engine: Engine) -> dict[str, int]:
    items = [
        MessageCreate(source="test", chat_id="search", external_id=key, text=body)
        for key, body in TEXTS.items()
    ]
    with session_scope(engine) as session:
        result, _ = ingest(session, items)
    return {r.message.external_id: r.message.id or 0 for r in result}


def found(engine: Engine, search: str) -> set[str]:
    with session_scope(engine) as session:
        items, total = list_messages(session, MessageFilter(chat_id="search", search=search))
    assert total == len(items)
    return {m.external_id for m in items}


@pytest.mark.parametrize(
    ("search", "keys"),
    [
        ("оплати", {"pay"}),
        ("оплат", {"pay"}),  # the beginning of a word
        ("кнопка ios", {"pay"}),  # every word, in any order and case
        ("17.2", {"pay"}),  # split the way texts are split
        ("E-MAIL", {"mail"}),
        ("20%", {"vat"}),
        ("VAT invoice", {"vat"}),
        ("плати", set()),  # the middle of a word is not a word
        ("кнопка email", set()),
        ("%", set()),  # no words: nothing, not everything
        ("_", set()),
    ],
)
def test_search_finds_messages_holding_every_word(
    engine: Engine, stored: dict[str, int], search: str, keys: set[str]
) -> None:
    assert found(engine, search) == keys


def test_search_uses_the_text_index(engine: Engine, stored: dict[str, int]) -> None:
    query = select(Message.id).where(message_text_matches("оплат"))
    sql = query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))  # a tiny table: ask whether the index can serve
        plan = "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {sql}")))
    assert "ix_messages_text_fts" in plan


def indexes(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        names = conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'messages'")).scalars()
        found = set(names)
    engine.dispose()
    return found


def test_migration_0003_goes_down_and_up(postgres_server_url: str) -> None:
    url = create_database(postgres_server_url)
    assert {"ix_messages_text_fts", "ix_messages_reply_waiting", "ix_messages_reply_to_id"} <= indexes(url)
    command.downgrade(alembic_config(url), "0002")
    before = indexes(url)
    assert {
        "ix_messages_text_trgm",
        "ix_messages_reply_key",
    } <= before and "ix_messages_text_fts" not in before
    command.upgrade(alembic_config(url), "head")
    after = indexes(url)
    assert "ix_messages_text_fts" in after and not after & {"ix_messages_text_trgm", "ix_messages_sent_at"}
