"""/start, /help, /status, /tasks, /track and /ignore."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from core.models import ACTIONABLE_KINDS, LabelOrigin
from core.runtime.bootstrap import Services
from core.telegram import replies
from core.telegram.bot import AllowedChat
from core.telegram.convert import is_allowed
from core.telegram.live import stored_message_id
from core.telegram.status import open_counts, top_open
from core.triage.decisions import ignore_message, track_message

KINDS = {kind.value: kind for kind in ACTIONABLE_KINDS}


async def on_help(message: Message, services: Services) -> None:
    """What the bot does, and whether it serves this chat."""
    await message.answer(replies.help_text(message.chat.id, is_allowed(services.settings, message.chat.id)))


async def on_status(message: Message, services: Services) -> None:
    """This chat's open tasks by kind and priority."""
    chat_id = str(message.chat.id)
    counts = await services.run(lambda session: (open_counts(session, chat_id), []))
    await message.answer(replies.status_text(counts))


async def on_tasks(message: Message, services: Services) -> None:
    """This chat's most urgent open tasks."""
    chat_id = str(message.chat.id)
    tasks = await services.run(lambda session: (top_open(session, chat_id), []))
    await message.answer(replies.tasks_text(tasks))


async def on_track(message: Message, command: CommandObject, services: Services) -> None:
    """As a reply: make the replied message a task now (a human label: track)."""
    word = (command.args or "").strip().lower()
    kind = KINDS.get(word)
    if word and kind is None:
        await message.reply(replies.unknown_kind_text(word))
        return
    target = await _replied(message, services, "track")
    if target is not None:
        author = _author(message)
        task = await services.run(
            lambda session: track_message(session, target, kind, origin=LabelOrigin.bot, author=author)
        )
        await message.reply(replies.tracked_text(task))


async def on_ignore(message: Message, services: Services) -> None:
    """As a reply: mark the replied message noise (a human label: its task is rejected)."""
    target = await _replied(message, services, "ignore")
    if target is not None:
        author = _author(message)
        await services.run(
            lambda session: ignore_message(session, target, origin=LabelOrigin.bot, author=author)
        )
        await message.reply(replies.ignored_text())


async def _replied(message: Message, services: Services, command: str) -> int | None:
    """The stored id of the message this command replies to; explains when there is none."""
    reply = message.reply_to_message
    target = None if reply is None or reply.forum_topic_created else await stored_message_id(services, reply)
    if target is None:
        await message.reply(replies.reply_needed_text(command))
    return target


def _author(message: Message) -> str | None:
    return message.from_user.full_name[:128] if message.from_user else None


def router() -> Router:
    commands = Router(name="commands")
    commands.message.register(on_help, Command("start", "help"))
    commands.message.register(on_status, Command("status"), AllowedChat())
    commands.message.register(on_tasks, Command("tasks"), AllowedChat())
    commands.message.register(on_track, Command("track"), AllowedChat())
    commands.message.register(on_ignore, Command("ignore"), AllowedChat())
    return commands
