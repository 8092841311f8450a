"""`python -m services.api`: one API process for already-resolved settings."""

import signal
import sys

# A stop request during start-up (before uvicorn installs its handlers) exits cleanly.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

from services.api.server import serve  # noqa: E402

if __name__ == "__main__":
    serve()
