"""Live updates from the bot: messages and edits stored through core's ingestion."""

from __future__ import annotations

from aiogram.types import Message
from sqlmodel import Session, select

from core.messages.ingest import apply_edit
from core.messages.threads import inherit_threads
from core.models import Message as StoredMessage
from core.models import MessageStatus
from core.runtime.bootstrap import Services
from core.telegram import SOURCE
from core.telegram.convert import edited_at, to_message_in


async def receive_message(services: Services, message: Message) -> int | None:
    """Store a message once (and queue it for classification); returns its id."""
    item = to_message_in(message)
    if item is None:
        return None
    [result] = await services.receive([item])
    message_id = result.message.id or 0
    if result.created and item.thread_id and not item.thread_title:
        await services.run(lambda session: _topic_title(session, message_id))
    return message_id


def _topic_title(session: Session, message_id: int) -> tuple[None, list[dict[str, object]]]:
    inherit_threads(session, [message_id])
    return None, []


async def receive_edit(services: Services, message: Message) -> None:
    """Store an edited text (edit time kept); the message is classified again."""
    item = to_message_in(message)
    if item is None:
        return
    edited = await services.run(
        lambda session: (
            apply_edit(session, SOURCE, item.chat_id, item.external_id, item.text, edited_at(message)),
            [],
        )
    )
    if edited is None:  # sent before the bot was there: store it as it reads now
        await receive_message(services, message)
    elif edited.status == MessageStatus.pending:
        await services.enqueue([edited.id])


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
