"""The data dir's active local model for long-running processes: when another process
(`tracker train`, the dashboard's retrain) activates a new model, the next batch uses it."""

from __future__ import annotations

import time
from pathlib import Path

from core.classification.local.classifier import LocalClassifier
from core.classification.local.store import active_model_path
from core.classification.types import MessageInput, Outcome


class ActiveLocalClassifier:
    """Delegates to the active LocalClassifier, checking the active version every few seconds."""

    name = "local"

    def __init__(self, data_dir: Path, check_every: float = 5.0) -> None:
        self.data_dir = data_dir
        self.check_every = check_every
        self.current = LocalClassifier.from_data_dir(data_dir)
        self._path = active_model_path(data_dir)
        self._checked = time.monotonic()

    def __getattr__(self, item: str) -> object:
        return getattr(self.current, item)

    def refresh(self) -> LocalClassifier:
        """The active model, reloaded when a newer one was activated since the last check."""
        if time.monotonic() - self._checked >= self.check_every:
            self._checked = time.monotonic()
            path = active_model_path(self.data_dir)
            if path is not None and path != self._path:
                self.current, self._path = LocalClassifier.load(path), path
        return self.current

    async def classify(self, messages: list[MessageInput]) -> list[Outcome]:
        return await self.refresh().classify(messages)
