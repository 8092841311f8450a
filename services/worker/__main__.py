"""`python -m services.worker`: one worker process for already-resolved settings."""

import asyncio
import logging

from core.config import Settings
from services.worker.main import run_worker

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(run_worker(Settings()))
