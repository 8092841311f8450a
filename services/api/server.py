"""Running the API under uvicorn."""

from __future__ import annotations

import uvicorn

from core.config import Settings
from services.api.app import create_app


def serve(settings: Settings | None = None) -> None:
    """Serve the API until SIGINT/SIGTERM (uvicorn shuts down gracefully)."""
    settings = settings or Settings()
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
