"""Fixes for what moto 5.2.5 gets wrong on the path the CDK CLI and the platform's templates take.

Each fix names the defect it repairs. They patch moto's classes in the emulator process only,
and only through ``apply``. One module per service:

CloudFormation
- Every template is read with the YAML loader, the CDK's JSON ones too, where JSON's own parser reads the same
  document many times faster (a tenth of the emulator's CPU time in a rehearsal went there).
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

from rehearsal.emulator.fixes import cloudformation, cloudwatch, ec2, kms, logs, s3, sagemaker
from rehearsal.emulator.fixes.s3 import request_context

# The type checker sees moto's classmethods as bound methods and its classes as closed: each patch in these
# modules that wraps one (``.__func__``), installs a classmethod or property, or gives moto's objects an attribute
# AWS has and moto lacks (a stack's status reason, an endpoint's last deployment config) carries a narrow ignore for
# that reason.

__all__ = ["apply", "request_context"]


def apply() -> None:
    """Every fix, in an order where a fix that wraps a method another one patched comes after it."""
    cloudformation.fix_template_parsing()
    cloudformation.fix_change_sets()
    cloudformation.fix_stack_outputs_reference()
    cloudformation.fix_resource_failures()
    cloudformation.fix_stack_deletion()
    ec2.fix_subnet_route_table_association()
    ec2.fix_vpc_endpoint_type()
    ec2.fix_security_group_egress()
    s3.fix_bucket_properties()
    s3.fix_bucket_policy_conditions()
    kms.fix_kms_key()
    logs.fix_log_group()
    cloudformation.fix_named_resources()
    sagemaker.fix_endpoint_deployments()
    cloudwatch.fix_alarms_by_state()
