"""SageMaker Model Monitor's CloudFormation types and the calls ``mlp status`` makes about them, which moto 5.2.5
lacks: AWS::SageMaker::DataQualityJobDefinition, ::ModelQualityJobDefinition and ::MonitoringSchedule, and
DescribeMonitoringSchedule, ListMonitoringExecutions and Describe{DataQuality,ModelQuality}JobDefinition.

Each resource is checked as SageMaker checks its Create* request (the template's properties are the request's
members): botocore's SageMaker service model (required members, types, lengths, ranges), the names' pattern
(``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}``), processing instance types, the schedule expressions Model Monitor takes
(hourly, daily, every N hours, NOW), and a schedule's job definition, which must exist and be of the schedule's
monitoring type. A refused request fails the resource with SageMaker's ValidationException. The emulator runs no
monitoring job: ``POST /_rehearsal/sagemaker/monitoring-executions`` records an execution of a schedule (status,
times, report URI, failure reason), which ListMonitoringExecutions then answers, newest first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
from moto.sagemaker.responses import SageMakerResponse

from platform_contract.api_shapes import sdk_refusal, service_model
from rehearsal.emulator.resources import _Resource

_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ScheduleConfig.html
_SCHEDULE = re.compile(
    r"^(NOW|cron\(0 (\*|[01]?[0-9]|2[0-3]|([01]?[0-9]|2[0-3])/([1-9]|1[0-9]|2[0-4])) \? \* \* \*\))$"
)
_definitions: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
"""(account, Region) -> job definition name -> {"type", "arn", "request", "created"}."""
_schedules: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
_executions: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}


def _request_problems(operation: str, request: dict[str, Any]) -> list[str]:
    refusal = sdk_refusal(operation, request)
    return [f"Parameter validation failed:\n{refusal}"] if refusal else []


def _refuse(problems: list[str]) -> None:
    if problems:
        raise ValidationError("; ".join(problems))


def _short_name(resource_name: str) -> str:
    """A name as CloudFormation generates one for an unnamed resource, within SageMaker's 63 characters."""
    cleaned = re.sub(r"[^a-zA-Z0-9-]", "-", resource_name).strip("-")
    return cleaned[-63:].lstrip("-")


_replaced: list[_JobDefinition] = []
"""Job definitions a stack update replaced, deleted once no schedule uses them (CloudFormation's clean-up)."""


def _remove_replaced_definitions() -> None:
    for definition in [definition for definition in _replaced if not definition.in_use()]:
        _replaced.remove(definition)
        definition.remove()


class _JobDefinition(_Resource):
    OPERATION: ClassVar[str]
    MONITORING_TYPE: ClassVar[str]
    ARN_KIND: ClassVar[str]
    NAME_PROPERTY = ""
    ATTRIBUTES = frozenset({"JobDefinitionArn", "CreationTime"})
    BACKING = "monitoring job definition"

    @property
    def _key(self) -> tuple[str, str]:
        return (self.account_id, self.region_name)

    @property
    def job_name(self) -> str:
        return self.properties.get("JobDefinitionName") or _short_name(self.name)

    @property
    def arn(self) -> str:
        return f"arn:aws:sagemaker:{self.region_name}:{self.account_id}:{self.ARN_KIND}/{self.job_name}"

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "JobDefinitionArn":
            return self.arn
        if attribute_name == "CreationTime":
            return _definitions[self._key][self.job_name]["created"]
        return super().get_cfn_attribute(attribute_name)

    def create(self) -> None:
        request = {key: value for key, value in self.properties.items() if key != "EndpointName"}
        request["JobDefinitionName"] = self.job_name
        problems = _request_problems(self.OPERATION, request)
        if not _NAME.match(self.job_name):
            problems.append(f"JobDefinitionName '{self.job_name}' does not match [a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}")
        cluster = request.get("JobResources", {}).get("ClusterConfig", {})
        instance_types = service_model().shape_for("ProcessingInstanceType").enum
        if cluster.get("InstanceType") not in instance_types:
            problems.append(f"InstanceType {cluster.get('InstanceType')!r} is not a processing instance type")
        definitions = _definitions.setdefault(self._key, {})
        if self.job_name in definitions:
            problems.append(f"Job definition {self.job_name} already exists")
        _refuse(problems)
        definitions[self.job_name] = {
            "type": self.MONITORING_TYPE,
            "arn": self.arn,
            "request": request,
            "created": utcnow().isoformat(),
        }

    def update(self, previous: dict[str, Any]) -> None:
        # Every property of a job definition requires replacement (CloudFormation reference).
        raise ValidationError("job definitions cannot be updated in place")

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: _JobDefinition,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> _Resource:
        """A replacement, in CloudFormation's order: the new definition first; the schedule's update then points at
        it; the replaced one goes in the clean-up phase, once no schedule uses it (moto's CloudFormation has no
        clean-up phase, so that is after the schedules' updates here)."""
        replacement = cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )
        _replaced.append(original_resource)
        return replacement

    def in_use(self) -> list[str]:
        return [
            name
            for name, schedule in _schedules.get(self._key, {}).items()
            if schedule["request"]["MonitoringScheduleConfig"].get("MonitoringJobDefinitionName") == self.job_name
        ]

    def remove(self) -> None:
        in_use = self.in_use()
        if in_use:
            raise ValidationError(f"Job definition {self.job_name} is used by monitoring schedule(s) {in_use}")
        _definitions.get(self._key, {}).pop(self.job_name, None)

    def exists(self) -> bool:
        return self.job_name in _definitions.get(self._key, {})


class DataQualityJobDefinition(_JobDefinition, CloudFormationModel):
    TYPE = "AWS::SageMaker::DataQualityJobDefinition"
    OPERATION = "CreateDataQualityJobDefinition"
    MONITORING_TYPE = "DataQuality"
    ARN_KIND = "data-quality-job-definition"
    # The properties whose change replaces the resource, filled line by line (the formatter would give each a line).
    REPLACED_BY = (
        "DataQualityAppSpecification", "DataQualityBaselineConfig", "DataQualityJobInput", "DataQualityJobOutputConfig",
        "JobResources", "NetworkConfig", "RoleArn", "StoppingCondition", "JobDefinitionName",
    )  # fmt: skip


class ModelQualityJobDefinition(_JobDefinition, CloudFormationModel):
    TYPE = "AWS::SageMaker::ModelQualityJobDefinition"
    OPERATION = "CreateModelQualityJobDefinition"
    MONITORING_TYPE = "ModelQuality"
    ARN_KIND = "model-quality-job-definition"
    # As above: filled line by line.
    REPLACED_BY = (
        "ModelQualityAppSpecification", "ModelQualityBaselineConfig", "ModelQualityJobInput",
        "ModelQualityJobOutputConfig", "JobResources", "NetworkConfig", "RoleArn", "StoppingCondition",
        "JobDefinitionName",
    )  # fmt: skip


class MonitoringSchedule(_Resource, CloudFormationModel):
    TYPE = "AWS::SageMaker::MonitoringSchedule"
    NAME_PROPERTY = "MonitoringScheduleName"
    ATTRIBUTES = frozenset({"MonitoringScheduleArn", "CreationTime", "LastModifiedTime"})
    REPLACED_BY = ("MonitoringScheduleName",)
    BACKING = "monitoring schedule"

    @property
    def _key(self) -> tuple[str, str]:
        return (self.account_id, self.region_name)

    @property
    def arn(self) -> str:
        return f"arn:aws:sagemaker:{self.region_name}:{self.account_id}:monitoring-schedule/{self.name}"

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        schedule = _schedules[self._key][self.name]
        if attribute_name == "MonitoringScheduleArn":
            return self.arn
        if attribute_name in ("CreationTime", "LastModifiedTime"):
            return schedule[attribute_name]
        return super().get_cfn_attribute(attribute_name)

    def _checked(self) -> dict[str, Any]:
        request = {
            "MonitoringScheduleName": self.name,
            "MonitoringScheduleConfig": self.properties["MonitoringScheduleConfig"],
            **({"Tags": self.properties["Tags"]} if "Tags" in self.properties else {}),
        }
        problems = _request_problems("CreateMonitoringSchedule", request)
        if not _NAME.match(self.name):
            problems.append(f"MonitoringScheduleName '{self.name}' does not match [a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}")
        config = request["MonitoringScheduleConfig"]
        expression = config.get("ScheduleConfig", {}).get("ScheduleExpression", "")
        if not _SCHEDULE.match(expression):
            problems.append(
                f"ScheduleExpression '{expression}' is not one Model Monitor takes: cron(0 * ? * * *), "
                "cron(0 H ? * * *), cron(0 H/N ? * * *) or NOW"
            )
        definition = _definitions.get(self._key, {}).get(config.get("MonitoringJobDefinitionName", ""))
        if definition is None:
            problems.append(f"Job definition {config.get('MonitoringJobDefinitionName')!r} does not exist")
        elif definition["type"] != config.get("MonitoringType"):
            problems.append(
                f"Job definition {config['MonitoringJobDefinitionName']} is a {definition['type']} definition, "
                f"not {config.get('MonitoringType')}"
            )
        _refuse(problems)
        return request

    def create(self) -> None:
        schedules = _schedules.setdefault(self._key, {})
        if self.name in schedules:
            _refuse([f"Monitoring schedule {self.name} already exists"])
        now = utcnow().isoformat()
        schedules[self.name] = {"request": self._checked(), "CreationTime": now, "LastModifiedTime": now}

    def update(self, previous: dict[str, Any]) -> None:
        schedule = _schedules[self._key][self.name]
        schedule["request"] = self._checked()
        schedule["LastModifiedTime"] = utcnow().isoformat()
        _remove_replaced_definitions()

    def remove(self) -> None:
        _schedules.get(self._key, {}).pop(self.name, None)

    def exists(self) -> bool:
        return self.name in _schedules.get(self._key, {})


def record_execution(request: dict[str, Any], account_id: str) -> dict[str, Any]:
    """Control endpoint: records an execution of ``MonitoringScheduleName`` in ``Region``."""
    key = (account_id, request["Region"])
    name = request["MonitoringScheduleName"]
    if name not in _schedules.get(key, {}):
        raise ValidationError(f"Monitoring schedule {name} does not exist")
    execution: dict[str, Any] = {
        "MonitoringScheduleName": name,
        "ScheduledTime": request.get("ScheduledTime", utcnow().isoformat()),
        "CreationTime": utcnow().isoformat(),
        "LastModifiedTime": utcnow().isoformat(),
        "MonitoringExecutionStatus": request.get("MonitoringExecutionStatus", "Completed"),
        "MonitoringType": _schedules[key][name]["request"]["MonitoringScheduleConfig"].get("MonitoringType"),
        **{k: request[k] for k in ("FailureReason", "ProcessingJobArn") if k in request},
    }
    _executions.setdefault(key, {}).setdefault(name, []).append(execution)
    return execution


def apply() -> None:
    def describe_monitoring_schedule(self: SageMakerResponse) -> ActionResult:
        name = self._get_param("MonitoringScheduleName")
        schedule = _schedules.get((self.current_account, self.region), {}).get(name)
        if schedule is None:
            raise ValidationError(f"Monitoring schedule {name} does not exist")
        executions = _executions.get((self.current_account, self.region), {}).get(name, [])
        request = schedule["request"]
        arn = f"arn:aws:sagemaker:{self.region}:{self.current_account}:monitoring-schedule/{name}"
        answer = {
            "MonitoringScheduleArn": arn,
            "MonitoringScheduleName": name,
            "MonitoringScheduleStatus": "Scheduled",
            "MonitoringType": request["MonitoringScheduleConfig"].get("MonitoringType"),
            "CreationTime": schedule["CreationTime"],
            "LastModifiedTime": schedule["LastModifiedTime"],
            "MonitoringScheduleConfig": request["MonitoringScheduleConfig"],
            **({"LastMonitoringExecutionSummary": executions[-1]} if executions else {}),
        }
        return ActionResult(answer)

    def list_monitoring_executions(self: SageMakerResponse) -> ActionResult:
        name = self._get_param("MonitoringScheduleName")
        by_schedule = _executions.get((self.current_account, self.region), {})
        found = by_schedule.get(name, []) if name else [e for runs in by_schedule.values() for e in runs]
        newest = sorted(found, key=lambda e: datetime.fromisoformat(e["ScheduledTime"]), reverse=True)
        return ActionResult({"MonitoringExecutionSummaries": newest[: int(self._get_param("MaxResults", 100))]})

    def describe_job_definition(kind: type[_JobDefinition]) -> Callable[[SageMakerResponse], ActionResult]:
        """Describe<Type>JobDefinition: the Create request as stored, with its ARN and creation time."""

        def describe(self: SageMakerResponse) -> ActionResult:
            name = self._get_param("JobDefinitionName")
            definition = _definitions.get((self.current_account, self.region), {}).get(name)
            if definition is None or definition["type"] != kind.MONITORING_TYPE:
                raise ResourceNotFound(f"Job definition {name} does not exist")
            request = {key: value for key, value in definition["request"].items() if key != "Tags"}
            return ActionResult(
                request | {"JobDefinitionArn": definition["arn"], "CreationTime": definition["created"]}
            )

        return describe

    # moto's own versions read its backend, where these definitions are not.
    for kind in (DataQualityJobDefinition, ModelQualityJobDefinition):
        setattr(SageMakerResponse, f"describe_{kind.ARN_KIND.replace('-', '_')}", describe_job_definition(kind))
    SageMakerResponse.describe_monitoring_schedule = describe_monitoring_schedule  # type: ignore[attr-defined]
    SageMakerResponse.list_monitoring_executions = list_monitoring_executions  # type: ignore[attr-defined]


TYPES = (DataQualityJobDefinition, ModelQualityJobDefinition, MonitoringSchedule)
"""The CloudFormation types this module adds, registered with the others (``resources.register``)."""
