"""The metrics of one SageMaker endpoint variant, as ``metric_*()`` methods that alarms and dashboards are built from.

Every method takes the same ``MetricOptions`` (period, statistic, label, color), each with a documented default, as
aws-cdk-lib's ``metric*(props?: MetricOptions)`` do. Metric names, namespaces and units are SageMaker's
(https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Unpack

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

from ml_constructs.metric_options import MetricOptions

INVOCATION_NAMESPACE = "AWS/SageMaker"
"""Invocation, error and latency metrics, published by SageMaker per endpoint and variant."""
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"
"""CPU, memory and disk utilization of the endpoint's instances."""
DEFAULT_PERIOD = Duration.minutes(1)
"""SageMaker publishes endpoint metrics per minute."""


class EndpointMetrics:
    """``metric_*()`` methods of an endpoint variant, for a construct that has ``endpoint_name`` and
    ``variant_name``, and ``inference_component_name`` where the variant hosts its model as an inference component:
    SageMaker then publishes the invocation metrics per InferenceComponentName, and InvocationsPerCopy instead of
    InvocationsPerInstance; instance metrics stay per endpoint and variant."""

    endpoint_name: str
    variant_name: str
    inference_component_name: str | None = None

    def metric(
        self,
        metric_name: str,
        *,
        namespace: str = INVOCATION_NAMESPACE,
        unit: cloudwatch.Unit | None = None,
        **options: Unpack[MetricOptions],
    ) -> cloudwatch.Metric:
        """A metric of this variant (dimensions EndpointName and VariantName; InferenceComponentName for the
        invocation metrics of an inference component). Default: Sum per minute."""
        dimensions = (
            {"InferenceComponentName": self.inference_component_name}
            if self.inference_component_name and namespace == INVOCATION_NAMESPACE
            else {"EndpointName": self.endpoint_name, "VariantName": self.variant_name}
        )
        return cloudwatch.Metric(
            namespace=namespace,
            metric_name=metric_name,
            dimensions_map=dimensions,
            unit=unit,
            **MetricOptions({"period": DEFAULT_PERIOD, "statistic": "Sum", **options}),
        )

    def metric_invocations(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """InvokeEndpoint requests, errors included. Default: Sum."""
        return self.metric("Invocations", **MetricOptions({"label": "Invocations", **options}))

    def metric_invocation_5xx_errors(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Invocations answered with a 5XX status. Default: Sum."""
        return self.metric("Invocation5XXErrors", **MetricOptions({"label": "5XX errors", **options}))

    def metric_invocation_4xx_errors(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Invocations answered with a 4XX status. Default: Sum."""
        return self.metric("Invocation4XXErrors", **MetricOptions({"label": "4XX errors", **options}))

    def metric_invocations_per_instance(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Invocations divided by the variant's instance count; what the autoscaler tracks per minute. An inference
        component reports InvocationsPerCopy, which is the same with one copy per instance. Default: Sum."""
        name = "InvocationsPerCopy" if self.inference_component_name else "InvocationsPerInstance"
        return self.metric(name, **MetricOptions({"label": "Invocations per instance", **options}))

    def metric_model_latency(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Time the container takes to answer, in microseconds as SageMaker reports it. Default: p99."""
        return self.metric(
            "ModelLatency",
            unit=cloudwatch.Unit.MICROSECONDS,
            **MetricOptions({"statistic": "p99", "label": "Model latency p99", **options}),
        )

    def metric_overhead_latency(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Time SageMaker adds around the container, in microseconds. Default: p99."""
        return self.metric(
            "OverheadLatency",
            unit=cloudwatch.Unit.MICROSECONDS,
            **MetricOptions({"statistic": "p99", "label": "Overhead latency p99", **options}),
        )

    def metric_cpu_utilization(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """CPU use over the instances, summed over each instance's vCPUs (0 to 100 × vCPUs). Default: Average."""
        return self.metric(
            "CPUUtilization",
            namespace=INSTANCE_NAMESPACE,
            **MetricOptions({"statistic": "Average", "label": "CPU utilization (sum over vCPUs)", **options}),
        )

    def metric_memory_utilization(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Memory use in percent; one instance running out fails its requests. Default: Maximum (the fullest)."""
        return self.metric(
            "MemoryUtilization",
            namespace=INSTANCE_NAMESPACE,
            **MetricOptions({"statistic": "Maximum", "label": "Memory utilization (fullest instance)", **options}),
        )

    def metric_disk_utilization(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Disk use in percent. Default: Maximum (the fullest instance)."""
        return self.metric(
            "DiskUtilization",
            namespace=INSTANCE_NAMESPACE,
            **MetricOptions({"statistic": "Maximum", "label": "Disk utilization (fullest instance)", **options}),
        )

    def metric_server_error_rate(self, **options: Unpack[MetricOptions]) -> cloudwatch.MathExpression:
        """5XX responses as a percentage of invocations (both Sum); no datapoint while there is no traffic.
        ``statistic`` does not apply."""
        return self._rate("serverErrors", self.metric_invocation_5xx_errors, "5XX error rate (%)", options)

    def metric_client_error_rate(self, **options: Unpack[MetricOptions]) -> cloudwatch.MathExpression:
        """4XX responses as a percentage of invocations (both Sum); no datapoint while there is no traffic.
        ``statistic`` does not apply."""
        return self._rate("clientErrors", self.metric_invocation_4xx_errors, "4XX error rate (%)", options)

    def metric_instance_count(self, **options: Unpack[MetricOptions]) -> cloudwatch.MathExpression:
        """In-service instances, derived as Invocations ÷ InvocationsPerInstance. ``statistic`` does not apply.

        SageMaker publishes no instance-count metric for a variant, but InvocationsPerInstance is Invocations
        normalized by the instance count, so their ratio is the count. It has datapoints only while there
        is traffic, which is when the count matters.
        """
        period = options.get("period", DEFAULT_PERIOD)
        return cloudwatch.MathExpression(
            expression="invocations / perInstance",
            using_metrics={
                "invocations": self.metric_invocations(period=period),
                "perInstance": self.metric_invocations_per_instance(period=period),
            },
            period=period,
            label=options.get("label", "Instances (Invocations ÷ InvocationsPerInstance)"),
            color=options.get("color"),
        )

    def _rate(
        self, name: str, errors: Callable[..., cloudwatch.Metric], label: str, options: MetricOptions
    ) -> cloudwatch.MathExpression:
        period = options.get("period", DEFAULT_PERIOD)
        return cloudwatch.MathExpression(
            expression=f"100 * {name} / invocations",
            using_metrics={name: errors(period=period), "invocations": self.metric_invocations(period=period)},
            period=period,
            label=options.get("label", label),
            color=options.get("color"),
        )
