"""Checkpoints for managed spot training.

SageMaker syncs the checkpoint directory to S3 while the job runs and copies it back when an
interrupted job restarts. A checkpoint is written to a temporary name and renamed into place, so a
file with a checkpoint name is always complete, even if the instance is reclaimed mid-write.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import xgboost as xgb

LOG = logging.getLogger(__name__)

_NAME = re.compile(r"^checkpoint-(\d{6})\.ubj$")


@dataclass(frozen=True)
class Checkpoint:
    rounds: int
    model: bytearray


class CheckpointStore:
    """The newest checkpoints in one directory; older ones are deleted as new ones arrive."""

    def __init__(self, directory: Path, *, keep: int = 2) -> None:
        # Keeping the previous checkpoint as well leaves a fallback if the newest cannot be read.
        self.directory = directory
        self.keep = keep

    def _existing(self) -> list[tuple[int, Path]]:
        if not self.directory.is_dir():
            return []
        found = ((_NAME.match(path.name), path) for path in self.directory.iterdir())
        return sorted(((int(match.group(1)), path) for match, path in found if match), reverse=True)

    def latest(self) -> Checkpoint | None:
        """The newest checkpoint XGBoost can load, or None."""
        for rounds, path in self._existing():
            model = bytearray(path.read_bytes())
            try:
                xgb.Booster(model_file=model)
            except xgb.core.XGBoostError as error:
                LOG.warning("Skipping unreadable checkpoint %s: %s", path.name, error)
                continue
            return Checkpoint(rounds, model)
        return None

    def save(self, booster: xgb.Booster) -> Path:
        rounds = booster.num_boosted_rounds()
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"checkpoint-{rounds:06d}.ubj"
        # The temporary name does not match the checkpoint pattern, so a half-written file is never
        # taken for a checkpoint.
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".partial-", suffix=".ubj")
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(booster.save_raw("ubj"))
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        for _, stale in self._existing()[self.keep :]:
            stale.unlink(missing_ok=True)
        return target
