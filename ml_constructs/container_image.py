"""The image an endpoint serves and a pipeline trains with: the platform's own, built from training_code/ by the same
synth, or one that already is in an ECR repository (after aws-sagemaker-alpha's ``ContainerImage``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from constructs import Construct

TRAINING_CODE_DIR = Path(__file__).resolve().parent.parent / "training_code"
"""The build context of the platform's own image (training_code/)."""


@dataclass(frozen=True)
class ContainerImageConfig:
    """An image bound to the construct that runs it."""

    image_uri: str
    """What SageMaker pulls: repository URI and tag (a token until deploy)."""
    repository: ecr.IRepository
    """The repository the image is pulled from."""

    def grant_pull(self, grantee: iam.IGrantable) -> iam.Grant:
        """Lets ``grantee`` sign in to ECR and pull from the image's repository."""
        return self.repository.grant_pull(grantee)


class ContainerImage(ABC):
    """A container image for SageMaker: ``from_asset`` builds one, ``from_ecr_repository`` uses one that exists.

    Constructs that take an image ``bind`` it where they run it, and grant their role pull rights through the
    returned ``ContainerImageConfig``.
    """

    @staticmethod
    def from_asset(directory: Path, build_args: Mapping[str, str] | None = None) -> ContainerImage:
        """A linux/amd64 Docker image asset of ``directory`` that SageMaker runs as ``<image> train`` and
        ``<image> serve``. ``cdk deploy`` builds and pushes it; where there is no Docker engine, ``CDK_DOCKER``
        names ``scripts/cdk-docker``, which builds with podman in Docker's v2 manifest format (SageMaker rejects
        OCI). Stacks that bind it in the same stage share one build, since the asset hash is the same.

        :param directory: the build context, e.g. ``TRAINING_CODE_DIR``. Required.
        :param build_args: the build's arguments, e.g. ``{"TRACKING": "mlflow"}`` for the platform's image; other
            arguments build another image. Default: none (the Dockerfile's defaults).
        """
        return _AssetImage(directory, dict(build_args or {}))

    @staticmethod
    def from_ecr_repository(repository: ecr.IRepository, tag: str = "latest") -> ContainerImage:
        """The image ``tag`` of ``repository``, e.g. one ``ecr.Repository.from_repository_name`` imports.

        :param tag: Default: latest.
        """
        return _RepositoryImage(repository, tag)

    @abstractmethod
    def bind(self, scope: Construct) -> ContainerImageConfig:
        """The image as the construct ``scope`` runs it."""


class _AssetImage(ContainerImage):
    _ASSET_ID = "Image"

    def __init__(self, directory: Path, build_args: dict[str, str]) -> None:
        self.directory = directory
        self.build_args = build_args

    def bind(self, scope: Construct) -> ContainerImageConfig:
        # One asset per construct that runs the image, however often that construct binds it.
        existing = scope.node.try_find_child(self._ASSET_ID)
        asset = (
            cast(ecr_assets.DockerImageAsset, existing)
            if existing
            else ecr_assets.DockerImageAsset(
                scope,
                self._ASSET_ID,
                directory=str(self.directory),
                platform=ecr_assets.Platform.LINUX_AMD64,
                build_args=self.build_args or None,
            )
        )
        return ContainerImageConfig(image_uri=asset.image_uri, repository=asset.repository)


class _RepositoryImage(ContainerImage):
    def __init__(self, repository: ecr.IRepository, tag: str) -> None:
        self.repository = repository
        self.tag = tag

    def bind(self, scope: Construct) -> ContainerImageConfig:
        return ContainerImageConfig(
            image_uri=self.repository.repository_uri_for_tag(self.tag), repository=self.repository
        )
