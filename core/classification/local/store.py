"""Model files under data_dir/models/: <version>.pkl written atomically, and an ACTIVE file
naming the version that classifiers load."""

from __future__ import annotations

import contextlib
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from core.classification.local.features import CompiledFeatures, FeatureConfig, SparseRows
from core.classification.local.model import LinearHead, LocalModelArtifact, TrainConfig
from core.classification.local.ngrams import NgramSpace

MODELS_DIR = "models"
ACTIVE_FILE = "ACTIVE"


_FORMER_HOMES = ("core.classification.local", "core.classification.local.classifier")
"""Where the model classes lived when earlier versions pickled them: those files still load."""
_CLASSES = {c.__name__: c for c in (CompiledFeatures, FeatureConfig, SparseRows, LinearHead,
                                     LocalModelArtifact, TrainConfig, NgramSpace)}  # fmt: skip


class _ModelUnpickler(pickle.Unpickler):
    """Finds the model classes by name in their current modules, whatever module wrote them."""

    def find_class(self, module: str, name: str) -> Any:
        if module in _FORMER_HOMES and name in _CLASSES:
            return _CLASSES[name]
        return super().find_class(module, name)


class ModelLoadError(Exception):
    """A model file is missing, unreadable or from an incompatible version of this code."""


def models_dir(data_dir: Path | str) -> Path:
    """Where data_dir keeps its model files."""
    return Path(data_dir) / MODELS_DIR


def save_model(artifact: LocalModelArtifact, data_dir: Path | str, activate: bool = True) -> Path:
    """Write data_dir/models/<version>.pkl (atomically); optionally make it the active one."""
    root = models_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{artifact.version}.pkl"
    with _replacing(path) as f:
        pickle.dump(artifact, f, protocol=pickle.HIGHEST_PROTOCOL)
    if activate:
        activate_model(data_dir, artifact.version)
    return path


def activate_model(data_dir: Path | str, version: str) -> None:
    """Make `version` the model that LocalClassifier.from_data_dir loads."""
    root = models_dir(data_dir)
    if not (root / f"{version}.pkl").is_file():
        raise FileNotFoundError(f"no local model {version} in {root}")
    with _replacing(root / ACTIVE_FILE) as f:
        f.write(f"{version}\n".encode())


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[IO[bytes]]:
    """A file of its own to write, put in `path`'s place whole when written: processes that
    train the same model at once (the first run of several commands) never meet halfway."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as f:
        try:
            yield f
        except BaseException:
            Path(f.name).unlink(missing_ok=True)
            raise
    Path(f.name).replace(path)


def load_model(path: Path | str) -> LocalModelArtifact:
    """Load a pickled model (only files this project wrote under data_dir)."""
    try:
        with Path(path).open("rb") as f:
            artifact = _ModelUnpickler(f).load()
    except (OSError, pickle.UnpicklingError, AttributeError, ImportError, EOFError) as e:
        raise ModelLoadError(f"cannot load local model {path}: {e}") from e
    if not isinstance(artifact, LocalModelArtifact) or not isinstance(
        getattr(artifact, "features", None), CompiledFeatures
    ):
        raise ModelLoadError(f"{path} is not a local model of this version")
    return artifact


def active_model_path(data_dir: Path | str) -> Path | None:
    """The active model's file, if one has been trained and activated."""
    root = models_dir(data_dir)
    with contextlib.suppress(OSError):
        version = (root / ACTIVE_FILE).read_text().strip()
        path = root / f"{version}.pkl"
        if path.is_file():
            return path
    return None
