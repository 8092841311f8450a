"""Model files written before the local classifier became a package still load."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from core.classification.dataset import Example
from core.classification.local.classifier import LocalClassifier
from core.classification.local.model import train
from core.classification.local.store import ModelLoadError, load_model
from core.classification.types import MessageInput
from core.models import Kind, Priority

ROWS = [
    Example("не працює вхід, помилка 500", Kind.bug, Priority.high),
    Example("checkout crashes on submit", Kind.bug, Priority.high),
    Example("додайте темну тему", Kind.feature, Priority.low),
    Example("can we export to CSV?", Kind.feature, Priority.medium),
    Example("дякую!", Kind.noise, None),
    Example("ok 👍", Kind.noise, None),
]


def _written_by_an_earlier_version(path: Path, home: str) -> None:
    """Pickle today's model as if its classes lived in `home` (the module layout of an earlier version)."""
    data = pickle.dumps(train(ROWS), protocol=0)
    data = re.sub(rb"ccore\.classification\.local\.\w+\n", b"c" + home.encode() + b"\n", data)
    assert home.encode() in data
    path.write_bytes(data)


@pytest.mark.parametrize("home", ["core.classification.local", "core.classification.local.classifier"])
def test_a_model_pickled_by_an_earlier_layout_loads_and_classifies(tmp_path: Path, home: str) -> None:
    path = tmp_path / "old.pkl"
    _written_by_an_earlier_version(path, home)
    classifier = LocalClassifier(load_model(path))
    [result] = classifier.predict([MessageInput("1", "не працює вхід, помилка 500")])
    assert result.kind == Kind.bug


def test_a_file_from_elsewhere_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.pkl"
    path.write_bytes(pickle.dumps({"not": "a model"}))
    with pytest.raises(ModelLoadError):
        load_model(path)
