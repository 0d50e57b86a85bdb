"""A private, autoscaled SageMaker real-time endpoint that serves the platform's image and rolls out new models
gradually, rolling back on its own alarms."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aws_cdk import ArnFormat, Duration, Names, RemovalPolicy, Stack, Token
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ml_constructs.compliance import acknowledge, acknowledge_inline_policy
from ml_constructs.data_store import DataStore
from ml_constructs.vpc_job_access import (
    NETWORK_INTERFACE_WILDCARD_REASONS,
    grant_vpc_network_interfaces,
    select_subnets,
)
from ml_constructs.wildcard_acknowledgment import acknowledge_wildcard_resources
from platform_contract.instance_types import InstanceType
from platform_contract.names import DataPrefix

INVOCATION_NAMESPACE = "AWS/SageMaker"
"""Invocation, error and latency metrics, published by SageMaker per endpoint and variant."""
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"
"""CPU, memory and disk utilization of the endpoint's instances."""
LOG_GROUP_PREFIX = "/aws/sagemaker/Endpoints/"
"""SageMaker writes an endpoint's container logs to the log group of this prefix and the endpoint's name
(https://docs.aws.amazon.com/sagemaker/latest/dg/logging-cloudwatch.html)."""
# Endpoint names: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpoint.html).
_ENDPOINT_NAME_LENGTH = 63

# SageMaker's limits: a canary is at most half the variant's instance count, a linear step 10-50 % of it
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html).
_CANARY_PERCENT_RANGE = (1, 50)
# A step is at least one instance and at most half the fleet, so a fleet must have two instances to be split.
SPLITTABLE_FLEET = 2
_LINEAR_STEP_PERCENT_RANGE = (10, 50)
_MAXIMUM_EXECUTION_TIMEOUT_RANGE = (600, 28800)
_MAXIMUM_WAIT_SECONDS = 3600
# Time SageMaker needs to provision and health-check the new fleet before the first traffic shift.
_PROVISIONING_ALLOWANCE = Duration.hours(1)
# Rollback alarms look at one-minute datapoints and trip after this many bad ones in a row: fast
# enough to stop a canary within its baking time, slow enough to ignore a single bad minute.
_ROLLBACK_DATAPOINTS = 2
_ROLLBACK_PERIOD = Duration.minutes(1)


@dataclass(frozen=True)
class TrafficRouting:
    """How a blue/green update moves traffic from the old fleet to the new one.

    ``canary``: ``percent`` of the capacity first, the rest after ``wait``. ``linear``: ``percent`` per step,
    ``wait`` between steps. ``all_at_once``: every request moves to the new fleet at once, which then bakes for
    ``wait`` before the old fleet goes (``percent`` is 100). The rollback alarms watch every step.
    """

    mode: Literal["canary", "linear", "all_at_once"]
    percent: int
    wait: Duration

    @classmethod
    def canary(cls, percent: int, wait: Duration) -> TrafficRouting:
        return cls("canary", percent, wait)

    @classmethod
    def linear(cls, percent: int, wait: Duration) -> TrafficRouting:
        return cls("linear", percent, wait)

    @classmethod
    def all_at_once(cls, wait: Duration) -> TrafficRouting:
        return cls("all_at_once", 100, wait)

    @property
    def splits_the_fleet(self) -> bool:
        """Whether a share of the new fleet takes traffic while the old fleet serves the rest."""
        return self.mode != "all_at_once"

    def for_fleet(self, smallest_instance_count: int) -> TrafficRouting:
        """This routing, or all at once with the same baking where the fleet may be too small to split.

        SageMaker sizes a canary or linear step in instances, at most half of the variant's instance count, so a
        one-instance fleet cannot be split; all at once keeps the baking and the rollback alarms.
        """
        if self.splits_the_fleet and smallest_instance_count < SPLITTABLE_FLEET:
            return TrafficRouting.all_at_once(self.wait)
        return self

    @property
    def steps(self) -> int:
        """Traffic shifts that are each followed by a baking time of ``wait``."""
        return math.ceil(100 / self.percent) if self.mode == "linear" else 1

    def problems(self) -> list[str]:
        """What SageMaker would reject, each with what is allowed."""
        if not self.splits_the_fleet:
            return self._wait_problems()
        low, high = _CANARY_PERCENT_RANGE if self.mode == "canary" else _LINEAR_STEP_PERCENT_RANGE
        found = []
        if not low <= self.percent <= high:
            found.append(
                f"{self.mode} traffic routing moves {self.percent}% of the capacity per step; "
                f"allowed: {low}-{high}% (SageMaker's limit for {self.mode} steps)"
            )
        return found + self._wait_problems()

    def _wait_problems(self) -> list[str]:
        if not 0 <= self.wait.to_seconds() <= _MAXIMUM_WAIT_SECONDS:
            return [f"traffic routing wait is {self.wait.to_seconds()} s; allowed: 0-{_MAXIMUM_WAIT_SECONDS} s"]
        return []

    def render(self) -> sagemaker.CfnEndpoint.TrafficRoutingConfigProperty:
        """The TrafficRoutingConfiguration of the endpoint's blue/green update policy."""
        size = sagemaker.CfnEndpoint.CapacitySizeProperty(type="CAPACITY_PERCENT", value=self.percent)
        return sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
            type=self.mode.upper(),
            wait_interval_in_seconds=int(self.wait.to_seconds()),
            canary_size=size if self.mode == "canary" else None,
            linear_step_size=size if self.mode == "linear" else None,
        )


@dataclass(frozen=True)
class CapacitySchedule:
    """A recurring change of the autoscaling bounds, e.g. fewer instances at night. It applies until the next
    schedule changes the bounds again, so a night window needs a morning schedule that restores the day bounds."""

    name: str
    schedule: appscaling.Schedule
    min_capacity: int
    max_capacity: int


def _is_unresolved(*values: object) -> bool:
    return any(Token.is_unresolved(value) for value in values)


class ModelEndpoint(Construct):
    """A SageMaker real-time endpoint in private subnets that serves the platform's image, captures requests and
    responses to the data bucket, scales on invocations per instance and rolls new models out blue/green.

    Resources: an execution role, a network-isolated model in the VPC, an endpoint config (volume and captured
    data encrypted with the Region's key), the endpoint with a canary or linear blue/green deployment policy that
    rolls back on this construct's ``rollback_alarms``, and an Application Auto Scaling target with a
    target-tracking policy (through the service-linked role) and optional schedules.

    Updates deploy without manual steps because of how the resources depend on each other:

    * Model and endpoint config have names generated by CloudFormation, so a changed model or config is a new
      resource that is created before the old one is deleted.
    * A new model (new package version, artifact or image) or new capacity settings update the endpoint in
      place with ``UpdateEndpoint``: a blue/green deployment with traffic shifting, watched by the rollback
      alarms. ``RetainAllVariantProperties`` keeps the instance count the autoscaler has reached, so a
      deployment never scales a busy endpoint back to its initial count; ``DesiredWeight`` is excluded, since
      the template owns the variant's traffic weight, and so is ``DesiredInstanceCount`` where nothing
      autoscales the fleet, so that a new ``min_capacity`` reaches it. SageMaker accepts such updates while
      the variant is registered with Application Auto Scaling, and the variant name stays the same, as
      blue/green requires.
    * A canary or linear step is a share of the fleet's instances, at most half of them, so a fleet that may
      run a single instance (``min_capacity`` or a schedule's minimum of 1) is updated all at once instead,
      baking ``traffic_routing.wait`` under the same rollback alarms (``self.traffic_routing`` says which).
    * The endpoint's name is derived from its construct path, which contains the instance type, so that its
      log group (``/aws/sagemaker/Endpoints/<name>``, with ``log_retention`` and the Region's key) exists
      before SageMaker starts the endpoint and writes to it; SageMaker would otherwise create the group
      itself, without retention or key, and CloudFormation could then not create it.
    * A new instance type is the one change SageMaker refuses on a registered variant (the registration would
      have to be removed first, which CloudFormation has no resource for: aws-cdk issue 29626). The endpoint's
      construct ID therefore contains the instance type: a new type creates a new endpoint next to the old one.
      The scalable target's ResourceId is built from the endpoint's name and variant, so CloudFormation replaces
      the registration too: the new endpoint is registered once it is in service, and the old registration and
      endpoint are deleted afterwards. Clients read the new name from the stack output ``EndpointName``.
    * The rollback alarms watch the endpoint, yet the endpoint names them: to avoid a dependency cycle they
      have fixed names derived from their construct path, and the endpoint refers to those names, not to the
      alarm resources. SageMaker reads them only while an update runs, by which time they exist.

    :param image: the serving image (the platform's ``ModelImage``). With a model package it is the image the
        package was registered with; the execution role may pull from its repository only. Required.
    :param model_package_arn: approved model package version to serve. Give this or ``model_data_url``.
    :param model_data_url: ``s3://`` URI of a model.tar.gz under the data bucket's models/ prefix, served with
        ``image``. Give this or ``model_package_arn``.
    :param data_store: the Region's data store: the role reads models/ and writes capture/, its key encrypts the
        instance volumes and the captured data. Required.
    :param vpc: VPC of the endpoint's network interfaces. Required.
    :param vpc_subnets: subnets of the network interfaces, in at least two Availability Zones. Required.
    :param security_groups: security groups of the network interfaces. Required.
    :param instance_type: ML instance type. Default: ml.m5.large.
    :param min_capacity: instances at least, and the initial instance count. Default: 1.
    :param max_capacity: instances at most. Default: 4. Autoscaling is on when it exceeds ``min_capacity`` or
        ``capacity_schedules`` are given; burstable (ml.t*) instances cannot autoscale.
    :param high_availability: require at least two instances at all times, which SageMaker spreads over
        Availability Zones. Default: false.
    :param target_invocations_per_instance: target of the SageMakerVariantInvocationsPerInstance policy, in
        invocations per instance per minute. Required.
    :param scale_out_cooldown: Default: 1 minute.
    :param scale_in_cooldown: longer than ``scale_out_cooldown``. Default: 10 minutes.
    :param capacity_schedules: scheduled changes of the bounds. Default: none.
    :param data_capture_sampling_percent: share of requests and responses captured. Default: 20.
    :param traffic_routing: Default: a 10 % canary that bakes for 5 minutes; all at once with the same baking
        for a fleet that may run a single instance.
    :param termination_wait: time the old fleet is kept after the last shift. Default: 2 minutes.
    :param maximum_execution_timeout: limit of a whole deployment. Default: the baking time of every step plus
        ``termination_wait`` plus one hour to provision the new fleet.
    :param rollback_server_error_rate_percent: 5XX share of invocations that rolls a deployment back. Default: 1.
    :param rollback_model_latency_p99_ms: p99 model latency that rolls a deployment back. Default: 250.
    :param vcpus_per_instance: vCPUs of ``instance_type``, which scale CPUUtilization (summed over vCPUs).
        Default: derived from the size (large 2, xlarge 4, Nxlarge 4N); required where that rule fails.
    :param log_retention: retention of the endpoint's log group. Default: one year.
    """

    VARIANT_NAME = "AllTraffic"
    """The one production variant. Blue/green updates need the same variant name in old and new config."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        image: ecr_assets.DockerImageAsset,
        model_package_arn: str | None = None,
        model_data_url: str | None = None,
        data_store: DataStore,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        security_groups: Sequence[ec2.ISecurityGroup],
        instance_type: str = "ml.m5.large",
        min_capacity: int = 1,
        max_capacity: int = 4,
        high_availability: bool = False,
        target_invocations_per_instance: int,
        scale_out_cooldown: Duration = Duration.minutes(1),
        scale_in_cooldown: Duration = Duration.minutes(10),
        capacity_schedules: Sequence[CapacitySchedule] = (),
        data_capture_sampling_percent: int = 20,
        traffic_routing: TrafficRouting = TrafficRouting.canary(10, Duration.minutes(5)),
        termination_wait: Duration = Duration.minutes(2),
        maximum_execution_timeout: Duration | None = None,
        rollback_server_error_rate_percent: float = 1.0,
        rollback_model_latency_p99_ms: float = 250.0,
        vcpus_per_instance: int | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        super().__init__(scope, id)
        subnets = select_subnets(vpc, vpc_subnets)
        parsed_type = InstanceType.parse(instance_type)
        self.instance_type = instance_type
        self.min_capacity = min_capacity
        self.max_capacity = max_capacity
        self.autoscaling = max_capacity > min_capacity or bool(capacity_schedules)
        self.vcpus_per_instance = vcpus_per_instance or (parsed_type and parsed_type.vcpus)
        smallest_fleet = min([min_capacity, *(window.min_capacity for window in capacity_schedules)])
        self.traffic_routing = traffic_routing.for_fleet(smallest_fleet)
        baking = self.traffic_routing.wait.to_seconds() * self.traffic_routing.steps + termination_wait.to_seconds()
        timeout = maximum_execution_timeout or Duration.seconds(
            max(_MAXIMUM_EXECUTION_TIMEOUT_RANGE[0], baking + _PROVISIONING_ALLOWANCE.to_seconds())
        )
        self._validate(
            model_package_arn=model_package_arn,
            model_data_url=model_data_url,
            availability_zones=subnets.availability_zones,
            security_groups=security_groups,
            parsed_type=parsed_type,
            high_availability=high_availability,
            target_invocations_per_instance=target_invocations_per_instance,
            scale_out_cooldown=scale_out_cooldown,
            scale_in_cooldown=scale_in_cooldown,
            capacity_schedules=capacity_schedules,
            data_capture_sampling_percent=data_capture_sampling_percent,
            traffic_routing=traffic_routing,
            termination_wait=termination_wait,
            baking_seconds=baking,
            timeout=timeout,
            rollback_thresholds=(rollback_server_error_rate_percent, rollback_model_latency_p99_ms),
        )
        has_instance_storage = bool(parsed_type and parsed_type.family.local_storage)
        rollback_alarm_names = {
            purpose: Names.unique_resource_name(self, separator="-", max_length=200) + f"-{purpose}"
            for purpose in ("RollbackServerErrorRate", "RollbackModelLatency")
        }

        fleet = "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]", instance_type))
        # Named after the instance type, so that a new type creates a new endpoint (see the class docstring);
        # a type known only at deploy time cannot be part of the ID.
        endpoint_id = "Endpoint" if _is_unresolved(instance_type) else fleet
        name = (
            Names.unique_resource_name(self, separator="-", max_length=_ENDPOINT_NAME_LENGTH - len(endpoint_id) - 1)
            + f"-{endpoint_id}"
        )
        self.log_group = logs.LogGroup(
            self,
            f"{endpoint_id}Logs",
            log_group_name=LOG_GROUP_PREFIX + name,
            retention=log_retention,
            encryption_key=data_store.key,
            # SageMaker writes here only while the endpoint exists; the Serving stack holds no state.
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Runs one SageMaker endpoint: pulls its image, reads models/, writes capture/",
        )
        self._grant_execution(
            image=image,
            data_store=data_store,
            vpc=vpc,
            subnets=subnets,
            security_groups=security_groups,
            rollback_alarm_names=rollback_alarm_names.values(),
        )

        container = (
            sagemaker.CfnModel.ContainerDefinitionProperty(model_package_name=model_package_arn)
            if model_package_arn
            else sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image.image_uri, model_data_url=model_data_url, mode="SingleModel"
            )
        )
        self.model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.role.role_arn,
            primary_container=container,
            # The container never reaches the network; SageMaker alone fetches the model with the role.
            enable_network_isolation=True,
            vpc_config=sagemaker.CfnModel.VpcConfigProperty(
                subnets=subnets.subnet_ids,
                security_group_ids=[group.security_group_id for group in security_groups],
            ),
        )
        # Not the role alone: the endpoint pulls the image and reads the model with the role's policy.
        self.model.node.add_dependency(self.role)

        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=self.VARIANT_NAME,
                    model_name=self.model.attr_model_name,
                    instance_type=instance_type,
                    initial_instance_count=min_capacity,
                    initial_variant_weight=1.0,
                )
            ],
            kms_key_id=None if has_instance_storage else data_store.key.key_arn,
            data_capture_config=sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
                enable_capture=True,
                initial_sampling_percentage=data_capture_sampling_percent,
                destination_s3_uri=data_store.prefix_uri(DataPrefix.CAPTURE),
                kms_key_id=data_store.key.key_arn,
                capture_options=[
                    sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode=mode) for mode in ("Input", "Output")
                ],
            ),
        )
        if has_instance_storage:
            for pack in ("NIST.800.53.R5", "HIPAA.Security"):
                acknowledge(
                    self.endpoint_config,
                    f"{pack}::{pack}-SageMakerEndpointConfigurationKMSKeyConfigured",
                    f"{instance_type} keeps its volumes on NVMe instance storage, which the instance's hardware "
                    "module encrypts; SageMaker rejects a KMS volume key for such instance types.",
                )

        # The template, not a manual UpdateEndpointWeightsAndCapacities call, owns the traffic weight; the
        # instance count belongs to the autoscaler where there is one
        # (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_VariantProperty.html).
        excluded = ["DesiredWeight"] if self.autoscaling else ["DesiredWeight", "DesiredInstanceCount"]
        self.cfn_endpoint = sagemaker.CfnEndpoint(
            self,
            endpoint_id,
            endpoint_name=name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            retain_all_variant_properties=True,
            exclude_retained_variant_properties=[
                sagemaker.CfnEndpoint.VariantPropertyProperty(variant_property_type=name) for name in excluded
            ],
            deployment_config=sagemaker.CfnEndpoint.DeploymentConfigProperty(
                blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                    traffic_routing_configuration=self.traffic_routing.render(),
                    termination_wait_in_seconds=int(termination_wait.to_seconds()),
                    maximum_execution_timeout_in_seconds=int(timeout.to_seconds()),
                ),
                auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
                    alarms=[
                        sagemaker.CfnEndpoint.AlarmProperty(alarm_name=name) for name in rollback_alarm_names.values()
                    ]
                ),
            ),
        )
        # SageMaker creates the group when the endpoint starts unless it exists: make it exist first.
        self.cfn_endpoint.node.add_dependency(self.log_group)
        # The attribute, not the name: what refers to the endpoint (the scalable target) waits for it.
        self.endpoint_name: str = self.cfn_endpoint.attr_endpoint_name
        self.endpoint_config_name: str = self.endpoint_config.attr_endpoint_config_name
        self.endpoint_arn: str = self.cfn_endpoint.attr_endpoint_arn
        self.variant_name = self.VARIANT_NAME

        self.rollback_alarms: list[cloudwatch.Alarm] = [
            self._rollback_alarm(
                "RollbackServerErrorRate",
                rollback_alarm_names["RollbackServerErrorRate"],
                self.metric_server_error_rate(period=_ROLLBACK_PERIOD),
                rollback_server_error_rate_percent,
                f"Rolls back a deployment of {self.VARIANT_NAME} while more than {rollback_server_error_rate_percent}% "
                "of invocations fail with 5XX",
            ),
            self._rollback_alarm(
                "RollbackModelLatency",
                rollback_alarm_names["RollbackModelLatency"],
                self.metric_model_latency(period=_ROLLBACK_PERIOD),
                rollback_model_latency_p99_ms * 1000,
                f"Rolls back a deployment of {self.VARIANT_NAME} while p99 model latency exceeds "
                f"{rollback_model_latency_p99_ms} ms ({rollback_model_latency_p99_ms * 1000:g} microseconds)",
            ),
        ]

        if self.autoscaling:
            self._add_autoscaling(
                target_invocations_per_instance, scale_out_cooldown, scale_in_cooldown, capacity_schedules
            )

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Lets ``grantee`` call InvokeEndpoint on this endpoint."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:InvokeEndpoint"], resource_arns=[self.endpoint_arn]
        )

    def metric(
        self,
        metric_name: str,
        *,
        namespace: str = INVOCATION_NAMESPACE,
        statistic: str = "Sum",
        period: Duration = Duration.minutes(1),
        unit: cloudwatch.Unit | None = None,
        label: str | None = None,
    ) -> cloudwatch.Metric:
        """A metric of this endpoint's variant (dimensions EndpointName and VariantName)."""
        return cloudwatch.Metric(
            namespace=namespace,
            metric_name=metric_name,
            dimensions_map={"EndpointName": self.endpoint_name, "VariantName": self.variant_name},
            statistic=statistic,
            period=period,
            unit=unit,
            label=label,
        )

    def metric_invocations(self, *, period: Duration = Duration.minutes(1)) -> cloudwatch.Metric:
        """InvokeEndpoint requests, errors included (Sum)."""
        return self.metric("Invocations", period=period, label="Invocations")

    def metric_invocation_5xx_errors(self, *, period: Duration = Duration.minutes(1)) -> cloudwatch.Metric:
        """Invocations answered with a 5XX status (Sum)."""
        return self.metric("Invocation5XXErrors", period=period, label="5XX errors")

    def metric_invocation_4xx_errors(self, *, period: Duration = Duration.minutes(1)) -> cloudwatch.Metric:
        """Invocations answered with a 4XX status (Sum)."""
        return self.metric("Invocation4XXErrors", period=period, label="4XX errors")

    def metric_invocations_per_instance(self, *, period: Duration = Duration.minutes(1)) -> cloudwatch.Metric:
        """Invocations divided by the variant's instance count (Sum); the metric the autoscaler tracks per minute."""
        return self.metric("InvocationsPerInstance", period=period, label="Invocations per instance")

    def metric_model_latency(self, *, period: Duration = Duration.minutes(1)) -> cloudwatch.Metric:
        """Time the container takes to answer (p99, in microseconds as SageMaker reports it)."""
        return self.metric(
            "ModelLatency", statistic="p99", period=period, unit=cloudwatch.Unit.MICROSECONDS, label="Model latency p99"
        )

    def metric_overhead_latency(self, *, period: Duration = Duration.minutes(1)) -> cloudwatch.Metric:
        """Time SageMaker adds around the container (p99, in microseconds)."""
        return self.metric(
            "OverheadLatency",
            statistic="p99",
            period=period,
            unit=cloudwatch.Unit.MICROSECONDS,
            label="Overhead latency p99",
        )

    def metric_cpu_utilization(self, *, period: Duration = Duration.minutes(1)) -> cloudwatch.Metric:
        """CPU use averaged over the instances, summed over each instance's vCPUs (0 to 100 × vCPUs)."""
        return self.metric(
            "CPUUtilization",
            namespace=INSTANCE_NAMESPACE,
            statistic="Average",
            period=period,
            label="CPU utilization (sum over vCPUs)",
        )

    def metric_memory_utilization(self, *, period: Duration = Duration.minutes(1)) -> cloudwatch.Metric:
        """Memory use of the fullest instance (Maximum, percent): one instance running out fails its requests."""
        return self.metric(
            "MemoryUtilization",
            namespace=INSTANCE_NAMESPACE,
            statistic="Maximum",
            period=period,
            label="Memory utilization (fullest instance)",
        )

    def metric_disk_utilization(self, *, period: Duration = Duration.minutes(1)) -> cloudwatch.Metric:
        """Disk use of the fullest instance (Maximum, percent)."""
        return self.metric(
            "DiskUtilization",
            namespace=INSTANCE_NAMESPACE,
            statistic="Maximum",
            period=period,
            label="Disk utilization (fullest instance)",
        )

    def metric_server_error_rate(self, *, period: Duration = Duration.minutes(1)) -> cloudwatch.MathExpression:
        """5XX responses as a percentage of invocations; no datapoint while there is no traffic."""
        return self._rate(
            "serverErrors", self.metric_invocation_5xx_errors(period=period), "5XX error rate (%)", period
        )

    def metric_client_error_rate(self, *, period: Duration = Duration.minutes(1)) -> cloudwatch.MathExpression:
        """4XX responses as a percentage of invocations; no datapoint while there is no traffic."""
        return self._rate(
            "clientErrors", self.metric_invocation_4xx_errors(period=period), "4XX error rate (%)", period
        )

    def metric_instance_count(self, *, period: Duration = Duration.minutes(1)) -> cloudwatch.MathExpression:
        """In-service instances, derived as Invocations ÷ InvocationsPerInstance.

        SageMaker publishes no instance-count metric for a variant, but InvocationsPerInstance is Invocations
        normalized by the instance count, so their ratio is the count. It has datapoints only while there
        is traffic, which is when the count matters.
        """
        return cloudwatch.MathExpression(
            expression="invocations / perInstance",
            using_metrics={
                "invocations": self.metric_invocations(period=period),
                "perInstance": self.metric_invocations_per_instance(period=period),
            },
            period=period,
            label="Instances (Invocations ÷ InvocationsPerInstance)",
        )

    def _rate(self, name: str, errors: cloudwatch.Metric, label: str, period: Duration) -> cloudwatch.MathExpression:
        return cloudwatch.MathExpression(
            expression=f"100 * {name} / invocations",
            using_metrics={name: errors, "invocations": self.metric_invocations(period=period)},
            period=period,
            label=label,
        )

    def _rollback_alarm(
        self, id: str, name: str, metric: cloudwatch.IMetric, threshold: float, description: str
    ) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self,
            id,
            alarm_name=name,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=_ROLLBACK_DATAPOINTS,
            datapoints_to_alarm=_ROLLBACK_DATAPOINTS,
            # No traffic on the new fleet is no reason to roll it back.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _grant_execution(
        self,
        *,
        image: ecr_assets.DockerImageAsset,
        data_store: DataStore,
        vpc: ec2.IVpc,
        subnets: ec2.SelectedSubnets,
        security_groups: Sequence[ec2.ISecurityGroup],
        rollback_alarm_names: Sequence[str],
    ) -> None:
        stack = Stack.of(self)
        image.repository.grant_pull(self.role)
        data_store.grant_read(self.role, DataPrefix.MODELS)
        # Data capture writes with the execution role, encrypting with the Region's key through S3.
        data_store.grant_write(self.role, DataPrefix.CAPTURE)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="EndpointLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="EndpointMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            )
        )
        # SageMaker reads the rollback alarms' state with the execution role during a deployment.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RollbackAlarms",
                actions=["cloudwatch:DescribeAlarms"],
                resources=[
                    stack.format_arn(
                        service="cloudwatch",
                        resource="alarm",
                        resource_name=name,
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                    for name in rollback_alarm_names
                ],
            )
        )
        grant_vpc_network_interfaces(self.role, vpc=vpc, subnet_ids=subnets.subnet_ids, security_groups=security_groups)
        acknowledge_inline_policy(self.role)
        acknowledge_wildcard_resources(
            self.role,
            {
                "*": "ecr:GetAuthorizationToken, cloudwatch:PutMetricData and the ec2:Describe* calls SageMaker makes "
                "for the VPC support no resource-level permissions; PutMetricData is limited to SageMaker's "
                "namespaces by a condition.",
                f"/{DataPrefix.MODELS.value}*": "Reads objects under the models/ prefix of the Region's bucket only: "
                "model artifacts get keys generated by the training pipeline.",
                f"/{DataPrefix.CAPTURE.value}*": "Data capture writes under the capture/ prefix of the Region's bucket "
                "only, with keys SageMaker generates per endpoint, variant and hour.",
                **NETWORK_INTERFACE_WILDCARD_REASONS,
            },
        )

    def _add_autoscaling(
        self,
        target_invocations_per_instance: int,
        scale_out_cooldown: Duration,
        scale_in_cooldown: Duration,
        capacity_schedules: Sequence[CapacitySchedule],
    ) -> None:
        # No RoleARN: Application Auto Scaling uses (and creates if needed) its SageMaker service-linked role.
        self.scalable_target = appscaling.CfnScalableTarget(
            self,
            "ScalableTarget",
            service_namespace="sagemaker",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            # Built from the endpoint's name: a replaced endpoint gets a new registration (see the class docstring).
            resource_id=f"endpoint/{self.endpoint_name}/variant/{self.variant_name}",
            min_capacity=self.min_capacity,
            max_capacity=self.max_capacity,
            scheduled_actions=[
                appscaling.CfnScalableTarget.ScheduledActionProperty(
                    scheduled_action_name=window.name,
                    schedule=window.schedule.expression_string,
                    scalable_target_action=appscaling.CfnScalableTarget.ScalableTargetActionProperty(
                        min_capacity=window.min_capacity, max_capacity=window.max_capacity
                    ),
                )
                for window in capacity_schedules
            ]
            or None,
        )
        self.scaling_policy = appscaling.CfnScalingPolicy(
            self,
            "InvocationsPerInstanceScaling",
            policy_name="invocations-per-instance",
            policy_type="TargetTrackingScaling",
            scaling_target_id=self.scalable_target.ref,
            target_tracking_scaling_policy_configuration=appscaling.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty(
                predefined_metric_specification=appscaling.CfnScalingPolicy.PredefinedMetricSpecificationProperty(
                    predefined_metric_type="SageMakerVariantInvocationsPerInstance"
                ),
                target_value=target_invocations_per_instance,
                scale_out_cooldown=int(scale_out_cooldown.to_seconds()),
                scale_in_cooldown=int(scale_in_cooldown.to_seconds()),
            ),
        )

    def _validate(
        self,
        *,
        model_package_arn: str | None,
        model_data_url: str | None,
        availability_zones: Sequence[str],
        security_groups: Sequence[ec2.ISecurityGroup],
        parsed_type: InstanceType | None,
        high_availability: bool,
        target_invocations_per_instance: int,
        scale_out_cooldown: Duration,
        scale_in_cooldown: Duration,
        capacity_schedules: Sequence[CapacitySchedule],
        data_capture_sampling_percent: int,
        traffic_routing: TrafficRouting,
        termination_wait: Duration,
        baking_seconds: float,
        timeout: Duration,
        rollback_thresholds: tuple[float, float],
    ) -> None:
        problems: list[str] = []
        if bool(model_package_arn) == bool(model_data_url):
            problems.append("give exactly one of model_package_arn and model_data_url")
        if not _is_unresolved(*availability_zones) and len(set(availability_zones)) < 2:
            problems.append(
                f"vpc_subnets are in {sorted(set(availability_zones))}; "
                "allowed: subnets in at least 2 Availability Zones"
            )
        if not security_groups:
            problems.append("security_groups is empty; allowed: at least one security group")
        if not _is_unresolved(self.instance_type):
            if parsed_type is None:
                problems.append(
                    f"instance_type '{self.instance_type}' is not allowed; "
                    "allowed: ml.<family>.<size>, e.g. ml.m5.large"
                )
            elif self.autoscaling and parsed_type.family.burstable:
                problems.append(
                    f"instance_type {self.instance_type} is burstable and SageMaker cannot autoscale it; allowed: "
                    "max_capacity equal to min_capacity and no capacity_schedules, "
                    "or a non-burstable type such as ml.m5.large"
                )
            if parsed_type and not self.vcpus_per_instance:
                problems.append(
                    f"cannot derive the vCPUs of {self.instance_type}; allowed: give vcpus_per_instance explicitly"
                )
        elif not self.vcpus_per_instance:
            problems.append(
                "cannot derive the vCPUs of an instance type known only at deploy time; "
                "allowed: give vcpus_per_instance"
            )
        if self.min_capacity < 1:
            problems.append(f"min_capacity is {self.min_capacity}; allowed: 1 or more")
        if self.min_capacity > self.max_capacity:
            problems.append(
                f"min_capacity ({self.min_capacity}) exceeds max_capacity ({self.max_capacity}); allowed: min <= max"
            )
        if high_availability and self.min_capacity < 2:
            problems.append(
                f"min_capacity is {self.min_capacity} with high_availability; allowed: 2 or more, so that SageMaker "
                "spreads instances over Availability Zones"
            )
        if target_invocations_per_instance <= 0:
            problems.append(
                f"target_invocations_per_instance is {target_invocations_per_instance}; allowed: more than 0"
            )
        if scale_in_cooldown.to_seconds() <= scale_out_cooldown.to_seconds():
            problems.append(
                f"scale_in_cooldown ({scale_in_cooldown.to_seconds()} s) must be longer than scale_out_cooldown "
                f"({scale_out_cooldown.to_seconds()} s), so that capacity is not dropped between bursts"
            )
        names = [window.name for window in capacity_schedules]
        problems += [
            f"capacity schedule '{name}' is listed twice; allowed: unique names"
            for name in sorted(set(names))
            if names.count(name) > 1
        ]
        for window in capacity_schedules:
            if window.min_capacity > window.max_capacity:
                problems.append(
                    f"capacity schedule '{window.name}': min_capacity ({window.min_capacity}) exceeds max_capacity "
                    f"({window.max_capacity}); allowed: min <= max"
                )
            if high_availability and window.min_capacity < 2:
                problems.append(
                    f"capacity schedule '{window.name}': min_capacity is {window.min_capacity} "
                    "with high_availability; allowed: 2 or more"
                )
        if not 1 <= data_capture_sampling_percent <= 100:
            problems.append(f"data_capture_sampling_percent is {data_capture_sampling_percent}; allowed: 1-100")
        problems += traffic_routing.problems()
        if traffic_routing.wait.to_seconds() < _ROLLBACK_DATAPOINTS * _ROLLBACK_PERIOD.to_seconds():
            problems.append(
                f"traffic routing wait is {traffic_routing.wait.to_seconds()} s; allowed: at least "
                f"{_ROLLBACK_DATAPOINTS * _ROLLBACK_PERIOD.to_seconds()} s, the time the rollback alarms need to trip"
            )
        if not 0 <= termination_wait.to_seconds() <= _MAXIMUM_WAIT_SECONDS:
            problems.append(
                f"termination_wait is {termination_wait.to_seconds()} s; allowed: 0-{_MAXIMUM_WAIT_SECONDS} s"
            )
        low, high = _MAXIMUM_EXECUTION_TIMEOUT_RANGE
        if not low <= timeout.to_seconds() <= high or timeout.to_seconds() <= baking_seconds:
            problems.append(
                f"maximum_execution_timeout is {timeout.to_seconds()} s for {baking_seconds} s of baking and "
                f"termination wait; allowed: {low}-{high} s and longer than the baking "
                "(fewer or shorter traffic steps shorten it)"
            )
        error_rate, latency_ms = rollback_thresholds
        if not 0 < error_rate <= 100:
            problems.append(f"rollback_server_error_rate_percent is {error_rate}; allowed: more than 0, at most 100")
        if latency_ms <= 0:
            problems.append(f"rollback_model_latency_p99_ms is {latency_ms}; allowed: more than 0")
        if problems:
            listing = "\n".join(f"  - {problem}" for problem in problems)
            raise ValueError(f"Invalid ModelEndpoint {self.node.path} ({len(problems)} problem(s)):\n{listing}")
