"""Where SageMaker puts things inside the container, and how to point those places elsewhere.

SageMaker mounts everything under ``/opt/ml``. ``OPT_ML_ROOT`` moves that prefix, which is how the
tests and local runs use a temporary directory instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabular_xgboost.errors import UserError

DEFAULT_OPT_ML_ROOT = "/opt/ml"


@dataclass(frozen=True)
class SageMakerPaths:
    """The SageMaker container file layout below one root directory."""

    root: Path

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> SageMakerPaths:
        return cls(Path(environ.get("OPT_ML_ROOT", DEFAULT_OPT_ML_ROOT)))

    @property
    def hyperparameters_file(self) -> Path:
        return self.root / "input" / "config" / "hyperparameters.json"

    @property
    def resource_config_file(self) -> Path:
        return self.root / "input" / "config" / "resourceconfig.json"

    @property
    def input_data_config_file(self) -> Path:
        return self.root / "input" / "config" / "inputdataconfig.json"

    def channel_dir(self, channel: str) -> Path:
        return self.root / "input" / "data" / channel

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def output_data_dir(self) -> Path:
        """Uploaded by SageMaker as ``output.tar.gz`` next to ``model.tar.gz``."""
        return self.root / "output" / "data"

    @property
    def failure_file(self) -> Path:
        """Its text becomes the training job's FailureReason."""
        return self.root / "output" / "failure"

    @property
    def checkpoint_dir(self) -> Path:
        """The default local path SageMaker syncs with the job's checkpoint S3 URI."""
        return self.root / "checkpoints"


def read_json_file(path: Path, description: str) -> Any:
    """Reads a JSON configuration file SageMaker wrote, failing with the file named on bad content."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise UserError(f"{description} {path} is not valid JSON: {error}") from error


def channel_distribution(paths: SageMakerPaths, channel: str) -> str:
    """``FullyReplicated`` (every host sees all files) or ``ShardedByS3Key`` (each host sees a part).

    Without ``inputdataconfig.json`` (local runs) every host is taken to see all files.
    """
    if not paths.input_data_config_file.exists():
        return "FullyReplicated"
    config = read_json_file(paths.input_data_config_file, "The input data configuration")
    channel_config = config.get(channel, {}) if isinstance(config, dict) else {}
    mode = channel_config.get("TrainingInputMode", "File")
    if mode == "Pipe":
        raise UserError(
            f"Channel '{channel}' uses input mode Pipe; this container reads files: use input mode File or FastFile."
        )
    return channel_config.get("S3DistributionType", "FullyReplicated")
