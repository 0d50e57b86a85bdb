"""The platform config: what it accepts, and the message every kind of bad input gets.

Every bad input is tried twice, as a user meets it: written into cdk.json, and given as a ``-c`` override. Each
must name the cdk.json key path, and leave the output directory as it was.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app import main
from platform_config import ConfigError, Environment, load_platform_config
from tests.conftest import EXAMPLE_MODEL_PACKAGE, PROJECT_ROOT, shipped_context

ARN = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3"


def base_config() -> dict:
    return {
        "account": None,
        "environment": "dev",
        "defaults": {
            "alarm_email": "ops@corp.internal.net",
            "training": {"hyperparameters": {"target_column": "label", "task": "classification"}},
        },
        "regions": [
            {"region": "eu-west-1", "availability_zones": ["eu-west-1a", "eu-west-1b"]},
            {"region": "us-east-1", "availability_zones": ["us-east-1a", "us-east-1b"]},
        ],
    }


def problems_of(config: dict, **overrides: Any) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_platform_config({"platform": config, **overrides})
    return raised.value.problems


def set_path(document: dict, path: str, value: Any) -> None:
    """Sets ``value`` at a ``-c``-style path (a Region's entry named by its Region, list items by index)."""
    *parents, leaf = path.split(".")
    node: Any = document
    for part in parents:
        if isinstance(node, list):
            node = next((e for e in node if e.get("region") == part), None) or node[int(part)]
        else:
            node = node.setdefault(part, {})
    if isinstance(node, list):
        node[int(leaf)] = value
    else:
        node[leaf] = value


@dataclass(frozen=True)
class BadInput:
    path: str
    """Where the value goes, as a ``-c platform.<path>`` override addresses it."""
    value: Any
    key: str
    """The cdk.json key path the message must name."""
    fragment: str
    """What the message must say about the value and what is allowed."""
    also: dict[str, Any] = field(default_factory=dict)
    """Other settings the case needs (same path form)."""
    in_cdk_json_only: bool = False
    """``-c`` addresses Region entries by name, so a case about the entry itself exists only in cdk.json."""


R0 = "platform.regions[eu-west-1]"
R1 = "platform.regions[us-east-1]"
D = "platform.defaults"
SEVEN_ZONES = ["eu-west-1a", "eu-west-1b"]

BAD_INPUTS: dict[str, BadInput] = {
    "malformed account": BadInput("account", "12345", "platform.account", "'12345' is not allowed; allowed: a 12-"),
    "unknown environment": BadInput(
        "environment", "staging", "platform.environment", "'staging' is not allowed; allowed: dev, prod"
    ),
    "placeholder account in prod": BadInput(
        "account",
        "123456789012",
        "platform.account",
        "'123456789012' is not allowed (the documentation's example account)",
        {"environment": "prod"},
    ),
    "no regions": BadInput("regions", [], "platform.regions", "[] is not allowed; allowed: a non-empty list"),
    "unknown region": BadInput(
        "regions.1.region",
        "us-middle-9",
        "platform.regions[1].region",
        "'us-middle-9' is not allowed; allowed: an",
        in_cdk_json_only=True,
    ),
    "zone of another region": BadInput(
        "regions.eu-west-1.availability_zones",
        ["eu-west-1a", "us-east-1b"],
        f"{R0}.availability_zones",
        "'us-east-1b' is not allowed; allowed: zones of eu-west-1",
    ),
    "fewer than two zones": BadInput(
        "regions.eu-west-1.availability_zones",
        ["eu-west-1a"],
        f"{R0}.availability_zones",
        "['eu-west-1a'] is not allowed; allowed: a list of at least 2 zones of eu-west-1",
    ),
    "zone listed twice": BadInput(
        "regions.eu-west-1.availability_zones",
        ["eu-west-1a", "eu-west-1a"],
        f"{R0}.availability_zones",
        "'eu-west-1a' is not allowed (listed twice); allowed: each zone once",
    ),
    "region entry not an object": BadInput(
        "regions.1", "us-east-1", "platform.regions[1]", "'us-east-1' is not", in_cdk_json_only=True
    ),
    "malformed e-mail": BadInput(
        "defaults.alarm_email", "ops-at-corp", f"{D}.alarm_email", "'ops-at-corp' is not allowed; allowed: an e-mail"
    ),
    "documentation e-mail domain in prod": BadInput(
        "defaults.alarm_email",
        "alerts@example.com",
        f"{D}.alarm_email",
        "'alerts@example.com' is not allowed (a documentation domain that delivers no mail, refused in prod)",
        {"environment": "prod", "account": "111111111111"},
    ),
    "test domain e-mail in prod": BadInput(
        "regions.us-east-1.alarm_email",
        "pager@oncall.test",
        f"{R1}.alarm_email",
        "is not allowed (a documentation domain",
        {"environment": "prod", "account": "111111111111"},
    ),
    "no alarm e-mail in prod": BadInput(
        "defaults.alarm_email",
        None,
        f"{D}.alarm_email",
        "null is not allowed; allowed: an address that receives alarms (required in prod)",
        {"environment": "prod"},
    ),
    "reserved tag key": BadInput("defaults.tags", {"aws:owner": "me"}, f"{D}.tags", "(tag key 'aws:owner')"),
    "tag key too long": BadInput("defaults.tags", {"k" * 129: "v"}, f"{D}.tags", "(tag key 'kkk"),
    "tag value too long": BadInput("defaults.tags", {"team": "v" * 257}, f"{D}.tags", "(tag value 'vvv"),
    "tag value with a bar": BadInput("defaults.tags", {"team": "a|b"}, f"{D}.tags", "(tag value 'a|b' of 'team')"),
    "more tags than the platform leaves": BadInput(
        "defaults.tags", {f"t{i}": "x" for i in range(50)}, f"{D}.tags", "(50 tags (at most 49"
    ),
    "the platform's own tag key": BadInput(
        "defaults.tags", {"ml-platform-stage": "mine"}, f"{D}.tags", "(tag key 'ml-platform-stage' (the platform's own"
    ),
    "log retention CloudWatch does not offer": BadInput(
        "defaults.log_retention_days", 42, f"{D}.log_retention_days", "42 is not allowed; allowed: a CloudWatch Logs"
    ),
    "zero noncurrent retention": BadInput(
        "defaults.data.noncurrent_version_expiration_days",
        0,
        f"{D}.data.noncurrent_version_expiration_days",
        "0 is not allowed; allowed: greater than 0",
    ),
    "negative tiering days": BadInput(
        "regions.eu-west-1.data.intelligent_tiering_transition_days",
        -1,
        f"{R0}.data.intelligent_tiering_transition_days",
        "-1 is not allowed; allowed: greater than or equal to 0",
    ),
    "zero multipart days": BadInput(
        "defaults.data.incomplete_multipart_upload_days",
        0,
        f"{D}.data.incomplete_multipart_upload_days",
        "0 is not allowed",
    ),
    "zero access-log days": BadInput(
        "defaults.data.access_log_expiration_days", 0, f"{D}.data.access_log_expiration_days", "0 is not allowed"
    ),
    "training type without ml. prefix": BadInput(
        "defaults.training.instance_type",
        "m5.large",
        f"{D}.training.instance_type",
        "'m5.large' is not allowed (not a SageMaker training instance type); allowed: ml.<family>.<size>",
    ),
    "training size that does not exist": BadInput(
        "defaults.training.instance_type",
        "ml.m5.huge",
        f"{D}.training.instance_type",
        "(not a SageMaker training instance type); allowed: ml.m5.large, ml.m5.xlarge",
    ),
    "GPU training type for the CPU image": BadInput(
        "regions.eu-west-1.training.instance_type",
        "ml.g5.xlarge",
        f"{R0}.training.instance_type",
        "'ml.g5.xlarge' is not allowed (it carries a nvidia-gpu accelerator that the image does not use); "
        "allowed: CPU instance types",
    ),
    "no training instances": BadInput(
        "defaults.training.instance_count", 0, f"{D}.training.instance_count", "0 is not allowed"
    ),
    "too many training instances": BadInput(
        "defaults.training.instance_count", 101, f"{D}.training.instance_count", "101 is not allowed"
    ),
    "no training volume": BadInput(
        "defaults.training.volume_size_gb", 0, f"{D}.training.volume_size_gb", "0 is not allowed"
    ),
    "no training runtime": BadInput(
        "defaults.training.max_runtime_seconds", 0, f"{D}.training.max_runtime_seconds", "0 is not allowed"
    ),
    "spot wait shorter than runtime": BadInput(
        "defaults.training.max_wait_seconds",
        3600,
        f"{D}.training.max_wait_seconds",
        "3600 is not allowed (spot training waits for capacity and then runs); allowed: at least max_runtime_seconds",
        {"defaults.training.max_runtime_seconds": 7200},
    ),
    "spot that is neither true nor false": BadInput(
        "defaults.training.use_spot_instances", "maybe", f"{D}.training.use_spot_instances", "'maybe' is not allowed"
    ),
    "burstable transform type": BadInput(
        "defaults.training.transform_instance_type",
        "ml.t3.medium",
        f"{D}.training.transform_instance_type",
        "(not a SageMaker transform instance type)",
    ),
    "transform type that processing lacks": BadInput(
        "defaults.training.transform_instance_type",
        "ml.inf2.xlarge",
        f"{D}.training.transform_instance_type",
        "'ml.inf2.xlarge' is not allowed",
    ),
    "unknown quality metric": BadInput(
        "defaults.training.quality_gate.metric",
        "f1",
        f"{D}.training.quality_gate.metric",
        "'f1' is not allowed; allowed: 'auc', 'accuracy', 'rmse' or 'mae'",
    ),
    "zero quality threshold": BadInput(
        "defaults.training.quality_gate.threshold", 0, f"{D}.training.quality_gate.threshold", "0 is not allowed"
    ),
    "schedule in words": BadInput(
        "defaults.training.retrain_schedule",
        "every sunday",
        f"{D}.training.retrain_schedule",
        "'every sunday' is not allowed (not a schedule expression of an EventBridge rule); allowed: rate(N unit)",
    ),
    "rate with a plural unit of one": BadInput(
        "defaults.training.retrain_schedule",
        "rate(1 days)",
        f"{D}.training.retrain_schedule",
        "'rate(1 days)' is not allowed (rate(1 days) is refused by an EventBridge rule); allowed: rate(1 day)",
    ),
    "cron hour out of range": BadInput(
        "defaults.training.retrain_schedule",
        "cron(0 25 ? * * *)",
        f"{D}.training.retrain_schedule",
        "(hours '25' is out of range); allowed: 0-23",
    ),
    "cron with both days": BadInput(
        "regions.us-east-1.training.retrain_schedule",
        "cron(0 3 * * SUN *)",
        f"{R1}.training.retrain_schedule",
        "(exactly one of day-of-month and day-of-week must be ?)",
    ),
    "cron with five fields": BadInput(
        "defaults.training.retrain_schedule",
        "cron(0 3 * * ?)",
        f"{D}.training.retrain_schedule",
        "(cron takes 6 fields separated by single spaces, found 5)",
    ),
    "one-time schedule for retraining": BadInput(
        "defaults.training.retrain_schedule",
        "at(2027-01-01T00:00:00)",
        f"{D}.training.retrain_schedule",
        "(not a schedule expression of an EventBridge rule)",
    ),
    "endpoint size that does not exist": BadInput(
        "regions.eu-west-1.serving.instance_type",
        "ml.m5.huge",
        f"{R0}.serving.instance_type",
        "(not a SageMaker endpoint instance type); allowed: ml.m5.large",
    ),
    "Graviton endpoint for the amd64 image": BadInput(
        "defaults.serving.instance_type",
        "ml.c7g.large",
        f"{D}.serving.instance_type",
        "'ml.c7g.large' is not allowed (Graviton (arm64); the image is linux/amd64)",
    ),
    "GPU endpoint for the CPU image": BadInput(
        "defaults.serving.instance_type", "ml.g5.xlarge", f"{D}.serving.instance_type", "nvidia-gpu accelerator"
    ),
    "zero min capacity": BadInput("defaults.serving.min_capacity", 0, f"{D}.serving.min_capacity", "0 is not"),
    "min capacity above max": BadInput(
        "regions.us-east-1.serving.min_capacity",
        5,
        f"{R1}.serving.min_capacity",
        "5 is not allowed; allowed: at most max_capacity (3)",
        {"regions.us-east-1.serving.max_capacity": 3},
    ),
    "prod with one instance": BadInput(
        "regions.eu-west-1.serving.min_capacity",
        1,
        f"{R0}.serving.min_capacity",
        "1 is not allowed; allowed: 2 or more with high_availability (prod), so that an Availability Zone can fail",
        {"environment": "prod"},
    ),
    "zero measured capacity": BadInput(
        "defaults.serving.max_requests_per_second_per_instance",
        0,
        f"{D}.serving.max_requests_per_second_per_instance",
        "0 is not allowed",
    ),
    "safety factor above one": BadInput(
        "defaults.serving.scaling_safety_factor", 1.5, f"{D}.serving.scaling_safety_factor", "1.5 is not allowed"
    ),
    "zero scaling target": BadInput(
        "defaults.serving.target_invocations_per_instance",
        0,
        f"{D}.serving.target_invocations_per_instance",
        "0 is not allowed",
    ),
    "scale-in faster than scale-out": BadInput(
        "defaults.serving.scale_in_cooldown_seconds",
        30,
        f"{D}.serving.scale_in_cooldown_seconds",
        "30 is not allowed; allowed: more than scale_out_cooldown_seconds (60)",
    ),
    "capture above a hundred percent": BadInput(
        "defaults.serving.data_capture_sampling_percent",
        101,
        f"{D}.serving.data_capture_sampling_percent",
        "101 is not allowed",
    ),
    "monitoring at a rate Model Monitor refuses": BadInput(
        "defaults.serving.monitoring.schedule",
        "rate(1 hour)",
        f"{D}.serving.monitoring.schedule",
        "'rate(1 hour)' is not allowed; allowed: hourly cron(0 * ? * * *) or daily cron(0 H ? * * *)",
    ),
    "monitoring run longer than its hourly interval": BadInput(
        "defaults.serving.monitoring.max_runtime_seconds",
        3601,
        f"{D}.serving.monitoring.max_runtime_seconds",
        "3601 is not allowed; allowed: 1 to 3600, the schedule's interval",
    ),
    "monitoring on an endpoint instance type": BadInput(
        "defaults.serving.monitoring.instance_type",
        "ml.inf1.xlarge",
        f"{D}.serving.monitoring.instance_type",
        "'ml.inf1.xlarge' is not allowed",
    ),
    "drift threshold above one": BadInput(
        "defaults.serving.monitoring.drift_threshold",
        1.5,
        f"{D}.serving.monitoring.drift_threshold",
        "1.5 is not allowed; allowed: above 0 and at most 1",
    ),
    "drift alarms without a baseline": BadInput(
        "defaults.serving.monitoring.drift_features",
        ["x0"],
        f"{D}.serving.monitoring.drift_features",
        "['x0'] is not allowed; allowed: none without a baseline",
    ),
    "baseline outside the data bucket's prefixes": BadInput(
        "regions.eu-west-1.serving.monitoring.baseline",
        {"statistics_uri": "s3://other-bucket/statistics.json", "constraints_uri": "s3://b-bucket/datasets/c.json"},
        f"{R0}.serving.monitoring.baseline.statistics_uri",
        "'s3://other-bucket/statistics.json' is not allowed; allowed: s3://<data bucket>/<prefix>/…",
    ),
    "unknown rollout mode": BadInput(
        "defaults.serving.traffic_shifting.mode", "all", f"{D}.serving.traffic_shifting.mode", "'all' is not allowed"
    ),
    "rollout step of everything": BadInput(
        "defaults.serving.traffic_shifting.step_percent",
        100,
        f"{D}.serving.traffic_shifting.step_percent",
        "100 is not allowed",
    ),
    "baking longer than an hour": BadInput(
        "regions.eu-west-1.serving.traffic_shifting.wait_seconds",
        4000,
        f"{R0}.serving.traffic_shifting.wait_seconds",
        "4000 is not allowed; allowed: 0-3600",
    ),
    "negative termination wait": BadInput(
        "defaults.serving.traffic_shifting.termination_wait_seconds",
        -1,
        f"{D}.serving.traffic_shifting.termination_wait_seconds",
        "-1 is not allowed",
    ),
    "capacity window with a bad schedule": BadInput(
        "defaults.serving.scheduled_capacity",
        [{"name": "night", "schedule": "nightly", "min_capacity": 1, "max_capacity": 2}],
        f"{D}.serving.scheduled_capacity[0].schedule",
        "'nightly' is not allowed (not a schedule expression of an Application Auto Scaling scheduled action)",
    ),
    "capacity window min above max": BadInput(
        "defaults.serving.scheduled_capacity",
        [{"name": "night", "schedule": "cron(0 20 ? * * *)", "min_capacity": 3, "max_capacity": 2}],
        f"{D}.serving.scheduled_capacity[0].min_capacity",
        "3 is not allowed; allowed: at most max_capacity (2)",
    ),
    "capacity window name with spaces": BadInput(
        "defaults.serving.scheduled_capacity",
        [{"name": "at night", "schedule": "cron(0 20 ? * * *)", "min_capacity": 1, "max_capacity": 2}],
        f"{D}.serving.scheduled_capacity[0].name",
        "'at night' is not allowed",
    ),
    "zero max capacity": BadInput("defaults.serving.max_capacity", 0, f"{D}.serving.max_capacity", "0 is not allowed"),
    "burstable endpoint that autoscales": BadInput(
        "defaults.serving.instance_type",
        "ml.t2.medium",
        f"{D}.serving.instance_type",
        "'ml.t2.medium' is not allowed (burstable, and SageMaker cannot autoscale it)",
    ),
    "zero scale-out cooldown": BadInput(
        "defaults.serving.scale_out_cooldown_seconds",
        0,
        f"{D}.serving.scale_out_cooldown_seconds",
        "0 is not allowed; allowed: 1 or more",
    ),
    "capture of nothing": BadInput(
        "defaults.serving.data_capture_sampling_percent",
        0,
        f"{D}.serving.data_capture_sampling_percent",
        "0 is not allowed; allowed: 1-100",
    ),
    "zero safety factor": BadInput(
        "defaults.serving.scaling_safety_factor", 0, f"{D}.serving.scaling_safety_factor", "allowed: more than 0"
    ),
    "canary above half the fleet": BadInput(
        "defaults.serving.traffic_shifting.step_percent",
        60,
        f"{D}.serving.traffic_shifting.step_percent",
        "60 is not allowed; allowed: 1-50 for canary steps (SageMaker's limit)",
    ),
    "linear step below ten percent": BadInput(
        "regions.eu-west-1.serving.traffic_shifting.step_percent",
        5,
        f"{R0}.serving.traffic_shifting.step_percent",
        "5 is not allowed; allowed: 10-50 for linear steps",
        {"regions.eu-west-1.serving.traffic_shifting.mode": "linear"},
    ),
    "baking shorter than the rollback alarms need": BadInput(
        "defaults.serving.traffic_shifting.wait_seconds",
        60,
        f"{D}.serving.traffic_shifting.wait_seconds",
        "60 is not allowed (the time the rollback alarms need to trip); allowed: at least 120",
    ),
    "linear rollout longer than SageMaker allows": BadInput(
        "regions.us-east-1.serving.traffic_shifting.wait_seconds",
        3600,
        f"{R1}.serving.traffic_shifting.wait_seconds",
        "3600 is not allowed (10 step(s) and the termination wait bake for 36120 s",
        {
            "regions.us-east-1.serving.min_capacity": 2,
            "regions.us-east-1.serving.scale_to_zero": False,
            "regions.us-east-1.serving.traffic_shifting.mode": "linear",
        },
    ),
    "termination wait above an hour": BadInput(
        "defaults.serving.traffic_shifting.termination_wait_seconds",
        7200,
        f"{D}.serving.traffic_shifting.termination_wait_seconds",
        "7200 is not allowed; allowed: 0-3600",
    ),
    "deployment timeout shorter than its baking": BadInput(
        "defaults.serving.maximum_execution_timeout_seconds",
        600,
        f"{D}.serving.maximum_execution_timeout_seconds",
        "600 is not allowed; allowed: 600-28800 and longer than the 720 s of baking and termination wait",
        {"defaults.serving.traffic_shifting.wait_seconds": 600},
    ),
    "deployment timeout above eight hours": BadInput(
        "regions.eu-west-1.serving.maximum_execution_timeout_seconds",
        30000,
        f"{R0}.serving.maximum_execution_timeout_seconds",
        "30000 is not allowed; allowed: 600-28800",
    ),
    "capacity window without instances": BadInput(
        "defaults.serving.scheduled_capacity",
        [{"name": "night", "schedule": "cron(0 20 ? * * *)", "min_capacity": 0, "max_capacity": 2}],
        f"{D}.serving.scheduled_capacity[0].min_capacity",
        "0 is not allowed; allowed: 1 or more",
    ),
    "capacity windows of one name": BadInput(
        "defaults.serving.scheduled_capacity",
        [
            {"name": "night", "schedule": "cron(0 20 ? * * *)", "min_capacity": 1, "max_capacity": 2},
            {"name": "night", "schedule": "cron(0 6 ? * * *)", "min_capacity": 1, "max_capacity": 4},
        ],
        f"{D}.serving.scheduled_capacity[1].name",
        "'night' is not allowed (listed twice); allowed: a name no other schedule has",
    ),
    "capacity window of one instance in prod": BadInput(
        "regions.eu-west-1.serving.scheduled_capacity",
        [{"name": "night", "schedule": "cron(0 20 ? * * *)", "min_capacity": 1, "max_capacity": 2}],
        f"{R0}.serving.scheduled_capacity[0].min_capacity",
        "1 is not allowed; allowed: 2 or more with high_availability (prod)",
        {"environment": "prod", "account": "111111111111"},
    ),
    "scale to zero in prod": BadInput(
        "regions.eu-west-1.serving.scale_to_zero",
        True,
        f"{R0}.serving.scale_to_zero",
        "true is not allowed (an idle endpoint would hold no instance, while high availability keeps at least two); "
        "allowed: false with high_availability (prod)",
        {"environment": "prod", "account": "111111111111"},
    ),
    "scale to zero with a capacity schedule": BadInput(
        "regions.eu-west-1.serving.scheduled_capacity",
        [{"name": "day", "schedule": "cron(0 6 ? * * *)", "min_capacity": 1, "max_capacity": 2}],
        f"{R0}.serving.scheduled_capacity",
        "allowed: none with scale_to_zero",
    ),
    "scale to zero on burstable instances": BadInput(
        "defaults.serving.instance_type",
        "ml.t2.medium",
        f"{D}.serving.instance_type",
        "'ml.t2.medium' is not allowed (burstable, and SageMaker cannot autoscale it)",
        {"defaults.serving.max_capacity": 1},
    ),
    "scale to zero as text": BadInput(
        "defaults.serving.scale_to_zero", "sometimes", f"{D}.serving.scale_to_zero", "'sometimes' is not allowed"
    ),
    "copies smaller than SageMaker allows": BadInput(
        "defaults.serving.copy_memory_mb",
        100,
        f"{D}.serving.copy_memory_mb",
        "100 is not allowed; allowed: 128 or more",
    ),
    "malformed model package": BadInput(
        "regions.eu-west-1.serving.model_package_arn",
        "churn/3",
        f"{R0}.serving.model_package_arn",
        "'churn/3' is not allowed; allowed: arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>",
    ),
    "model package of another region": BadInput(
        "regions.us-east-1.serving.model_package_arn",
        ARN,
        f"{R1}.serving.model_package_arn",
        "is not allowed; allowed: a package of this Region's registry (us-east-1)",
    ),
    "model package of another account": BadInput(
        "regions.eu-west-1.serving.model_package_arn",
        ARN,
        f"{R0}.serving.model_package_arn",
        "is not allowed; allowed: a package of the platform's account (222222222222)",
        {"account": "222222222222"},
    ),
    "a package and a model archive": BadInput(
        "regions.eu-west-1.serving.model_data_url",
        "s3://bucket/model.tar.gz",
        f"{R0}.serving.model_data_url",
        "allowed: null when model_package_arn is set",
        {"regions.eu-west-1.serving.model_package_arn": ARN},
    ),
    "model archive that is not a tarball": BadInput(
        "regions.eu-west-1.serving.model_data_url",
        "https://bucket/model.zip",
        f"{R0}.serving.model_data_url",
        "allowed: s3://<bucket>/<key>.tar.gz",
    ),
    "negative error-rate threshold": BadInput(
        "regions.us-east-1.alarms.server_error_rate_percent",
        -1,
        f"{R1}.alarms.server_error_rate_percent",
        "-1.0 is not allowed; allowed: more than 0, at most 100",
    ),
    "client error rate above a hundred": BadInput(
        "defaults.alarms.client_error_rate_percent", 101, f"{D}.alarms.client_error_rate_percent", "101.0 is not"
    ),
    "alarm period of odd seconds": BadInput(
        "defaults.alarms.period_seconds",
        90,
        f"{D}.alarms.period_seconds",
        "90 is not allowed (SageMaker publishes endpoint metrics per minute); allowed: a multiple of 60",
    ),
    "zero evaluation periods": BadInput(
        "defaults.alarms.evaluation_periods", 0, f"{D}.alarms.evaluation_periods", "0 is not allowed"
    ),
    "more datapoints than periods": BadInput(
        "defaults.alarms.datapoints_to_alarm",
        6,
        f"{D}.alarms.datapoints_to_alarm",
        "6 is not allowed; allowed: 1 to evaluation_periods (5)",
    ),
    "zero latency threshold": BadInput(
        "defaults.alarms.model_latency_p99_ms", 0, f"{D}.alarms.model_latency_p99_ms", "0 is not allowed"
    ),
    "zero overhead latency threshold": BadInput(
        "defaults.alarms.overhead_latency_p99_ms", 0, f"{D}.alarms.overhead_latency_p99_ms", "0.0 is not allowed"
    ),
    "memory threshold above a hundred": BadInput(
        "regions.eu-west-1.alarms.memory_utilization_percent",
        150,
        f"{R0}.alarms.memory_utilization_percent",
        "150.0 is not allowed; allowed: more than 0, at most 100",
    ),
    "zero CPU threshold": BadInput(
        "defaults.alarms.cpu_utilization_percent", 0, f"{D}.alarms.cpu_utilization_percent", "0.0 is not allowed"
    ),
    "disk threshold above a hundred": BadInput(
        "defaults.alarms.disk_utilization_percent", 101, f"{D}.alarms.disk_utilization_percent", "101.0 is not"
    ),
    "saturation above the measured maximum": BadInput(
        "defaults.alarms.invocations_per_instance_percent_of_max",
        120,
        f"{D}.alarms.invocations_per_instance_percent_of_max",
        "120.0 is not allowed",
    ),
    "sub-minute alarm period": BadInput(
        "defaults.alarms.period_seconds", 30, f"{D}.alarms.period_seconds", "30 is not allowed"
    ),
    "alarm window longer than a day": BadInput(
        "defaults.alarms.evaluation_periods",
        1441,
        f"{D}.alarms.evaluation_periods",
        "1441 is not allowed (CloudWatch evaluates at most 86400 s); allowed: at most 1440 with period_seconds 60",
    ),
    "zero datapoints to alarm": BadInput(
        "defaults.alarms.datapoints_to_alarm", 0, f"{D}.alarms.datapoints_to_alarm", "0 is not allowed"
    ),
    "typo in a settings key": BadInput(
        "defaults.servng",
        {"max_capacity": 3},
        f"{D}.servng",
        "<unknown key> is not allowed (unknown key; did you mean serving?); allowed: alarm_email, tags",
    ),
    "typo in a nested key": BadInput(
        "regions.eu-west-1.serving.max_capacty",
        3,
        f"{R0}.serving.max_capacty",
        "(unknown key; did you mean max_capacity?); allowed: model_package_arn, model_data_url",
    ),
    "typo in a region entry's key": BadInput(
        "regions.eu-west-1.servin",
        {},
        f"{R0}.servin",
        "(unknown key; did you mean serving?); allowed: region, availability_zones, alarm_email",
    ),
    "unknown top-level key": BadInput(
        "enviroment",
        "prod",
        "platform.enviroment",
        "(unknown key; did you mean environment?); allowed: account, environment, defaults, regions",
    ),
    "hyperparameter typo": BadInput(
        "defaults.training.hyperparameters.num_rounds",
        "200",
        f"{D}.training.hyperparameters.num_rounds",
        "<unknown hyperparameter> is not allowed (the image has no such hyperparameter; did you mean num_round?)",
    ),
    "hyperparameter out of range": BadInput(
        "regions.eu-west-1.training.hyperparameters.max_depth",
        "50",
        f"{R0}.training.hyperparameters.max_depth",
        "'50' is not allowed; allowed: an integer from 1 to 20",
    ),
    "hyperparameter that is not a number": BadInput(
        "defaults.training.hyperparameters.eta",
        "fast",
        f"{D}.training.hyperparameters.eta",
        "'fast' is not allowed; allowed: a number in (0, 1]",
    ),
    "hyperparameter choice the image lacks": BadInput(
        "defaults.training.hyperparameters.task",
        "ranking",
        f"{D}.training.hyperparameters.task",
        "'ranking' is not allowed; allowed: one of classification, regression",
    ),
    "zero monthly budget": BadInput(
        "regions.eu-west-1.cost.monthly_budget",
        0,
        f"{R0}.cost.monthly_budget",
        "0.0 is not allowed; allowed: an amount above 0 in USD",
    ),
    "negative monthly budget": BadInput(
        "defaults.cost.monthly_budget", -50, f"{D}.cost.monthly_budget", "-50.0 is not allowed; allowed: an amount"
    ),
    "monthly budget that is not a number": BadInput(
        "defaults.cost.monthly_budget", "lots", f"{D}.cost.monthly_budget", "'lots' is not allowed; allowed: a valid"
    ),
    "budget currency AWS does not report costs in": BadInput(
        "regions.eu-west-1.cost.currency",
        "EUR",
        f"{R0}.cost.currency",
        "'EUR' is not allowed (AWS reports costs, and compares budgets with them, in USD); allowed: USD",
        {"regions.eu-west-1.cost.monthly_budget": 100},
    ),
    "alert below one percent": BadInput(
        "regions.eu-west-1.cost.actual_alert_percentages",
        [0.5, 100],
        f"{R0}.cost.actual_alert_percentages[0]",
        "0.5 is not allowed; allowed: 1 to 1000 (percent of the budget)",
        {"regions.eu-west-1.cost.monthly_budget": 100},
    ),
    "forecast alert above a thousand percent": BadInput(
        "defaults.cost.forecast_alert_percentages",
        [1500],
        f"{D}.cost.forecast_alert_percentages[0]",
        "1500.0 is not allowed; allowed: 1 to 1000",
        {"defaults.cost.monthly_budget": 100},
    ),
    "alert threshold listed twice": BadInput(
        "regions.eu-west-1.cost.actual_alert_percentages",
        [80, 80],
        f"{R0}.cost.actual_alert_percentages",
        "80.0 is not allowed (listed twice; AWS refuses duplicates); allowed: each threshold once",
        {"regions.eu-west-1.cost.monthly_budget": 100},
    ),
    "more alerts than a budget may have": BadInput(
        "regions.eu-west-1.cost.actual_alert_percentages",
        list(range(10, 110, 10)),
        f"{R0}.cost.actual_alert_percentages",
        "<11 thresholds in all> is not allowed; allowed: at most 10 actual and forecast thresholds together",
        {"regions.eu-west-1.cost.monthly_budget": 100},
    ),
    "a budget no one hears of": BadInput(
        "regions.eu-west-1.cost.forecast_alert_percentages",
        [],
        f"{R0}.cost.actual_alert_percentages",
        "allowed: at least one alert threshold",
        {"regions.eu-west-1.cost.monthly_budget": 100, "regions.eu-west-1.cost.actual_alert_percentages": []},
    ),
    "alert percentages that are not a list": BadInput(
        "defaults.cost.actual_alert_percentages", 80, f"{D}.cost.actual_alert_percentages", "80 is not allowed"
    ),
    "a rule on a column that is neither label, feature nor required": BadInput(
        "defaults.training.preparation",
        {"dataset": "churn", "feature_columns": ["age"], "rules": {"value_ranges": {"agee": {"minimum": 0}}}},
        f"{D}.training.preparation.rules.value_ranges.agee",
        "'agee' is not allowed (not the label, a feature or a required column); "
        "allowed: a column the settings name: label, age",
    ),
    "split fractions that do not sum to one": BadInput(
        "defaults.training.preparation.train_fraction",
        0.8,
        f"{D}.training.preparation.train_fraction, validation_fraction, test_fraction",
        "sum to 0.8 + 0.15 + 0.15 is not allowed; allowed: a sum of 1",
        {"defaults.training.preparation.dataset": "churn"},
    ),
    "a split fraction of nothing": BadInput(
        "regions.eu-west-1.training.preparation.test_fraction",
        0,
        f"{R0}.training.preparation.test_fraction",
        "0 is not allowed; allowed: a number in (0, 1)",
        {"regions.eu-west-1.training.preparation.dataset": "churn"},
    ),
    "processing type SageMaker does not offer": BadInput(
        "defaults.training.preparation.instance_type",
        "ml.p4d.24xlarge",
        f"{D}.training.preparation.instance_type",
        "'ml.p4d.24xlarge' is not allowed (not a SageMaker processing instance type)",
        {"defaults.training.preparation.dataset": "churn"},
    ),
    "GPU processing type for the Spark image": BadInput(
        "defaults.training.preparation.instance_type",
        "ml.g5.xlarge",
        f"{D}.training.preparation.instance_type",
        "'ml.g5.xlarge' is not allowed (it carries a nvidia-gpu accelerator that the image does not use)",
        {"defaults.training.preparation.dataset": "churn"},
    ),
    "a Spark cluster larger than SageMaker allows": BadInput(
        "defaults.training.preparation.instance_count",
        101,
        f"{D}.training.preparation.instance_count",
        "101 is not allowed; allowed: 1 to 100",
        {"defaults.training.preparation.dataset": "churn"},
    ),
    "a raw dataset that is a path": BadInput(
        "defaults.training.preparation.dataset",
        "raw/churn",
        f"{D}.training.preparation.dataset",
        "'raw/churn' is not allowed; allowed: a folder name under raw/",
    ),
    "a class share no binary dataset can have": BadInput(
        "defaults.training.preparation.rules.min_class_fraction",
        0.7,
        f"{D}.training.preparation.rules.min_class_fraction",
        "0.7 is not allowed; allowed: a number in (0, 0.5]",
        {"defaults.training.preparation.dataset": "churn"},
    ),
    "a negative split seed": BadInput(
        "defaults.training.preparation.seed",
        -1,
        f"{D}.training.preparation.seed",
        "-1 is not allowed; allowed: an integer from 0 to 2147483647",
        {"defaults.training.preparation.dataset": "churn"},
    ),
    "typo in a quality rule": BadInput(
        "defaults.training.preparation.rules.max_nulls",
        {"age": 0.1},
        f"{D}.training.preparation.rules.max_nulls",
        "(unknown key; did you mean max_null_fraction?)",
        {"defaults.training.preparation.dataset": "churn"},
    ),
    "a section that is not an object": BadInput(
        "defaults.serving", 5, f"{D}.serving", "5 is not allowed; allowed: a valid dictionary"
    ),
}


def _json_config(case: BadInput) -> dict:
    config = base_config()
    for path, value in {**case.also, case.path: case.value}.items():
        set_path(config, path, copy.deepcopy(value))
    return {"platform": config}


def _command_line(case: BadInput) -> dict:
    def text(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    overrides = {f"platform.{path}": text(value) for path, value in {**case.also, case.path: case.value}.items()}
    return {"platform": base_config(), **overrides}


def test_there_are_at_least_sixty_distinct_bad_inputs() -> None:
    assert len({(case.path, json.dumps(case.value)) for case in BAD_INPUTS.values()}) >= 60


@pytest.mark.parametrize("how", ["cdk.json", "-c"])
@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_names_its_key_path_value_and_what_is_allowed(case: str, how: str) -> None:
    bad = BAD_INPUTS[case]
    if how == "-c" and bad.in_cdk_json_only:
        pytest.skip("a Region entry itself cannot be replaced from the command line")
    context = _json_config(bad) if how == "cdk.json" else _command_line(bad)
    with pytest.raises(ConfigError) as raised:
        load_platform_config(context)
    expected = f"{bad.key}: "
    matches = [problem for problem in raised.value.problems if problem.startswith(expected)]
    assert matches, f"no problem names {bad.key}: {raised.value.problems}"
    # From the command line a number arrives as text: a value the schema refuses is quoted as given.
    fragments = {bad.fragment}
    if how == "-c" and isinstance(bad.value, (int, float)):
        fragments.add(bad.fragment.replace(f"{bad.value!r} is", f"'{bad.value}' is"))
    assert any(fragment in problem for problem in matches for fragment in fragments), f"{fragments} not in {matches}"


@pytest.fixture(scope="module")
def previous_good_outdir(tmp_path_factory) -> Path:
    outdir = tmp_path_factory.mktemp("cdk.out")
    (outdir / "manifest.json").write_text('{"version": "previous"}')
    return outdir


def _listing(outdir: Path) -> dict[str, bytes]:
    return {str(path.relative_to(outdir)): path.read_bytes() for path in outdir.rglob("*") if path.is_file()}


@pytest.mark.parametrize("case", list(BAD_INPUTS)[::7], ids=list(BAD_INPUTS)[::7])
def test_a_bad_config_writes_nothing_and_keeps_the_previous_assembly(
    case: str, previous_good_outdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _listing(previous_good_outdir)
    context = {**shipped_context(), **_command_line(BAD_INPUTS[case])}
    assert main(context=context, outdir=str(previous_good_outdir)) == 1
    assert BAD_INPUTS[case].key in capsys.readouterr().err
    assert _listing(previous_good_outdir) == before


def test_every_problem_is_reported_at_once() -> None:
    config = base_config()
    config["environment"] = "staging"
    config["defaults"] |= {"alarm_email": "nope", "servng": {}}
    config["regions"][0]["availability_zones"] = ["eu-west-1a"]
    config["regions"][1]["serving"] = {"min_capacity": 9, "max_capacity": 2, "instance_type": "ml.m5.huge"}
    problems = problems_of(config)
    assert [problem.split(":", 1)[0] for problem in problems] == [
        "platform.environment",
        "platform.regions[eu-west-1].availability_zones",
        "platform.defaults.alarm_email",
        "platform.defaults.servng",
        "platform.regions[us-east-1].serving.instance_type",
        "platform.regions[us-east-1].serving.min_capacity",
    ], problems
    with pytest.raises(ConfigError, match=r"Invalid platform config \(6 problem\(s\)\); nothing was synthesized"):
        load_platform_config({"platform": config})


def test_a_problem_in_defaults_is_reported_once_not_per_region() -> None:
    config = base_config()
    config["defaults"]["alarm_email"] = "nope"
    assert problems_of(config) == [
        "platform.defaults.alarm_email: 'nope' is not allowed; allowed: an e-mail address, name@domain.tld"
    ]


def test_a_command_line_value_is_named_with_the_option_that_set_it() -> None:
    [problem] = problems_of(base_config(), **{"platform.regions.us-east-1.serving.max_capacity": "0"})
    assert problem == (
        "platform.regions[us-east-1].serving.max_capacity: 0 is not allowed; allowed: 1 or more "
        "(set by -c platform.regions.us-east-1.serving.max_capacity=0)"
    )


def test_an_account_written_as_a_json_number_is_refused_without_a_traceback() -> None:
    config = base_config() | {"account": 12345678901}
    assert problems_of(config) == [
        "platform.account: 12345678901 is not allowed (a JSON number, which loses an ID's leading zeros); "
        'allowed: the 12-digit ID as a string, e.g. "012345678901"'
    ]


@pytest.mark.parametrize("key", ["platfrom", "platfrom.environment", "plattform.regions.eu-west-1.serving"])
def test_a_misspelt_platform_context_key_is_not_silently_ignored(key: str) -> None:
    problems = problems_of(base_config(), **{key: "prod"})
    assert problems == [
        f"{key}: <unknown context key> is not allowed (misspelt platform?); allowed: platform, platform.<key path>"
    ]


def test_cdk_feature_flags_and_cli_settings_are_not_taken_for_misspellings() -> None:
    assert load_platform_config(shipped_context()).regions


def test_command_line_override_of_an_unconfigured_region_is_an_error() -> None:
    problems = problems_of(base_config(), **{"platform.regions.ap-south-1.serving.max_capacity": "3"})
    assert problems == [
        "-c platform.regions.ap-south-1.serving.max_capacity: 'ap-south-1' is not allowed (no such Region entry); "
        "allowed: the name of a configured Region"
    ]


def test_command_line_override_through_a_value_is_an_error() -> None:
    [problem] = problems_of(base_config(), **{"platform.account.id": "1"})
    assert problem.startswith("-c platform.account.id: 'account' is not allowed (it holds a value, not an object)")


def test_missing_platform_context() -> None:
    with pytest.raises(ConfigError, match=r"platform: null is not allowed \(missing or not one\); allowed: an object"):
        load_platform_config({})


def test_region_overrides_layer_over_defaults_and_environment_presets() -> None:
    config = base_config() | {"environment": "prod", "account": "111111111111"}
    config["defaults"]["serving"] = {"max_capacity": 6, "instance_type": "ml.c5.xlarge"}
    config["regions"][1]["serving"] = {"max_capacity": 10}
    platform = load_platform_config({"platform": config})
    eu, us = (region.settings.serving for region in platform.regions)
    assert (eu.min_capacity, eu.max_capacity, eu.instance_type) == (2, 6, "ml.c5.xlarge")
    assert (us.min_capacity, us.max_capacity, us.instance_type) == (2, 10, "ml.c5.xlarge")
    assert platform.regions[0].is_prod


def test_command_line_overrides_address_regions_by_name_and_parse_json() -> None:
    platform = load_platform_config(
        {
            "platform": base_config() | {"account": "111111111111"},
            "platform.environment": "prod",
            "platform.regions.us-east-1.serving.max_capacity": "7",
            "platform.defaults.tags": '{"team": "fraud"}',
        }
    )
    assert platform.environment == Environment.PROD
    assert platform.regions[1].settings.serving.max_capacity == 7
    assert platform.regions[0].settings.tags == {"team": "fraud"}


def test_command_line_account_keeps_its_leading_zeros_and_numbers_are_converted() -> None:
    platform = load_platform_config(
        {"platform": base_config(), "platform.account": "012345678901", "platform.defaults.serving.max_capacity": "9"}
    )
    assert platform.account == "012345678901"
    assert platform.regions[0].settings.serving.max_capacity == 9


def test_a_command_line_null_removes_a_configured_model() -> None:
    config = base_config()
    config["regions"][0]["serving"] = {"model_package_arn": ARN}
    platform = load_platform_config(
        {"platform": config, "platform.regions.eu-west-1.serving.model_package_arn": "null"}
    )
    assert platform.regions[0].settings.serving.model_package_arn is None


def test_valid_schedules_of_each_kind_are_accepted() -> None:
    config = base_config()
    config["defaults"]["training"]["retrain_schedule"] = "cron(0 3 ? * SUN *)"
    config["defaults"]["serving"] = {
        "scale_to_zero": False,
        "scheduled_capacity": [
            {"name": "night", "schedule": "cron(0 20 ? * MON-FRI *)", "min_capacity": 1, "max_capacity": 2},
            {"name": "launch", "schedule": "at(2027-03-01T06:00:00)", "min_capacity": 2, "max_capacity": 4},
            {"name": "hourly", "schedule": "rate(1 hour)", "min_capacity": 1, "max_capacity": 4},
        ],
    }
    assert load_platform_config({"platform": config}).regions


def test_shipped_config_is_valid_and_has_at_least_two_regions() -> None:
    platform = load_platform_config(shipped_context())
    assert len(platform.regions) >= 2
    assert all(len(region.availability_zones) >= 2 for region in platform.regions)


def test_base_config_is_itself_valid() -> None:
    assert load_platform_config({"platform": copy.deepcopy(base_config())}).regions


def test_autoscaling_target_derives_from_measured_capacity() -> None:
    serving = load_platform_config({"platform": base_config()}).regions[0].settings.serving
    expected = int(serving.max_requests_per_second_per_instance * 60 * serving.scaling_safety_factor)
    assert serving.endpoint_props().target_invocations_per_minute == expected


@pytest.mark.slow
def test_bad_config_stops_the_real_cli_before_anything_is_written(cdk_cli: str, tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    result = subprocess.run(
        [
            cdk_cli,
            "synth",
            "**",
            "--quiet",
            "-o",
            str(outdir),
            "-c",
            "platform.environment=staging",
            "-c",
            "platform.regions.eu-west-1.serving.max_capacity=0",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "platform.environment: 'staging' is not allowed; allowed: dev, prod" in result.stderr
    assert "platform.regions[eu-west-1].serving.max_capacity: 0 is not allowed; allowed: 1 or more" in result.stderr
    assert "Traceback" not in result.stderr
    assert not [path for path in outdir.rglob("*") if path.is_file() and "lock" not in path.name]


@pytest.mark.slow
def test_a_rule_of_the_construct_props_stops_the_real_cli_with_its_key_path(cdk_cli: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            cdk_cli,
            "synth",
            "**",
            "--quiet",
            "-o",
            str(tmp_path / "out"),
            "-c",
            f"platform.regions.eu-west-1.serving.model_package_arn={EXAMPLE_MODEL_PACKAGE}",
            "-c",
            "platform.defaults.serving.min_capacity=2",
            "-c",
            "platform.defaults.serving.traffic_shifting.mode=linear",
            "-c",
            "platform.defaults.serving.traffic_shifting.step_percent=60",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode != 0
    assert (
        "platform.defaults.serving.traffic_shifting.step_percent: 60 is not allowed; allowed: 10-50 for linear steps"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not list((tmp_path / "out").rglob("*.template.json"))


def test_the_images_required_hyperparameters_are_required() -> None:
    config = base_config()
    del config["defaults"]["training"]
    assert problems_of(config) == [
        "platform.defaults.training.hyperparameters.target_column: null is not allowed (required by the image); "
        "allowed: a column name",
        "platform.defaults.training.hyperparameters.task: null is not allowed (required by the image); "
        "allowed: one of classification, regression",
    ]


def test_keys_sagemaker_adds_to_hyperparameters_are_not_refused() -> None:
    config = base_config()
    config["defaults"]["training"]["hyperparameters"]["_tuning_objective_metric"] = "validation:auc"
    assert load_platform_config({"platform": config}).regions


def test_the_config_reads_construct_defaults_without_starting_aws_cdk_lib() -> None:
    # mlp reads the config on every command; aws-cdk-lib's jsii runtime would add seconds to each.
    probe = "import sys, platform_config; raise SystemExit('aws_cdk' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr


def test_preparation_settings_map_onto_the_jobs_settings_with_label_and_task_from_the_hyperparameters() -> None:
    from data_preparation.settings import PreparationSettings, QualityRules, ValueRange

    config = base_config()
    config["defaults"]["training"]["preparation"] = {
        "dataset": "churn",
        "feature_columns": ["age", "income"],
        "seed": 7,
        "rules": {"value_ranges": {"age": {"minimum": 0, "maximum": 120}}, "min_rows": 500},
        "instance_count": 3,
    }
    training = load_platform_config({"platform": config}).regions[0].settings.training
    preparation = training.pipeline_props().preparation
    assert preparation is not None and preparation.instance_count == 3
    assert preparation.settings == PreparationSettings(
        dataset="churn",
        label_column="label",
        task="classification",
        feature_columns=("age", "income"),
        seed=7,
        rules=QualityRules(value_ranges={"age": ValueRange(0, 120)}, min_rows=500),
    )
    assert load_platform_config({"platform": base_config()}).regions[0].settings.training.preparation is None


def test_training_settings_default_to_the_pipeline_props_and_map_onto_them_by_name() -> None:
    from ml_constructs import TrainingPipelineProps

    training = load_platform_config({"platform": base_config()}).regions[0].settings.training
    assert training.pipeline_props() == TrainingPipelineProps(hyperparameters=training.hyperparameters)


def test_serving_and_alarm_settings_default_to_the_construct_props_and_map_onto_them_by_name() -> None:
    from ml_constructs import EndpointAlarmsProps, ModelEndpointProps

    settings = load_platform_config({"platform": base_config()}).regions[0].settings
    # Dev's preset turns scale to zero on; everything else is the props' default.
    assert settings.serving.endpoint_props() == ModelEndpointProps(scale_to_zero=True)
    assert settings.alarms.alarms_props() == EndpointAlarmsProps()
    # What the config does not hold: the stack derives it from the environment and the alarm thresholds, and
    # every endpoint instance type it accepts has vCPUs derived from its size.
    not_in_config = {"high_availability", "rollback_server_error_rate_percent", "rollback_model_latency_p99_ms"}
    not_in_config |= {"vcpus_per_instance"}
    # The endpoint's monitoring is a construct of its own, with props of its own.
    assert {field.name for field in dataclasses.fields(ModelEndpointProps)} - not_in_config == set(
        type(settings.serving).model_fields
    ) - {"monitoring"}
    assert {field.name for field in dataclasses.fields(EndpointAlarmsProps)} == set(type(settings.alarms).model_fields)
