"""Facts about SageMaker ML instance families, shared by training, processing, transform and serving.

One table, one row per family that SageMaker offers for any use; a test keeps it complete against botocore's
SageMaker service model, which is also the source of which instance types each use accepts.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum

from platform_contract.api_shapes import service_model
from platform_contract.problems import Problem

_INSTANCE_TYPE = re.compile(r"^ml\.(?P<family>[a-z][a-z0-9-]*)\.(?P<size>[a-z0-9]+)$")
_SIZED_XLARGE = re.compile(r"^(?P<multiple>[0-9]*)xlarge$")


class InstanceUse(StrEnum):
    """What an instance does; the value is the botocore shape that lists the instance types SageMaker accepts."""

    TRAINING = "TrainingInstanceType"
    PROCESSING = "ProcessingInstanceType"
    TRANSFORM = "TransformInstanceType"
    ENDPOINT = "ProductionVariantInstanceType"

    @property
    def label(self) -> str:
        return self.name.lower()


class Accelerator(StrEnum):
    NONE = "none"
    NVIDIA_GPU = "nvidia-gpu"
    INFERENTIA = "inferentia"
    TRAINIUM = "trainium"
    GAUDI = "gaudi"


@dataclass(frozen=True)
class InstanceFamily:
    """What the platform must know about one instance family.

    :param local_storage: the instances keep their volumes on NVMe instance storage, which their hardware
        encrypts; CreateTrainingJob, CreateProcessingJob, CreateTransformJob and CreateEndpointConfig reject a
        volume KMS key for them (SageMaker API reference, ResourceConfig.VolumeKmsKeyId,
        TransformResources.VolumeKmsKeyId, ProcessingClusterConfig.VolumeKmsKeyId, CreateEndpointConfig.KmsKeyId).
    :param accelerator: the kind of accelerator the instances carry.
    :param arm64: Graviton instances; an image built for linux/amd64 does not run on them.
    :param burstable: T instances; Application Auto Scaling cannot scale a SageMaker variant of them
        (SageMaker developer guide, "Prerequisites" of endpoint auto scaling).
    """

    local_storage: bool = False
    accelerator: Accelerator = Accelerator.NONE
    arm64: bool = False
    burstable: bool = False


_GPU = InstanceFamily(accelerator=Accelerator.NVIDIA_GPU)
_GPU_LOCAL = InstanceFamily(local_storage=True, accelerator=Accelerator.NVIDIA_GPU)
_LOCAL = InstanceFamily(local_storage=True)
_ARM = InstanceFamily(arm64=True)
_ARM_LOCAL = InstanceFamily(local_storage=True, arm64=True)
_PLAIN = InstanceFamily()

# Instance storage per family from the EC2 instance-type specifications ("Instance store volumes",
# https://docs.aws.amazon.com/sagemaker/latest/dg/host-instance-storage.html).
FAMILIES: dict[str, InstanceFamily] = {
    **dict.fromkeys(
        ("c4", "c5", "c5n", "c6i", "c6in", "c7i", "c8i", "m4", "m5", "m6i", "m7i", "m8i", "r5", "r6i", "r7i", "r8i"),
        _PLAIN,
    ),
    **dict.fromkeys(("c7i-flex", "c8i-flex", "m7i-flex", "m8i-flex", "r8i-flex"), _PLAIN),
    **dict.fromkeys(("c5d", "c6id", "m5d", "m6id", "r5d", "r6id"), _LOCAL),
    **dict.fromkeys(("c6g", "c6gn", "c7g", "c8g", "m6g", "m8g", "r6g", "r8g"), _ARM),
    **dict.fromkeys(("c6gd", "m6gd", "r6gd", "r7gd"), _ARM_LOCAL),
    **dict.fromkeys(("t2", "t3"), InstanceFamily(burstable=True)),
    **dict.fromkeys(("p2", "p3"), _GPU),
    **dict.fromkeys(
        ("g4dn", "g5", "g6", "g6e", "g7", "g7e", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "p6-b300"),
        _GPU_LOCAL,
    ),
    "p6e-gb200": InstanceFamily(local_storage=True, accelerator=Accelerator.NVIDIA_GPU, arm64=True),
    **dict.fromkeys(("inf1", "inf2"), InstanceFamily(accelerator=Accelerator.INFERENTIA)),
    **dict.fromkeys(("trn1", "trn1n", "trn2"), InstanceFamily(local_storage=True, accelerator=Accelerator.TRAINIUM)),
    "dl1": InstanceFamily(local_storage=True, accelerator=Accelerator.GAUDI),
}


@dataclass(frozen=True)
class InstanceType:
    """A parsed ``ml.<family>.<size>``."""

    name: str
    family_name: str
    size: str

    @classmethod
    def parse(cls, name: str) -> InstanceType | None:
        match = _INSTANCE_TYPE.match(name)
        return cls(name, match["family"], match["size"]) if match else None

    @property
    def family(self) -> InstanceFamily:
        """The family's facts; a family the table does not know has none of the special traits."""
        return FAMILIES.get(self.family_name, _PLAIN)

    @property
    def vcpus(self) -> int | None:
        """vCPUs as EC2 sizes them (large 2, xlarge 4, Nxlarge 4N); None where that rule does not hold."""
        if self.size == "medium":
            return 2 if self.family.burstable else 1
        if self.size == "large":
            return 2
        match = _SIZED_XLARGE.match(self.size)
        return 4 * int(match["multiple"] or 1) if match else None


@functools.cache
def allowed_instance_types(use: InstanceUse) -> frozenset[str]:
    """The instance types SageMaker's API accepts for ``use``, from botocore's SageMaker service model."""
    return frozenset(service_model("sagemaker").shape_for(use.value).enum)


def instance_type_problems(name: str, use: InstanceUse, *, image_accelerators: frozenset[Accelerator]) -> list[Problem]:
    """Why ``name`` cannot run the platform's linux/amd64 image for ``use`` (keys are empty: the caller's field)."""
    allowed = allowed_instance_types(use)
    if name not in allowed:
        family = name.split(".")[1] if name.count(".") == 2 else ""
        same_family = sorted((t for t in allowed if t.split(".")[1] == family), key=_by_size)
        hint = ", ".join(same_family) if same_family else "ml.<family>.<size>, e.g. " + ", ".join(sorted(allowed)[:3])
        return [Problem("", name, hint, f"not a SageMaker {use.label} instance type")]
    instance = InstanceType.parse(name)
    assert instance is not None  # every type botocore lists is ml.<family>.<size>
    problems = []
    if instance.family.arm64:
        problems.append(Problem("", name, "an x86 instance type", "Graviton (arm64); the image is linux/amd64"))
    if instance.family.accelerator not in image_accelerators:
        kinds = " or ".join(sorted(_KINDS[accelerator] for accelerator in image_accelerators))
        problems.append(
            Problem(
                "",
                name,
                f"{kinds} instance types",
                f"it carries a {instance.family.accelerator.value} accelerator that the image does not use",
            )
        )
    return problems


def _by_size(name: str) -> tuple[int, str]:
    instance = InstanceType.parse(name)
    return (instance.vcpus or 0) if instance else 0, name


_KINDS = {
    Accelerator.NONE: "CPU",
    Accelerator.NVIDIA_GPU: "NVIDIA GPU",
    Accelerator.INFERENTIA: "Inferentia",
    Accelerator.TRAINIUM: "Trainium",
    Accelerator.GAUDI: "Gaudi",
}
