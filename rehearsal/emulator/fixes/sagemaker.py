"""SageMaker (serving): endpoint names, deployment configs and blue/green updates.

See the package's docstring for the defects each fix repairs."""

from __future__ import annotations

import math
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.core.utils import utcnow
from moto.logs.models import logs_backends
from moto.sagemaker.exceptions import ValidationError as SageMakerValidationError
from moto.sagemaker.models import FakeEndpoint, sagemaker_backends

# --- SageMaker: endpoint deployments (serving) ---------------------------------------------------
#
# moto creates an AWS::SageMaker::Endpoint under a generated name whatever its EndpointName, ignores its
# DeploymentConfig, and "updates" one by deleting it and creating it again from the new config: no
# UpdateEndpoint, so RetainAllVariantProperties, ExcludeRetainedVariantProperties, the traffic-routing
# rules and automatic rollback never apply. Nor does it create the log group SageMaker creates when an
# endpoint starts. Here:
# - the endpoint is named by EndpointName when given, and /aws/sagemaker/Endpoints/<name> is created as
#   the endpoint starts unless it exists (so a template that creates the group after the endpoint fails
#   with "already exists", as in AWS);
# - an update is an UpdateEndpoint of the same endpoint: with RetainAllVariantProperties each variant keeps
#   its current DesiredInstanceCount and DesiredWeight unless ExcludeRetainedVariantProperties names them
#   (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_VariantProperty.html);
# - a canary or linear step must be at most half of the variant's instance count, a linear step at least
#   10 % of it (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html),
#   else the update fails with SageMaker's ValidationException;
# - when an alarm of AutoRollbackConfiguration is in ALARM while the update runs, SageMaker rolls it back:
#   the endpoint stays InService on its previous config and CloudFormation still reports the update
#   complete, which is what AWS does (the silent rollback a deploy must check for). Set an alarm's state
#   with SetAlarmState before the update to rehearse it.

_ENDPOINT_LOG_GROUP_PREFIX = "/aws/sagemaker/Endpoints/"


def _step_instances(size: dict[str, Any], instance_count: int) -> int:
    if size["Type"] == "INSTANCE_COUNT":
        return int(size["Value"])
    return math.ceil(instance_count * int(size["Value"]) / 100)


def _check_traffic_routing(routing: dict[str, Any], variants: list[dict[str, Any]]) -> None:
    """Raises SageMaker's ValidationException for a canary or linear step the variants cannot take."""
    kind = routing.get("Type", "ALL_AT_ONCE")
    size = routing.get("CanarySize") if kind == "CANARY" else routing.get("LinearStepSize")
    if kind == "ALL_AT_ONCE" or size is None:
        return
    for variant in variants:
        count = variant.get("DesiredInstanceCount") or 0
        step = _step_instances(size, count)
        low = 0.1 * count if kind == "LINEAR" else 0
        if not low <= step <= count / 2:
            field = "CanarySize" if kind == "CANARY" else "LinearStepSize"
            allowed = "less than or equal to 50%" if kind == "CANARY" else "10-50%"
            raise SageMakerValidationError(
                f"{field} of {step} instance(s) for variant {variant['VariantName']} is invalid: it must be "
                f"{allowed} of the variant's total instance count ({count})."
            )


def _updated_variants(
    endpoint: FakeEndpoint, config: dict[str, Any], properties: dict[str, Any]
) -> list[dict[str, Any]]:
    """The variants as UpdateEndpoint leaves them: the new config's, with retained properties kept."""
    retain = properties.get("RetainAllVariantProperties", False)
    excluded = {item["VariantPropertyType"] for item in properties.get("ExcludeRetainedVariantProperties", [])}
    current = {variant["VariantName"]: variant for variant in endpoint.production_variants}
    variants = endpoint._process_production_variants(config["ProductionVariants"])
    for variant in variants:
        previous = current.get(variant["VariantName"])
        for kept, reported in (("DesiredInstanceCount", "CurrentInstanceCount"), ("DesiredWeight", "CurrentWeight")):
            if retain and previous is not None and kept not in excluded and kept in previous:
                variant[kept] = variant[reported] = previous[kept]
    return variants


def _tripped_alarms(account_id: str, region_name: str, deployment: dict[str, Any]) -> list[str]:
    alarms = cloudwatch_backends[account_id][region_name].alarms
    names = [alarm["AlarmName"] for alarm in deployment.get("AutoRollbackConfiguration", {}).get("Alarms", [])]
    return [name for name in names if name in alarms and alarms[name].state_value == "ALARM"]


def _start_endpoint_logging(account_id: str, region_name: str, endpoint_name: str) -> None:
    logs = logs_backends[account_id][region_name]
    name = _ENDPOINT_LOG_GROUP_PREFIX + endpoint_name
    if name not in logs.groups:
        logs.create_log_group(name, tags={})


def fix_endpoint_deployments() -> None:
    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> FakeEndpoint:
        properties = cloudformation_json["Properties"]
        name = properties.get("EndpointName", resource_name)
        endpoint = sagemaker_backends[account_id][region_name].create_endpoint(
            endpoint_name=name, endpoint_config_name=properties["EndpointConfigName"], tags=properties.get("Tags", [])
        )
        endpoint.last_deployment_config = properties.get("DeploymentConfig")  # type: ignore[attr-defined]
        _start_endpoint_logging(account_id, region_name, name)
        return endpoint

    def update_from_cloudformation_json(
        cls: type[FakeEndpoint],
        original_resource: FakeEndpoint,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> FakeEndpoint:
        properties = cloudformation_json["Properties"]
        backend = sagemaker_backends[account_id][region_name]
        if properties.get("EndpointName", original_resource.endpoint_name) != original_resource.endpoint_name:
            replacement = cls.create_from_cloudformation_json(
                properties["EndpointName"], cloudformation_json, account_id, region_name
            )
            backend.delete_endpoint(original_resource.endpoint_name)
            return replacement
        config = backend.describe_endpoint_config(properties["EndpointConfigName"])
        deployment = properties.get("DeploymentConfig") or {}
        variants = _updated_variants(original_resource, config, properties)
        routing = deployment.get("BlueGreenUpdatePolicy", {}).get("TrafficRoutingConfiguration", {})
        _check_traffic_routing(routing, variants)
        original_resource.last_deployment_config = deployment or None  # type: ignore[attr-defined]
        original_resource.last_modified_time = utcnow()
        if not _tripped_alarms(account_id, region_name, deployment):
            original_resource.endpoint_config_name = properties["EndpointConfigName"]
            original_resource.production_variants = variants
            original_resource.data_capture_config = config["DataCaptureConfig"]
        return original_resource

    FakeEndpoint.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
    FakeEndpoint.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)  # type: ignore[assignment]
