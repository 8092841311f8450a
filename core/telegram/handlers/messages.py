"""What the team writes in a served chat is stored; edits are stored and classified again."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import Message

from core.runtime.bootstrap import Services
from core.telegram.bot import AllowedChat
from core.telegram.live import receive_edit, receive_message


async def on_message(message: Message, services: Services) -> None:
    """Store the message (service messages other than new topics are skipped)."""
    await receive_message(services, message)


async def on_edit(message: Message, services: Services) -> None:
    """Store the new text; the message is classified again and its task follows."""
    await receive_edit(services, message)


def router() -> Router:
    messages = Router(name="messages")
    messages.message.register(on_message, AllowedChat())
    messages.edited_message.register(on_edit, AllowedChat())
    return messages
