"""Names of resources that tools and other stacks find by name, so they must be known at synth time."""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Stack, Token
from constructs import Construct

from platform_contract.problems import Problem


def synth_time_name(
    scope: Construct, given: str | None, suffix: str, key: str, rules: Callable[[str], list[Problem]]
) -> tuple[str, list[Problem]]:
    """``given``, or else ``<stack name>-<suffix>`` in lower case (SageMaker spells names in lower case in its ARNs),
    with its problems: a name that is a token (a stack whose name is only known at deploy time), or a default that
    breaks ``rules``. A given name is the props' to check."""
    name = given or f"{Stack.of(scope).stack_name}-{suffix}"
    if Token.is_unresolved(name):
        reason = "the stack name is a token here; give the name explicitly"
        return name, [Problem(key, "<token>", "a name known at synth time", reason)]
    if given is not None:
        return name, []
    name = name.lower()
    return name, rules(name)
