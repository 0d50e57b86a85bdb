"""The platform's own training and serving image, built from training_code/ by the same synth."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_ecr_assets as ecr_assets
from constructs import Construct

TRAINING_CODE_DIR = Path(__file__).resolve().parent.parent / "training_code"


class ModelImage(ecr_assets.DockerImageAsset):
    """A linux/amd64 Docker image asset of ``training_code/`` that SageMaker runs as ``<image> train`` and
    ``<image> serve``. ``cdk deploy`` builds and pushes it; where there is no Docker engine, ``CDK_DOCKER`` names
    ``scripts/cdk-docker``, which builds with podman in Docker's v2 manifest format (SageMaker rejects OCI).
    Stacks that create it in the same stage share one build, since the asset hash is the same.

    :param directory: the build context. Default: the project's training_code/.
    """

    def __init__(self, scope: Construct, id: str, *, directory: Path = TRAINING_CODE_DIR) -> None:
        super().__init__(scope, id, directory=str(directory), platform=ecr_assets.Platform.LINUX_AMD64)
