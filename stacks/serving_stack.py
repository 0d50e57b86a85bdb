"""The Region's real-time serving: the endpoint, its alarms and the Region's dashboard."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from ml_constructs import (
    AlertTopic,
    ContainerImage,
    EndpointAlarms,
    IDataStore,
    ModelEndpoint,
    ModelMonitoring,
    PlatformDashboard,
    PrivateNetwork,
)
from ml_constructs.container_image import TRAINING_CODE_DIR
from ml_constructs.log_retention import retention_days
from ml_constructs.model_monitoring_retraining import AlarmRetraining
from ml_constructs.training_pipeline import TrainingPipeline
from ml_constructs.training_pipeline_props import QualityGate
from platform_config import RegionConfig
from platform_contract.names import Output


class ServingStack(Stack):
    """Serves the configured model from the private network and watches it.

    Stateless: every resource can be replaced by a deployment. The Region's dashboard lives here, since a
    Region without a model has nothing to show on it.

    :param pipeline: the Region's training pipeline, shown on the dashboard and retrained on monitoring alarms
        (``serving.monitoring.retrain_on_alarm``). Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: RegionConfig,
        data_store: IDataStore,
        alerts: AlertTopic,
        network: PrivateNetwork,
        pipeline: TrainingPipeline | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, termination_protection=config.is_prod, **kwargs)
        alarms = config.settings.alarms
        serving = config.settings.serving
        image = ContainerImage.from_asset(TRAINING_CODE_DIR)
        self.endpoint = ModelEndpoint(
            self,
            "Endpoint",
            image=image,
            data_store=data_store,
            vpc=network.vpc,
            vpc_subnets=network.subnets,
            security_groups=[
                network.add_workload_security_group(
                    self, "EndpointSecurityGroup", description="SageMaker endpoint instances: no ingress, HTTPS egress"
                )
            ],
            # The rollback alarms watch what the paging alarms watch, over a shorter window.
            props=serving.endpoint_props(
                high_availability=config.is_prod,
                rollback_server_error_rate_percent=alarms.server_error_rate_percent,
                rollback_model_latency_p99_ms=alarms.model_latency_p99_ms,
            ),
            log_retention=retention_days(config.settings.log_retention_days),
        )
        self.alarms = EndpointAlarms(
            self, "Alarms", endpoint=self.endpoint, topic=alerts.topic, props=alarms.alarms_props()
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
        if self.monitoring and pipeline and monitoring.retrain_on_alarm:
            AlarmRetraining(
                self,
                "RetrainOnAlarm",
                alarms=list(self.monitoring.alarms.values()),
                pipeline=pipeline,
                min_interval_hours=monitoring.retrain_min_interval_hours,
                topic=alerts.topic,
                key=data_store.key,
                vpc=network.vpc,
                vpc_subnets=network.subnets,
                security_group=network.add_workload_security_group(
                    self, "RetrainSecurityGroup", description="Retraining function: no ingress, HTTPS egress"
                ),
                log_retention=retention_days(config.settings.log_retention_days),
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
            pipeline_name=pipeline.pipeline_name if pipeline else None,
        )
        # Operators' tools find the Region's resources through these outputs, never through guessed names.
        CfnOutput(self, Output.ENDPOINT_NAME.value, value=self.endpoint.endpoint_name)
        # What the endpoint must run once a deploy is complete; SageMaker may have rolled the update back.
        CfnOutput(self, Output.ENDPOINT_CONFIG_NAME.value, value=self.endpoint.endpoint_config_name)
        CfnOutput(self, Output.VARIANT_NAME.value, value=self.endpoint.variant_name)
        CfnOutput(self, Output.DASHBOARD_NAME.value, value=self.dashboard.dashboard_name)
        if self.monitoring:
            for output, value in self.monitoring.outputs().items():
                CfnOutput(self, output.value, value=value)
