"""Migration 0010 folds each stored conversation's summary again from its messages, with the
stems as placement makes them now (spelled as they sound: "клієнт" and "client" alike)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlmodel import Session

from core.conversations.text import merge, similarity, terms
from core.db import alembic_config, drop_database
from core.db import create_database as fresh_database
from core.models import Conversation, Message, utcnow
from tests.conftest import engine_on

pytestmark = pytest.mark.backbone

SAID = ["Клієнт не може залогінитись, токен протух", "гляну токен", "дякую"]


def test_upgrading_folds_each_conversation_summary_again_from_its_messages(postgres_server_url: str) -> None:
    url = fresh_database(postgres_server_url)
    try:
        command.downgrade(alembic_config(url), "0009")
        with engine_on(url) as engine, Session(engine) as session:
            at = utcnow()
            stale = Conversation(
                source="s", chat_id="c", started_at=at, last_message_at=at, terms={"клієн": 1}
            )
            empty = Conversation(source="s", chat_id="c", started_at=at, last_message_at=at, terms={"x": 1})
            session.add_all([stale, empty])
            session.flush()
            session.add_all(
                Message(source="s", chat_id="c", external_id=str(n), text=text, conversation_id=stale.id,
                        sent_at=at + timedelta(minutes=n))
                for n, text in reversed(list(enumerate(SAID)))
            )  # fmt: skip
            session.commit()
            ids = stale.id, empty.id
        command.upgrade(alembic_config(url), "head")
        with engine_on(url) as engine, Session(engine) as session:
            folded, untouched = (session.get(Conversation, i) for i in ids)
            expected: dict[str, int] = {}
            for text in SAID:
                expected = merge(expected, terms(text))
            assert folded is not None and folded.terms == expected
            assert similarity(folded.terms, terms("the client token expired")) > 0.3
            assert untouched is not None and untouched.terms == {"x": 1}  # no messages: left as it was
    finally:
        drop_database(postgres_server_url, url)
