"""Named resources that exist before their stack: CloudFormation refuses to create them, imports them on request
and reverts their drift in a drift-aware change set."""

from __future__ import annotations

import json
from typing import Any

from rehearsal.tests.support import Stacks

LOG_GROUP = "AWS::Logs::LogGroup"


def _log_group(name: str, **properties: Any) -> dict[str, Any]:
    return {
        "Type": LOG_GROUP,
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {"LogGroupName": name, **properties},
    }


def _deploy(stacks: Stacks, name: str, resources: dict[str, Any], **options: Any) -> dict[str, Any]:
    """As the CLI deploys with --import-existing-resources or --revert-drift (``options`` of CreateChangeSet)."""
    exists = any(s["StackName"] == name for s in stacks.cloudformation.describe_stacks()["Stacks"])
    change_set = stacks.cloudformation.create_change_set(
        StackName=name,
        ChangeSetName="cdk-deploy-change-set",
        TemplateBody=json.dumps({"Resources": resources}),
        ChangeSetType="UPDATE" if exists else "CREATE",
        **options,
    )
    stacks.cloudformation.execute_change_set(ChangeSetName=change_set["Id"], StackName=name)
    return stacks.cloudformation.describe_stacks(StackName=change_set["StackId"])["Stacks"][0]


def _failure(stacks: Stacks, name: str) -> str:
    events = stacks.cloudformation.describe_stack_events(StackName=name)["StackEvents"]
    return next(
        e["ResourceStatusReason"]
        for e in events
        if e["ResourceStatus"].endswith("_FAILED") and e.get("ResourceType") != "AWS::CloudFormation::Stack"
    )


def test_creating_a_log_group_that_exists_fails_as_cloudformation_does(stacks: Stacks) -> None:
    group = f"/aws/sagemaker/{stacks.unique_name()}"
    stacks.client("logs").create_log_group(logGroupName=group)
    name = stacks.unique_name()
    described = _deploy(stacks, name, {"Logs": _log_group(group, RetentionInDays=365)})
    assert described["StackStatus"] == "CREATE_FAILED"
    reason = _failure(stacks, name)
    assert f"Resource of type 'AWS::Logs::LogGroup' with identifier '{group}' already exists." in reason
    assert "HandlerErrorCode: AlreadyExists" in reason


def test_a_model_package_group_that_exists_can_be_neither_created_nor_imported(stacks: Stacks) -> None:
    sagemaker = stacks.client("sagemaker")
    group = stacks.unique_name("models")
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    name = stacks.unique_name()
    resources = {
        "Models": {
            "Type": "AWS::SageMaker::ModelPackageGroup",
            "DeletionPolicy": "Retain",
            "Properties": {"ModelPackageGroupName": group},
        }
    }
    assert _deploy(stacks, name, resources)["StackStatus"] == "CREATE_FAILED"
    assert "HandlerErrorCode: AlreadyExists" in _failure(stacks, name)
    # Nor can it be imported automatically: its primary identifier is its ARN, a read-only property.
    assert _deploy(stacks, stacks.unique_name(), resources, ImportExistingResources=True)["StackStatus"] == (
        "CREATE_FAILED"
    )


def test_import_takes_a_retained_named_resource_as_it_is_and_revert_drift_applies_the_template(
    stacks: Stacks,
) -> None:
    logs = stacks.client("logs")
    group = f"/aws/sagemaker/{stacks.unique_name()}"
    logs.create_log_group(logGroupName=group)
    name = stacks.unique_name()
    resources = {"Logs": _log_group(group, RetentionInDays=365, KmsKeyId="arn:aws:kms:eu-west-1:123456789012:key/k")}
    assert _deploy(stacks, name, resources, ImportExistingResources=True)["StackStatus"] == "CREATE_COMPLETE"
    assert stacks.physical_ids(name) == {"Logs": group}
    (described,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert "retentionInDays" not in described  # an import changes nothing
    events = stacks.cloudformation.describe_stack_events(StackName=name)["StackEvents"]
    assert any(e["LogicalResourceId"] == "Logs" and e["ResourceStatus"] == "IMPORT_COMPLETE" for e in events)

    assert _deploy(stacks, name, resources, DeploymentMode="REVERT_DRIFT")["StackStatus"] == "UPDATE_COMPLETE"
    (described,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert (described["retentionInDays"], described["kmsKeyId"]) == (365, resources["Logs"]["Properties"]["KmsKeyId"])


def test_import_needs_a_retain_policy_and_a_resource_no_other_stack_owns(stacks: Stacks) -> None:
    group = f"/aws/sagemaker/{stacks.unique_name()}"
    owner = stacks.unique_name()
    assert _deploy(stacks, owner, {"Logs": _log_group(group)})["StackStatus"] == "CREATE_COMPLETE"
    other = stacks.unique_name()
    assert _deploy(stacks, other, {"Logs": _log_group(group)}, ImportExistingResources=True)["StackStatus"] == (
        "CREATE_FAILED"
    )
    deletable: dict[str, Any] = {"Type": LOG_GROUP, "Properties": {"LogGroupName": group}}
    stacks.client("logs").create_log_group(logGroupName=f"{group}-free")
    deletable["Properties"]["LogGroupName"] = f"{group}-free"
    third = stacks.unique_name()
    assert _deploy(stacks, third, {"Logs": deletable}, ImportExistingResources=True)["StackStatus"] == "CREATE_FAILED"
