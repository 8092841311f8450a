"""Bot API messages -> MessageCreate: text or caption, author, reply, topic, forward origin."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.types import Chat, Message, MessageOriginUnion

from core.config import Settings
from core.schemas import MessageCreate
from core.telegram import SOURCE

MEDIA_KINDS = (
    "photo", "video", "animation", "document", "audio", "voice", "video_note", "sticker",
    "live_photo", "paid_media", "story", "poll", "checklist", "location", "venue", "contact",
    "dice", "game",
)  # fmt: skip


def is_allowed(settings: Settings, chat_id: int) -> bool:
    """Whether the bot serves this chat (TRACKER_TELEGRAM_CHATS)."""
    return chat_id in settings.telegram_chats


def media_kind(message: Message) -> str | None:
    return next((kind for kind in MEDIA_KINDS if getattr(message, kind, None)), None)


def is_content(message: Message) -> bool:
    """True for what people write or send; False for service messages (joins, pins…)."""
    return message.text is not None or message.caption is not None or media_kind(message) is not None


def chat_title(chat: Chat) -> str | None:
    return chat.title or " ".join(filter(None, (chat.first_name, chat.last_name))) or None


def forwarded_from(origin: MessageOriginUnion | None) -> str | None:
    """Who the forwarded message originally came from, as Telegram shows it."""
    if origin is None:
        return None
    for path in ("sender_user.full_name", "sender_user_name", "sender_chat.title", "chat.title"):
        value: object = origin
        for part in path.split("."):
            value = getattr(value, part, None)
        if isinstance(value, str) and value:
            return value
    return origin.type


def _author(message: Message) -> tuple[str | None, str | None]:
    if message.sender_chat is not None:
        return str(message.sender_chat.id), message.sender_chat.title
    if message.from_user is not None:
        return str(message.from_user.id), message.from_user.full_name
    return None, None


def _topic(message: Message) -> tuple[str | None, str | None, bool]:
    """Thread id, topic title (when the update carries it), and whether the reply is the topic root."""
    if not message.is_topic_message or message.message_thread_id is None:
        return None, None, False
    root = message.reply_to_message
    created = root.forum_topic_created if root is not None else None
    return str(message.message_thread_id), created.name if created else None, created is not None


def to_message_in(message: Message) -> MessageCreate | None:
    """The message to store; a forum topic's creation is kept unclassified, other service
    messages (joins, pins, title changes) are not stored at all."""
    if message.forum_topic_created is not None:
        return _topic_created(message)
    if not is_content(message):
        return None
    thread_id, thread_title, replies_to_root = _topic(message)
    reply = message.reply_to_message
    author_id, author = _author(message)
    text = message.text if message.text is not None else message.caption or ""
    return MessageCreate(
        source=SOURCE,
        chat_id=str(message.chat.id),
        chat_title=chat_title(message.chat),
        external_id=str(message.message_id),
        text=text,
        author_id=author_id,
        author=author,
        sent_at=message.date,
        reply_to_external_id=str(reply.message_id) if reply and not replies_to_root else None,
        thread_id=thread_id,
        thread_title=thread_title,
        media_kind=media_kind(message),
        forwarded_from=forwarded_from(message.forward_origin),
        classify=bool(text.strip()),
    )


def _topic_created(message: Message) -> MessageCreate:
    name = message.forum_topic_created.name if message.forum_topic_created else ""
    author_id, author = _author(message)
    return MessageCreate(
        source=SOURCE,
        chat_id=str(message.chat.id),
        chat_title=chat_title(message.chat),
        external_id=str(message.message_id),
        text=name,
        author_id=author_id,
        author=author,
        sent_at=message.date,
        thread_id=str(message.message_thread_id or message.message_id),
        thread_title=name,
        classify=False,
    )


class TelegramChannel:
    """Telegram as a core channel (core.channels.Channel): Bot API messages in."""

    source = SOURCE

    def message(self, native: Message) -> MessageCreate | None:
        return to_message_in(native)


CHANNEL = TelegramChannel()


def edited_at(message: Message) -> datetime | None:
    return datetime.fromtimestamp(message.edit_date, UTC) if message.edit_date else None
