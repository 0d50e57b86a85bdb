"""The Serving stack: an encrypted, captured, autoscaled endpoint whose alarms page the Region's topic.

Written against the platform's design; the per-type checks compare every property with the template.
"""

from __future__ import annotations

from collections.abc import Mapping

from rehearsal.checks.base import DeployedStack, Verifier
from rehearsal.checks.data import alert_topic_arn, data_bucket_name, region_key_arn


def verify(serving: DeployedStack, stage: Mapping[str, DeployedStack], verify: Verifier) -> None:
    sagemaker = serving.client("sagemaker")
    data = stage["Data"]
    key_arn, topic, bucket = region_key_arn(data), alert_topic_arn(data), data_bucket_name(data)

    endpoint_id, _ = serving.only("AWS::SageMaker::Endpoint")
    endpoint = sagemaker.describe_endpoint(EndpointName=serving.physical_id(endpoint_id).rsplit("/", 1)[-1])
    verify.equal(endpoint["EndpointStatus"], "InService", "endpoint in service")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    verify.equal(config.get("KmsKeyId"), key_arn, "endpoint volumes encrypted with the Region's key")
    capture = config.get("DataCaptureConfig", {})
    verify.true(capture.get("EnableCapture", False), "data capture on")
    verify.true(
        capture.get("DestinationS3Uri", "").startswith(f"s3://{bucket}/capture/"),
        "capture goes to the data bucket's capture/ prefix",
    )

    scaled = [
        serving.resolve(p)["ResourceId"] for _, p in serving.of_type("AWS::ApplicationAutoScaling::ScalableTarget")
    ]
    verify.true(
        any(r.startswith(f"endpoint/{endpoint['EndpointName']}/") for r in scaled),
        "the endpoint's capacity is autoscaled",
    )
    verify.true(len(serving.of_type("AWS::ApplicationAutoScaling::ScalingPolicy")) >= 1, "a scaling policy")

    cloudwatch = serving.client("cloudwatch")
    for resource_type, alarm_type in (
        ("AWS::CloudWatch::Alarm", "MetricAlarm"),
        ("AWS::CloudWatch::CompositeAlarm", "CompositeAlarm"),
    ):
        for logical_id, _ in serving.of_type(resource_type):
            names = [serving.physical_id(logical_id)]
            alarm = cloudwatch.describe_alarms(AlarmNames=names, AlarmTypes=[alarm_type])[f"{alarm_type}s"]
            verify.true(
                bool(alarm) and topic in alarm[0].get("AlarmActions", []),
                f"{logical_id} pages the Region's alert topic",
            )
    verify.true(len(serving.of_type("AWS::CloudWatch::CompositeAlarm")) >= 1, "a composite alarm")
    verify.true(len(serving.of_type("AWS::CloudWatch::Dashboard")) >= 1, "a dashboard")
