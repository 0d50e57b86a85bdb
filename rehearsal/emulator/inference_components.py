"""SageMaker inference components, which moto 5.2.5 lacks entirely, and what an endpoint that hosts them needs.

moto would skip an ``AWS::SageMaker::InferenceComponent`` silently; here it is a registered type backed by a
component held per account and Region, checked as SageMaker checks CreateInferenceComponent and
UpdateInferenceComponent (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateInferenceComponent.html):
- the request fits botocore's CreateInferenceComponent / UpdateInferenceComponent shapes (required members, types,
  minimums: ``ComputeResourceRequirements.MinMemoryRequiredInMb`` >= 128, ``NumberOfCpuCoresRequired`` >= 0.25,
  ``CopyCount`` >= 0), and the name their pattern and length;
- the endpoint exists, its config has the variant, the variant runs instances (``InstanceType`` or
  ``ManagedInstanceScaling``) and names no model, the config carries ``ExecutionRoleArn``, and the model exists.
An update with a new specification is SageMaker's rolling update: if an alarm of its
``AutoRollbackConfiguration`` is in ALARM while it runs, the component keeps its previous specification and stays
InService (set the alarm's state with SetAlarmState first to rehearse it). A deploy sets the copy count only when the
template's ``RuntimeConfig.CopyCount`` changes, as CloudFormation sends only changed properties.

The API calls the platform makes: DescribeInferenceComponent, ListInferenceComponents and
UpdateInferenceComponentRuntimeConfig. moto's endpoint config requires ``ModelName`` on every variant (a KeyError
otherwise) and drops ``ExecutionRoleArn``, ``VpcConfig`` and ``EnableNetworkIsolation``; here a variant without a model
is accepted when the config carries the role, and the three are kept. Application Auto Scaling in moto knows no
``sagemaker:inference-component:DesiredCopyCount``; here it is accepted for a component that exists. InvokeEndpoint of
an endpoint that hosts components needs ``InferenceComponentName`` (SageMaker refuses the request otherwise); a
component with no copy refuses the request with SageMaker's no-capacity error and counts it in
``AWS/SageMaker NoCapacityInvocationFailures`` per ``InferenceComponentName``, the metric the scale-out-from-zero
alarm watches (see ``inference_component_scaling``); one with copies forwards it to the model server registered for
its model (``operations``).
"""

from __future__ import annotations

import math
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, ClassVar

from moto.applicationautoscaling import models as autoscaling_models
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpointConfig, SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse
from moto.utilities.utils import get_partition

from platform_contract.api_shapes import sdk_refusal, service_model
from platform_contract.instance_types import InstanceType
from rehearsal.emulator import operations
from rehearsal.emulator.resources import _Resource

COPY_COUNT_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
RESOURCE_ID_PREFIX = "inference-component/"
NO_CAPACITY_METRIC = ("AWS/SageMaker", "NoCapacityInvocationFailures")
NO_CAPACITY_MESSAGE = (
    "Inference Component has no capacity to process this request. ApplicationAutoScaling may be in-progress (if "
    "configured) or try to increase the capacity by invoking UpdateInferenceComponentRuntimeConfig API."
)

_NAME_SHAPE = service_model().shape_for("InferenceComponentName").metadata
_NAME_PATTERN = re.compile(f"^(?:{_NAME_SHAPE['pattern']})$")
_lock = threading.Lock()


@dataclass
class InferenceComponent:
    """A component as DescribeInferenceComponent reports it; copies change only through the runtime config."""

    account_id: str
    region_name: str
    name: str
    endpoint_name: str
    variant_name: str
    specification: dict[str, Any]
    desired_copies: int
    tags: list[dict[str, str]]
    last_deployment_config: dict[str, Any] | None = None
    model: Any = None
    """The model its copies run, as it was when the specification was applied: SageMaker keeps serving it when the
    model is deleted later (CloudFormation deletes a replaced one)."""
    created: Any = field(default_factory=utcnow)
    modified: Any = field(default_factory=utcnow)

    @property
    def arn(self) -> str:
        return component_arn(self.account_id, self.region_name, self.name)

    def describe(self) -> dict[str, Any]:
        backend = sagemaker_backends[self.account_id][self.region_name]
        described = {
            "InferenceComponentName": self.name,
            "InferenceComponentArn": self.arn,
            "EndpointName": self.endpoint_name,
            "EndpointArn": backend.endpoints[self.endpoint_name].arn if self.endpoint_name in backend.endpoints else "",
            "VariantName": self.variant_name,
            "Specification": self.specification,
            "RuntimeConfig": {"DesiredCopyCount": self.desired_copies, "CurrentCopyCount": self.desired_copies},
            "CreationTime": self.created,
            "LastModifiedTime": self.modified,
            "InferenceComponentStatus": "InService",
        }
        if self.last_deployment_config:
            described["LastDeploymentConfig"] = self.last_deployment_config
        return described

    def summary(self) -> dict[str, Any]:
        described = self.describe()
        keys = ("CreationTime", "InferenceComponentArn", "InferenceComponentName", "EndpointArn", "EndpointName")
        return {key: described[key] for key in (*keys, "VariantName", "InferenceComponentStatus", "LastModifiedTime")}

    def apply_specification(self, specification: dict[str, Any]) -> None:
        self.specification = specification
        self.model = sagemaker_backends[self.account_id][self.region_name]._models.get(
            specification.get("ModelName", "")
        )

    def set_copies(self, copies: int) -> None:
        """What SageMaker does once copies are placed: the variant runs as many instances as they need."""
        self.desired_copies = copies
        self.modified = utcnow()
        backend = sagemaker_backends[self.account_id][self.region_name]
        endpoint = backend.endpoints.get(self.endpoint_name)
        if endpoint is None:
            return
        variant = _config_variant(backend, endpoint.endpoint_config_name, self.variant_name)
        instances = instances_for(copies, self.specification, variant.get("InstanceType", ""))
        for running in endpoint.production_variants:
            if running["VariantName"] == self.variant_name:
                running["CurrentInstanceCount"] = running["DesiredInstanceCount"] = instances


_components: dict[tuple[str, str], dict[str, InferenceComponent]] = {}


def components(account_id: str, region_name: str) -> dict[str, InferenceComponent]:
    """The account's components in the Region, by name."""
    with _lock:
        return _components.setdefault((account_id, region_name), {})


def component_arn(account_id: str, region_name: str, name: str) -> str:
    return f"arn:{get_partition(region_name)}:sagemaker:{region_name}:{account_id}:inference-component/{name}"


def component(account_id: str, region_name: str, name: str) -> InferenceComponent:
    found = components(account_id, region_name).get(name)
    if found is None:
        raise ValidationError(f"Could not find inference component '{component_arn(account_id, region_name, name)}'.")
    return found


def instances_for(copies: int, specification: dict[str, Any], instance_type: str) -> int:
    """Instances that ``copies`` need when each reserves ``NumberOfCpuCoresRequired`` of an instance's vCPUs (one
    copy per instance where the type's vCPUs are unknown). Memory and accelerators are not placed here."""
    if copies == 0:
        return 0
    cores = float(specification.get("ComputeResourceRequirements", {}).get("NumberOfCpuCoresRequired", 0))
    parsed = InstanceType.parse(instance_type)
    vcpus = parsed.vcpus if parsed else None
    if not vcpus or cores <= 0:
        return copies
    per_instance = max(1, math.floor(vcpus / cores))
    return math.ceil(copies / per_instance)


def _config_variant(backend: SageMakerModelBackend, config_name: str, variant_name: str) -> dict[str, Any]:
    config = backend.endpoint_configs[config_name]
    return next((v for v in config.production_variants if v["VariantName"] == variant_name), {})


# --- Validation, as SageMaker validates the requests ----------------------------------------------------------


def _shape_problems(operation: str, request: dict[str, Any]) -> list[str]:
    refusal = sdk_refusal(operation, request)
    return [refusal] if refusal else []


def _name_problems(name: str) -> list[str]:
    if len(name) > _NAME_SHAPE["max"] or not _NAME_PATTERN.match(name):
        return [
            f"InferenceComponentName {name!r} must match {_NAME_SHAPE['pattern']} and have at most "
            f"{_NAME_SHAPE['max']} characters."
        ]
    return []


def _placement_problems(backend: SageMakerModelBackend, endpoint_name: str, variant_name: str) -> list[str]:
    endpoint = backend.endpoints.get(endpoint_name)
    if endpoint is None:
        return [f"Could not find endpoint '{endpoint_name}' to host the inference component."]
    config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
    variant = _config_variant(backend, endpoint.endpoint_config_name, variant_name) if config else {}
    if not variant:
        return [f"Endpoint {endpoint_name} has no production variant {variant_name}."]
    problems = []
    if "InstanceType" not in variant and "ManagedInstanceScaling" not in variant:
        problems.append(
            f"Variant {variant_name} of endpoint {endpoint_name} runs no instances (no InstanceType or "
            "ManagedInstanceScaling): inference components need instance-based variants."
        )
    if variant.get("ModelName"):
        problems.append(
            f"Variant {variant_name} of endpoint {endpoint_name} serves model {variant['ModelName']}: inference "
            "components are hosted only by variants that name no model."
        )
    if not getattr(config, "execution_role_arn", None):
        problems.append(
            f"Endpoint config {endpoint.endpoint_config_name} has no ExecutionRoleArn, which an endpoint that hosts "
            "inference components needs."
        )
    return problems


def _specification_problems(backend: SageMakerModelBackend, specification: dict[str, Any]) -> list[str]:
    problems = []
    model = specification.get("ModelName")
    if model is None and "Container" not in specification and "BaseInferenceComponentName" not in specification:
        problems.append("Specification needs ModelName, Container or BaseInferenceComponentName.")
    if model is not None and model not in backend._models:
        problems.append(f"Could not find model '{model}' for the inference component.")
    if "ComputeResourceRequirements" not in specification and "BaseInferenceComponentName" not in specification:
        problems.append("Specification.ComputeResourceRequirements is required on an instance-based endpoint.")
    return problems


def _refuse(problems: list[str]) -> None:
    if problems:
        raise ValidationError(" ".join(problems))


# --- The CloudFormation type -----------------------------------------------------------------------------------


class SageMakerInferenceComponent(_Resource, CloudFormationModel):
    TYPE = "AWS::SageMaker::InferenceComponent"
    NAME_PROPERTY = "InferenceComponentName"
    ATTRIBUTES = frozenset(
        {"InferenceComponentArn", "InferenceComponentName", "InferenceComponentStatus", "EndpointArn", "CreationTime"}
    )
    REPLACED_BY = ("InferenceComponentName",)
    CREATE_PROPERTIES: ClassVar[tuple[str, ...]] = ("EndpointName", "VariantName", "Specification", "RuntimeConfig")

    @property
    def _backend(self) -> SageMakerModelBackend:
        return sagemaker_backends[self.account_id][self.region_name]

    @property
    def _component(self) -> InferenceComponent:
        return component(self.account_id, self.region_name, self.name)

    @property
    def physical_resource_id(self) -> str:
        # CloudFormation's Ref of an inference component is its ARN; the inventory asks for it once deleted too.
        return component_arn(self.account_id, self.region_name, self.name)

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        described = self._component.describe()
        if attribute_name in self.ATTRIBUTES:
            return str(described[attribute_name])
        return super().get_cfn_attribute(attribute_name)

    def _deployment_problems(self) -> list[str]:
        deployment = self.properties.get("DeploymentConfig")
        if deployment is None:
            return []
        request = {"InferenceComponentName": self.name, "DeploymentConfig": deployment}
        return _shape_problems("UpdateInferenceComponent", request)

    def create(self) -> None:
        p = self.properties
        request = {"InferenceComponentName": self.name, **{k: p[k] for k in self.CREATE_PROPERTIES if k in p}}
        request |= {"Tags": p["Tags"]} if p.get("Tags") else {}
        problems = _shape_problems("CreateInferenceComponent", request) + self._deployment_problems()
        problems += _name_problems(self.name)
        if not problems:
            problems += _placement_problems(self._backend, p["EndpointName"], p.get("VariantName", ""))
            problems += _specification_problems(self._backend, p["Specification"])
        _refuse(problems)
        if self.name in components(self.account_id, self.region_name):
            raise ValidationError(f"Cannot create already existing inference component '{self._component.arn}'.")
        created = InferenceComponent(
            self.account_id,
            self.region_name,
            self.name,
            p["EndpointName"],
            p.get("VariantName", ""),
            p["Specification"],
            0,
            p.get("Tags", []),
        )
        created.apply_specification(p["Specification"])
        components(self.account_id, self.region_name)[self.name] = created
        created.set_copies(p.get("RuntimeConfig", {}).get("CopyCount", 1))

    def update(self, previous: dict[str, Any]) -> None:
        p, current = self.properties, self._component
        request = {"InferenceComponentName": self.name, "Specification": p["Specification"]}
        request |= {"RuntimeConfig": p["RuntimeConfig"]} if "RuntimeConfig" in p else {}
        _refuse(_shape_problems("UpdateInferenceComponent", request) + self._deployment_problems())
        _refuse(_specification_problems(self._backend, p["Specification"]))
        deployment = p.get("DeploymentConfig")
        current.last_deployment_config = deployment
        current.tags = p.get("Tags", [])
        if p["Specification"] != previous.get("Specification") and not self._rolled_back(deployment):
            current.apply_specification(p["Specification"])
        copies = p.get("RuntimeConfig", {}).get("CopyCount")
        if copies is not None and copies != previous.get("RuntimeConfig", {}).get("CopyCount"):
            current.set_copies(copies)
        current.modified = utcnow()

    def _rolled_back(self, deployment: dict[str, Any] | None) -> bool:
        alarms = cloudwatch_backends[self.account_id][self.region_name].alarms
        watched = [a["AlarmName"] for a in (deployment or {}).get("AutoRollbackConfiguration", {}).get("Alarms", [])]
        return any(name in alarms and alarms[name].state_value == "ALARM" for name in watched)

    def remove(self) -> None:
        components(self.account_id, self.region_name).pop(self.name, None)

    def exists(self) -> bool:
        return self.name in components(self.account_id, self.region_name)


REGISTERED: tuple[type[_Resource], ...] = (SageMakerInferenceComponent,)


# --- The SageMaker API ------------------------------------------------------------------------------------------


def _describe_inference_component(self: SageMakerResponse) -> ActionResult:
    found = component(self.current_account, self.region, self._get_param("InferenceComponentName"))
    return ActionResult(found.describe())


def _list_inference_components(self: SageMakerResponse) -> ActionResult:
    endpoint, variant = self._get_param("EndpointNameEquals"), self._get_param("VariantNameEquals")
    status, contains = self._get_param("StatusEquals"), self._get_param("NameContains")
    listed = [
        found.summary()
        for found in components(self.current_account, self.region).values()
        if endpoint in (None, found.endpoint_name)
        and variant in (None, found.variant_name)
        and status in (None, "InService")
        and (contains is None or contains in found.name)
    ]
    return ActionResult({"InferenceComponents": sorted(listed, key=lambda summary: summary["CreationTime"])})


def _update_inference_component_runtime_config(self: SageMakerResponse) -> ActionResult:
    found = component(self.current_account, self.region, self._get_param("InferenceComponentName"))
    request = {"InferenceComponentName": found.name, "DesiredRuntimeConfig": self._get_param("DesiredRuntimeConfig")}
    _refuse(_shape_problems("UpdateInferenceComponentRuntimeConfig", request))
    found.set_copies(request["DesiredRuntimeConfig"]["CopyCount"])
    return ActionResult({"InferenceComponentArn": found.arn})


def _add_api() -> None:
    # moto has none of these; its SageMaker dispatcher calls the method named after the action.
    SageMakerResponse.describe_inference_component = _describe_inference_component  # type: ignore[attr-defined]
    SageMakerResponse.list_inference_components = _list_inference_components  # type: ignore[attr-defined]
    SageMakerResponse.update_inference_component_runtime_config = _update_inference_component_runtime_config  # type: ignore[attr-defined]


# --- Endpoint configs whose variants name no model ---------------------------------------------------------------


_CONFIG_EXTRAS = ("ExecutionRoleArn", "VpcConfig", "EnableNetworkIsolation")


def _fix_endpoint_configs() -> None:
    validate = SageMakerModelBackend.validate_production_variants
    create = FakeEndpointConfig.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def validate_production_variants(self: SageMakerModelBackend, production_variants: list[dict[str, Any]]) -> None:
        validate(self, [variant for variant in production_variants if "ModelName" in variant])

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> FakeEndpointConfig:
        properties = cloudformation_json["Properties"]
        modelless = [v["VariantName"] for v in properties["ProductionVariants"] if not v.get("ModelName")]
        if modelless and not properties.get("ExecutionRoleArn"):
            raise ValidationError(
                f"Variants {', '.join(modelless)} name no model, so the endpoint config must carry ExecutionRoleArn "
                "(the role its inference components run with)."
            )
        config = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        # moto's response object lists the instance's attributes; these three it never stores.
        config.execution_role_arn = properties.get("ExecutionRoleArn")
        config.vpc_config = properties.get("VpcConfig")
        config.enable_network_isolation = properties.get("EnableNetworkIsolation")
        return config

    SageMakerModelBackend.validate_production_variants = validate_production_variants
    FakeEndpointConfig.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]


# --- Application Auto Scaling of copies -----------------------------------------------------------------------------


def _fix_copy_count_scaling() -> None:
    valid = autoscaling_models._target_params_are_valid
    validate_params = ApplicationAutoScalingResponse._validate_params

    def target_params_are_valid(namespace: str, r_id: str, dimension: str) -> bool:
        if dimension != COPY_COUNT_DIMENSION:
            return valid(namespace, r_id, dimension)
        if namespace != "sagemaker" or not r_id.startswith(RESOURCE_ID_PREFIX):
            raise autoscaling_models.AWSValidationException(
                "Unsupported service namespace, resource type or scalable dimension"
            )
        return True

    def validate(self: ApplicationAutoScalingResponse) -> None:
        if self._get_param("ScalableDimension") != COPY_COUNT_DIMENSION:
            validate_params(self)

    backend_class = autoscaling_models.ApplicationAutoscalingBackend
    register = backend_class.register_scalable_target

    def register_scalable_target(
        self: autoscaling_models.ApplicationAutoscalingBackend,
        namespace: str,
        r_id: str,
        dimension: str,
        min_capacity: int | None,
        max_capacity: int | None,
        role_arn: str,
        suspended_state: str,
    ) -> autoscaling_models.FakeScalableTarget:
        if dimension == COPY_COUNT_DIMENSION:
            name = r_id.removeprefix(RESOURCE_ID_PREFIX)
            if name not in components(self.account_id, self.region_name):
                raise autoscaling_models.AWSValidationException(
                    f"Inference component {name} does not exist; register it once it is created."
                )
        return register(self, namespace, r_id, dimension, min_capacity, max_capacity, role_arn, suspended_state)

    autoscaling_models._target_params_are_valid = target_params_are_valid
    ApplicationAutoScalingResponse._validate_params = validate
    backend_class.register_scalable_target = register_scalable_target


# --- Invocations ------------------------------------------------------------------------------------------------------


def _record_no_capacity(found: InferenceComponent) -> None:
    namespace, metric = NO_CAPACITY_METRIC
    cloudwatch_backends[found.account_id][found.region_name].put_metric_data(
        namespace,
        [
            {
                "MetricName": metric,
                "Dimensions": [{"Name": "InferenceComponentName", "Value": found.name}],
                "Value": 1,
                "Unit": "Count",
                "Timestamp": utcnow(),
            }
        ],
    )


def _fix_invocations() -> None:
    invoke_model_endpoint = SageMakerRuntimeResponse.invoke_endpoint

    def invoke_endpoint(self: SageMakerRuntimeResponse) -> Any:
        name = urllib.parse.unquote(self.path.split("/")[2])  # /endpoints/<name>/invocations
        hosted = [c for c in components(self.current_account, self.region).values() if c.endpoint_name == name]
        endpoint = sagemaker_backends[self.current_account][self.region].endpoints.get(name)
        if not hosted or endpoint is None or endpoint.endpoint_status not in operations.SERVING_STATUSES:
            return invoke_model_endpoint(self)  # its refusals, or a variant's own model
        requested = self.headers.get("X-Amzn-SageMaker-Inference-Component")
        if not requested:
            raise operations.RuntimeValidationError(
                "Inference Component Name header is required for endpoints to which you plan to deploy inference "
                f"components. Endpoint {name} hosts {', '.join(sorted(c.name for c in hosted))}."
            )
        found = next((c for c in hosted if c.name == requested), None)
        if found is None:
            raise operations.RuntimeValidationError(
                f"Inference component {requested} is not hosted by endpoint {name}."
            )
        if found.desired_copies == 0:
            _record_no_capacity(found)
            raise operations.RuntimeValidationError(NO_CAPACITY_MESSAGE)
        return operations.forward_invocation(self, name, found.model, found.variant_name)

    SageMakerRuntimeResponse.invoke_endpoint = invoke_endpoint


def apply() -> None:
    _add_api()
    _fix_endpoint_configs()
    _fix_copy_count_scaling()
    _fix_invocations()
