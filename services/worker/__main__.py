"""`python -m services.worker`: one worker process for already-resolved settings."""

import signal
import sys

# A stop request that arrives while the heavy imports below still run ends the process
# cleanly; once the worker runs, its own handlers drain in-flight work first.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

import asyncio  # noqa: E402
import logging  # noqa: E402

from core.config import Settings  # noqa: E402
from services.worker.main import run_worker  # noqa: E402

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(
        logging.WARNING
    )  # a request line names its URL: a webhook's may hold a token
    asyncio.run(run_worker(Settings()))
