"""Live updates from the bot: messages and edits, through the Telegram channel (core.channels.live)."""

from __future__ import annotations

from aiogram.types import Message
from sqlmodel import Session, select

from core.channels import MessageKey
from core.channels import live as channel_live
from core.messages.threads import inherit_threads
from core.models import Message as StoredMessage
from core.runtime.bootstrap import Services
from core.telegram import SOURCE
from core.telegram.convert import CHANNEL, edited_at


async def receive_message(services: Services, message: Message) -> int | None:
    """Store a message once (and queue it for classification); returns its id."""
    result = await channel_live.receive(services, CHANNEL, message)
    if result is None:
        return None
    message_id = result.message.id or 0
    if result.created and result.message.thread_id and not result.message.thread_title:
        await services.run(lambda session: _topic_title(session, message_id))
    return message_id


def _topic_title(session: Session, message_id: int) -> tuple[None, list[dict[str, object]]]:
    inherit_threads(session, [message_id])
    return None, []


async def receive_edit(services: Services, message: Message) -> None:
    """Store an edited text (edit time kept); the message is classified again."""
    item = CHANNEL.message(message)
    if item is None:
        return
    key = MessageKey(SOURCE, item.chat_id, item.external_id)
    if not await channel_live.edit(services, key, item.text, edited_at(message)):
        await receive_message(services, message)  # sent before the bot was there: stored as it reads now


async def stored_message_id(services: Services, message: Message) -> int | None:
    """The stored copy of a message (stored now when the bot has not seen it yet)."""
    found = await services.run(lambda session: (_find(session, str(message.chat.id), message.message_id), []))
    return found if found is not None else await receive_message(services, message)


def _find(session: Session, chat_id: str, message_id: int) -> int | None:
    return session.exec(
        select(StoredMessage.id).where(
            StoredMessage.source == SOURCE,
            StoredMessage.chat_id == chat_id,
            StoredMessage.external_id == str(message_id),
        )
    ).first()
