"""Acknowledges cdk-nag's wildcard-resource findings (AwsSolutions-IAM5) one resource at a time.

cdk-nag names such a finding after the policy's resource as it is finally synthesized, e.g.
``Resource::<bucket ARN as a cross-stack reference>/models/*``. A reference to another stack takes that final
form only during synthesis, after every construct exists, so the acknowledgment is recorded then: in a
validation of the policy, which runs after references are resolved and before the compliance packs do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

import jsii
from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import IValidation

from ml_constructs.compliance import acknowledge

_RULE = "AwsSolutions::AwsSolutions-IAM5"


def acknowledge_wildcard_resources(role: iam.Role, reasons: Mapping[str, str]) -> None:
    """Acknowledges each wildcard resource of ``role``'s default policy whose synthesized form ends with a key of
    ``reasons`` (e.g. ``"/models/*"`` or ``"*"`` alone for a bare wildcard), with that key's reason. A wildcard
    resource no key matches stays a finding."""
    policy = cast(iam.Policy, role.node.find_child("DefaultPolicy"))
    policy.node.add_validation(_AcknowledgeWildcardResources(policy, dict(reasons)))


@jsii.implements(IValidation)
class _AcknowledgeWildcardResources:
    def __init__(self, policy: iam.Policy, reasons: dict[str, str]) -> None:
        self._policy = policy
        self._reasons = reasons

    def validate(self) -> list[str]:
        document = Stack.of(self._policy).resolve(self._policy.document)
        for statement in document.get("Statement", []):
            resources = statement.get("Resource", [])
            for resource in map(_flatten, resources if isinstance(resources, list) else [resources]):
                reason = self._reason_for(resource)
                if reason:
                    acknowledge(self._policy, f"{_RULE}[Resource::{resource}]", reason)
        return []

    def _reason_for(self, resource: str) -> str | None:
        if "*" not in resource:
            return None
        if resource == "*":
            return self._reasons.get("*")
        return next(
            (reason for suffix, reason in self._reasons.items() if suffix != "*" and resource.endswith(suffix)), None
        )


def _flatten(value: Any) -> str:
    """A resolved CloudFormation value as cdk-nag spells it in finding IDs."""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if "Fn::Join" in value:
        delimiter, items = value["Fn::Join"]
        return delimiter.join(_flatten(item) for item in items)
    if "Fn::Sub" in value:
        return _flatten(value["Fn::Sub"])
    if "Fn::GetAtt" in value:
        resource, attribute = value["Fn::GetAtt"]
        return f"<{_flatten(resource)}.{_flatten(attribute)}>"
    if "Fn::ImportValue" in value:
        return _flatten(value["Fn::ImportValue"])
    if "Ref" in value:
        return f"<{_flatten(value['Ref'])}>"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
