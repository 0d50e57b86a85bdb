"""What the rehearsal needs from a synthesized cloud assembly: one stage's stacks, templates and image assets."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StackArtifact:
    path: str
    """The stack's path in the app, e.g. MlPlatform-eu-west-1/Data."""
    stack_name: str
    """Its CloudFormation name, e.g. MlPlatform-eu-west-1-Data."""
    template: dict[str, Any]

    @property
    def short_name(self) -> str:
        """Data, Network, Training, Serving."""
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ImageAsset:
    repository_name: str
    image_tag: str
    region: str


@dataclass(frozen=True)
class StageAssembly:
    stacks: tuple[StackArtifact, ...]
    images: tuple[ImageAsset, ...]

    def stack(self, short_name: str) -> StackArtifact | None:
        return next((stack for stack in self.stacks if stack.short_name == short_name), None)


def read_stage(outdir: Path, stage: str, account: str) -> StageAssembly:
    """The stacks (in deployment order) and Docker image assets of ``stage`` in the assembly at ``outdir``."""
    top = json.loads((outdir / "manifest.json").read_text())
    nested = top["artifacts"][f"assembly-{stage}"]["properties"]["directoryName"]
    directory = outdir / nested
    artifacts = json.loads((directory / "manifest.json").read_text())["artifacts"]
    stacks, images = [], []
    for artifact in artifacts.values():
        if artifact["type"] == "aws:cloudformation:stack":
            properties = artifact["properties"]
            template = json.loads((directory / properties["templateFile"]).read_text())
            stacks.append(StackArtifact(artifact["displayName"], properties.get("stackName", ""), template))
        elif artifact["type"] == "cdk:asset-manifest":
            manifest = json.loads((directory / artifact["properties"]["file"]).read_text())
            for image in manifest.get("dockerImages", {}).values():
                for destination in image["destinations"].values():
                    region = destination["region"]
                    repository = destination["repositoryName"].replace("${AWS::AccountId}", account)
                    images.append(
                        ImageAsset(repository.replace("${AWS::Region}", region), destination["imageTag"], region)
                    )
    # The manifest lists artifacts in dependency order, which is the order the CLI deploys them in.
    return StageAssembly(tuple(stacks), tuple(dict.fromkeys(images)))
