"""Which device ``train`` runs XGBoost on: the instance's GPU when it has one and this image is the GPU build, else
its CPUs.

Environment override: TRAINING_DEVICE  auto (default), cpu, or cuda (fails when the GPU cannot be used).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import xgboost as xgb

from tabular_xgboost.errors import UserError

LOG = logging.getLogger(__name__)

# The NVIDIA driver lists one directory per GPU here, in every container the NVIDIA runtime gives GPUs to
# (SageMaker's GPU instances do); no nvidia-smi is needed in the image.
NVIDIA_GPUS_DIR = Path("/proc/driver/nvidia/gpus")
DEVICE_CHOICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class DeviceChoice:
    device: str
    """XGBoost's ``device`` parameter: ``cpu`` or ``cuda`` (the first GPU)."""
    reason: str


def gpu_count(gpus_dir: Path = NVIDIA_GPUS_DIR) -> int:
    """NVIDIA GPUs the driver shows this container; 0 without a driver."""
    return len(list(gpus_dir.iterdir())) if gpus_dir.is_dir() else 0


def choose_device(requested: str, *, cuda_built: bool, gpus: int) -> DeviceChoice:
    """The device for ``requested`` (one of DEVICE_CHOICES) with this XGBoost build and this many GPUs, or UserError
    when ``cuda`` is requested and cannot be had."""
    if requested not in DEVICE_CHOICES:
        raise UserError(f"TRAINING_DEVICE={requested!r} is invalid: must be one of {', '.join(DEVICE_CHOICES)}.")
    if not gpus:
        unusable = "the instance has no NVIDIA GPU"
    elif not cuda_built:
        unusable = (
            f"the instance has {gpus} NVIDIA GPU(s), but this image is the CPU build (build argument ACCELERATOR=gpu)"
        )
    else:
        unusable = None
    if requested == "cuda" and unusable:
        raise UserError(f"TRAINING_DEVICE=cuda, but {unusable}.")
    if requested == "cpu":
        return DeviceChoice("cpu", "TRAINING_DEVICE=cpu")
    if unusable:
        return DeviceChoice("cpu", unusable)
    more = f"; only the first of its {gpus} GPUs trains" if gpus > 1 else ""
    return DeviceChoice("cuda", f"the instance has an NVIDIA GPU and this image is the GPU build{more}")


def training_device(environ: Mapping[str, str] = os.environ) -> str:
    """The device this host trains on, logged with the reason."""
    choice = choose_device(
        environ.get("TRAINING_DEVICE", "auto").strip() or "auto",
        cuda_built=bool(xgb.build_info().get("USE_CUDA")),
        gpus=gpu_count(),
    )
    LOG.info("Training on device %s: %s.", choice.device, choice.reason)
    return choice.device
