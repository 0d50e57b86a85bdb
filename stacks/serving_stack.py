"""The Region's real-time serving: the endpoint, its alarms and the Region's dashboard."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from constructs import Construct

from ml_constructs import (
    AlertTopic,
    CapacitySchedule,
    DataStore,
    EndpointAlarms,
    ModelEndpoint,
    ModelImage,
    ModelMonitoring,
    PlatformDashboard,
    PrivateNetwork,
    TrafficRouting,
)
from ml_constructs.log_retention import retention_days
from ml_constructs.training_pipeline_props import QualityGate
from platform_config import RegionConfig
from platform_contract.names import Output


class ServingStack(Stack):
    """Serves the configured model from the private network and watches it.

    Stateless: every resource can be replaced by a deployment. The Region's dashboard lives here, since a
    Region without a model has nothing to show on it.

    :param pipeline_name: the Region's training pipeline, shown on the dashboard. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: RegionConfig,
        data_store: DataStore,
        alerts: AlertTopic,
        network: PrivateNetwork,
        pipeline_name: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, termination_protection=config.is_prod, **kwargs)
        serving = config.settings.serving
        shifting = serving.traffic_shifting
        alarms = config.settings.alarms

        image = ModelImage(self, "ModelImage")
        self.endpoint = ModelEndpoint(
            self,
            "Endpoint",
            image=image,
            model_package_arn=serving.model_package_arn,
            model_data_url=serving.model_data_url,
            data_store=data_store,
            vpc=network.vpc,
            vpc_subnets=network.subnets,
            security_groups=[
                network.add_workload_security_group(
                    self, "EndpointSecurityGroup", description="SageMaker endpoint instances: no ingress, HTTPS egress"
                )
            ],
            instance_type=serving.instance_type,
            min_capacity=serving.min_capacity,
            max_capacity=serving.max_capacity,
            high_availability=config.is_prod,
            target_invocations_per_instance=serving.target_invocations_per_minute,
            scale_out_cooldown=Duration.seconds(serving.scale_out_cooldown_seconds),
            scale_in_cooldown=Duration.seconds(serving.scale_in_cooldown_seconds),
            capacity_schedules=[
                CapacitySchedule(
                    name=window.name,
                    schedule=appscaling.Schedule.expression(window.schedule),
                    min_capacity=window.min_capacity,
                    max_capacity=window.max_capacity,
                )
                for window in serving.scheduled_capacity
            ],
            data_capture_sampling_percent=serving.data_capture_sampling_percent,
            traffic_routing=TrafficRouting(
                shifting.mode, shifting.step_percent, Duration.seconds(shifting.wait_seconds)
            ),
            termination_wait=Duration.seconds(shifting.termination_wait_seconds),
            rollback_server_error_rate_percent=alarms.server_error_rate_percent,
            rollback_model_latency_p99_ms=alarms.model_latency_p99_ms,
            log_retention=retention_days(config.settings.log_retention_days),
        )
        self.alarms = EndpointAlarms(
            self,
            "Alarms",
            endpoint=self.endpoint,
            topic=alerts.topic,
            max_requests_per_second_per_instance=serving.max_requests_per_second_per_instance,
            server_error_rate_percent=alarms.server_error_rate_percent,
            client_error_rate_percent=alarms.client_error_rate_percent,
            model_latency_p99_ms=alarms.model_latency_p99_ms,
            overhead_latency_p99_ms=alarms.overhead_latency_p99_ms,
            cpu_utilization_percent=alarms.cpu_utilization_percent,
            memory_utilization_percent=alarms.memory_utilization_percent,
            disk_utilization_percent=alarms.disk_utilization_percent,
            invocations_per_instance_percent_of_max=alarms.invocations_per_instance_percent_of_max,
            period=Duration.seconds(alarms.period_seconds),
            evaluation_periods=alarms.evaluation_periods,
            datapoints_to_alarm=alarms.datapoints_to_alarm,
        )
        monitoring = serving.monitoring
        self.monitoring = (
            ModelMonitoring(
                self,
                "Monitoring",
                endpoint=self.endpoint,
                image=image,
                data_store=data_store,
                vpc=network.vpc,
                vpc_subnets=network.subnets,
                security_group=network.add_workload_security_group(
                    self, "MonitoringSecurityGroup", description="SageMaker monitoring jobs: no ingress, HTTPS egress"
                ),
                topic=alerts.topic,
                quality_gate=QualityGate(**config.settings.training.quality_gate.model_dump()),
                props=monitoring.props(),
            )
            if monitoring.enabled
            else None
        )
        self.dashboard = PlatformDashboard(
            self,
            "Dashboard",
            endpoint=self.endpoint,
            alarms=[
                *self.alarms.alarms,
                *self.endpoint.rollback_alarms,
                *(self.monitoring.alarms.values() if self.monitoring else ()),
            ],
            pipeline_name=pipeline_name,
        )
        # Operators' tools find the Region's resources through these outputs, never through guessed names.
        CfnOutput(self, Output.ENDPOINT_NAME.value, value=self.endpoint.endpoint_name)
        # What the endpoint must run once a deploy is complete; SageMaker may have rolled the update back.
        CfnOutput(self, Output.ENDPOINT_CONFIG_NAME.value, value=self.endpoint.endpoint_config_name)
        CfnOutput(self, Output.VARIANT_NAME.value, value=self.endpoint.variant_name)
        CfnOutput(self, Output.DASHBOARD_NAME.value, value=self.dashboard.dashboard_name)
