"""Human merges and splits become the conversation scorer's training labels (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from core.config import Settings
from core.conversations import training
from core.conversations.corrections import corrected_chats
from core.db import session_scope
from core.models import Kind
from core.triage.commands import merge_task, move_message
from services.cli import app
from tests.support.conversations import Chat, Line, say, tasks

pytestmark = pytest.mark.backbone

BUG = Kind.bug
LINES = [
    Line("Kate", 0, "Customers say the cart empties after login on iOS", BUG),
    Line("Dmytro", 2, "Схоже, мердж кошика не викликається після логіну", reply=0),
    Line("Dmytro", 3, "А ще: промокод BF25 застосовується двічі на одне замовлення", BUG, reply=0),
    Line("Olena", 30, "Доброго ранку всім ☀️"),
    Line("Sergey", 60, "Після входу на айфоні зникають товари з корзини", BUG),
]
"""A bug, a second bug said as a reply in its chain, small talk, the first bug reported again
in other words."""


def _mine(chat: Chat, labelled: list[training.Labelled]) -> dict[int, str | None]:
    """Line index -> its group, for the chat's messages among the corrected chats."""
    index = {f"db-{message_id}": i for i, message_id in enumerate(chat.ids)}
    return {index[m.id]: m.group for m in labelled if m.id in index}


async def test_a_split_and_a_merge_say_where_messages_belong(engine: Engine, settings: Settings) -> None:
    chat, untouched = Chat(), Chat()
    await say(engine, settings, chat, LINES)
    await say(engine, settings, untouched, LINES[:2])
    cart = tasks(engine, chat)[0]
    assert _task_of(engine, chat.ids[2]) == cart.id, "the promo code joined the cart's chain"
    with session_scope(engine) as session:
        move_message(session, cart.id, chat.ids[2], None)  # a person: it is a task of its own
    again = _task_of(engine, chat.ids[4])
    assert again != cart.id, "worded differently, the second report opened a task of its own"
    with session_scope(engine) as session:
        merge_task(session, again, cart.id)  # a person: the second cart report is the first one
    with session_scope(engine) as session:
        labelled = corrected_chats(session)
    groups = _mine(chat, labelled)
    assert groups[0] == groups[1] == groups[4] == f"db-task-{cart.id}"
    assert groups[2] not in (None, groups[0]), "split off into a task of its own"
    assert groups[3] is None, "small talk belongs to no task"
    assert not _mine(untouched, labelled), "a chat nobody corrected teaches nothing new"


def _task_of(engine: Engine, message_id: int) -> int:
    with engine.connect() as conn:
        query = text("SELECT min(task_id) FROM task_messages WHERE message_id = :m")
        return int(conn.execute(query, {"m": message_id}).scalar_one())


async def test_tracker_train_corrected_learns_from_the_database(
    engine: Engine, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    chat = Chat()
    await say(engine, settings, chat, LINES)
    cart, *_ = tasks(engine, chat)
    with session_scope(engine) as session:
        move_message(session, cart.id, chat.ids[2], None)
    out = tmp_path / "scorer.json"
    env = {"TRACKER_DATABASE_URL": database_url, "TRACKER_DATA_DIR": str(tmp_path / "data")}
    res = CliRunner().invoke(app, ["train", "--corrected", "--out", str(out)], env=env)
    assert res.exit_code == 0, res.output
    trained = json.loads(out.read_text(encoding="utf-8"))
    assert trained["trained_on"] == "corrections" and len(trained["weights"]) == len(trained["features"])


def test_tracker_train_corrected_without_a_database_says_what_to_do(tmp_path: Path) -> None:
    env = {"TRACKER_DATABASE_URL": None, "TRACKER_DATA_DIR": str(tmp_path / "data")}
    res = CliRunner().invoke(app, ["train", "--corrected", "--out", str(tmp_path / "s.json")], env=env)
    assert res.exit_code != 0 and "start it (tracker up) or set TRACKER_DATABASE_URL" in res.output
    assert not (tmp_path / "s.json").exists()
