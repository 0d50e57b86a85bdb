"""The Region's training pipeline: train, batch-evaluate and register models in a private network."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Unpack

import jsii
from aws_cdk import (
    IResolvable,
    IResolveContext,
    IStableStringProducer,
    Lazy,
    RemovalPolicy,
    ResolutionTypeHint,
    Stack,
    Token,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from data_preparation import contract
from ml_constructs.compliance import acknowledge_inline_policy
from ml_constructs.container_image import ContainerImage, ContainerImageConfig
from ml_constructs.data_store import DataPrefix, IDataStore
from ml_constructs.definition_process import PendingDefinition, request_definition
from ml_constructs.metric_options import MetricOptions
from ml_constructs.model_registry import ModelRegistry
from ml_constructs.pipeline_spec import DeployTimeValues, PipelineSpec, PreparationSpec, render_definition
from ml_constructs.preparation_code import PreparationCode
from ml_constructs.resource_names import synth_time_name
from ml_constructs.training_pipeline_props import (
    TrainingPipelineProps,
    has_local_storage,
    pipeline_name_problems,
)
from ml_constructs.vpc_job_access import (
    NETWORK_INTERFACE_WILDCARD_REASONS,
    grant_vpc_network_interfaces,
    select_subnets,
)
from ml_constructs.wildcard_acknowledgment import acknowledge_wildcard_resources
from platform_contract.names import PipelineParameter
from platform_contract.problems import Problem, raise_if_any

# The log groups SageMaker writes job logs to; their names are fixed by SageMaker, one each per account and Region.
JOB_LOG_GROUPS = {
    "TrainingJobLogs": "/aws/sagemaker/TrainingJobs",
    "ProcessingJobLogs": "/aws/sagemaker/ProcessingJobs",
    "TransformJobLogs": "/aws/sagemaker/TransformJobs",
}
# Jobs and models a pipeline execution creates are named pipelines-<execution>-<step>-<suffix>.
PIPELINE_CREATED_NAMES = "pipelines-*"
PIPELINE_METRICS_NAMESPACE = "AWS/Sagemaker/ModelBuildingPipeline"
# Between the instances of one job, nothing else: distributed training picks its TCP ports at run time, Spark's
# processing cluster (YARN, HDFS, the driver, executors and shuffle) talks on fixed and random TCP ports between its
# hosts (SageMaker developer guide, "Give SageMaker Processing Jobs Access to Resources in Your Amazon VPC"), and
# inter-container traffic encryption is IPsec (IKE on UDP 500, then ESP).
INTERNAL_JOB_TRAFFIC = (
    (ec2.Port.all_tcp(), "Distributed training and the Spark cluster of a processing job, between its instances"),
    (ec2.Port.udp(500), "IPsec key exchange of inter-container traffic encryption"),
    # Port.esp() adds port numbers that ESP does not have, which CloudFormation warns about.
    (
        ec2.Port(protocol=ec2.Protocol.ESP, string_representation="ESP"),
        "IPsec-encrypted traffic between the instances of one job",
    ),
)


class TrainingPipeline(Construct):
    """A SageMaker pipeline that trains the platform's image on the Region's data, evaluates the model on a
    held-out test set and registers it for approval, with every job network-isolated in the private subnets
    and every volume and output encrypted with the Region's key.

    Steps (the SageMaker Python SDK writes the definition during synth; see ``pipeline_steps``):

    0. ``Prepare`` (with ``props.preparation``): data_preparation's Spark job on AWS's Spark processing image of the
       Region, on a cluster of ``preparation.instance_count`` instances, reads ``raw/<RawDataset>/``, checks its
       quality, and writes a split dataset to ``datasets/<execution>/`` and its Model Monitor baseline to
       ``baseline/<execution>/``; the steps below read that dataset. An execution that gives ``InputDataUri`` skips
       it: the same steps, named ``…GivenData``, read that folder instead.
    1. ``Train``: the image's ``train`` command with channels ``train`` and ``validation`` from the dataset's
       ``train/`` and ``validation/``; managed spot training with checkpoints under
       ``checkpoints/<execution>/`` (``/opt/ml/checkpoints`` in the container); artifacts to ``models/``.
    2. ``CreateModel`` and ``PredictTestSet``: a batch transform of the dataset's ``test/`` (CSV rows of
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
       quality metrics (and Prepare's baseline as its data quality metrics and drift-check baselines), one that
       fails ends the execution with a Fail step that gives both numbers.

    Every job and model carries ``props.job_tags`` and ``props.stack_job_tag``. Pipeline parameters: ``RawDataset``
    (with preparation; default its dataset), ``InputDataUri`` (an ``s3://`` folder under ``datasets/`` ending in
    ``/``; default empty with preparation, which prepares, else the bucket's ``datasets/``),
    ``TrainingInstanceType``, ``TrainingInstanceCount``, ``UseSpotInstances`` and ``QualityThreshold`` (defaults
    from the props). SageMaker's API cannot switch spot training with a parameter inside one training step (it
    requires MaxWaitTimeInSeconds with spot and rejects it without), so ``UseSpotInstances`` chooses between two
    identical branches, one per capacity type (step names end in ``Spot`` and ``OnDemand``).

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
    :param props: what the pipeline trains with and how it gates models; see ``TrainingPipelineProps``, where every
        default is documented. Default: ``TrainingPipelineProps()``.
    :param log_retention: retention of the job log groups. Default: one year.

    Raises ``InvalidInput`` once, with every problem of the props, each keyed by its field.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        image: ContainerImage,
        data_store: IDataStore,
        registry: ModelRegistry,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        props: TrainingPipelineProps = TrainingPipelineProps(),
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.pipeline_name, name_problems = synth_time_name(
            self, props.pipeline_name, id, "pipeline_name", pipeline_name_problems
        )
        self.props = props
        self.registry = registry
        self.model_package_group_name = registry.model_package_group_name
        problems = props.problems() + name_problems
        raise_if_any(f"TrainingPipeline {self.node.path}", problems)
        preparation = props.preparation
        if preparation is not None and Token.is_unresolved(stack.region):
            problems.append(
                Problem(
                    "preparation",
                    "<token>",
                    "a stack with a Region known at synth time",
                    "AWS's Spark image differs by Region",
                )
            )
            raise_if_any(f"TrainingPipeline {self.node.path}", problems)
        spec = PipelineSpec(
            instance_type=props.instance_type,
            training_instance_types=props.training_instance_types,
            training_volume_key=not has_local_storage(props.instance_type),
            instance_count=props.instance_count,
            use_spot_instances=props.use_spot_instances,
            volume_size_gb=props.volume_size_gb,
            max_runtime_seconds=props.max_runtime_seconds,
            max_wait_seconds=props.max_wait_seconds,
            evaluation_instance_type=props.transform_instance_type,
            evaluation_volume_key=not has_local_storage(props.transform_instance_type),
            hyperparameters=tuple(sorted(props.hyperparameters.items())),
            metric_definitions=tuple((definition.name, definition.regex) for definition in props.metric_definitions),
            quality_metric=props.quality_gate.metric,
            quality_threshold=props.quality_gate.threshold,
            preparation=None
            if preparation is None
            else PreparationSpec(
                dataset=preparation.settings.dataset,
                arguments=tuple(contract.job_arguments(preparation.settings.to_mapping())),
                instance_type=preparation.instance_type,
                instance_count=preparation.instance_count,
                volume_key=not has_local_storage(preparation.instance_type),
                volume_size_gb=preparation.volume_size_gb,
                max_runtime_seconds=preparation.max_runtime_seconds,
            ),
            tags=tuple(sorted(props.job_tags.items())),
            stack_tag_key=props.stack_job_tag[0] if props.stack_job_tag else None,
        )
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
        bound_image = image.bind(self)
        self.image_uri = bound_image.image_uri
        self.preparation_code: PreparationCode | None = None
        spark_image_uri = ""
        if preparation is not None:
            self.preparation_code = PreparationCode(self, "PreparationCode")
            # Known once the generator has resolved it; read at synthesis, like the definition.
            region = stack.region
            spark_image_uri = Lazy.string(_Later(lambda: definition.spark_image(region)))
            self._grant_preparation(data_store, lambda: definition.spark_image(region))
        self._grant_execution(bound_image, data_store, vpc, subnet_ids, security_group)
        self.pipeline_role = iam.Role(
            self,
            "PipelineRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Orchestration of {self.pipeline_name}: creates its jobs and registers its models",
        )
        self._grant_orchestration(data_store)

        code = self.preparation_code
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
                            image_uri=self.image_uri,
                            bucket_name=data_store.bucket.bucket_name,
                            key_arn=data_store.key.key_arn,
                            subnet_ids=tuple(subnet_ids),
                            security_group_ids=(security_group.security_group_id,),
                            model_package_group_name=self.model_package_group_name,
                            spark_image_uri=spark_image_uri,
                            code_bucket_name=code.package.s3_bucket_name if code else "",
                            preparation_package_key=code.package.s3_object_key if code else "",
                            preparation_script_key=code.script.s3_object_key if code else "",
                            stack_tag_value=props.stack_job_tag[1] if props.stack_job_tag else "",
                        ),
                    )
                )
            },
        )
        # The pipeline's first execution must find its roles able to work and its registry in place.
        self.pipeline.node.add_dependency(self.pipeline_role, self.execution_role, registry.model_package_group)

    @property
    def scheduled_parameters(self) -> dict[str, str]:
        """What a scheduled execution passes: the configured raw dataset, which it prepares (InputDataUri keeps its
        empty default). Without preparation, none: the pipeline's defaults."""
        if self.props.preparation is None:
            return {}
        return {PipelineParameter.RAW_DATASET.value: self.props.preparation.settings.dataset}

    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Lets ``grantee`` start executions of this pipeline."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:StartPipelineExecution"], resource_arns=[self.pipeline_arn]
        )

    def metric(self, metric_name: str, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """A metric SageMaker publishes for this pipeline (namespace ``AWS/Sagemaker/ModelBuildingPipeline``)."""
        return cloudwatch.Metric(
            namespace=PIPELINE_METRICS_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"PipelineName": self.pipeline_name},
            **options,
        )

    def metric_executions_failed(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Executions that failed, summed over 5 minutes by default."""
        return self.metric("ExecutionFailed", **(MetricOptions(statistic="Sum") | options))

    def metric_executions_succeeded(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Executions that succeeded, summed over 5 minutes by default."""
        return self.metric("ExecutionSucceeded", **(MetricOptions(statistic="Sum") | options))

    def metric_execution_duration(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Milliseconds an execution ran, maximum over 5 minutes by default."""
        return self.metric("ExecutionDuration", **(MetricOptions(statistic="Maximum") | options))

    def _grant_execution(
        self,
        image: ContainerImageConfig,
        data_store: IDataStore,
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
                        DataPrefix.RAW,
                        DataPrefix.DATASETS,
                        DataPrefix.BASELINE,
                        DataPrefix.CHECKPOINTS,
                        DataPrefix.MODELS,
                        DataPrefix.EVALUATION,
                    )
                },
                **NETWORK_INTERFACE_WILDCARD_REASONS,
            },
        )

    def _grant_preparation(self, data_store: IDataStore, spark_image_uri: Callable[[], str]) -> None:
        """The Prepare job: raw/ read, its outputs under datasets/ and baseline/ written, its code read, and AWS's
        Spark image pulled from AWS's repository in the Region (another account's: that repository only)."""
        role = self.execution_role
        data_store.grant_read(role, DataPrefix.RAW)
        data_store.grant_write(role, DataPrefix.DATASETS, DataPrefix.BASELINE)
        assert self.preparation_code is not None
        self.preparation_code.grant_read(role)
        stack = Stack.of(self)

        def repository_arn() -> str:
            # <account>.dkr.ecr.<region>.<domain>/<repository>:<tag>
            registry, _, path = spark_image_uri().partition("/")
            return stack.format_arn(
                service="ecr",
                account=registry.split(".", 1)[0],
                resource="repository",
                resource_name=path.split(":", 1)[0],
            )

        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PullTheSparkImage",
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                resources=[Lazy.string(_Later(repository_arn))],
            )
        )

    def _grant_orchestration(self, data_store: IDataStore) -> None:
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


@jsii.implements(IStableStringProducer)
class _Later:
    """A value known at synthesis: what the definition generator writes meanwhile."""

    def __init__(self, produce: Callable[[], str]) -> None:
        self._produce = produce

    def produce(self) -> str:
        return self._produce()


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
            # The values are AWS identifiers (ARNs, IDs, names, an image URI) and a tag value (AWS allows letters,
            # digits, spaces and _.:/=+-@ only) with nothing to escape, so this needs none of Stack.to_json_string's
            # escaping, which is costly to resolve on every pass.
            self._body = json.dumps(render_definition(self._definition.result(), self._values), separators=(",", ":"))
        return self._body

    def to_string(self) -> str:
        return "PipelineDefinitionBody"
