"""Compliance gates: the cdk-nag packs every synth runs, and narrow acknowledgments of their findings."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks
from constructs import IConstruct

COMPLIANCE_PACKS = ("AwsSolutions", "NIST.800.53.R5", "HIPAA.Security")


def add_compliance_packs(app: cdk.App) -> None:
    """Registers the AwsSolutions, NIST 800-53 rev 5 and HIPAA Security packs on every stack of ``app``.

    Findings go to the cloud assembly's validation report. Synthesis fails on any finding that
    is not acknowledged: in-process (tests) by raising, through the CLI by a non-zero exit when
    the stacks are selected (``cdk synth '**'``, ``cdk deploy 'Stage/*'``).
    """
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app), HIPAASecurityChecks(app))


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Records that ``rule`` (as the report names it, e.g. 'AwsSolutions::AwsSolutions-IAM5[...]') does not
    apply to ``construct`` and why; the reason appears in the report's audit trail."""
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def acknowledge_inline_policy(role: IConstruct) -> None:
    """Acknowledges the NIST and HIPAA preference for managed policies on ``role``'s own default policy."""
    policy = role.node.find_child("DefaultPolicy")
    for pack in ("NIST.800.53.R5", "HIPAA.Security"):
        acknowledge(
            policy,
            f"{pack}::{pack}-IAMNoInlinePolicy",
            "This policy belongs to one single-purpose role, is generated from least-privilege grants and "
            "changes only with that role; a separate managed policy would be a second copy to keep in sync.",
        )
