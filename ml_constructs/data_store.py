"""The Region's encrypted data bucket, its access-log bucket and their KMS key, or an existing bucket and key."""

from __future__ import annotations

from typing import Protocol

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ml_constructs.compliance import acknowledge
from platform_contract.names import DataPrefix
from platform_contract.problems import Problem, raise_if_any

# Exact actions: prefix-scoped grants must not hand out wildcards such as s3:GetBucket* or kms:ReEncrypt*.
_READ_ACTIONS = ("s3:GetObject",)
_WRITE_ACTIONS = ("s3:PutObject", "s3:AbortMultipartUpload")
_KEY_READ_ACTIONS = ("kms:Decrypt",)
# Multipart uploads decrypt the data key of earlier parts, so writers need kms:Decrypt too.
_KEY_WRITE_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


class IDataStore(Protocol):
    """What constructs need of a data store: its bucket and key, and grants on prefixes of the bucket. Both
    ``DataStore`` and ``DataStore.from_bucket_attributes`` provide it."""

    @property
    def bucket(self) -> s3.IBucket: ...

    @property
    def key(self) -> kms.IKey: ...

    def prefix_uri(self, prefix: DataPrefix) -> str: ...

    def grant_read(self, grantee: iam.IGrantable, *prefixes: DataPrefix) -> iam.Grant: ...

    def grant_write(self, grantee: iam.IGrantable, *prefixes: DataPrefix) -> iam.Grant: ...

    def grant_read_write(self, grantee: iam.IGrantable, *prefixes: DataPrefix) -> iam.Grant: ...


class _DataStoreBase(Construct):
    """The grants of a data store on its ``bucket`` and ``key``, whether created here or imported."""

    bucket: s3.IBucket
    key: kms.IKey

    def prefix_uri(self, prefix: DataPrefix) -> str:
        """s3:// URI of ``prefix`` in the data bucket (a token until deploy)."""
        return f"s3://{self.bucket.bucket_name}/{prefix.value}"

    def grant_read(self, grantee: iam.IGrantable, *prefixes: DataPrefix) -> iam.Grant:
        """Lets ``grantee`` list and read objects under ``prefixes`` and decrypt them through S3."""
        return self._grant(grantee, prefixes, _READ_ACTIONS, _KEY_READ_ACTIONS)

    def grant_write(self, grantee: iam.IGrantable, *prefixes: DataPrefix) -> iam.Grant:
        """Lets ``grantee`` write objects under ``prefixes``, encrypted with the Region's key through S3."""
        return self._grant(grantee, prefixes, _WRITE_ACTIONS, _KEY_WRITE_ACTIONS, list_objects=False)

    def grant_read_write(self, grantee: iam.IGrantable, *prefixes: DataPrefix) -> iam.Grant:
        """Lets ``grantee`` list, read and write objects under ``prefixes``."""
        return self._grant(grantee, prefixes, _READ_ACTIONS + _WRITE_ACTIONS, _KEY_WRITE_ACTIONS)

    def _grant(
        self,
        grantee: iam.IGrantable,
        prefixes: tuple[DataPrefix, ...],
        object_actions: tuple[str, ...],
        key_actions: tuple[str, ...],
        list_objects: bool = True,
    ) -> iam.Grant:
        if not prefixes:
            raise ValueError("DataStore grants need at least one DataPrefix; the whole bucket is never granted")
        patterns = [f"{prefix.value}*" for prefix in prefixes]
        if list_objects:
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["s3:ListBucket"],
                resource_arns=[self.bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": patterns}},
            )
        region = Stack.of(self).region
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(key_actions),
            resource_arns=[self.key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        )
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(object_actions),
            resource_arns=[self.bucket.arn_for_objects(pattern) for pattern in patterns],
        )


class DataStore(_DataStoreBase):
    """Per-Region storage for ML data that never leaves its Region.

    Creates a customer-managed KMS key with rotation; a data bucket encrypted with it
    (S3 Bucket Keys on), versioned, private, TLS 1.2+ only, with server access logs
    and lifecycle rules; and a log bucket for those access logs. Key and buckets are
    retained when the stack is deleted. There is no replication: data stays in the
    Region that created it.

    :param noncurrent_version_expiration: how long replaced or deleted object versions are kept. Default: 90 days.
    :param intelligent_tiering_transition: age at which objects move to Intelligent-Tiering. Default: 0 days.
    :param incomplete_multipart_upload_expiration: when unfinished multipart uploads are aborted. Default: 7 days.
    :param access_log_expiration: how long server access logs are kept. Default: 365 days.
    :param removal_policy: what happens to the key and buckets when removed from the stack. Default: RETAIN.

    ``DataStore.from_bucket_attributes`` imports an existing bucket and key instead.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        noncurrent_version_expiration: Duration = Duration.days(90),
        intelligent_tiering_transition: Duration = Duration.days(0),
        incomplete_multipart_upload_expiration: Duration = Duration.days(7),
        access_log_expiration: Duration = Duration.days(365),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)

        self.key: kms.IKey = kms.Key(
            self,
            "Key",
            description=f"Encrypts the ML platform's data, logs, notifications and volumes in {stack.region}",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        # CloudWatch Logs encrypts log groups with the key as its own service principal, so the
        # key policy (not an IAM role) must allow it, limited to this account's log groups.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:DescribeKey",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:*"
                        )
                    }
                },
            )
        )

        self.access_log_bucket: s3.IBucket = s3.Bucket(
            self,
            "AccessLogBucket",
            # S3 server access logging delivers only to buckets encrypted with SSE-S3.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireAccessLogs",
                    expiration=access_log_expiration,
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=incomplete_multipart_upload_expiration,
                )
            ],
            removal_policy=removal_policy,
        )

        self.bucket: s3.IBucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix="data-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="AbortIncompleteMultipartUploads",
                    abort_incomplete_multipart_upload_after=incomplete_multipart_upload_expiration,
                ),
                s3.LifecycleRule(
                    id="ExpireNoncurrentVersions",
                    noncurrent_version_expiration=noncurrent_version_expiration,
                ),
                s3.LifecycleRule(
                    id="IntelligentTiering",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                            transition_after=intelligent_tiering_transition,
                        )
                    ],
                ),
            ],
            removal_policy=removal_policy,
        )

        for bucket in (self.bucket, self.access_log_bucket):
            for pack in ("NIST.800.53.R5", "HIPAA.Security"):
                acknowledge(
                    bucket,
                    f"{pack}::{pack}-S3BucketReplicationEnabled",
                    "Data residency: objects must never leave their Region, so replication is off by design; "
                    "versioning protects against overwrites and deletes.",
                )
        for pack in ("NIST.800.53.R5", "HIPAA.Security"):
            acknowledge(
                self.access_log_bucket,
                f"{pack}::{pack}-S3DefaultEncryptionKMS",
                "S3 server access logging delivers only to buckets encrypted "
                "with SSE-S3; the logs hold no object data.",
            )

    @staticmethod
    def from_bucket_attributes(
        scope: Construct,
        id: str,
        *,
        bucket_name: str | None = None,
        bucket_arn: str | None = None,
        key_arn: str,
    ) -> IDataStore:
        """An existing bucket, encrypted with the existing key ``key_arn``, as a data store: its grants are the
        same, added to the grantees' policies (the bucket's and key's own policies are not changed, so they must
        allow the account's principals).

        :param bucket_name: the bucket's name. Give this or ``bucket_arn``.
        :param bucket_arn: the bucket's ARN. Give this or ``bucket_name``.
        :param key_arn: ARN of the KMS key the bucket's objects are encrypted with. Required.
        """
        return _ImportedDataStore(scope, id, bucket_name=bucket_name, bucket_arn=bucket_arn, key_arn=key_arn)


class _ImportedDataStore(_DataStoreBase):
    def __init__(
        self, scope: Construct, id: str, *, bucket_name: str | None, bucket_arn: str | None, key_arn: str
    ) -> None:
        super().__init__(scope, id)
        problems = []
        if bool(bucket_name) == bool(bucket_arn):
            problems.append(Problem("bucket_name", bucket_name, "exactly one of bucket_name and bucket_arn"))
        if not key_arn:
            problems.append(Problem("key_arn", key_arn, "the ARN of the bucket's KMS key"))
        raise_if_any(f"DataStore.from_bucket_attributes {self.node.path}", problems)
        self.key = kms.Key.from_key_arn(self, "Key", key_arn)
        self.bucket = s3.Bucket.from_bucket_attributes(
            self, "Bucket", bucket_name=bucket_name, bucket_arn=bucket_arn, encryption_key=self.key
        )
