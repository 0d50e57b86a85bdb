"""Data- and model-quality monitoring of one ModelEndpoint: SageMaker monitoring schedules running the platform's
own analyzer (the model image's ``monitor-data-quality`` and ``monitor-model-quality``), and alarms on their
metrics that page the Region's topic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import ArnFormat, Duration, Fn, Names, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from ml_constructs.compliance import acknowledge_inline_policy
from ml_constructs.container_image import ContainerImage, ContainerImageConfig
from ml_constructs.data_store import IDataStore
from ml_constructs.model_endpoint import ModelEndpoint
from ml_constructs.model_monitoring_props import ModelMonitoringProps
from ml_constructs.pipeline_spec import HIGHER_IS_BETTER
from ml_constructs.training_pipeline import JOB_LOG_GROUPS
from ml_constructs.training_pipeline_props import QualityGate
from ml_constructs.vpc_job_access import (
    NETWORK_INTERFACE_WILDCARD_REASONS,
    grant_vpc_network_interfaces,
    select_subnets,
)
from ml_constructs.wildcard_acknowledgment import acknowledge_wildcard_resources
from platform_contract.instance_types import InstanceType
from platform_contract.names import DataPrefix, MonitoringMetric, Output, ProblemType
from platform_contract.problems import raise_if_any

# Monitoring schedule and job definition names: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateMonitoringSchedule.html).
NAME_LENGTH = 63
# Paths in the monitoring container; SageMaker downloads the captured hours and, for model quality, the ground
# truth there, and uploads the output folder.
CAPTURE_LOCAL_PATH = "/opt/ml/processing/endpointdata"
GROUND_TRUTH_LOCAL_PATH = "/opt/ml/processing/groundtruth"
OUTPUT_LOCAL_PATH = "/opt/ml/processing/resultdata"
PROCESSING_LOG_GROUP = JOB_LOG_GROUPS["ProcessingJobLogs"]
"""Monitoring executions are processing jobs and log where processing jobs do."""


@dataclass(frozen=True)
class Monitor:
    """One kind of monitoring: its construct ID, the image command and the metric namespace it writes to."""

    id: str
    command: str
    namespace: MonitoringMetric
    monitoring_type: str


DATA_QUALITY = Monitor("DataQuality", "monitor-data-quality", MonitoringMetric.DATA_QUALITY_NAMESPACE, "DataQuality")
MODEL_QUALITY = Monitor(
    "ModelQuality", "monitor-model-quality", MonitoringMetric.MODEL_QUALITY_NAMESPACE, "ModelQuality"
)


@dataclass(frozen=True)
class MonitorAlarmSpec:
    """One alarm on a monitor's metric, as data: ``MONITOR_ALARMS`` lists them and one loop creates them."""

    id: Callable[[ModelMonitoringProps, QualityGate], Sequence[str]]
    """The alarms' construct IDs; one per feature for drift."""
    monitor: Monitor
    metric_name: Callable[[str, QualityGate], str]
    statistic: Callable[[QualityGate], str]
    threshold: Callable[[ModelMonitoringProps, QualityGate], float]
    comparison: Callable[[QualityGate], cloudwatch.ComparisonOperator]
    description: Callable[[str, ModelMonitoringProps, QualityGate], str]


def _lower_is_worse(gate: QualityGate) -> bool:
    return gate.metric in HIGHER_IS_BETTER


MONITOR_ALARMS: tuple[MonitorAlarmSpec, ...] = (
    MonitorAlarmSpec(
        id=lambda props, gate: [f"Drift-{feature}" for feature in props.drift_features],
        monitor=DATA_QUALITY,
        metric_name=lambda id, gate: MonitoringMetric.DRIFT_PREFIX + id.removeprefix("Drift-"),
        statistic=lambda gate: "Maximum",
        threshold=lambda props, gate: props.drift_threshold,
        comparison=lambda gate: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description=lambda id, props, gate: (
            f"Feature {id.removeprefix('Drift-')} of the captured requests drifted from the served model's baseline "
            f"(distribution distance above {props.drift_threshold:g})"
        ),
    ),
    MonitorAlarmSpec(
        id=lambda props, gate: ["ModelQuality"] if props.model_quality else [],
        monitor=MODEL_QUALITY,
        metric_name=lambda id, gate: gate.metric,
        # The worst value of the period, whichever direction is worse.
        statistic=lambda gate: "Minimum" if _lower_is_worse(gate) else "Maximum",
        threshold=lambda props, gate: gate.threshold,
        comparison=lambda gate: (
            cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
            if _lower_is_worse(gate)
            else cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
        ),
        description=lambda id, props, gate: (
            f"The served model's {gate.metric} over captured predictions and uploaded labels is "
            f"{'below' if _lower_is_worse(gate) else 'above'} the quality gate's {gate.threshold:g}"
        ),
    ),
)
"""The monitoring alarms, in the order the README lists them."""


class ModelMonitoring(Construct):
    """Monitoring schedules on ``endpoint``'s captured data, with the platform's image as the analyzer.

    * Data quality (only with ``props.baseline``): each run compares the period's captured requests with the served
      model package's statistics.json and constraints.json, writes statistics and constraint violations under
      ``monitoring/<endpoint>/data-quality`` and per-feature metrics (``feature_baseline_drift_<feature>`` and
      others) to ``aws/sagemaker/Endpoints/data-metrics``.
    * Model quality (``props.model_quality``): each run merges the period's captured predictions with the ground
      truth under ``ground-truth/<endpoint>/`` and computes ``quality_gate``'s metric, written to
      ``aws/sagemaker/Endpoints/model-metrics`` under the metric's name.

    Jobs run in the private subnets with ``security_group``, network-isolated, with inter-container traffic
    encryption, volumes (where the type has no instance storage) and outputs encrypted with the Region's key, and a
    role that reads capture/, ground-truth/ and the baseline's prefix and writes monitoring/ only. The alarms
    (``MONITOR_ALARMS``: one per ``drift_features`` feature, and one on the quality metric) notify ``topic`` when they
    fire and recover.

    :param endpoint: the endpoint to watch. Required.
    :param image: the platform's model image, whose monitoring commands run the analysis. Required.
    :param data_store: the Region's data store. Required.
    :param vpc: VPC of the jobs' network interfaces. Required.
    :param vpc_subnets: subnets of the network interfaces. Required.
    :param security_group: security group of the jobs. Required.
    :param topic: receives the alarms' notifications. Required.
    :param quality_gate: the metric and threshold model quality is held to, the training pipeline's. Required.
    :param props: schedule, instances, alarms, baseline. Default: ``ModelMonitoringProps()``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: ModelEndpoint,
        image: ContainerImage,
        data_store: IDataStore,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        topic: sns.ITopic,
        quality_gate: QualityGate,
        props: ModelMonitoringProps = ModelMonitoringProps(),
    ) -> None:
        super().__init__(scope, id)
        raise_if_any(f"Invalid ModelMonitoring {self.node.path}", props.problems() + quality_gate.problems())
        self.props = props
        self.quality_gate = quality_gate
        self.endpoint = endpoint
        self.ground_truth_uri = f"{data_store.prefix_uri(DataPrefix.GROUND_TRUTH)}{endpoint.endpoint_name}"
        """Where the model-quality monitor reads labels, ``<uri>/yyyy/mm/dd/hh/*.jsonl``."""
        self.problem_type = (
            ProblemType.BINARY_CLASSIFICATION if quality_gate.metric in HIGHER_IS_BETTER else ProblemType.REGRESSION
        )
        """What the model-quality monitor holds the labels to."""
        subnets = select_subnets(vpc, vpc_subnets)
        parsed_type = InstanceType.parse(props.instance_type)
        has_instance_storage = bool(parsed_type and parsed_type.family.local_storage)

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Runs the monitoring jobs of one endpoint: reads capture/, ground-truth/; writes monitoring/",
        )
        bound_image = image.bind(self)
        self._grant(bound_image, data_store, vpc, subnets, security_group)

        monitors = ([DATA_QUALITY] if props.baseline else []) + ([MODEL_QUALITY] if props.model_quality else [])
        self.schedule_names: dict[str, str] = {}
        self.schedules: dict[str, sagemaker.CfnMonitoringSchedule] = {}
        for monitor in monitors:
            # The two job definition types have the same nested property types, which jsii keeps apart.
            kind: Any = (
                sagemaker.CfnDataQualityJobDefinition
                if monitor is DATA_QUALITY
                else sagemaker.CfnModelQualityJobDefinition
            )
            shared = {
                "role_arn": self.role.role_arn,
                "job_resources": kind.MonitoringResourcesProperty(
                    cluster_config=kind.ClusterConfigProperty(
                        instance_count=1,
                        instance_type=props.instance_type,
                        volume_size_in_gb=props.volume_size_gb,
                        volume_kms_key_id=None if has_instance_storage else data_store.key.key_arn,
                    )
                ),
                "network_config": kind.NetworkConfigProperty(
                    enable_inter_container_traffic_encryption=True,
                    enable_network_isolation=True,
                    vpc_config=kind.VpcConfigProperty(
                        security_group_ids=[security_group.security_group_id], subnets=subnets.subnet_ids
                    ),
                ),
                "stopping_condition": kind.StoppingConditionProperty(max_runtime_in_seconds=props.max_runtime_seconds),
            }
            output = kind.MonitoringOutputConfigProperty(
                kms_key_id=data_store.key.key_arn,
                monitoring_outputs=[
                    kind.MonitoringOutputProperty(
                        s3_output=kind.S3OutputProperty(
                            local_path=OUTPUT_LOCAL_PATH,
                            s3_uri=f"{data_store.prefix_uri(DataPrefix.MONITORING)}{endpoint.endpoint_name}/"
                            + monitor.command.removeprefix("monitor-"),
                            s3_upload_mode="EndOfJob",
                        )
                    )
                ],
            )
            endpoint_input = kind.EndpointInputProperty(
                endpoint_name=endpoint.endpoint_name, local_path=CAPTURE_LOCAL_PATH, s3_input_mode="File"
            )
            definition = (
                self._data_quality_definition(bound_image, shared, output, endpoint_input)
                if monitor is DATA_QUALITY
                else self._model_quality_definition(bound_image, data_store, shared, output, endpoint_input)
            )
            definition.node.add_dependency(self.role)
            name = self._name(monitor.id)
            self.schedule_names[monitor.id] = name
            self.schedules[monitor.id] = sagemaker.CfnMonitoringSchedule(
                self,
                f"{monitor.id}Schedule",
                monitoring_schedule_name=name,
                monitoring_schedule_config=sagemaker.CfnMonitoringSchedule.MonitoringScheduleConfigProperty(
                    # CloudFormation names the definition (a changed one is replaced by a new one) and returns only
                    # its ARN, arn:…:data-quality-job-definition/<name>.
                    monitoring_job_definition_name=Fn.select(1, Fn.split("/", definition.attr_job_definition_arn)),
                    monitoring_type=monitor.monitoring_type,
                    schedule_config=sagemaker.CfnMonitoringSchedule.ScheduleConfigProperty(
                        schedule_expression=props.schedule
                    ),
                ),
            )

        notify = cloudwatch_actions.SnsAction(topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for spec in MONITOR_ALARMS:
            if spec.monitor not in monitors:
                continue
            for alarm_id in spec.id(props, quality_gate):
                alarm = cloudwatch.Alarm(
                    self,
                    alarm_id,
                    metric=self.metric(
                        spec.monitor, spec.metric_name(alarm_id, quality_gate), spec.statistic(quality_gate)
                    ),
                    threshold=spec.threshold(props, quality_gate),
                    comparison_operator=spec.comparison(quality_gate),
                    evaluation_periods=1,
                    # A period without data (no traffic, no labels yet) is no reason to page.
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                    alarm_description=spec.description(alarm_id, props, quality_gate),
                )
                alarm.add_alarm_action(notify)
                alarm.add_ok_action(notify)
                self.alarms[alarm_id] = alarm

    def outputs(self) -> dict[Output, str]:
        """What ``mlp`` finds the monitoring by: schedules, alarms and, with model quality, where labels go and what
        they must be. Lists are comma-separated; an empty one is left out (an output needs a value)."""
        outputs: dict[Output, str] = {}
        if self.schedule_names:
            outputs[Output.MONITORING_SCHEDULE_NAMES] = ",".join(self.schedule_names.values())
        if self.alarms:
            outputs[Output.MONITORING_ALARM_NAMES] = Fn.join(",", [alarm.alarm_name for alarm in self.alarms.values()])
        if MODEL_QUALITY.id in self.schedules:
            outputs[Output.GROUND_TRUTH_URI] = self.ground_truth_uri
            outputs[Output.MODEL_QUALITY_PROBLEM_TYPE] = self.problem_type.value
        return outputs

    def metric(self, monitor: Monitor, metric_name: str, statistic: str) -> cloudwatch.Metric:
        """A metric ``monitor``'s runs write, per run (period: the schedule's interval)."""
        return cloudwatch.Metric(
            namespace=monitor.namespace.value,
            metric_name=metric_name,
            dimensions_map={
                "Endpoint": self.endpoint.endpoint_name,
                "MonitoringSchedule": self.schedule_names[monitor.id],
            },
            statistic=statistic,
            period=Duration.seconds(self.props.period_seconds),
        )

    def _name(self, suffix: str) -> str:
        return Names.unique_resource_name(self, separator="-", max_length=NAME_LENGTH - len(suffix) - 1) + f"-{suffix}"

    def _data_quality_definition(
        self, image: ContainerImageConfig, shared: dict[str, Any], output: Any, endpoint_input: Any
    ) -> sagemaker.CfnDataQualityJobDefinition:
        baseline = self.props.baseline
        assert baseline is not None  # data quality is monitored only with a baseline
        return sagemaker.CfnDataQualityJobDefinition(
            self,
            "DataQualityJobDefinition",
            data_quality_app_specification=sagemaker.CfnDataQualityJobDefinition.DataQualityAppSpecificationProperty(
                image_uri=image.image_uri, container_entrypoint=[DATA_QUALITY.command]
            ),
            data_quality_baseline_config=sagemaker.CfnDataQualityJobDefinition.DataQualityBaselineConfigProperty(
                constraints_resource=sagemaker.CfnDataQualityJobDefinition.ConstraintsResourceProperty(
                    s3_uri=baseline.constraints_uri
                ),
                statistics_resource=sagemaker.CfnDataQualityJobDefinition.StatisticsResourceProperty(
                    s3_uri=baseline.statistics_uri
                ),
            ),
            data_quality_job_input=sagemaker.CfnDataQualityJobDefinition.DataQualityJobInputProperty(
                endpoint_input=endpoint_input
            ),
            data_quality_job_output_config=output,
            **shared,
        )

    def _model_quality_definition(
        self,
        image: ContainerImageConfig,
        data_store: IDataStore,
        shared: dict[str, Any],
        output: Any,
        endpoint_input: Any,
    ) -> sagemaker.CfnModelQualityJobDefinition:
        gate = self.quality_gate
        return sagemaker.CfnModelQualityJobDefinition(
            self,
            "ModelQualityJobDefinition",
            model_quality_app_specification=sagemaker.CfnModelQualityJobDefinition.ModelQualityAppSpecificationProperty(
                image_uri=image.image_uri,
                container_entrypoint=[MODEL_QUALITY.command],
                problem_type=self.problem_type,
                environment={
                    "quality_metric": gate.metric,
                    "quality_threshold": repr(gate.threshold),
                    "ground_truth_source": GROUND_TRUTH_LOCAL_PATH,
                },
            ),
            model_quality_job_input=sagemaker.CfnModelQualityJobDefinition.ModelQualityJobInputProperty(
                endpoint_input=endpoint_input,
                ground_truth_s3_input=sagemaker.CfnModelQualityJobDefinition.MonitoringGroundTruthS3InputProperty(
                    s3_uri=self.ground_truth_uri
                ),
            ),
            model_quality_job_output_config=output,
            **shared,
        )

    def _grant(
        self,
        image: ContainerImageConfig,
        data_store: IDataStore,
        vpc: ec2.IVpc,
        subnets: ec2.SelectedSubnets,
        security_group: ec2.ISecurityGroup,
    ) -> None:
        stack = Stack.of(self)
        image.grant_pull(self.role)
        baseline_prefixes = self.props.baseline.prefixes if self.props.baseline else ()
        read = sorted({DataPrefix.CAPTURE, DataPrefix.GROUND_TRUTH, *baseline_prefixes})
        data_store.grant_read(self.role, *read)
        data_store.grant_write(self.role, DataPrefix.MONITORING)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="WriteJobLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"{PROCESSING_LOG_GROUP}:*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PublishMonitoringMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "cloudwatch:namespace": [
                            MonitoringMetric.DATA_QUALITY_NAMESPACE.value,
                            MonitoringMetric.MODEL_QUALITY_NAMESPACE.value,
                            PROCESSING_LOG_GROUP,
                        ]
                    }
                },
            )
        )
        grant_vpc_network_interfaces(
            self.role, vpc=vpc, subnet_ids=subnets.subnet_ids, security_groups=[security_group]
        )
        acknowledge_inline_policy(self.role)
        acknowledge_wildcard_resources(
            self.role,
            {
                "*": "ecr:GetAuthorizationToken, cloudwatch:PutMetricData and the ec2:Describe* calls SageMaker makes "
                "for the VPC support no resource-level permissions; PutMetricData is limited to the monitoring and "
                "processing namespaces by a condition.",
                f"{PROCESSING_LOG_GROUP}:*": "Log streams of the processing jobs' log group, which SageMaker names "
                "per job.",
                **{
                    f"/{prefix.value}*": f"Objects under the {prefix.value} prefix of the Region's bucket only; "
                    "SageMaker names them per endpoint, hour and execution."
                    for prefix in (*read, DataPrefix.MONITORING)
                },
                **NETWORK_INTERFACE_WILDCARD_REASONS,
            },
        )
