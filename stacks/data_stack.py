"""Stateful resources of one Region: data, keys and the people who get paged."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from constructs import Construct

from ml_constructs import AlertTopic, DataStore, ExperimentTracking, ModelRegistry, RegionBudget
from platform_config import RegionConfig
from platform_config.naming import platform_tag
from platform_contract.names import Output


class DataStack(Stack):
    """Holds what must outlive every deployment: the key, the buckets, the alert topic and the model registry; the
    Region's budget, where one is configured, next to the topic it warns; and, where the config enables experiments,
    the MLflow tracking server (its runs are state, and it needs no network).

    Its resources are retained when the stack is deleted and their logical IDs never change.
    """

    def __init__(self, scope: Construct, id: str, *, config: RegionConfig, **kwargs) -> None:
        super().__init__(scope, id, termination_protection=config.is_prod, **kwargs)
        data = config.settings.data
        self.data_store = DataStore(
            self,
            "DataStore",
            noncurrent_version_expiration=Duration.days(data.noncurrent_version_expiration_days),
            intelligent_tiering_transition=Duration.days(data.intelligent_tiering_transition_days),
            incomplete_multipart_upload_expiration=Duration.days(data.incomplete_multipart_upload_days),
            access_log_expiration=Duration.days(data.access_log_expiration_days),
        )
        self.alerts = AlertTopic(self, "Alerts", key=self.data_store.key, email=config.settings.alarm_email)
        self.registry = ModelRegistry(self, "ModelRegistry")
        budget = config.settings.cost.budget_props()
        self.budget: RegionBudget | None = None
        if budget is not None:
            self.budget = RegionBudget(
                self, "MonthlyCost", props=budget, alerts=self.alerts, cost_tag=platform_tag(config.region)
            )
            CfnOutput(self, Output.BUDGET_NAME.value, value=self.budget.budget_name)
        experiments = config.settings.experiments
        self.tracking: ExperimentTracking | None = None
        if experiments.enabled:
            self.tracking = ExperimentTracking(
                self, "ExperimentTracking", data_store=self.data_store, props=experiments.tracking_props()
            )
            CfnOutput(self, Output.TRACKING_SERVER_ARN.value, value=self.tracking.tracking_server_arn)
        # Operators' tools find the Region's resources through these outputs, never through guessed names.
        CfnOutput(self, Output.DATA_BUCKET_NAME.value, value=self.data_store.bucket.bucket_name)
        CfnOutput(self, Output.KEY_ARN.value, value=self.data_store.key.key_arn)
        CfnOutput(self, Output.ALERT_TOPIC_ARN.value, value=self.alerts.topic.topic_arn)
