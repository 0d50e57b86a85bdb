"""CloudFormation: template parsing, change sets, outputs, failures, stack deletion, and existing named resources
(import, drift-aware change sets).

See the package's docstring for the defects each fix repairs."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.models.flow_logs import FlowLogs
from moto.ec2.models.route_tables import RouteTable
from moto.ec2.models.vpcs import VPCEndPoint
from moto.logs.models import LogGroup, logs_backends
from moto.sagemaker.models import sagemaker_backends

from rehearsal.emulator.fixes.ec2 import ec2_backend
from rehearsal.emulator.resources import SageMakerModelPackageGroup

# --- CloudFormation: template parsing --------------------------------------------------------


def fix_template_parsing() -> None:
    """A JSON template is read as JSON: the same document (JSON is YAML), without the YAML loader's cost."""
    parse_yaml = cfn_models.Stack.parse_template

    def parse_template(template: str) -> dict[str, Any]:
        try:
            return cast(dict[str, Any], json.loads(template))
        except ValueError:
            return parse_yaml(template)

    def parse_change_set_template(self: cfn_models.ChangeSet) -> None:
        self.template_dict = parse_template(self.template)

    cfn_models.Stack.parse_template = staticmethod(parse_template)
    cfn_models.ChangeSet._parse_template = parse_change_set_template


# --- CloudFormation: change sets -------------------------------------------------------------


class ChangeSetNotFound(CloudFormationError):
    code = "ChangeSetNotFoundException"

    def __init__(self, name: str) -> None:
        super().__init__(f"ChangeSet [{name}] does not exist")


def _find_change_set(backend: Any, name_or_arn: str, stack_name_or_id: str | None) -> Any:
    """The change set with this ARN, or with this name on this stack (names repeat across stacks)."""
    if name_or_arn in backend.change_sets:
        return backend.change_sets[name_or_arn]
    for change_set in backend.change_sets.values():
        if change_set.change_set_name == name_or_arn and stack_name_or_id in (
            None,
            change_set.stack_name,
            change_set.stack_id,
        ):
            return change_set
    return None


def _describe_change_set(self: CloudFormationResponse) -> ActionResult:
    name = self._get_param("ChangeSetName")
    change_set = _find_change_set(self.cloudformation_backend, name, self._get_param("StackName"))
    if change_set is None:
        raise ChangeSetNotFound(name)
    return ActionResult(change_set)


def _delete_change_set(self: CloudFormationResponse) -> ActionResult:
    backend = self.cloudformation_backend
    change_set = _find_change_set(backend, self._get_param("ChangeSetName"), self._get_param("StackName"))
    if change_set is not None:
        del backend.change_sets[change_set.change_set_id]
    return EmptyResult()


def _execute_change_set(
    self: cfn_models.CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> None:
    change_set = _find_change_set(self, change_set_name, stack_name)
    if change_set is None:
        raise ChangeSetNotFound(change_set_name)
    if change_set.execution_status != "AVAILABLE":
        raise ValidationError(message=f"ChangeSet [{change_set_name}] cannot be executed in its current status")
    stack = self.stacks[change_set.stack_id]
    operation = change_set.change_set_type
    stack._add_stack_event(f"{operation}_IN_PROGRESS", resource_status_reason="User Initiated")
    # As in AWS, executing one change set of a stack removes all of them.
    for change_set_id in [key for key, other in self.change_sets.items() if other.stack_id == stack.stack_id]:
        del self.change_sets[change_set_id]
    try:
        change_set.apply()
    except Exception as error:
        # AWS answers ExecuteChangeSet at once and reports failures through the stack's status and
        # events, which is where the CLI looks. moto does not roll back; the status says so.
        failure = error if isinstance(error, ResourceFailed) else ResourceFailed(stack.name, _STACK, _describe(error))
        stack.status = f"{operation}_FAILED"
        stack.status_reason = f"Resource {failure.logical_id} failed: {failure.reason}"  # type: ignore[attr-defined]
        stack.events.append(failure.event(stack, operation))
        stack._add_stack_event(stack.status, resource_status_reason=stack.status_reason)  # type: ignore[attr-defined]
        return
    stack.template = change_set.template
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    stack.output_map = stack._create_output_map()
    for name in [name for name, export in self.exports.items() if export.exporting_stack_id == stack.stack_id]:
        del self.exports[name]
    self._validate_export_uniqueness(stack)
    for export in stack.exports:
        self.exports[export.name] = export
    stack.status = f"{operation}_COMPLETE"
    stack.status_reason = None  # type: ignore[attr-defined]
    stack._add_stack_event(stack.status)


def _previous_parameter_values(self: cfn_models.Stack) -> dict[str, Any]:
    """What UsePreviousValue refers to: the values given or defaulted, before SSM parameters resolve.

    moto answers with resolved values, so an update that keeps an SSM-typed parameter (every CDK
    stack's BootstrapVersion) looks the resolved value up as if it were a parameter name.
    """
    declared = self.template_dict.get("Parameters", {})
    return {key: self.resource_map.input_parameters.get(key, spec.get("Default")) for key, spec in declared.items()}


def fix_change_sets() -> None:
    CloudFormationResponse.describe_change_set = _describe_change_set
    CloudFormationResponse.delete_change_set = _delete_change_set
    cfn_models.CloudFormationBackend.execute_change_set = _execute_change_set
    cfn_models.Stack.stack_parameters = property(_previous_parameter_values)  # type: ignore[assignment]


# --- CloudFormation: Fn::GetStackOutput ------------------------------------------------------


def fix_stack_outputs_reference() -> None:
    clean_json = parsing.clean_json

    def resolve_get_stack_output(resource_json: Any, resources_map: parsing.ResourceMap) -> Any:
        if isinstance(resource_json, dict) and "Fn::GetStackOutput" in resource_json:
            spec = resolve_get_stack_output(resource_json["Fn::GetStackOutput"], resources_map)
            region = spec.get("Region", resources_map._region_name)
            stack = cfn_models.cloudformation_backends[resources_map._account_id][region].get_stack(spec["StackName"])
            if spec["OutputName"] not in stack.output_map.outputs:
                raise ValidationError(message=f"Stack {spec['StackName']} has no output {spec['OutputName']}")
            return cast(parsing.Output, stack.output_map[spec["OutputName"]]).value
        return clean_json(resource_json, resources_map)

    # clean_json recurses through the module attribute, so nested references resolve too.
    parsing.clean_json = resolve_get_stack_output


# --- CloudFormation: failures name their resource; no silent drops on update ----------------


_STACK = "AWS::CloudFormation::Stack"


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


class ResourceFailed(Exception):
    """A resource could not be created or updated; carries what the stack's events report."""

    def __init__(self, logical_id: str, resource_type: str, reason: str) -> None:
        super().__init__(f"{logical_id} ({resource_type}): {reason}")
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.reason = reason

    def event(self, stack: Any, operation: str) -> cfn_models.Event:
        return cfn_models.Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=self.logical_id,
            physical_resource_id="",
            resource_type=self.resource_type,
            resource_status=f"{operation}_FAILED",
            resource_status_reason=self.reason,
            resource_properties=None,
        )


def fix_resource_failures() -> None:
    create, update = parsing.parse_and_create_resource, parsing.parse_and_update_resource

    def create_resource(logical_id: str, resource_json: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return create(logical_id, resource_json, *args, **kwargs)
        except ResourceFailed:
            raise  # a resource this one refers to failed first
        except Exception as error:
            raise ResourceFailed(logical_id, resource_json["Type"], _describe(error)) from error

    def update_resource(logical_id: str, resource_json: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        resource_type = resource_json["Type"]
        model = parsing.get_model_map().get(resource_type)
        if model is not None and hasattr(model.update_from_cloudformation_json, "__isabstractmethod__"):
            # moto would store None for it and the resource would vanish from its stack.
            raise ResourceFailed(logical_id, resource_type, f"the emulator cannot update {resource_type} in place")
        try:
            return update(logical_id, resource_json, *args, **kwargs)
        except ResourceFailed:
            raise
        except Exception as error:
            raise ResourceFailed(logical_id, resource_type, _describe(error)) from error

    parsing.parse_and_create_resource = create_resource
    parsing.parse_and_update_resource = update_resource
    parsing.ResourceMap.update = _update_with_replacements(parsing.ResourceMap.update)
    parsing.ResourceMap.build_resource_diff = _diff_as_parsed(parsing.ResourceMap.build_resource_diff)


def _diff_as_parsed(build_resource_diff: Any) -> Any:
    def diff(
        self: parsing.ResourceMap, other_template: dict[str, Any], parameters: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        for definition in other_template["Resources"].values():
            definition.setdefault("Properties", {})  # as moto did to the template it compares with
        return build_resource_diff(self, other_template, parameters)

    return diff


def _physical_id(resource: Any) -> Any:
    return getattr(resource, "physical_resource_id", None)


def _update_with_replacements(update: Any) -> Any:
    def update_resources(
        self: parsing.ResourceMap, template: dict[str, Any], parameters: dict[str, Any] | None = None
    ) -> None:
        before = {logical_id: _physical_id(resource) for logical_id, resource in self._parsed_resources.items()}
        update(self, template, parameters)
        definitions = template["Resources"]
        replaced = {
            logical_id
            for logical_id, old in before.items()
            if logical_id in definitions and _physical_id(self._parsed_resources.get(logical_id)) != old
        }
        # As CloudFormation does: update what refers to a replaced resource, in turn, until nothing else changes.
        while replaced:
            dependents = sorted(
                logical_id
                for logical_id, definition in definitions.items()
                if _references(definition) & replaced and self._parsed_resources.get(logical_id) is not None
            )
            replaced = set()
            for logical_id in dependents:
                old = _physical_id(self._parsed_resources[logical_id])
                self._parsed_resources[logical_id] = parsing.parse_and_update_resource(
                    logical_id,
                    definitions[logical_id],
                    self,
                    account_id=self._account_id,
                    region_name=self._region_name,
                )
                if _physical_id(self._parsed_resources[logical_id]) != old:
                    replaced.add(logical_id)

    return update_resources


# --- CloudFormation: deleting a stack --------------------------------------------------------


def _references(node: Any) -> set[str]:
    """Logical IDs that a template fragment refers to (Ref, Fn::GetAtt, ${...} in Fn::Sub)."""
    if isinstance(node, list):
        return set().union(*(_references(item) for item in node))
    if not isinstance(node, dict):
        return set()
    found: set[str] = set()
    for key, value in node.items():
        if key == "Ref" and isinstance(value, str):
            found.add(value)
        elif key == "Fn::GetAtt":
            found.add(value[0] if isinstance(value, list) else value.split(".")[0])
        elif key == "Fn::Sub":
            text = value[0] if isinstance(value, list) else value
            found.update(name.split(".")[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", text))
            found |= _references(value[1] if isinstance(value, list) else [])
        else:
            found |= _references(value)
    return found


def _dependencies(definition: dict[str, Any]) -> set[str]:
    depends_on = definition.get("DependsOn", [])
    return _references(definition) | set([depends_on] if isinstance(depends_on, str) else depends_on)


_RETAINED = ("Retain", "RetainExceptOnCreate")


def _delete_resources(self: parsing.ResourceMap) -> None:
    """Deletes a stack's resources, each only after every resource that refers to it, as AWS does;
    resources with a Retain deletion policy stay. A failure raises ResourceFailed."""
    definitions = self._resource_json_map
    remaining = {
        logical_id
        for logical_id, definition in definitions.items()
        if definition.get("DeletionPolicy") not in _RETAINED and self._parsed_resources.get(logical_id) is not None
    }
    dependents: dict[str, set[str]] = {logical_id: set() for logical_id in definitions}
    for logical_id, definition in definitions.items():
        for dependency in _dependencies(definition) & dependents.keys():
            dependents[dependency].add(logical_id)
    while remaining:
        ready = sorted(logical_id for logical_id in remaining if not dependents[logical_id] & remaining)
        if not ready:
            raise ResourceFailed(
                cast(str, self["AWS::StackName"]), _STACK, f"circular dependencies among {sorted(remaining)}"
            )
        for logical_id in ready:
            try:
                self._delete_resource(self._parsed_resources[logical_id], definitions[logical_id])
            except Exception as error:
                raise ResourceFailed(logical_id, definitions[logical_id]["Type"], _describe(error)) from error
            del self._parsed_resources[logical_id]
            remaining.remove(logical_id)


def _delete_stack(self: cfn_models.Stack) -> None:
    self._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
    try:
        self.resource_map.delete()
    except ResourceFailed as failure:
        # Reported like AWS does, through the stack's status, rather than as a failed API call.
        self.status = "DELETE_FAILED"
        self.status_reason = f"Resource {failure.logical_id} failed: {failure.reason}"  # type: ignore[attr-defined]
        self.events.append(failure.event(self, "DELETE"))
        self._add_stack_event(self.status, resource_status_reason=self.status_reason)  # type: ignore[attr-defined]
        return
    self._add_stack_event("DELETE_COMPLETE")
    self.status = "DELETE_COMPLETE"


def fix_stack_deletion() -> None:
    parsing.ResourceMap.delete = _delete_resources
    cfn_models.Stack.delete = _delete_stack
    # Types moto creates but never deletes (its delete falls through to an abstract no-op).
    deletes: list[tuple[type, Callable[[Any, str, str], None]]] = [
        (RouteTable, lambda self, account, region: ec2_backend(account, region).delete_route_table(self.id)),
        (VPCEndPoint, lambda self, account, region: ec2_backend(account, region).delete_vpc_endpoints([self.id])),
        (FlowLogs, lambda self, account, region: ec2_backend(account, region).delete_flow_logs([self.id])),
    ]
    for resource_type, delete in deletes:
        resource_type.delete = delete  # type: ignore[attr-defined]


# --- CloudFormation: existing named resources, import and drift-aware change sets (training) --------
#
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/import-resources-automatically.html
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/drift-aware-change-sets.html


@dataclass(frozen=True)
class _NamedType:
    """A resource type with a custom name: what creating, importing and reverting drift need to know of it."""

    model: type
    name_property: str
    importable: bool
    """Whether CloudFormation imports it automatically: its primary identifier is a property the template sets
    (the resource type's schema; a read-only one, such as an ARN, rules that out)."""
    exists: Callable[[str, str, str], bool]
    """(account, Region, name): whether the named object exists outside CloudFormation's knowledge."""
    adopt: Callable[[str, str, str, dict[str, Any]], Any]
    """(account, Region, name, properties): the model of the existing object, as an import makes it the stack's."""
    actual: Callable[[Any], dict[str, Any]]
    """The properties a drift-aware change set compares with the template (absent ones count as None)."""
    revert: Callable[[Any, dict[str, Any]], None]
    """Sets those properties to the template's values."""


def _log_group_exists(account_id: str, region_name: str, name: str) -> bool:
    return name in logs_backends[account_id][region_name].groups


def _revert_log_group(group: LogGroup, properties: dict[str, Any]) -> None:
    group.retention_in_days = properties.get("RetentionInDays")
    group.kms_key_id = properties.get("KmsKeyId")


def _model_package_group_exists(account_id: str, region_name: str, name: str) -> bool:
    return name in sagemaker_backends[account_id][region_name].model_package_groups


NAMED_TYPES: dict[str, _NamedType] = {
    "AWS::Logs::LogGroup": _NamedType(
        model=LogGroup,
        name_property="LogGroupName",
        importable=True,
        exists=_log_group_exists,
        adopt=lambda account_id, region_name, name, _: logs_backends[account_id][region_name].groups[name],
        actual=lambda group: {"RetentionInDays": group.retention_in_days, "KmsKeyId": group.kms_key_id},
        revert=_revert_log_group,
    ),
    "AWS::SageMaker::ModelPackageGroup": _NamedType(
        model=SageMakerModelPackageGroup,
        name_property="ModelPackageGroupName",
        # Its primary identifier is ModelPackageGroupArn, read-only.
        importable=False,
        exists=_model_package_group_exists,
        adopt=SageMakerModelPackageGroup,
        # Its description is create-only and its versions are not properties: nothing to revert.
        actual=lambda group: {},
        revert=lambda group, properties: None,
    ),
}
"""Types of the platform's templates with custom names that may exist before their stack does."""


class AlreadyExists(Exception):
    """CloudFormation's resource handler error for a named resource that exists already."""

    def __init__(self, resource_type: str, name: str) -> None:
        super().__init__(
            f"Resource handler returned message: \"Resource of type '{resource_type}' with identifier '{name}' "
            f'already exists." (RequestToken: {uuid.uuid4()}, HandlerErrorCode: AlreadyExists)'
        )


@dataclass
class _Execution:
    stack_name: str
    import_existing: bool
    definitions: dict[str, Any]
    imported: list[tuple[str, str, str]] = field(default_factory=list)
    """(logical ID, type, name) of each resource imported."""


_execution = threading.local()


def _owned_by_a_stack(account_id: str, region_name: str, resource_type: str, name: str) -> bool:
    for stack in cfn_models.cloudformation_backends[account_id][region_name].stacks.values():
        for logical_id, resource in stack.resource_map._parsed_resources.items():
            definition = stack.resource_map._resource_json_map.get(logical_id, {})
            if definition.get("Type") == resource_type and getattr(resource, "name", None) == name:
                return True
    return False


def _importable(definition: dict[str, Any], named: _NamedType) -> bool:
    """AWS's conditions for importing automatically: an importable type, a static custom name, a Retain policy."""
    return (
        named.importable
        and isinstance(definition.get("Properties", {}).get(named.name_property), str)
        and definition.get("DeletionPolicy") in _RETAINED
    )


def _create_or_import(resource_type: str, named: _NamedType) -> None:
    create = named.model.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        execution: _Execution | None = getattr(_execution, "current", None)
        logical_id = kwargs.get("LogicalId", "")
        if named.exists(account_id, region_name, resource_name):
            definition = execution.definitions.get(logical_id, {}) if execution else {}
            if not (
                execution
                and execution.import_existing
                and _importable(definition, named)
                and not _owned_by_a_stack(account_id, region_name, resource_type, resource_name)
            ):
                raise AlreadyExists(resource_type, resource_name)
            execution.imported.append((logical_id, resource_type, resource_name))
            # An import takes the object as it is; a drift-aware change set brings it to the template.
            return named.adopt(account_id, region_name, resource_name, cloudformation_json["Properties"])
        return create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    named.model.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[attr-defined]


def _drifted(stack: cfn_models.Stack) -> list[tuple[Any, _NamedType, dict[str, Any]]]:
    """(model, type, template properties) of the stack's resources whose actual state differs from the template."""
    resource_map = stack.resource_map
    drifted = []
    for logical_id, model in resource_map._parsed_resources.items():
        definition = resource_map._resource_json_map.get(logical_id, {})
        named = NAMED_TYPES.get(definition.get("Type", ""))
        if named is None or model is None:
            continue
        properties = parsing.clean_json(definition.get("Properties", {}), resource_map)
        actual = named.actual(model)
        if any(properties.get(key) != value for key, value in actual.items()):
            drifted.append((model, named, properties))
    return drifted


def _change_set_options() -> None:
    create_change_set = CloudFormationResponse.create_change_set
    execute_change_set = cfn_models.CloudFormationBackend.execute_change_set

    def create(self: CloudFormationResponse) -> ActionResult:
        result = create_change_set(self)
        change_set = self.cloudformation_backend.change_sets[result.result["Id"]]  # type: ignore[index]
        change_set.import_existing_resources = self._get_bool_param("ImportExistingResources", False)  # type: ignore[attr-defined]
        change_set.deployment_mode = self._get_param("DeploymentMode")  # type: ignore[attr-defined]
        if change_set.deployment_mode == "REVERT_DRIFT":  # type: ignore[attr-defined]
            if change_set.change_set_type != "UPDATE":
                raise ValidationError(message="DeploymentMode REVERT_DRIFT applies to existing stacks only")
            if change_set.status == "FAILED" and _drifted(change_set.stack):
                # The template is unchanged, but reverting the drift is a change.
                change_set.status, change_set.execution_status, change_set.status_reason = (
                    "CREATE_COMPLETE",
                    "AVAILABLE",
                    None,
                )
        return result

    def execute(self: cfn_models.CloudFormationBackend, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = _find_change_set(self, change_set_name, stack_name)
        if change_set is None:
            return execute_change_set(self, change_set_name, stack_name)
        stack = change_set.stack
        _execution.current = _Execution(
            stack.name,
            getattr(change_set, "import_existing_resources", False),
            change_set.template_dict.get("Resources", {}),
        )
        revert_drift = getattr(change_set, "deployment_mode", None) == "REVERT_DRIFT"
        try:
            execute_change_set(self, change_set_name, stack_name)
        finally:
            imported = _execution.current.imported
            _execution.current = None
        for logical_id, resource_type, name in imported:
            stack.events.append(
                cfn_models.Event(
                    stack_id=stack.stack_id,
                    stack_name=stack.name,
                    logical_resource_id=logical_id,
                    physical_resource_id=name,
                    resource_type=resource_type,
                    resource_status="IMPORT_COMPLETE",
                    resource_status_reason="Resource import completed",
                    resource_properties=None,
                )
            )
        if revert_drift and stack.status.endswith("_COMPLETE"):
            for model, named, properties in _drifted(stack):
                named.revert(model, properties)

    CloudFormationResponse.create_change_set = create
    cfn_models.CloudFormationBackend.execute_change_set = execute


def fix_named_resources() -> None:
    for resource_type, named in NAMED_TYPES.items():
        _create_or_import(resource_type, named)
    _change_set_options()
