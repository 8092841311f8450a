"""`python -m services.bot`: the Telegram bot for already-resolved settings."""

import asyncio
import logging

from core.config import Settings
from services.bot.main import run_bot

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(run_bot(Settings()))
