"""Fixes for what moto 5.2.5 gets wrong on the path the CDK CLI and the platform's templates take.

Each fix names the defect it repairs. They patch moto's classes in the emulator process only,
and only through ``apply``. Grouped by service:

CloudFormation
- ExecuteChangeSet computes no outputs (nor exports) from the executed template, so the CLI
  shows none and ``Fn::GetStackOutput`` finds nothing; a failing resource surfaces as an HTTP 500
  that the SDK retries into a "successful" second execution of an empty diff.
- Change sets are looked up by name across all stacks (the CLI names every one the same).
  DescribeChangeSet answers a missing change set with ValidationError where the CLI, waiting for
  the old change set to be gone before an update, expects ChangeSetNotFound; DeleteChangeSet
  fails with an HTTP 500 on a missing one, where AWS succeeds.
- ``Fn::GetStackOutput`` (the CDK's weak cross-stack references) is not resolved at all.
- An update that keeps a parameter (UsePreviousValue) reuses its resolved value, so an SSM-typed
  parameter (every CDK stack's BootstrapVersion) is looked up by its own value and fails.
- A resource whose type moto cannot update in place silently drops out of its stack on update.
- An update that replaces a resource (a new physical ID) leaves the resources that refer to it
  pointing at the deleted one: moto updates only resources whose own template text changed.
  And it counts a resource without Properties as changed (it adds "Properties": {} to what it
  parsed), so an unchanged resource may be replaced.
- Stack deletion ignores dependencies and moto never deletes route tables, subnet associations,
  VPC endpoints or flow logs, so a VPC stack cannot be deleted.
EC2
- A subnet route-table association is recorded but never associates the route table.
- A VPC endpoint without VpcEndpointType gets no type, where AWS defaults to Gateway (and then
  cannot be deleted).
- A security group's SecurityGroupEgress rules are ignored and it keeps the default allow-all
  egress rule, which AWS removes when a template states the egress rules.
S3
- A bucket's versioning, public access block, ownership controls, logging and lifecycle
  properties are ignored, as is BucketKeyEnabled in its encryption. (Logging is then set without
  moto's check for a delivery grant, which AWS does not make and CDK templates cannot satisfy.)
- Bucket-policy Deny statements are enforced without evaluating their Conditions, so an
  SSL-only policy blocks every object upload (the CLI's assets included).
KMS
- A key with Tags cannot be created (template tags are not converted to KMS's shape) and its
  KeyPolicy object is stored as a dict where the API returns a JSON document.
CloudFormation, named resources (training)
- Creating a named resource that exists already fails with the Logs API's error (a log group) or
  silently replaces it (a model package group), where CloudFormation fails the resource with its
  handler's AlreadyExists message; ImportExistingResources (import of such
  resources when they are retained and their names static) and DeploymentMode REVERT_DRIFT
  (drift-aware change sets, which set what the template says on what has drifted) are ignored.
SageMaker (serving)
- An endpoint ignores its EndpointName and DeploymentConfig, and an update deletes and recreates it from the
  new config instead of updating it blue/green; see the section at the end of this module.
CloudWatch (serving)
- DescribeAlarms with StateValue never returns composite alarms.
CloudWatch Logs
- A log group's KmsKeyId is dropped, its Arn attribute lacks the ":*" that CloudFormation returns,
  and a log group cannot be updated in place.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import math
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends
from moto.ec2.models.flow_logs import FlowLogs
from moto.ec2.models.route_tables import RouteTable
from moto.ec2.models.security_groups import SecurityGroup
from moto.ec2.models.subnets import SubnetRouteTableAssociation
from moto.ec2.models.vpcs import VPCEndPoint
from moto.iam.access_control import PermissionResult
from moto.kms.models import Key
from moto.logs.models import LogGroup, logs_backends
from moto.s3 import cloud_formation as s3_cloud_formation
from moto.s3.models import FakeBucket, s3_backends
from moto.sagemaker.exceptions import ValidationError as SageMakerValidationError
from moto.sagemaker.models import FakeEndpoint, sagemaker_backends

from rehearsal.emulator.resources import SageMakerModelPackageGroup

# The type checker sees moto's classmethods as bound methods and its classes as closed: each patch below that wraps
# one (``.__func__``), installs a classmethod or property, or gives moto's objects an attribute AWS has and moto
# lacks (a stack's status reason, an endpoint's last deployment config) carries a narrow ignore for that reason.


def apply() -> None:
    _fix_change_sets()
    _fix_stack_outputs_reference()
    _fix_resource_failures()
    _fix_stack_deletion()
    _fix_subnet_route_table_association()
    _fix_vpc_endpoint_type()
    _fix_security_group_egress()
    _fix_bucket_properties()
    _fix_bucket_policy_conditions()
    _fix_kms_key()
    _fix_log_group()
    _fix_named_resources()
    _fix_endpoint_deployments()
    _fix_alarms_by_state()


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


def _fix_change_sets() -> None:
    CloudFormationResponse.describe_change_set = _describe_change_set
    CloudFormationResponse.delete_change_set = _delete_change_set
    cfn_models.CloudFormationBackend.execute_change_set = _execute_change_set
    cfn_models.Stack.stack_parameters = property(_previous_parameter_values)  # type: ignore[assignment]


# --- CloudFormation: Fn::GetStackOutput ------------------------------------------------------


def _fix_stack_outputs_reference() -> None:
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


def _fix_resource_failures() -> None:
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


def _ec2(account_id: str, region_name: str) -> Any:
    return ec2_backends[account_id][region_name]


def _fix_stack_deletion() -> None:
    parsing.ResourceMap.delete = _delete_resources
    cfn_models.Stack.delete = _delete_stack
    # Types moto creates but never deletes (its delete falls through to an abstract no-op).
    RouteTable.delete = lambda self, account_id, region_name: _ec2(account_id, region_name).delete_route_table(self.id)  # type: ignore[attr-defined]
    VPCEndPoint.delete = lambda self, account_id, region_name: _ec2(account_id, region_name).delete_vpc_endpoints(  # type: ignore[attr-defined]
        [self.id]
    )
    FlowLogs.delete = lambda self, account_id, region_name: _ec2(account_id, region_name).delete_flow_logs([self.id])  # type: ignore[attr-defined]


# --- EC2: subnet route-table associations ----------------------------------------------------


def _fix_subnet_route_table_association() -> None:
    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> SubnetRouteTableAssociation:
        properties = cloudformation_json["Properties"]
        association = SubnetRouteTableAssociation(properties["RouteTableId"], properties["SubnetId"])  # type: ignore[abstract]
        association.id = _ec2(account_id, region_name).associate_route_table(  # type: ignore[attr-defined]
            properties["RouteTableId"], subnet_id=properties["SubnetId"]
        )
        return association

    SubnetRouteTableAssociation.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
    # CloudFormation's physical ID of an association is the association's ID, not the route table's.
    SubnetRouteTableAssociation.physical_resource_id = property(lambda self: self.id)  # type: ignore[assignment]
    SubnetRouteTableAssociation.delete = lambda self, account_id, region_name: _ec2(  # type: ignore[attr-defined]
        account_id, region_name
    ).disassociate_route_table(self.id)


# --- EC2: VPC endpoint type ------------------------------------------------------------------


def _fix_vpc_endpoint_type() -> None:
    create = VPCEndPoint.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
    ) -> VPCEndPoint:
        cloudformation_json["Properties"].setdefault("VpcEndpointType", "Gateway")
        return create(cls, resource_name, cloudformation_json, *args, **kwargs)

    VPCEndPoint.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]


# --- EC2: security group egress ---------------------------------------------------------------


def _fix_security_group_egress() -> None:
    create = SecurityGroup.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> SecurityGroup:
        group = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        rules = cloudformation_json["Properties"].get("SecurityGroupEgress")
        if rules is not None:
            ec2 = _ec2(account_id, region_name)
            ec2.revoke_security_group_egress(group.id, "-1", None, None, [{"CidrIp": "0.0.0.0/0"}])
            for rule in rules:
                ec2.authorize_security_group_egress(
                    group_name_or_id=group.id,
                    ip_protocol=rule["IpProtocol"],
                    from_port=rule.get("FromPort", -1),
                    to_port=rule.get("ToPort", -1),
                    ip_ranges=[{"CidrIp": rule["CidrIp"], "Description": rule.get("Description")}]
                    if "CidrIp" in rule
                    else [],
                    source_groups=[{"GroupId": rule["DestinationSecurityGroupId"]}]
                    if "DestinationSecurityGroupId" in rule
                    else [],
                )
        return group

    SecurityGroup.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]


# --- S3: bucket properties -------------------------------------------------------------------


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A template's lifecycle rule in the shape of the PutBucketLifecycleConfiguration request."""
    api_rule: dict[str, Any] = {
        "ID": rule.get("Id"),
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        api_rule["Expiration"] = {"Days": rule["ExpirationInDays"]}
    if "NoncurrentVersionExpiration" in rule:
        api_rule["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        }
    if "AbortIncompleteMultipartUpload" in rule:
        api_rule["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    if "Transitions" in rule:
        api_rule["Transition"] = [
            {"Days": transition["TransitionInDays"], "StorageClass": transition["StorageClass"]}
            for transition in rule["Transitions"]
        ]
    return api_rule


def _apply_bucket_properties(bucket: FakeBucket, properties: dict[str, Any]) -> None:
    backend = s3_backends[bucket.account_id][bucket.partition]
    if "VersioningConfiguration" in properties:
        backend.put_bucket_versioning(bucket.name, properties["VersioningConfiguration"]["Status"])
    if "PublicAccessBlockConfiguration" in properties:
        backend.put_public_access_block(bucket.name, properties["PublicAccessBlockConfiguration"])
    if "OwnershipControls" in properties:
        backend.put_bucket_ownership_controls(
            bucket.name, properties["OwnershipControls"]["Rules"][0]["ObjectOwnership"]
        )
    if "LifecycleConfiguration" in properties:
        backend.put_bucket_lifecycle(
            bucket.name, [_lifecycle_rule(r) for r in properties["LifecycleConfiguration"]["Rules"]]
        )
    else:
        bucket.delete_lifecycle()
    logging = properties.get("LoggingConfiguration")
    # Set directly: moto refuses logging to a target whose policy does not grant delivery yet, but
    # AWS accepts it, and must: the CDK's grant names the source bucket (aws:SourceArn), so
    # CloudFormation can only create it after the source bucket and its logging configuration.
    bucket.logging = (
        {"TargetBucket": logging["DestinationBucketName"], "TargetPrefix": logging.get("LogFilePrefix", "")}
        if logging
        else {}
    )


def _fix_bucket_properties() -> None:
    create = FakeBucket.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    update = FakeBucket.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    to_api_encryption = s3_cloud_formation.cfn_to_api_encryption

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
    ) -> FakeBucket:
        bucket = create(cls, resource_name, cloudformation_json, *args, **kwargs)
        _apply_bucket_properties(bucket, cloudformation_json.get("Properties", {}))
        return bucket

    def update_from_cloudformation_json(
        cls: type,
        original_resource: FakeBucket,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> FakeBucket:
        properties = cloudformation_json["Properties"]
        # moto tags the bucket named by the BucketName property, which a generated name does not have.
        properties.setdefault("BucketName", original_resource.name)
        bucket = update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        _apply_bucket_properties(bucket, properties)
        return bucket

    def cfn_to_api_encryption(bucket_encryption_properties: dict[str, Any]) -> dict[str, Any]:
        encryption = to_api_encryption(bucket_encryption_properties)
        rule = bucket_encryption_properties["ServerSideEncryptionConfiguration"][0]
        if "BucketKeyEnabled" in rule:
            encryption["Rule"]["BucketKeyEnabled"] = rule["BucketKeyEnabled"]
        return encryption

    FakeBucket.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
    FakeBucket.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)  # type: ignore[assignment]
    s3_cloud_formation.cfn_to_api_encryption = cfn_to_api_encryption
    # models.py imported the function by name.
    import moto.s3.models as s3_models

    s3_models.cfn_to_api_encryption = cfn_to_api_encryption


# --- S3: bucket-policy conditions ------------------------------------------------------------

_request = threading.local()


@contextlib.contextmanager
def request_context(environ: dict[str, Any]) -> Iterator[None]:
    """Makes the request's transport known to policy evaluation while it is being served.

    The emulator's server sets ``SSL_PROTOCOL`` (e.g. "TLSv1.3") for requests that came over TLS.
    """
    protocol = environ.get("SSL_PROTOCOL", "")
    _request.context = {
        "aws:securetransport": "true" if environ.get("wsgi.url_scheme") == "https" else "false",
        **({"s3:tlsversion": protocol.removeprefix("TLSv")} if protocol.startswith("TLSv") else {}),
    }
    try:
        yield
    finally:
        del _request.context


def _numeric(test: Any) -> Any:
    return lambda actual, expected: test(float(actual), float(expected))


# Condition operators the emulator evaluates: name -> (test of one value, whether the operator negates).
_CONDITION_OPERATORS = {
    "Bool": (lambda actual, expected: actual.lower() == expected.lower(), False),
    "StringEquals": (lambda actual, expected: actual == expected, False),
    "StringNotEquals": (lambda actual, expected: actual == expected, True),
    "StringLike": (lambda actual, expected: fnmatch.fnmatchcase(actual, expected), False),
    "StringNotLike": (lambda actual, expected: fnmatch.fnmatchcase(actual, expected), True),
    "ArnEquals": (lambda actual, expected: actual == expected, False),
    "ArnLike": (lambda actual, expected: fnmatch.fnmatchcase(actual, expected), False),
    "NumericEquals": (_numeric(lambda a, e: a == e), False),
    "NumericNotEquals": (_numeric(lambda a, e: a == e), True),
    "NumericLessThan": (_numeric(lambda a, e: a < e), False),
    "NumericLessThanEquals": (_numeric(lambda a, e: a <= e), False),
    "NumericGreaterThan": (_numeric(lambda a, e: a > e), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, e: a >= e), False),
}


def _conditions_hold(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    """IAM semantics: every operator and key must hold. A key missing from the request fails its
    test (unless ...IfExists), and an operator the emulator cannot evaluate never holds, so such a
    statement does not apply rather than deny by mistake."""
    for operator, tests in conditions.items():
        if_exists = operator.endswith("IfExists")
        test, negated = _CONDITION_OPERATORS.get(operator.removesuffix("IfExists"), (None, False))
        if test is None:
            return False
        for key, expected in tests.items():
            actual = context.get(key.lower())
            if actual is None:
                if if_exists:
                    continue
                return False
            values = expected if isinstance(expected, list) else [expected]
            matched = any(test(actual, str(value)) for value in values)
            if matched == negated:
                return False
    return True


def _matches(patterns: Any, value: str, *, ignore_case: bool) -> bool:
    patterns = patterns if isinstance(patterns, list) else [patterns]
    if ignore_case:
        return any(fnmatch.fnmatch(value.lower(), pattern.lower()) for pattern in patterns)
    return any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns)


def _applies_to_everyone(principal: Any) -> bool:
    # The emulator does not authenticate callers, so only statements for everyone can be applied.
    if principal == "*":
        return True
    aws = principal.get("AWS") if isinstance(principal, dict) else None
    return aws == "*" or (isinstance(aws, list) and "*" in aws)


def _statement_applies(statement: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    if not _applies_to_everyone(statement.get("Principal")):
        return False
    if "Action" in statement and not _matches(statement["Action"], action, ignore_case=True):
        return False
    if "NotAction" in statement and _matches(statement["NotAction"], action, ignore_case=True):
        return False
    if "Resource" in statement and not _matches(statement["Resource"], resource, ignore_case=False):
        return False
    if "NotResource" in statement and _matches(statement["NotResource"], resource, ignore_case=False):
        return False
    return _conditions_hold(statement.get("Condition", {}), context)


def evaluate_bucket_policy(
    policy: dict[str, Any], action: str, resource: str, context: dict[str, str]
) -> PermissionResult:
    """An explicit Deny wins, then an Allow; otherwise the policy neither allows nor denies."""
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    applying = [
        statement["Effect"] for statement in statements if _statement_applies(statement, action, resource, context)
    ]
    if "Deny" in applying:
        return PermissionResult.DENIED
    return PermissionResult.PERMITTED if "Allow" in applying else PermissionResult.NEUTRAL


def _fix_bucket_policy_conditions() -> None:
    def get_permission(self: FakeBucket, action: str, resource: str) -> PermissionResult:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        return evaluate_bucket_policy(json.loads(self.policy), action, resource, getattr(_request, "context", {}))

    FakeBucket.get_permission = get_permission


# --- KMS ---------------------------------------------------------------------------------------


def _fix_kms_key() -> None:
    create = Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
    ) -> Key:
        properties = cloudformation_json["Properties"]
        properties["Tags"] = [{"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in properties.get("Tags", [])]
        if not isinstance(properties["KeyPolicy"], str):
            properties["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
        return create(cls, resource_name, cloudformation_json, *args, **kwargs)

    Key.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]


# --- CloudWatch Logs ---------------------------------------------------------------------------


def _fix_log_group() -> None:
    create = LogGroup.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
    ) -> LogGroup:
        properties = cloudformation_json["Properties"]
        # moto's log group reads the key from the CreateLogGroup API's parameter name.
        if "KmsKeyId" in properties:
            properties["kmsKeyId"] = properties.pop("KmsKeyId")
        return create(cls, resource_name, cloudformation_json, *args, **kwargs)

    def update_from_cloudformation_json(
        cls: type[LogGroup],
        original_resource: LogGroup,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> LogGroup:
        properties = cloudformation_json["Properties"]
        if properties.get("LogGroupName", original_resource.name) != original_resource.name:
            logs_backends[account_id][region_name].delete_log_group(original_resource.name)
            return cls.create_from_cloudformation_json(
                properties["LogGroupName"], cloudformation_json, account_id, region_name
            )
        original_resource.retention_in_days = properties.get("RetentionInDays")
        original_resource.kms_key_id = properties.get("KmsKeyId")
        return original_resource

    def get_cfn_attribute(self: LogGroup, attribute_name: str) -> Any:
        return f"{self.arn}:*" if attribute_name == "Arn" else get_attribute(self, attribute_name)

    get_attribute = LogGroup.get_cfn_attribute
    LogGroup.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
    LogGroup.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)  # type: ignore[assignment]
    LogGroup.get_cfn_attribute = get_cfn_attribute


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


def _fix_named_resources() -> None:
    for resource_type, named in NAMED_TYPES.items():
        _create_or_import(resource_type, named)
    _change_set_options()


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


def _fix_endpoint_deployments() -> None:
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


def _fix_alarms_by_state() -> None:
    """DescribeAlarms with StateValue returns no composite alarms: moto filters a one-shot iterator twice, once for
    metric and once for composite alarms. ``mlp status`` lists the composite alarm that pages when it fires."""
    by_state = CloudWatchBackend.get_alarms_by_state_value
    CloudWatchBackend.get_alarms_by_state_value = lambda self, target_state: list(by_state(self, target_state))
