"""The Region's training plane: the pipeline, its job logs and its notifications."""

from __future__ import annotations

import dataclasses

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_events as events
from constructs import Construct

from ml_constructs import (
    AlertTopic,
    ContainerImage,
    DataStore,
    ExperimentTracking,
    MetricDefinition,
    ModelRegistry,
    PipelineNotifications,
    PrivateNetwork,
    TrainingPipeline,
)
from ml_constructs.container_image import TRAINING_CODE_DIR
from ml_constructs.experiment_tracking import (
    EXPERIMENT_HYPERPARAMETER,
    TRACKING_URI_HYPERPARAMETER,
    grant_experiment_logging,
)
from ml_constructs.log_retention import retention_days
from platform_config import RegionConfig
from platform_config.naming import platform_tag
from platform_contract.names import Output

METRIC_DEFINITIONS_FILE = TRAINING_CODE_DIR / "metric_definitions.json"


class TrainingStack(Stack):
    """Trains, evaluates and registers models in the private network and tells the alert topic about it.

    Stateless but for SageMaker's job log groups, which are retained when it is deleted and imported when it is
    created again; the model versions it registers live in the Data stack's registry. Its outputs are how tools
    find the Region's training resources; their names are stable.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: RegionConfig,
        data_store: DataStore,
        registry: ModelRegistry,
        alerts: AlertTopic,
        network: PrivateNetwork,
        tracking: ExperimentTracking | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, termination_protection=config.is_prod, **kwargs)
        training = config.settings.training
        props = training.pipeline_props(
            metric_definitions=MetricDefinition.list_from_file(METRIC_DEFINITIONS_FILE),
            job_tags=config.settings.tags,
            # The jobs' costs count in the Region's budget only with its cost-allocation tag.
            stack_job_tag=platform_tag(config.region),
        )
        if tracking is not None:
            # Training jobs log their runs to the Region's tracking server, one experiment per Training stack.
            props = dataclasses.replace(
                props,
                hyperparameters={
                    **props.hyperparameters,
                    TRACKING_URI_HYPERPARAMETER: tracking.tracking_server_arn,
                    EXPERIMENT_HYPERPARAMETER: self.stack_name.lower(),
                },
            )
        self.pipeline = TrainingPipeline(
            self,
            "Pipeline",
            # Only a Region that tracks experiments trains with the image that can log to MLflow.
            image=ContainerImage.from_asset(TRAINING_CODE_DIR, build_args={"TRACKING": "mlflow"} if tracking else None),
            data_store=data_store,
            registry=registry,
            vpc=network.vpc,
            vpc_subnets=network.subnets,
            security_group=network.add_workload_security_group(
                self, "JobSecurityGroup", description="SageMaker training, processing and transform jobs"
            ),
            props=props,
            log_retention=retention_days(config.settings.log_retention_days),
        )
        if tracking is not None:
            grant_experiment_logging(self.pipeline.execution_role, tracking.tracking_server_arn, data_store)
        self.notifications = PipelineNotifications(
            self,
            "Notifications",
            pipeline=self.pipeline,
            topic=alerts.topic,
            retrain_schedule=events.Schedule.expression(training.retrain_schedule)
            if training.retrain_schedule
            else None,
        )
        # Operators' tools find the Region's training resources through these outputs, never through guessed names.
        CfnOutput(self, Output.PIPELINE_NAME.value, value=self.pipeline.pipeline_name)
        CfnOutput(self, Output.MODEL_PACKAGE_GROUP_NAME.value, value=self.pipeline.model_package_group_name)
        CfnOutput(self, Output.EXECUTION_ROLE_ARN.value, value=self.pipeline.execution_role.role_arn)
        CfnOutput(self, Output.DATA_BUCKET_NAME.value, value=data_store.bucket.bucket_name)
        CfnOutput(self, Output.MODEL_IMAGE_URI.value, value=self.pipeline.image_uri)
