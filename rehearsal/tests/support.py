"""Deploying small templates to the emulator through change sets, the path the CDK CLI takes."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rehearsal.aws import Emulator

REGION = "eu-west-1"


class Stacks:
    """Deploys templates as the CLI does: CreateChangeSet, ExecuteChangeSet, then DescribeStacks."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.cloudformation = emulator.client("cloudformation", REGION)

    def client(self, service: str) -> Any:
        return self.emulator.client(service, REGION)

    @staticmethod
    def unique_name(prefix: str = "test") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:8]}"

    def deploy(self, name: str, resources: dict[str, Any], **template: Any) -> dict[str, Any]:
        """Creates or updates stack ``name``; returns its description (status, outputs, ...)."""
        # Every page: the tests of a session leave more stacks than one page holds.
        pages = self.cloudformation.get_paginator("describe_stacks").paginate()
        exists = any(stack["StackName"] == name for page in pages for stack in page["Stacks"])
        change_set = self.cloudformation.create_change_set(
            StackName=name,
            ChangeSetName="cdk-deploy-change-set",
            TemplateBody=json.dumps({"Resources": resources, **template}),
            ChangeSetType="UPDATE" if exists else "CREATE",
        )
        self.cloudformation.execute_change_set(ChangeSetName=change_set["Id"], StackName=name)
        return self.cloudformation.describe_stacks(StackName=change_set["StackId"])["Stacks"][0]

    def physical_ids(self, name: str) -> dict[str, str]:
        summaries = self.cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
        return {s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries}

    def delete(self, name: str) -> str:
        """Deletes the stack and returns its final status."""
        stack_id = self.cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackId"]
        self.cloudformation.delete_stack(StackName=name)
        return self.cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]

    def backed(self, name: str) -> dict[str, bool]:
        """The extension's inventory for the stack: logical ID -> whether a real object backs it."""
        return {e["logicalId"]: e["exists"] for e in self.emulator.inventory()["resources"] if e["stack"] == name}
