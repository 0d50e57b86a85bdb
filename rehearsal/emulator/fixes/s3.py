"""S3: bucket properties and bucket-policy conditions.

See the package's docstring for the defects each fix repairs."""

from __future__ import annotations

import contextlib
import fnmatch
import json
import threading
from collections.abc import Iterator
from typing import Any

from moto.iam.access_control import PermissionResult
from moto.s3 import cloud_formation as s3_cloud_formation
from moto.s3.models import FakeBucket, s3_backends

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


def fix_bucket_properties() -> None:
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


def fix_bucket_policy_conditions() -> None:
    def get_permission(self: FakeBucket, action: str, resource: str) -> PermissionResult:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        return evaluate_bucket_policy(json.loads(self.policy), action, resource, getattr(_request, "context", {}))

    FakeBucket.get_permission = get_permission
