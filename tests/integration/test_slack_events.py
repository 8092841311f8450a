"""Slack's Events API on a real API process: requests signed in the test, messages stored in
real PostgreSQL; edits, deletions, threads, files, bots, replays and strangers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from core.config import Settings
from tests.support.api import AUTH, api_settings, row_counts
from tests.support.processes import api_process
from tests.support.slack import CHANNELS, SIGNING_SECRET, callback, message, signed
from tests.support.slack_api import BOT_TOKEN, StandInSlack, stand_in_slack

SUPPORT, PRODUCT = CHANNELS


@pytest.fixture(scope="module")
def slack_api() -> Iterator[StandInSlack]:
    with stand_in_slack() as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def api_url(
    database_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory, slack_api: StandInSlack
) -> Iterator[str]:
    settings = api_settings(tmp_path_factory.mktemp("slack"), database_url, nats_url, "slackevents")
    env = {"TRACKER_SLACK_SIGNING_SECRET": SIGNING_SECRET, "TRACKER_SLACK_CHANNELS": ",".join(CHANNELS),
           "TRACKER_SLACK_BOT_TOKEN": BOT_TOKEN, "TRACKER_SLACK_API_URL": slack_api.url}  # fmt: skip
    with api_process(settings, **env) as url:
        yield url


def send(api_url: str, body: dict[str, Any] | bytes, **signing: Any) -> httpx.Response:
    raw, headers = signed(body, **signing)
    return httpx.post(f"{api_url}/api/slack/events", content=raw, headers=headers, timeout=30)


def stored(api_url: str, ts: str, channel: str = SUPPORT) -> dict[str, Any] | None:
    """The stored message with this Slack ts, read through the API's channel filter."""
    page = httpx.get(f"{api_url}/api/messages", params={"source": "slack", "chat_id": channel, "limit": 500},
                     headers=AUTH).json()  # fmt: skip
    return next((m for m in page["items"] if m["external_id"] == ts), None)


def test_url_verification_is_answered(api_url: str) -> None:
    response = send(
        api_url,
        {
            "type": "url_verification",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "token": "x",
        },
    )
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_message_is_stored_once_with_its_channel_and_author(api_url: str) -> None:
    event = message(SUPPORT, "1795000001.000100", "Checkout &amp; payment fail for <@U0IVAN> see <https://status.example.com|status>",
                    user_profile={"real_name": "Олена Коваль"})  # fmt: skip
    first, again = send(api_url, callback(event)), send(api_url, callback(event))  # Slack retries
    assert first.json()["outcome"].startswith("stored") and again.json()["outcome"].startswith("known")
    row = stored(api_url, "1795000001.000100")
    assert row is not None
    assert (row["source"], row["chat_id"], row["author_id"], row["author"]) == (
        "slack",
        SUPPORT,
        "U0OLENA",
        "Олена Коваль",
    )
    assert row["text"] == "Checkout & payment fail for @U0IVAN see status"
    assert row["sent_at"].startswith("2026-11-18") and row["status"] == "pending"


def test_authors_are_named_through_users_info_once(api_url: str, slack_api: StandInSlack) -> None:
    """Events carry only the author's id: the name comes from users.info, asked once a user."""
    for ts, text in (
        ("1795001900.000100", "Invoice totals are off"),
        ("1795001901.000100", "and the VAT line"),
    ):
        assert send(api_url, callback(message(SUPPORT, ts, text, user="U0MARTA"))).status_code == 200
    rows = [stored(api_url, ts) for ts in ("1795001900.000100", "1795001901.000100")]
    assert [(r or {}).get("author") for r in rows] == ["Marta S.", "Marta S."]
    assert slack_api.asked("U0MARTA") == 1


def test_a_failing_users_info_stores_the_message_without_a_name(
    api_url: str, slack_api: StandInSlack
) -> None:
    """Rate limited (429) or an unknown user: stored all the same, and Slack not asked again at once."""
    slack_api.rate_limited.add("U0BUSY")
    for ts, user in (
        ("1795001950.000100", "U0BUSY"),
        ("1795001951.000100", "U0BUSY"),
        ("1795001952.000100", "U0GONE"),
    ):
        response = send(api_url, callback(message(SUPPORT, ts, "Export hangs at 99%", user=user)))
        assert response.status_code == 200 and response.json()["outcome"].startswith("stored")
        row = stored(api_url, ts)
        assert row is not None and (row["author_id"], row["author"]) == (user, None)
    assert (slack_api.asked("U0BUSY"), slack_api.asked("U0GONE")) == (1, 1)


def test_thread_reply_links_to_its_first_message(api_url: str) -> None:
    send(api_url, callback(message(SUPPORT, "1795000100.000100", "Login loops on Android")))
    reply = message(
        SUPPORT, "1795000160.000200", "same for me since 3.2", user="U0IVAN", thread_ts="1795000100.000100"
    )
    send(api_url, callback(reply))
    parent, child = stored(api_url, "1795000100.000100"), stored(api_url, "1795000160.000200")
    assert parent and child and child["reply_to_id"] == parent["id"] and parent["reply_to_id"] is None


def test_file_titles_are_part_of_the_text(api_url: str) -> None:
    files = [
        {"id": "F1", "title": "crash-log-android.txt", "name": "log.txt"},
        {"id": "F2", "name": "screen.png"},
    ]
    send(
        api_url,
        callback(message(SUPPORT, "1795000200.000100", "here is the log", subtype="file_share", files=files)),
    )
    row = stored(api_url, "1795000200.000100")
    assert row and row["text"] == "here is the log\n[file] crash-log-android.txt\n[file] screen.png"
    assert row["media_kind"] == "file"


def test_bot_and_service_messages_are_not_stored(api_url: str, engine: Engine) -> None:
    before = row_counts(engine)["messages"]
    bot = message(SUPPORT, "1795000300.000100", "Deploy finished", bot_id="B0DEPLOY", subtype="bot_message")
    join = message(SUPPORT, "1795000301.000100", "<@U0IVAN> has joined the channel", subtype="channel_join")
    outcomes = [send(api_url, callback(e)).json()["outcome"] for e in (bot, join)]
    assert outcomes == ["ignored: a bot message", "ignored: 'channel_join' message"]
    assert row_counts(engine)["messages"] == before


def test_edit_replaces_the_text_and_keeps_the_time(api_url: str) -> None:
    send(api_url, callback(message(SUPPORT, "1795000400.000100", "Payment fails")))
    edited = {"type": "message", "subtype": "message_changed", "channel": SUPPORT, "hidden": True, "ts": "1795000460.000001",
              "message": {"type": "message", "user": "U0OLENA", "text": "Payment fails on iOS 18 only", "ts": "1795000400.000100",
                          "edited": {"user": "U0OLENA", "ts": "1795000460.000000"}},
              "previous_message": {"type": "message", "user": "U0OLENA", "text": "Payment fails", "ts": "1795000400.000100"}}  # fmt: skip
    assert send(api_url, callback(edited)).json()["outcome"] == "edited message 1795000400.000100"
    row = stored(api_url, "1795000400.000100")
    assert (
        row and row["text"] == "Payment fails on iOS 18 only" and row["edited_at"].startswith("2026-11-18T")
    )


def test_deletion_is_marked_never_lost(api_url: str) -> None:
    send(api_url, callback(message(SUPPORT, "1795000500.000100", "Export to CSV is empty")))
    deletion = {"type": "message", "subtype": "message_deleted", "channel": SUPPORT, "hidden": True,
                "deleted_ts": "1795000500.000100", "ts": "1795000560.000001",
                "previous_message": {"type": "message", "user": "U0OLENA", "text": "Export to CSV is empty", "ts": "1795000500.000100"}}  # fmt: skip
    assert "deleted message 1795000500.000100" in send(api_url, callback(deletion)).json()["outcome"]
    row = stored(api_url, "1795000500.000100")
    assert row and row["text"] == "Export to CSV is empty" and row["deleted_at"] is not None


def test_deletion_of_an_unseen_message_keeps_slacks_copy(api_url: str) -> None:
    deletion = {"type": "message", "subtype": "message_deleted", "channel": PRODUCT, "hidden": True,
                "deleted_ts": "1795000600.000100", "ts": "1795000660.000001",
                "previous_message": {"type": "message", "user": "U0IVAN", "text": "Dark mode please", "ts": "1795000600.000100"}}  # fmt: skip
    send(api_url, callback(deletion))
    row = stored(api_url, "1795000600.000100", PRODUCT)
    assert row and row["text"] == "Dark mode please" and row["deleted_at"] is not None


def test_thread_root_deleted_under_replies_becomes_a_mark_not_a_tombstone_text(api_url: str) -> None:
    send(api_url, callback(message(SUPPORT, "1795000700.000100", "Search is slow")))
    tombstone = {"type": "message", "subtype": "message_changed", "channel": SUPPORT, "hidden": True, "ts": "1795000760.000001",
                 "message": {"type": "message", "subtype": "tombstone", "text": "This message was deleted.", "ts": "1795000700.000100",
                             "user": "USLACKBOT", "thread_ts": "1795000700.000100"}}  # fmt: skip
    send(api_url, callback(tombstone))
    row = stored(api_url, "1795000700.000100")
    assert row and row["text"] == "Search is slow" and row["deleted_at"] is not None


def test_wrong_signature_is_refused_and_nothing_stored(api_url: str, engine: Engine) -> None:
    before = row_counts(engine)
    response = send(
        api_url, callback(message(SUPPORT, "1795000800.000100", "forged")), secret="not-the-secret"
    )
    assert response.status_code == 401
    assert response.json()["detail"][0]["field"] == "X-Slack-Signature"
    raw, headers = signed(callback(message(SUPPORT, "1795000801.000100", "tampered")))
    tampered = httpx.post(
        f"{api_url}/api/slack/events", content=raw.replace(b"tampered", b"tampereD"), headers=headers
    )
    assert tampered.status_code == 401
    unsigned = httpx.post(
        f"{api_url}/api/slack/events", json=callback(message(SUPPORT, "1795000802.000100", "x"))
    )
    assert (
        unsigned.status_code == 401 and unsigned.json()["detail"][0]["field"] == "X-Slack-Request-Timestamp"
    )
    assert row_counts(engine) == before


def test_replayed_event_older_than_five_minutes_is_refused(api_url: str, engine: Engine) -> None:
    before = row_counts(engine)
    response = send(
        api_url, callback(message(SUPPORT, "1795000900.000100", "replayed")), at=time.time() - 301
    )
    assert response.status_code == 401
    detail = response.json()["detail"][0]
    assert detail["field"] == "X-Slack-Request-Timestamp" and "more than 5 minutes" in detail["message"]
    assert (
        send(
            api_url, callback(message(SUPPORT, "1795000901.000100", "fresh")), at=time.time() - 240
        ).status_code
        == 200
    )
    assert row_counts(engine)["messages"] == before["messages"] + 1


def test_channel_not_allowed_is_acknowledged_and_not_stored(api_url: str, engine: Engine) -> None:
    before = row_counts(engine)
    response = send(api_url, callback(message("C0RANDOM", "1795001000.000100", "lunch?")))
    assert response.status_code == 200  # acknowledged, so Slack does not retry
    assert response.json()["outcome"] == "ignored: channel 'C0RANDOM' is not in TRACKER_SLACK_CHANNELS"
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        (b"{not json", "body", 400),
        (b"[1, 2]", "body", 400),
        ({"type": "event_callback"}, "body", 400),
        (callback(message(SUPPORT, "1795001100.000100", "nul \x00 byte")), "event.text", 422),
        (callback(message(SUPPORT, "1795001101.000100", "x" * 20_000)), "event.text", 422),
    ],
    ids=["not-json", "not-object", "no-event", "nul-byte", "too-long"],
)
def test_malformed_signed_bodies_are_refused_clearly(
    api_url: str, engine: Engine, body: Any, field: str, status: int
) -> None:
    before = row_counts(engine)
    response = send(api_url, body)
    assert response.status_code == status, response.text
    assert response.json()["detail"][0]["field"] == field
    assert row_counts(engine) == before
    assert httpx.get(f"{api_url}/api/health").status_code == 200  # no crash


def test_slack_is_off_without_a_signing_secret(
    database_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings: Settings = api_settings(tmp_path_factory.mktemp("noslack"), database_url, nats_url, "noslack")
    with api_process(settings) as url:
        response = send(url, callback(message(SUPPORT, "1795001200.000100", "x")))
        assert response.status_code == 404 and "TRACKER_SLACK_SIGNING_SECRET" in response.text
        assert httpx.get(f"{url}/api/config", headers=AUTH).json()["features"]["slack"] is False
