"""A channel's live events through core: new messages, edits, deletions."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from core import events
from core.channels import Channel, MessageKey, Native
from core.messages.ingest import Ingested, apply_edit
from core.models import Message, MessageStatus, utcnow
from core.runtime.bootstrap import Services


async def receive(services: Services, channel: Channel[Native], native: Native) -> Ingested | None:
    """Store a channel's message once (and queue it for classification); None: not stored."""
    item = channel.message(native)
    if item is None:
        return None
    [result] = await services.receive([item])
    return result


async def edit(services: Services, key: MessageKey, text: str, edited_at: datetime | None) -> bool:
    """Store a message's new text (it is classified again); False when it is not stored."""
    edited = await services.run(
        lambda session: (
            apply_edit(session, key.source, key.chat_id, key.external_id, text, edited_at),
            [],
        )
    )
    if edited is not None and edited.status == MessageStatus.pending:
        await services.enqueue([edited.id])
    return edited is not None


async def delete(services: Services, key: MessageKey, deleted_at: datetime | None) -> int | None:
    """Mark a message deleted (kept, with its text and classification); its id, or None when
    it is not stored."""
    return await services.run(lambda session: mark_deleted(session, key, deleted_at or utcnow()))


def mark_deleted(
    session: Session, key: MessageKey, deleted_at: datetime
) -> tuple[int | None, list[dict[str, object]]]:
    message = session.exec(
        select(Message)
        .where(Message.source == key.source, Message.chat_id == key.chat_id)
        .where(Message.external_id == key.external_id)
        .with_for_update()
    ).first()
    if message is None or message.deleted_at is not None:
        return (message.id if message else None), []
    message.deleted_at = deleted_at
    session.add(message)
    payload = {"id": message.id, "source": key.source, "chat_id": key.chat_id, "external_id": key.external_id}
    return message.id, events.record_events(session, [(events.MESSAGE_DELETED, payload)])
