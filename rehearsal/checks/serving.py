"""The Serving stack: an encrypted, captured endpoint with its log group, autoscaled where its template says so,
running the config its stack names, whose composite alarm alone pages the Region's topic.

Written against the platform's design; the per-type checks compare every property with the template.
"""

from __future__ import annotations

from collections.abc import Mapping

from platform_contract.names import DataPrefix, Output
from rehearsal.checks.base import DeployedStack, Verifier
from rehearsal.checks.data import alert_topic_arn, data_bucket_name, region_key_arn

SELF_PAGING_ALARMS = ("Monitoring", "RetrainOnAlarm")
"""Logical ID prefixes of the alarms that page on their own; the endpoint's page through its composite alarm."""


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

    config_id, _ = serving.only("AWS::SageMaker::EndpointConfig")
    verify.equal(
        endpoint["EndpointConfigName"],
        serving.physical_id(config_id).rsplit("/", 1)[-1],
        "the endpoint runs the config its stack names (no rollback)",
    )
    group = f"/aws/sagemaker/Endpoints/{endpoint['EndpointName']}"
    found = serving.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    verify.true(
        any(g["logGroupName"] == group and g.get("kmsKeyId") == key_arn for g in found),
        "the endpoint's log group is the stack's, encrypted with the Region's key",
    )

    scaled = [
        serving.resolve(p)["ResourceId"] for _, p in serving.of_type("AWS::ApplicationAutoScaling::ScalableTarget")
    ]
    variant = endpoint["ProductionVariants"][0]
    # An endpoint that scales to zero scales its inference component's copies; SageMaker adds instances for them.
    components = [
        serving.resolve(p)["InferenceComponentName"] for _, p in serving.of_type("AWS::SageMaker::InferenceComponent")
    ]
    if scaled:
        verify.true(
            any(r.startswith(f"endpoint/{endpoint['EndpointName']}/") for r in scaled)
            or any(f"inference-component/{name}" in scaled for name in components),
            "the endpoint's capacity is autoscaled",
        )
        verify.true(len(serving.of_type("AWS::ApplicationAutoScaling::ScalingPolicy")) >= 1, "a scaling policy")
    else:
        # Nothing else sets the count of a fleet without autoscaling: the template's reaches it.
        verify.equal(
            variant.get("DesiredInstanceCount"),
            config["ProductionVariants"][0]["InitialInstanceCount"],
            "a fleet without autoscaling runs the template's instance count",
        )

    cloudwatch = serving.client("cloudwatch")
    for resource_type, alarm_type in (
        ("AWS::CloudWatch::Alarm", "MetricAlarm"),
        ("AWS::CloudWatch::CompositeAlarm", "CompositeAlarm"),
    ):
        for logical_id, _ in serving.of_type(resource_type):
            names = [serving.physical_id(logical_id)]
            alarm = cloudwatch.describe_alarms(AlarmNames=names, AlarmTypes=[alarm_type])[f"{alarm_type}s"]
            pages = bool(alarm) and topic in alarm[0].get("AlarmActions", [])
            if logical_id.startswith(SELF_PAGING_ALARMS):
                # About the data, the model or its retraining rather than the endpoint's health: each pages alone.
                verify.true(pages, f"{logical_id}, a monitoring or retraining alarm, pages the Region's topic")
                continue
            # One incident, one page: of the endpoint's alarms the composite alone notifies the topic.
            verify.equal(
                pages, alarm_type == "CompositeAlarm", f"{logical_id} pages the Region's topic only if composite"
            )
    verify.true(len(serving.of_type("AWS::CloudWatch::CompositeAlarm")) >= 1, "a composite alarm")
    verify.true(len(serving.of_type("AWS::CloudWatch::Dashboard")) >= 1, "a dashboard")
    _verify_monitoring(serving, endpoint["EndpointName"], bucket, verify)


def _verify_monitoring(serving: DeployedStack, endpoint_name: str, bucket: str, verify: Verifier) -> None:
    """Each schedule the stack names runs a job definition of its type that reads this endpoint's capture and
    writes under the bucket's monitoring/ prefix only; the model-quality one reads ground-truth/."""
    sagemaker = serving.client("sagemaker")
    schedules = [name for name in serving.outputs.get(Output.MONITORING_SCHEDULE_NAMES, "").split(",") if name]
    verify.equal(
        len(schedules), len(serving.of_type("AWS::SageMaker::MonitoringSchedule")), "the stack names its schedules"
    )
    for name in schedules:
        schedule = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
        config = schedule["MonitoringScheduleConfig"]
        definition_name, monitoring_type = config["MonitoringJobDefinitionName"], config["MonitoringType"]
        definition = serving.monitoring_job_definition(monitoring_type, definition_name)
        job_input = definition[f"{monitoring_type}JobInput"]
        verify.equal(job_input["EndpointInput"]["EndpointName"], endpoint_name, f"{name} monitors the endpoint")
        outputs = definition[f"{monitoring_type}JobOutputConfig"]["MonitoringOutputs"]
        verify.true(
            all(o["S3Output"]["S3Uri"].startswith(f"s3://{bucket}/{DataPrefix.MONITORING}") for o in outputs),
            f"{name} reports under the data bucket's {DataPrefix.MONITORING}",
        )
        if monitoring_type == "ModelQuality":
            verify.true(
                job_input["GroundTruthS3Input"]["S3Uri"].startswith(f"s3://{bucket}/{DataPrefix.GROUND_TRUTH}"),
                f"{name} reads labels from the data bucket's {DataPrefix.GROUND_TRUTH}",
            )
