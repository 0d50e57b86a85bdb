"""The Region's training pipeline: train, batch-evaluate and register models in a private network."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import Duration, IResolvable, IResolveContext, RemovalPolicy, ResolutionTypeHint, Size, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ml_constructs.compliance import acknowledge_inline_policy
from ml_constructs.data_store import DataPrefix, DataStore
from ml_constructs.model_registry import ModelRegistry
from ml_constructs.pipeline_definition import (
    HIGHER_IS_BETTER,
    QUALITY_METRICS,
    DeployTimeValues,
    PendingDefinition,
    PipelineSpec,
    QualityMetric,
    render_definition,
    request_definition,
)
from ml_constructs.vpc_job_access import (
    NETWORK_INTERFACE_WILDCARD_REASONS,
    grant_vpc_network_interfaces,
    select_subnets,
)
from ml_constructs.wildcard_acknowledgment import acknowledge_wildcard_resources
from platform_contract.instance_types import InstanceType, InstanceUse, allowed_instance_types

# The log groups SageMaker writes job logs to; their names are fixed by SageMaker, one each per account and Region.
JOB_LOG_GROUPS = {
    "TrainingJobLogs": "/aws/sagemaker/TrainingJobs",
    "ProcessingJobLogs": "/aws/sagemaker/ProcessingJobs",
    "TransformJobLogs": "/aws/sagemaker/TransformJobs",
}
# Jobs and models a pipeline execution creates are named pipelines-<execution>-<step>-<suffix>.
PIPELINE_CREATED_NAMES = "pipelines-*"
PIPELINE_METRICS_NAMESPACE = "AWS/Sagemaker/ModelBuildingPipeline"
# Between the instances of one job, nothing else: distributed training picks its TCP ports at run time, and
# inter-container traffic encryption is IPsec (IKE on UDP 500, then ESP).
INTERNAL_JOB_TRAFFIC = (
    (ec2.Port.all_tcp(), "Distributed training between the instances of one job"),
    (ec2.Port.udp(500), "IPsec key exchange of inter-container traffic encryption"),
    # Port.esp() adds port numbers that ESP does not have, which CloudFormation warns about.
    (
        ec2.Port(protocol=ec2.Protocol.ESP, string_representation="ESP"),
        "IPsec-encrypted traffic between the instances of one job",
    ),
)

_SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
_MAX_RUNTIME_SECONDS = 28 * 24 * 3600


@dataclass(frozen=True)
class MetricDefinition:
    """A metric SageMaker reads from the training log: the first group of ``regex`` is its value."""

    name: str
    regex: str

    @classmethod
    def list_from_file(cls, path: Path) -> tuple[MetricDefinition, ...]:
        """Reads a JSON list of ``{"Name": ..., "Regex": ...}`` objects, as training_code/metric_definitions.json
        ships them."""
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"Cannot read metric definitions from {path}: {error}") from None
        problems = []
        if not isinstance(entries, list):
            problems.append("the file must hold a JSON list")
            entries = []
        for index, entry in enumerate(entries):
            if not (
                isinstance(entry, dict)
                and set(entry) == {"Name", "Regex"}
                and all(isinstance(v, str) for v in entry.values())
            ):
                problems.append(f"entry {index} is {entry!r}; allowed: an object with the strings Name and Regex only")
        if problems:
            raise ValueError(f"Invalid metric definitions in {path}: " + "; ".join(problems))
        return tuple(cls(entry["Name"], entry["Regex"]) for entry in entries)


@dataclass(frozen=True)
class QualityGate:
    """The evaluation metric a new model must reach before it is registered."""

    metric: QualityMetric = "auc"
    """auc and accuracy must be at least ``threshold``; rmse and mae at most. Default: auc."""
    threshold: float = 0.75
    """Default: 0.75; each execution may override it with the QualityThreshold parameter."""


class TrainingPipeline(Construct):
    """A SageMaker pipeline that trains the platform's image on the Region's data, evaluates the model on a
    held-out test set and registers it for approval, with every job network-isolated in the private subnets
    and every volume and output encrypted with the Region's key.

    Steps (the SageMaker Python SDK writes the definition during synth; see ``pipeline_definition``):

    1. ``Train``: the image's ``train`` command with channels ``train`` and ``validation`` from
       ``<InputDataUri>train/`` and ``validation/``; managed spot training with checkpoints under
       ``checkpoints/<execution>/`` (``/opt/ml/checkpoints`` in the container); artifacts to ``models/``.
    2. ``CreateModel`` and ``PredictTestSet``: a batch transform of ``<InputDataUri>test/`` (CSV rows of
       features without a header, in training order, as the endpoint takes them) to
       ``evaluation/<execution>/predictions/`` (one ``<file>.out`` per input file, one prediction per line).
    3. ``Evaluate``: a processing job running the image with entrypoint ``evaluate``. Contract with the
       container: it reads the predictions from ``/opt/ml/processing/input/predictions`` and the true labels
       from ``/opt/ml/processing/input/labels`` (``<InputDataUri>test-labels/``: for each test file a file of
       the same name with one label per line), and writes ``/opt/ml/processing/evaluation/evaluation.json``
       in SageMaker's model quality format, ``{"<section>": {"<metric>": {"value": <number>}, ...}}`` with
       section ``binary_classification_metrics`` (auc, accuracy) or ``regression_metrics`` (rmse, mae), as the
       training report does; it is uploaded to ``evaluation/<execution>/report/``.
    4. ``QualityGate``: the gate's metric from that report against the QualityThreshold parameter; a model that
       passes is registered in the model package group as PendingManualApproval with the report as its model
       quality metrics, one that fails ends the execution with a Fail step that gives both numbers.

    Pipeline parameters: ``InputDataUri`` (an ``s3://`` folder under ``datasets/`` ending in ``/``; default
    the bucket's ``datasets/``), ``TrainingInstanceType``, ``TrainingInstanceCount``, ``UseSpotInstances`` and
    ``QualityThreshold`` (defaults from the props). SageMaker's API cannot switch spot training with a
    parameter inside one training step (it requires MaxWaitTimeInSeconds with spot and rejects it without),
    so ``UseSpotInstances`` chooses between two identical branches, one per capacity type (step names end
    in ``Spot`` and ``OnDemand``).

    Two roles: the pipeline role only orchestrates (creates the jobs, the model and the model package, reads
    the evaluation report, passes the execution role to SageMaker); the execution role is what the jobs and
    the model run with (data prefixes, key, image, logs, metrics, network interfaces). Neither holds a
    managed policy or a wildcard action.

    The construct also creates SageMaker's job log groups (``JOB_LOG_GROUPS``), encrypted with the Region's
    key, kept for ``log_retention`` and retained when the stack is deleted. Their names are fixed by SageMaker,
    and they exist in every account and Region where a job has run, so a deployment must import the existing
    ones (``cdk deploy --import-existing-resources``: CloudFormation imports a retained resource with a static
    name instead of failing with AlreadyExists) and then bring them to the template (``cdk deploy
    --revert-drift``: an import takes a resource as it is). Both keep working when the groups do not exist.

    :param image: the training and serving image (``train``, ``serve`` and ``evaluate`` commands). Required.
    :param data_store: the Region's bucket and key; jobs get only the prefixes they use. Required.
    :param registry: where models that pass the quality gate are registered. Required.
    :param vpc: where every job runs. Required.
    :param vpc_subnets: the jobs' subnets. Required.
    :param security_group: the jobs' security group; the construct lets its members reach each other on the
        ports distributed training and inter-container encryption need (``INTERNAL_JOB_TRAFFIC``). Required.
    :param instance_type: default of TrainingInstanceType, which accepts the x86 training types of the same storage
        kind: with local NVMe storage (no volume key: SageMaker rejects one, the hardware encrypts it) or without
        (volumes encrypted with the Region's key). Default: ml.m5.xlarge.
    :param instance_count: default of TrainingInstanceCount. Default: 1.
    :param use_spot_instances: default of UseSpotInstances. Default: true.
    :param volume_size: storage of each training instance, 1-16384 GiB. Default: 30 GiB.
    :param max_runtime: longest run of a training or evaluation job. Default: 1 hour.
    :param max_wait: longest wait for spot capacity plus run; at least ``max_runtime``. Default: 2 hours.
    :param evaluation_instance_type: instance type of the batch transform and the evaluation; their volumes get the
        Region's key unless it has local storage. Default: ml.m5.large.
    :param hyperparameters: passed to ``train`` as strings. Default: none (the container's defaults).
    :param metric_definitions: metrics SageMaker records from the training log (at most 40). Default: none.
    :param quality_gate: what a model must reach to be registered. Default: auc of at least 0.75.
    :param log_retention: retention of the job log groups. Default: one year.
    :param pipeline_name: Default: ``<stack name>-<id>``, lower case.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        image: ecr_assets.DockerImageAsset,
        data_store: DataStore,
        registry: ModelRegistry,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        instance_type: str = "ml.m5.xlarge",
        instance_count: int = 1,
        use_spot_instances: bool = True,
        volume_size: Size = Size.gibibytes(30),
        max_runtime: Duration = Duration.hours(1),
        max_wait: Duration = Duration.hours(2),
        evaluation_instance_type: str = "ml.m5.large",
        hyperparameters: Mapping[str, str] | None = None,
        metric_definitions: Sequence[MetricDefinition] = (),
        quality_gate: QualityGate = QualityGate(),
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        pipeline_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        default_name = f"{stack.stack_name}-{id}"
        if not Token.is_unresolved(default_name):
            default_name = default_name.lower()
        self.pipeline_name = pipeline_name or default_name
        self.registry = registry
        self.model_package_group_name = registry.model_package_group_name
        spec = PipelineSpec(
            instance_type=instance_type,
            training_instance_types=_same_storage_kind(instance_type),
            training_volume_key=not _has_local_storage(instance_type),
            instance_count=instance_count,
            use_spot_instances=use_spot_instances,
            volume_size_gb=int(volume_size.to_gibibytes()),
            max_runtime_seconds=int(max_runtime.to_seconds()),
            max_wait_seconds=int(max_wait.to_seconds()),
            evaluation_instance_type=evaluation_instance_type,
            evaluation_volume_key=not _has_local_storage(evaluation_instance_type),
            hyperparameters=tuple(sorted((hyperparameters or {}).items())),
            metric_definitions=tuple((definition.name, definition.regex) for definition in metric_definitions),
            quality_metric=quality_gate.metric,
            quality_threshold=quality_gate.threshold,
        )
        _validate(self, spec, self.pipeline_name)
        # Started now, so that the SDK works in parallel with the rest of the app; collected at synthesis.
        definition = request_definition(spec)

        # SageMaker spells names in lower case in its ARNs.
        self.pipeline_arn = stack.format_arn(
            service="sagemaker", resource="pipeline", resource_name=self.pipeline_name.lower()
        )

        self.job_log_groups = [
            logs.LogGroup(
                self,
                construct_id,
                log_group_name=name,
                encryption_key=data_store.key,
                retention=log_retention,
                removal_policy=RemovalPolicy.RETAIN,
            )
            for construct_id, name in JOB_LOG_GROUPS.items()
        ]
        for port, purpose in INTERNAL_JOB_TRAFFIC:
            security_group.connections.allow_internally(port, purpose)
        subnet_ids = select_subnets(vpc, vpc_subnets).subnet_ids

        self.execution_role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Training, evaluation and batch-transform jobs of {self.pipeline_name}",
        )
        self._grant_execution(image, data_store, vpc, subnet_ids, security_group)
        self.pipeline_role = iam.Role(
            self,
            "PipelineRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Orchestration of {self.pipeline_name}: creates its jobs and registers its models",
        )
        self._grant_orchestration(data_store)

        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Resource",
            pipeline_name=self.pipeline_name,
            pipeline_description="Trains, evaluates and registers the Region's model",
            role_arn=self.pipeline_role.role_arn,
            pipeline_definition={
                "PipelineDefinitionBody": Token.as_string(
                    _DefinitionBody(
                        definition,
                        DeployTimeValues(
                            execution_role_arn=self.execution_role.role_arn,
                            image_uri=image.image_uri,
                            bucket_name=data_store.bucket.bucket_name,
                            key_arn=data_store.key.key_arn,
                            subnet_ids=tuple(subnet_ids),
                            security_group_ids=(security_group.security_group_id,),
                            model_package_group_name=self.model_package_group_name,
                        ),
                    )
                )
            },
        )
        # The pipeline's first execution must find its roles able to work and its registry in place.
        self.pipeline.node.add_dependency(self.pipeline_role, self.execution_role, registry.model_package_group)

    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Lets ``grantee`` start executions of this pipeline."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:StartPipelineExecution"], resource_arns=[self.pipeline_arn]
        )

    def metric(self, metric_name: str, **props: Any) -> cloudwatch.Metric:
        """A metric SageMaker publishes for this pipeline (namespace ``AWS/Sagemaker/ModelBuildingPipeline``)."""
        return cloudwatch.Metric(
            namespace=PIPELINE_METRICS_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"PipelineName": self.pipeline_name},
            **props,
        )

    def metric_executions_failed(self, **props: Any) -> cloudwatch.Metric:
        """Executions that failed, summed over 5 minutes by default."""
        return self.metric("ExecutionFailed", **{"statistic": "Sum", **props})

    def metric_executions_succeeded(self, **props: Any) -> cloudwatch.Metric:
        """Executions that succeeded, summed over 5 minutes by default."""
        return self.metric("ExecutionSucceeded", **{"statistic": "Sum", **props})

    def metric_execution_duration(self, **props: Any) -> cloudwatch.Metric:
        """Milliseconds an execution ran, maximum over 5 minutes by default."""
        return self.metric("ExecutionDuration", **{"statistic": "Maximum", **props})

    def _grant_execution(
        self,
        image: ecr_assets.DockerImageAsset,
        data_store: DataStore,
        vpc: ec2.IVpc,
        subnet_ids: Sequence[str],
        security_group: ec2.ISecurityGroup,
    ) -> None:
        role = self.execution_role
        data_store.grant_read(role, DataPrefix.DATASETS)
        # Models and evaluation outputs are written by one step and read by the next.
        data_store.grant_read_write(role, DataPrefix.CHECKPOINTS, DataPrefix.MODELS, DataPrefix.EVALUATION)
        # Job volumes: Create{Training,Processing,Transform}Job with a VolumeKmsKeyId need kms:CreateGrant from the
        # caller unless the job's role has it (SageMaker developer guide, "Amazon SageMaker AI API Permissions:
        # Actions, Permissions, and Resources Reference",
        # https://docs.aws.amazon.com/sagemaker/latest/dg/api-permissions-reference.html); the job's role holds it,
        # so the pipeline role, which only calls, needs no key permission. SageMaker grants the volumes the key
        # through its own endpoint: kms:ViaService and kms:GrantIsForAWSResource confine the grant to that
        # (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html). Outputs in S3 are encrypted
        # through S3, under the data store's grants.
        via_sagemaker = {"kms:ViaService": f"sagemaker.{Stack.of(self).region}.amazonaws.com"}
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="LetSageMakerGrantItsVolumesTheKey",
                actions=["kms:CreateGrant"],
                resources=[data_store.key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}, "StringEquals": via_sagemaker},
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                # A grant-only condition key is absent from DescribeKey requests, so it gets a statement of its own.
                sid="LetSageMakerDescribeTheVolumeKey",
                actions=["kms:DescribeKey"],
                resources=[data_store.key.key_arn],
                conditions={"StringEquals": via_sagemaker},
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PullTheImage",
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                resources=[image.repository.repository_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(sid="SignInToTheRegistry", actions=["ecr:GetAuthorizationToken"], resources=["*"])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="WriteJobLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[group.log_group_arn for group in self.job_log_groups],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PublishJobMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": list(JOB_LOG_GROUPS.values())}},
            )
        )
        grant_vpc_network_interfaces(role, vpc=vpc, subnet_ids=subnet_ids, security_groups=[security_group])
        acknowledge_inline_policy(role)
        acknowledge_wildcard_resources(
            role,
            {
                "*": "ecr:GetAuthorizationToken, cloudwatch:PutMetricData and the ec2:Describe* calls SageMaker makes "
                "for the VPC support no resource-level permissions; PutMetricData is limited to the namespaces of "
                "SageMaker's training, processing and transform jobs by a condition.",
                **{
                    f"/{prefix.value}*": f"Objects under the {prefix.value} prefix of the Region's bucket only; "
                    "their keys are generated per pipeline execution and job."
                    for prefix in (
                        DataPrefix.DATASETS,
                        DataPrefix.CHECKPOINTS,
                        DataPrefix.MODELS,
                        DataPrefix.EVALUATION,
                    )
                },
                **NETWORK_INTERFACE_WILDCARD_REASONS,
            },
        )

    def _grant_orchestration(self, data_store: DataStore) -> None:
        stack = Stack.of(self)
        role = self.pipeline_role
        job_kinds = {"training-job": "TrainingJob", "processing-job": "ProcessingJob", "transform-job": "TransformJob"}
        for resource, kind in job_kinds.items():
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid=f"Run{kind}s",
                    actions=[
                        f"sagemaker:Create{kind}",
                        f"sagemaker:Describe{kind}",
                        f"sagemaker:Stop{kind}",
                        "sagemaker:AddTags",
                    ],
                    resources=[
                        stack.format_arn(service="sagemaker", resource=resource, resource_name=PIPELINE_CREATED_NAMES)
                    ],
                )
            )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="CreateModels",
                actions=["sagemaker:CreateModel", "sagemaker:DescribeModel", "sagemaker:AddTags"],
                resources=[
                    stack.format_arn(service="sagemaker", resource="model", resource_name=PIPELINE_CREATED_NAMES)
                ],
            )
        )
        self.registry.grant_register(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PassTheExecutionRoleToSageMaker",
                actions=["iam:PassRole"],
                resources=[self.execution_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        # The quality gate reads the evaluation report (a property file) with the pipeline's role.
        data_store.grant_read(role, DataPrefix.EVALUATION)
        acknowledge_inline_policy(role)
        acknowledge_wildcard_resources(
            role,
            {
                **{
                    f":{resource}/{PIPELINE_CREATED_NAMES}": f"SageMaker names each {resource.replace('-', ' ')} "
                    "when an execution creates it (pipelines-<execution>-<step>-<suffix>); limited to that scheme."
                    for resource in ("training-job", "processing-job", "transform-job", "model")
                },
                f":model-package/{self.model_package_group_name.lower()}/*": "Versions of this pipeline's model "
                "package group only; SageMaker numbers them as they are registered.",
                f"/{DataPrefix.EVALUATION.value}*": "Reads the evaluation reports under the evaluation/ prefix of the "
                "Region's bucket only; their keys are generated per execution.",
            },
        )


@jsii.implements(IResolvable)
class _DefinitionBody:
    """The Region's pipeline definition as JSON with CloudFormation references in it, rendered at synthesis from
    the template the SDK writes meanwhile."""

    def __init__(self, definition: PendingDefinition, values: DeployTimeValues) -> None:
        self._definition = definition
        self._values = values
        self._body: str | None = None

    @property
    def creation_stack(self) -> list[str]:
        return []

    @property
    def type_hint(self) -> ResolutionTypeHint:
        return ResolutionTypeHint.STRING

    def resolve(self, context: IResolveContext) -> str:
        if context.preparing:
            # CDK looks for references between stacks while preparing; the values are all it needs, and the
            # SDK may still be writing the definition.
            return " ".join(self._values.references())
        if self._body is None:
            # Plain JSON with the values' token strings inside, which CloudFormation joins back together.
            # The values are AWS identifiers (ARNs, IDs, names, an image URI) with nothing to escape, so this
            # needs none of Stack.to_json_string's escaping, which is costly to resolve on every pass.
            self._body = json.dumps(render_definition(self._definition.result(), self._values), separators=(",", ":"))
        return self._body

    def to_string(self) -> str:
        return "PipelineDefinitionBody"


def _has_local_storage(instance_type: str) -> bool:
    parsed = InstanceType.parse(instance_type)
    return parsed is not None and parsed.family.local_storage


def _same_storage_kind(instance_type: str) -> tuple[str, ...]:
    """The x86 training types that store volumes as ``instance_type`` does: a definition with a volume key is
    valid only for types without local storage, one without it only for types with local storage."""
    local = _has_local_storage(instance_type)
    return tuple(
        sorted(
            name
            for name in allowed_instance_types(InstanceUse.TRAINING)
            if (parsed := InstanceType.parse(name)) and parsed.family.local_storage == local and not parsed.family.arm64
        )
    )


def _validate(scope: Construct, spec: PipelineSpec, pipeline_name: str) -> None:
    problems = []
    for prop, value in (
        ("instance_type", spec.instance_type),
        ("evaluation_instance_type", spec.evaluation_instance_type),
    ):
        if InstanceType.parse(value) is None:
            problems.append(f"{prop} '{value}' is not a SageMaker instance type; allowed: ml.<family>.<size>")
        elif prop == "instance_type" and value not in spec.training_instance_types:
            problems.append(f"instance_type '{value}' is not an x86 SageMaker training instance type")
    if not 1 <= spec.instance_count <= 100:
        problems.append(f"instance_count {spec.instance_count} is not allowed; allowed: 1 to 100")
    if not 1 <= spec.volume_size_gb <= 16384:
        problems.append(f"volume_size {spec.volume_size_gb} GiB is not allowed; allowed: 1 to 16384 GiB")
    if not 0 < spec.max_runtime_seconds <= _MAX_RUNTIME_SECONDS:
        problems.append(f"max_runtime {spec.max_runtime_seconds} s is not allowed; allowed: 1 s to 28 days")
    if spec.use_spot_instances and spec.max_wait_seconds < spec.max_runtime_seconds:
        problems.append(
            f"max_wait ({spec.max_wait_seconds} s) is shorter than max_runtime ({spec.max_runtime_seconds} s); "
            "allowed: at least max_runtime"
        )
    if len(spec.hyperparameters) > 100:
        problems.append(f"{len(spec.hyperparameters)} hyperparameters; allowed: at most 100")
    problems += [
        f"hyperparameter '{key[:40]}' is not allowed; allowed: a key of 1-256 characters and a value of at most 2500"
        for key, value in spec.hyperparameters
        if not (1 <= len(key) <= 256 and len(value) <= 2500)
    ]
    if len(spec.metric_definitions) > 40:
        problems.append(f"{len(spec.metric_definitions)} metric_definitions; allowed: at most 40")
    problems += [
        f"metric definition '{name[:40]}' is not allowed; allowed: a name of 1-255 and a regex of 1-500 characters"
        for name, regex in spec.metric_definitions
        if not (1 <= len(name) <= 255 and 1 <= len(regex) <= 500)
    ]
    if spec.quality_metric not in QUALITY_METRICS:
        problems.append(
            f"quality_gate.metric '{spec.quality_metric}' is not allowed; allowed: {', '.join(QUALITY_METRICS)}"
        )
    elif not 0 < spec.quality_threshold <= (1 if spec.quality_metric in HIGHER_IS_BETTER else float("inf")):
        problems.append(
            f"quality_gate.threshold {spec.quality_threshold} is not allowed for {spec.quality_metric}; allowed: "
            + ("above 0 and at most 1" if spec.quality_metric in HIGHER_IS_BETTER else "above 0")
        )
    if Token.is_unresolved(pipeline_name):
        problems.append(
            "pipeline_name must be known at synth time (the stack name is a token here); give it explicitly"
        )
    elif not (len(pipeline_name) <= 256 and _SAGEMAKER_NAME.match(pipeline_name)):
        problems.append(
            f"pipeline_name '{pipeline_name}' is not allowed; allowed: 1-256 letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    if problems:
        raise ValueError(
            f"TrainingPipeline {scope.node.path} is misconfigured:\n" + "\n".join(f"  - {p}" for p in problems)
        )
