"""What the rehearsal asserts about a deployed stage.

Three layers, applied to every stack:
- ``verify_created``: every resource of the template (minus Condition-false ones) was created,
  per ListStackResources, and each resource of a type the emulator's extension registered is
  backed by a real object in its service backend (the extension's inventory says so).
- ``types.verify``: each resource's deployed properties equal its template's, resolved.
- ``STACK_CHECKS``: what the platform promises of each stack (the Region's key encrypts the data
  bucket, alarms page the Region's topic, ...). A stack gets its checks once it exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rehearsal.checks import data, network, serving, studio, training, types
from rehearsal.checks.base import CheckFailed, DeployedStack, Verifier

__all__ = [
    "STACK_CHECKS",
    "CheckFailed",
    "DeployedStack",
    "Verifier",
    "verify_created",
    "verify_outputs",
    "verify_stack",
]

STACK_CHECKS: dict[str, Callable[[DeployedStack, Mapping[str, DeployedStack], Verifier], None]] = {
    "Data": data.verify,
    "Network": network.verify,
    "Training": training.verify,
    "Serving": serving.verify,
    "Studio": studio.verify,
}


def verify_created(stack: DeployedStack, inventory: dict[str, Any], verify: Verifier) -> None:
    expected = {
        logical_id: definition["Type"]
        for logical_id, definition in stack.template_resources.items()
        if stack.condition_holds(definition.get("Condition"))
    }
    listed = {logical_id: summary["ResourceType"] for logical_id, summary in stack.resources.items()}
    for logical_id, resource_type in expected.items():
        verify.equal(listed.get(logical_id), resource_type, f"{stack.name}: {logical_id} created")
        if logical_id in listed:
            verify.true(bool(stack.physical_id(logical_id)), f"{stack.name}: {logical_id} has a physical ID")
    for logical_id in listed.keys() - expected.keys():
        verify.true(False, f"{stack.name}: {logical_id!r} ({listed[logical_id]}) is listed but not in the template")

    registered = set(inventory["registeredTypes"])
    backed = {entry["logicalId"]: entry["exists"] for entry in inventory["resources"] if entry["stack"] == stack.name}
    for logical_id, resource_type in expected.items():
        if resource_type in registered:
            verify.true(
                backed.get(logical_id, False),
                f"{stack.name}: {logical_id} ({resource_type}) is backed by a real object",
            )


def verify_outputs(stack: DeployedStack, verify: Verifier) -> None:
    for name, output in stack.artifact.template.get("Outputs", {}).items():
        if stack.condition_holds(output.get("Condition")):
            verify.equal(stack.outputs.get(name), stack.resolve(output["Value"]), f"{stack.name}: output {name}")


def verify_stack(stack: DeployedStack, stage: Mapping[str, DeployedStack], inventory: dict[str, Any]) -> Verifier:
    """Runs every check that applies to ``stack`` (``stage`` holds its stage's stacks by short name);
    raises CheckFailed listing every failure."""
    platform_checks = STACK_CHECKS.get(stack.artifact.short_name)
    if platform_checks is None:
        raise CheckFailed(f"{stack.name}: the rehearsal has no checks for this stack; add them to rehearsal/checks/")
    verify = Verifier()
    verify_created(stack, inventory, verify)
    verify_outputs(stack, verify)
    types.verify(stack, verify)
    platform_checks(stack, stage, verify)
    verify.raise_failures(stack.name)
    return verify
