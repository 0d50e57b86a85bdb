"""The SageMaker resources' properties, read as the API requests CloudFormation makes from them, validated offline
against botocore's SageMaker service model: member names, types, required members, enums, lengths, ranges and
patterns."""

from __future__ import annotations

import copy

import pytest
from aws_cdk.assertions import Template

from ml_constructs import TrafficShifting
from platform_contract.api_shapes import request_shape, shape_problems
from tests.test_serving_endpoint import endpoint_stack

ACCOUNT = "123456789012"
# CloudFormation property names are the API's member names. Each resource's properties are split over the requests
# that carry them: the Endpoint's Retain*/Exclude* properties exist only in UpdateEndpoint.
REQUESTS = {
    "AWS::SageMaker::Model": ("CreateModel",),
    "AWS::SageMaker::EndpointConfig": ("CreateEndpointConfig",),
    "AWS::SageMaker::Endpoint": ("CreateEndpoint", "UpdateEndpoint"),
    # DeploymentConfig exists only in UpdateInferenceComponent.
    "AWS::SageMaker::InferenceComponent": ("CreateInferenceComponent", "UpdateInferenceComponent"),
}
# Names CloudFormation generates because the template leaves them out, as the API then receives them.
GENERATED_NAMES = {
    "ModelName": "EndpointModel-Ab12Cd34Ef56",
    "EndpointConfigName": "EndpointConfig-Ab12Cd34Ef56",
    "EndpointName": "EndpointMlM5Large-Ab12Cd34Ef56",
}
# Plausible deploy-time values of references and joins, by the member that holds them.
PLAUSIBLE = {
    **GENERATED_NAMES,
    "ExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/Serving-EndpointExecutionRole-Ab12Cd34Ef56",
    "KmsKeyId": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "Subnets": "subnet-0123456789abcdef0",
    "SecurityGroupIds": "sg-0123456789abcdef0",
    "DestinationS3Uri": "s3://mlplatform-eu-west-1-data-datastorebucket-ab12cd34ef56/capture/",
    "Image": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/cdk-hnb659fds-container-assets-{ACCOUNT}-eu-west-1:{'a' * 64}",
}


def with_plausible_values(value, member: str = ""):
    """``value`` with every reference or intrinsic function replaced by a plausible value for ``member``."""
    if isinstance(value, list):
        return [with_plausible_values(item, member) for item in value]
    if isinstance(value, dict):
        if any(key == "Ref" or key.startswith("Fn::") for key in value):
            assert member in PLAUSIBLE, f"no plausible value for the reference in {member}: {value}"
            return PLAUSIBLE[member]
        return {key: with_plausible_values(item, key) for key, item in value.items()}
    return value


def request_problems(resource_type: str, properties: dict) -> list[str]:
    properties = with_plausible_values(properties)
    problems = []
    carried: set[str] = set()
    for operation_name in REQUESTS[resource_type]:
        shape = request_shape(operation_name)
        request = {name: value for name, value in properties.items() if name in shape.members}
        request |= {
            name: value
            for name, value in GENERATED_NAMES.items()
            if name in shape.required_members and name not in request
        }
        carried |= request.keys()
        problems += shape_problems(request, shape, operation_name)
    problems += [f"{name}: no {'/'.join(REQUESTS[resource_type])} member" for name in properties if name not in carried]
    return problems


def sagemaker_resources(template: Template) -> list[tuple[str, str, dict]]:
    return [
        (logical_id, resource["Type"], resource["Properties"])
        for logical_id, resource in template.to_json()["Resources"].items()
        if resource["Type"] in REQUESTS
    ]


def construct_variants() -> dict[str, Template]:
    """Endpoints the shipped config does not show: an S3 artifact, linear shifting, a GPU type with instance storage."""
    stack, _ = endpoint_stack(
        model_package_arn=None,
        model_data_url="s3://bucket/models/churn/model.tar.gz",
        instance_type="ml.g4dn.xlarge",
        traffic_shifting=TrafficShifting("linear", 20, 240),
    )
    return {"s3-artifact-linear-gpu": Template.from_stack(stack)}


def test_every_sagemaker_resource_of_the_platform_is_a_valid_api_request(platform, always_on_platform, prod_platform):
    templates = {
        "dev": platform.template("eu-west-1", "serving"),
        "dev-always-on": always_on_platform.template("eu-west-1", "serving"),
        "prod": prod_platform.template("eu-west-1", "serving"),
    }
    templates |= construct_variants()
    checked = []
    for variant, template in templates.items():
        for logical_id, resource_type, properties in sagemaker_resources(template):
            assert request_problems(resource_type, properties) == [], f"{variant} {logical_id}"
            checked.append(resource_type)
    assert sorted(set(checked)) == sorted(REQUESTS)
    # Model, config and endpoint everywhere; an inference component where the endpoint scales to zero (dev).
    assert len(checked) == 3 * len(templates) + 1


BAD_PROPERTIES = {
    "a count that is not a number": (
        "AWS::SageMaker::EndpointConfig",
        ("ProductionVariants", 0, "InitialInstanceCount"),
        "two",
        "InitialInstanceCount",
    ),
    "a member the API does not know": (
        "AWS::SageMaker::EndpointConfig",
        ("ProductionVariants", 0, "InstanceCount"),
        2,
        "InstanceCount",
    ),
    "a variant name outside the pattern": (
        "AWS::SageMaker::EndpointConfig",
        ("ProductionVariants", 0, "VariantName"),
        "All_Traffic",
        "VariantName",
    ),
    "a traffic routing type the API does not offer": (
        "AWS::SageMaker::Endpoint",
        ("DeploymentConfig", "BlueGreenUpdatePolicy", "TrafficRoutingConfiguration", "Type"),
        "GRADUAL",
        "Type",
    ),
    "a deployment longer than SageMaker allows": (
        "AWS::SageMaker::Endpoint",
        ("DeploymentConfig", "BlueGreenUpdatePolicy", "MaximumExecutionTimeoutInSeconds"),
        86400,
        "MaximumExecutionTimeoutInSeconds",
    ),
    "copies with less memory than SageMaker allows": (
        "AWS::SageMaker::InferenceComponent",
        ("Specification", "ComputeResourceRequirements", "MinMemoryRequiredInMb"),
        64,
        "MinMemoryRequiredInMb",
    ),
    "a rolling batch of no copies": (
        "AWS::SageMaker::InferenceComponent",
        ("DeploymentConfig", "RollingUpdatePolicy", "MaximumBatchSize", "Value"),
        0,
        "Value",
    ),
    "a property CloudFormation would not pass on": (
        "AWS::SageMaker::Model",
        ("ModelDataUrl",),
        "s3://b/m.tar.gz",
        "ModelDataUrl",
    ),
}


@pytest.mark.parametrize("case", BAD_PROPERTIES, ids=list(BAD_PROPERTIES))
def test_the_validator_catches_a_bad_property(platform, always_on_platform, case):
    resource_type, path, bad_value, member = BAD_PROPERTIES[case]
    # The endpoint that keeps its instances has the blue/green policy; dev's has the inference component.
    template = platform if resource_type == "AWS::SageMaker::InferenceComponent" else always_on_platform
    (properties,) = [
        props
        for _, type_, props in sagemaker_resources(template.template("eu-west-1", "serving"))
        if type_ == resource_type
    ]
    broken = copy.deepcopy(properties)
    *parents, leaf = path
    node = broken
    for key in parents:
        node = node[key]
    node[leaf] = bad_value
    problems = request_problems(resource_type, broken)
    assert problems and all(member in problem for problem in problems), problems
