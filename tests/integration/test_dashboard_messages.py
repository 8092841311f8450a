"""Messages screen in AppTest against a real PostgreSQL: the feed, its filters, a reply thread."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from core.config import Settings
from core.db import session_scope
from core.messages.bulk import BulkRow, insert_staged, stage
from core.models import Kind, MessageStatus
from tests.support.dashboard import MESSAGES, Verdict, message, open_page, post, texts

pytestmark = pytest.mark.usefixtures("dashboard")


def feed(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["text"])


def test_feed_shows_newest_first_with_classification_and_filters(engine: Engine, settings: Settings) -> None:
    post(
        engine, settings,
        [message("feed: the build is red", chat="feed"), message("feed: thanks!", chat="feed"),
         message("feed: other chat", chat="elsewhere"), message("feed: not classified", chat="feed", classify=False)],
        {"feed: thanks!": Verdict(kind=Kind.noise, priority=None, confidence=0.99)},
    )  # fmt: skip
    at = open_page(MESSAGES)
    at.selectbox(key="msg_chat").select("feed").run()
    table = at.dataframe[0].value
    assert list(table["text"]) == ["feed: not classified", "feed: thanks!", "feed: the build is red"]
    assert list(table["kind"])[1:] == ["noise", "bug"] and table["status"][0] == "skipped"
    assert list(table["classifier"])[1:] == ["local", "local"]
    at.selectbox(key="msg_kind").select(Kind.noise).run()
    assert feed(at) == ["feed: thanks!"]
    at.selectbox(key="msg_kind").set_value(None).run()
    at.selectbox(key="msg_status").select(MessageStatus.skipped).run()
    assert feed(at) == ["feed: not classified"]
    at.selectbox(key="msg_status").set_value(None).run()
    at.text_input(key="msg_search").input("BUILD").run()
    assert feed(at) == ["feed: the build is red"]


def test_the_channel_is_shown_and_filters_the_feed(engine: Engine, settings: Settings) -> None:
    post(
        engine, settings,
        [message("channel: from slack", chat="C0CHAN", source="slack"),
         message("channel: from a mailbox", chat="imap.example.com/INBOX", source="email")],
    )  # fmt: skip
    at = open_page(MESSAGES)
    at.selectbox(key="msg_channel").select("slack").run()
    table = at.dataframe[0].value
    assert list(table["text"]) == ["channel: from slack"] and list(table["channel"]) == ["slack"]
    assert {"email", "slack"} <= set(at.selectbox(key="msg_channel").options)


def test_a_message_opens_its_reply_thread(engine: Engine, settings: Settings) -> None:
    parent, reply, plus_one = post(
        engine, settings,
        [message("thread: payments fail since 10:00", chat="thread", external_id="t1", author="Ivan"),
         message("thread: which card type?", chat="thread", external_id="t2", reply_to_external_id="t1"),
         message("thread: same here", chat="thread", external_id="t3", reply_to_external_id="t1", author="Petro")],
    )  # fmt: skip
    at = open_page(MESSAGES)
    at.selectbox(key="msg_chat").select("thread").run()
    at.selectbox(key="msg_thread").select(reply).run()
    assert f"Thread of message #{reply}" in texts(at)
    screen = texts(at)
    assert "thread: payments fail since 10:00" in screen and "thread: which card type?" in screen
    assert "thread: same here" not in screen  # a sibling reply, not part of this message's thread
    at.selectbox(key="msg_thread").select(parent).run()
    screen = texts(at)
    assert all(t in screen for t in ("thread: which card type?", "thread: same here", "**Petro**"))
    assert plus_one


def test_an_imported_batch_shows_in_the_feed_on_the_next_probe(engine: Engine, settings: Settings) -> None:
    post(engine, settings, [message("imports: live message", chat="imports")])
    at = open_page(MESSAGES)
    at.selectbox(key="msg_chat").select("imports").run()
    assert feed(at) == ["imports: live message"]
    history = BulkRow(source="test", chat_id="imports", chat_title="Imports chat", external_id="h1", author_id=None,
                      author="Ігор", text="imports: from the history export", sent_at=None,
                      edited_at=None, reply_to_external_id=None, thread_id=None, thread_title=None, media_kind=None,
                      forwarded_from=None, classify=True)  # fmt: skip
    with session_scope(engine) as session:  # what `tracker import telegram` commits for a batch
        stored, _ = insert_staged(session, stage(session, [history]))
    assert stored.created == 1
    at.run()  # what the one-second live probe triggers when the outbox moves (one messages.imported)
    assert feed(at) == ["imports: from the history export", "imports: live message"]
