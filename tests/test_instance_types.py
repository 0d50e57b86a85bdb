"""The instance-family table: complete against botocore's SageMaker model, and right about what it claims."""

from __future__ import annotations

import pytest

from platform_contract.instance_types import (
    FAMILIES,
    Accelerator,
    InstanceType,
    InstanceUse,
    allowed_instance_types,
    instance_type_problems,
)

CPU_IMAGE = frozenset({Accelerator.NONE})


@pytest.mark.parametrize("use", list(InstanceUse))
def test_every_family_sagemaker_offers_is_in_the_table(use: InstanceUse) -> None:
    families = {InstanceType.parse(name).family_name for name in allowed_instance_types(use)}  # type: ignore[union-attr]
    assert families - set(FAMILIES) == set()


@pytest.mark.parametrize(
    ("name", "local_storage"),
    [("ml.m5.xlarge", False), ("ml.m5d.xlarge", True), ("ml.g4dn.xlarge", True), ("ml.p3.2xlarge", False)],
)
def test_local_nvme_storage_follows_the_family(name: str, local_storage: bool) -> None:
    instance = InstanceType.parse(name)
    assert instance is not None and instance.family.local_storage is local_storage


@pytest.mark.parametrize(("name", "vcpus"), [("ml.m5.large", 2), ("ml.m5.xlarge", 4), ("ml.c5.9xlarge", 36)])
def test_vcpus_follow_ec2_sizes(name: str, vcpus: int) -> None:
    assert InstanceType.parse(name).vcpus == vcpus  # type: ignore[union-attr]


def test_a_type_sagemaker_does_not_offer_for_the_use_names_the_family_members() -> None:
    [problem] = instance_type_problems("ml.m5.huge", InstanceUse.TRAINING, image_accelerators=CPU_IMAGE)
    assert problem.reason == "not a SageMaker training instance type"
    assert problem.allowed.startswith("ml.m5.large, ml.m5.xlarge, ml.m5.2xlarge, ml.m5.4xlarge")


def test_gpu_and_graviton_types_are_refused_for_a_cpu_amd64_image() -> None:
    [gpu] = instance_type_problems("ml.g5.xlarge", InstanceUse.TRAINING, image_accelerators=CPU_IMAGE)
    assert (gpu.reason, gpu.allowed) == (
        "it carries a nvidia-gpu accelerator that the image does not use",
        "CPU instance types",
    )
    [arm] = instance_type_problems("ml.c7g.large", InstanceUse.ENDPOINT, image_accelerators=CPU_IMAGE)
    assert arm.reason.startswith("Graviton (arm64)")
    assert instance_type_problems("ml.m5.large", InstanceUse.ENDPOINT, image_accelerators=CPU_IMAGE) == []
