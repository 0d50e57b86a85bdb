"""What training leaves in the model directory and serving reads back.

``xgboost-model.ubj`` is the booster in XGBoost's binary JSON format; ``model-metadata.json``
holds what serving needs besides it (task, feature names and their order).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import xgboost as xgb

from tabular_xgboost.errors import UserError
from tabular_xgboost.hyperparameters import TASKS, Task

MODEL_FILE = "xgboost-model.ubj"
METADATA_FILE = "model-metadata.json"
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class ModelMetadata:
    task: Task
    feature_names: tuple[str, ...]

    @property
    def feature_count(self) -> int:
        return len(self.feature_names)


@dataclass(frozen=True)
class ModelArtifacts:
    """The model as bytes: serving workers build their own booster from it after they start."""

    booster_bytes: bytearray
    metadata: ModelMetadata


def save_model(model_dir: Path, booster: xgb.Booster, metadata: ModelMetadata) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(model_dir / MODEL_FILE)
    document = {
        "format_version": _FORMAT_VERSION,
        "task": metadata.task,
        "feature_names": list(metadata.feature_names),
        "xgboost_version": xgb.__version__,
    }
    (model_dir / METADATA_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def read_model(model_dir: Path) -> ModelArtifacts:
    """Reads and checks the model directory, or raises UserError saying what is missing or wrong."""
    model_path, metadata_path = model_dir / MODEL_FILE, model_dir / METADATA_FILE
    missing = [path.name for path in (model_path, metadata_path) if not path.is_file()]
    if missing:
        raise UserError(
            f"The model directory {model_dir} lacks {', '.join(missing)}; serve a model.tar.gz "
            "written by this container's train command."
        )
    try:
        document = json.loads(metadata_path.read_text(encoding="utf-8"))
        task, feature_names = document["task"], tuple(document["feature_names"])
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise UserError(f"{metadata_path} is not valid model metadata: {error!r}") from error
    if document.get("format_version") != _FORMAT_VERSION or task not in TASKS:
        raise UserError(
            f"{metadata_path} has format_version {document.get('format_version')!r} and task "
            f"{task!r}; this container reads format_version {_FORMAT_VERSION} and tasks {TASKS}."
        )
    return ModelArtifacts(bytearray(model_path.read_bytes()), ModelMetadata(task, feature_names))
