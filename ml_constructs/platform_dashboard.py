"""One CloudWatch dashboard per Region: the endpoint's traffic, errors, latency, load and capacity, its alarms,
and the training pipeline's recent executions."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from ml_constructs.model_endpoint import ModelEndpoint

PIPELINE_NAMESPACE = "AWS/Sagemaker/ModelBuildingPipeline"
"""Execution metrics SageMaker Pipelines publishes per pipeline (dimension PipelineName)."""
PIPELINE_EXECUTION_METRICS = ("ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed", "ExecutionStopped")
_WIDTH = 8
_HEIGHT = 6


class PlatformDashboard(Construct):
    """A dashboard with a CloudFormation-generated name, three widgets per row:

    traffic (invocations, invocations per instance), error rates, p99 latencies; CPU, memory and disk
    utilization, instance count against the autoscaling bounds, alarm states; and, when ``pipeline_name`` is
    given, the pipeline's daily executions over the last two weeks.

    :param endpoint: the Region's endpoint. Required.
    :param alarms: alarms whose state the dashboard shows. Default: none (no alarm widget).
    :param pipeline_name: the Region's training pipeline. Default: none (no pipeline widget).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: ModelEndpoint,
        alarms: Sequence[cloudwatch.IAlarm] = (),
        pipeline_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(6))
        self.dashboard.add_widgets(
            self._graph("Traffic", [endpoint.metric_invocations()], right=[endpoint.metric_invocations_per_instance()]),
            self._graph("Error rates (%)", [endpoint.metric_server_error_rate(), endpoint.metric_client_error_rate()]),
            self._graph(
                "Latency p99 (microseconds)", [endpoint.metric_model_latency(), endpoint.metric_overhead_latency()]
            ),
        )
        capacity = cloudwatch.GraphWidget(
            title="Instances",
            left=[endpoint.metric_instance_count()],
            left_annotations=[
                cloudwatch.HorizontalAnnotation(value=endpoint.min_capacity, label="min capacity"),
                cloudwatch.HorizontalAnnotation(value=endpoint.max_capacity, label="max capacity"),
            ],
            width=_WIDTH,
            height=_HEIGHT,
        )
        utilization = self._graph(
            "Utilization (%)",
            [endpoint.metric_memory_utilization(), endpoint.metric_disk_utilization()],
            right=[endpoint.metric_cpu_utilization()],
        )
        status = (
            [cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=_WIDTH, height=_HEIGHT)]
            if alarms
            else []
        )
        self.dashboard.add_widgets(utilization, capacity, *status)
        if pipeline_name:
            self.dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title="Training pipeline executions per day",
                    left=[
                        cloudwatch.Metric(
                            namespace=PIPELINE_NAMESPACE,
                            metric_name=name,
                            dimensions_map={"PipelineName": pipeline_name},
                            statistic="Sum",
                            period=Duration.days(1),
                            label=name.removeprefix("Execution").lower(),
                        )
                        for name in PIPELINE_EXECUTION_METRICS
                    ],
                    start="-P14D",
                    stacked=True,
                    width=3 * _WIDTH,
                    height=_HEIGHT,
                )
            )

    @property
    def dashboard_name(self) -> str:
        return self.dashboard.dashboard_name

    @staticmethod
    def _graph(
        title: str, left: Sequence[cloudwatch.IMetric], right: Sequence[cloudwatch.IMetric] = ()
    ) -> cloudwatch.GraphWidget:
        return cloudwatch.GraphWidget(title=title, left=list(left), right=list(right), width=_WIDTH, height=_HEIGHT)
