"""A running worker's local classifier follows the model activated by another process."""

from __future__ import annotations

from pathlib import Path

from core.classification.dataset import Example, seed_examples
from core.classification.local.active import ActiveLocalClassifier
from core.classification.local.model import train
from core.classification.local.store import activate_model, save_model
from core.classification.types import MessageInput
from core.models import Kind, Priority


async def test_a_newly_activated_model_is_used_without_restart(tmp_path: Path) -> None:
    follower = ActiveLocalClassifier(tmp_path, check_every=0)
    first = follower.current.artifact.version
    extra = [
        Example(text=f"зробіть, будь ласка, звіт номер {i}", kind=Kind.task, priority=Priority.low)
        for i in range(30)
    ]
    newer = train([*seed_examples(), *extra])
    save_model(newer, tmp_path)
    activate_model(tmp_path, newer.version)
    [outcome] = await follower.classify([MessageInput("1", "checkout fails with 500")])
    assert newer.version != first
    assert follower.current.artifact.version == newer.version
    assert outcome.classifier_version == newer.version
