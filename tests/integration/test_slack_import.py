"""Importing Slack workspace exports (zips built here) into real PostgreSQL through the bulk path."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from typer.testing import CliRunner

from core.channels import live
from core.config import Settings
from core.db import Session
from core.models import Message, MessageStatus
from core.runtime.bootstrap import Services
from core.slack.events import CHANNEL
from core.slack.export import SlackExportError
from core.slack.importer import import_slack_export
from services.cli import app
from tests.support.slack import export_zip, exported


def in_channel(engine: Engine, chat_id: str) -> dict[str, Message]:
    with Session(engine) as session:
        found = session.exec(
            select(Message).where(Message.source == "slack", Message.chat_id == chat_id)
        ).all()
    return {m.external_id: m for m in found}


def workspace(tmp_path: Path, channel: str = "support", channel_id: str = "C1SUPPORT") -> Path:
    days = {
        "2026-11-01": [
            exported(
                "1793000000.000100",
                "Оплата не проходить з <https://shop.example.com|сайту>",
                user_profile={"real_name": "Олена Коваль"},
                reply_count=1,
                thread_ts="1793000000.000100",
            ),
            exported("1793000050.000100", "CI passed", user="", bot_id="B1", subtype="bot_message"),
            exported(
                "1793000060.000100", "<@U0IVAN> has joined the channel", user="U0IVAN", subtype="channel_join"
            ),
            exported(
                "1793000070.000100",
                "the log",
                user="U0IVAN",
                subtype="file_share",
                files=[{"title": "payment-error.log"}],
                edited={"user": "U0IVAN", "ts": "1793000080.000000"},
            ),
        ],
        "2026-11-02": [  # a reply in the next day's file, to the thread above
            exported(
                "1793090000.000100",
                "<@U0OLENA> fixed in 4.1",
                user="U0IVAN",
                thread_ts="1793000000.000100",
                parent_user_id="U0OLENA",
            ),
        ],
    }
    return export_zip(tmp_path / "export.zip", {channel: days}, {channel: channel_id})


async def test_export_is_stored_with_threads_authors_and_files(
    services: Services, engine: Engine, tmp_path: Path
) -> None:
    report = await import_slack_export(services, workspace(tmp_path))
    assert (report.stats.channels, report.stats.days, report.stored, report.stats.skipped) == (1, 2, 3, 2)
    rows = in_channel(engine, "C1SUPPORT")
    root, log, reply = rows["1793000000.000100"], rows["1793000070.000100"], rows["1793090000.000100"]
    assert (root.chat_title, root.author, root.text) == (
        "#support",
        "Олена Коваль",
        "Оплата не проходить з сайту",
    )
    assert root.reply_to_id is None and reply.reply_to_id == root.id
    assert reply.text == "@Олена Коваль fixed in 4.1" and reply.author == "Ivan P."
    assert (
        log.text == "the log\n[file] payment-error.log"
        and log.media_kind == "file"
        and log.edited_at is not None
    )
    assert root.status == MessageStatus.pending and report.queued == 3


async def test_reimport_adds_nothing_and_live_events_meet_imported_messages(
    services: Services, engine: Engine, tmp_path: Path
) -> None:
    path = workspace(tmp_path, "general", "C1GENERAL")
    first = await import_slack_export(services, path, batch_size=2)
    again = await import_slack_export(services, path, batch_size=2)
    assert (first.stored, again.stored, again.existing) == (3, 0, 3)
    live_copy = {"type": "message", "channel": "C1GENERAL", "user": "U0IVAN", "text": "<@U0OLENA> fixed in 4.1",
                 "ts": "1793090000.000100", "thread_ts": "1793000000.000100"}  # fmt: skip
    result = await live.receive(services, CHANNEL, live_copy)
    assert result is not None and not result.created and len(in_channel(engine, "C1GENERAL")) == 3


async def test_a_broken_day_file_is_named_and_the_rest_imported(
    services: Services, engine: Engine, tmp_path: Path
) -> None:
    days = {"2026-11-03": b'[{"type": "message", "ts": "1793200000.000100", "text": "cut', "2026-11-04": [
        exported("1793300000.000100", "still here"), {"type": "message", "text": "no ts"}, "not an object",
    ]}  # fmt: skip
    path = export_zip(tmp_path / "broken.zip", {"ops": days}, {"ops": "C1OPS"})
    report = await import_slack_export(services, path)
    assert set(in_channel(engine, "C1OPS")) == {"1793300000.000100"}
    assert report.stats.unreadable == 3 and report.stats.unreadable_at[0].startswith(
        "ops/2026-11-03.json: not JSON"
    )


async def test_not_an_export_is_refused(services: Services, tmp_path: Path) -> None:
    not_zip = tmp_path / "result.json"
    not_zip.write_text("{}")
    with pytest.raises(SlackExportError, match="not a zip"):
        await import_slack_export(services, not_zip)
    with pytest.raises(SlackExportError, match="no channel folders"):
        await import_slack_export(services, export_zip(tmp_path / "empty.zip", {}))


def test_cli_imports_and_summarises(
    settings: Settings, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {"TRACKER_DATABASE_URL": settings.database_url, "TRACKER_NATS_URL": settings.nats_url,
                        "TRACKER_QUEUE_NAME": settings.queue_name, "TRACKER_DATA_DIR": str(settings.data_dir)}.items():  # fmt: skip
        monkeypatch.setenv(name, str(value))
    path = workspace(tmp_path, "qa", "C1QA")
    result = CliRunner().invoke(app, ["import", "slack", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "export.zip: 1 channel(s), 2 day(s), 3 new messages; 0 already stored; 2 bot and service"
        in result.output
    )
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK not really")
    refused = CliRunner().invoke(app, ["import", "slack", str(broken)])
    assert refused.exit_code == 1 and "not a zip archive" in refused.output
