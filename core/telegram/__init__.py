"""Telegram: turning bot updates and Desktop exports into core's messages."""

SOURCE = "telegram"
