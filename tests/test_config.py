"""The platform config: what it accepts, and the message every kind of bad input gets."""

from __future__ import annotations

import copy
import subprocess

import pytest

from platform_config import ConfigError, Environment, load_platform_config
from tests.conftest import PROJECT_ROOT, shipped_context


def base_config() -> dict:
    return {
        "account": None,
        "environment": "dev",
        "defaults": {"alarm_email": "ops@example.com"},
        "regions": [
            {"region": "eu-west-1", "availability_zones": ["eu-west-1a", "eu-west-1b"]},
            {"region": "us-east-1", "availability_zones": ["us-east-1a", "us-east-1b"]},
        ],
    }


def problems_of(config: dict, **overrides: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_platform_config({"platform": config, **overrides})
    return raised.value.problems


def with_change(path: str, value) -> dict:
    """base_config() with the value at a dotted path (list indexes as numbers) replaced."""
    config = base_config()
    *parents, leaf = path.split(".")
    node = config
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(leaf)] = value
    else:
        node[leaf] = value
    return config


BAD_INPUTS = {
    "unknown region": (
        with_change("regions.1.region", "us-middle-9"),
        ["regions[1].region: 'us-middle-9' is not a known AWS Region"],
    ),
    "zone of another region": (
        with_change("regions.0.availability_zones", ["eu-west-1a", "us-east-1b"]),
        ["regions[0] (eu-west-1).availability_zones: 'us-east-1b' is not an Availability Zone of eu-west-1"],
    ),
    "fewer than two zones": (
        with_change("regions.0.availability_zones", ["eu-west-1a"]),
        [
            "regions[0] (eu-west-1).availability_zones: ['eu-west-1a'] is "
            "not allowed; allowed: a list of at least 2 zones"
        ],
    ),
    "zone listed twice": (
        with_change("regions.0.availability_zones", ["eu-west-1a", "eu-west-1a"]),
        ["regions[0] (eu-west-1).availability_zones: eu-west-1a listed twice; allowed: each zone once"],
    ),
    "region listed twice": (
        with_change("regions.1", {"region": "eu-west-1", "availability_zones": ["eu-west-1a", "eu-west-1c"]}),
        ["regions[1] (eu-west-1).region: eu-west-1 is listed twice (also regions[0]); allowed: each Region once"],
    ),
    "no regions": (with_change("regions", []), ["regions: [] is not allowed; allowed: a non-empty list"]),
    "min capacity above max": (
        with_change("defaults.serving", {"min_capacity": 5, "max_capacity": 3}),
        ["defaults.serving: min_capacity (5) must not exceed max_capacity (3)"],
    ),
    "instance type without ml. prefix": (
        with_change("regions.0.serving", {"instance_type": "m5.large"}),
        ["regions[0] (eu-west-1).serving.instance_type: 'm5.large' is not a SageMaker instance type; allowed: ml."],
    ),
    "malformed e-mail": (
        with_change("defaults.alarm_email", "ops-at-example.com"),
        ["defaults.alarm_email: 'ops-at-example.com' is not an e-mail address; allowed: name@domain.tld"],
    ),
    "zero threshold": (
        with_change("defaults.alarms", {"model_latency_p99_ms": 0}),
        ["defaults.alarms.model_latency_p99_ms: 0 is not allowed; input should be greater than 0"],
    ),
    "negative error-rate threshold": (
        with_change("regions.1.alarms", {"server_error_rate_percent": -1}),
        ["regions[1] (us-east-1).alarms.server_error_rate_percent: -1 is not allowed; input should be greater than 0"],
    ),
    "zero noncurrent retention": (
        with_change("defaults.data", {"noncurrent_version_expiration_days": 0}),
        ["defaults.data.noncurrent_version_expiration_days: 0 is not allowed; input should be greater than 0"],
    ),
    "log retention CloudWatch does not offer": (
        with_change("defaults.log_retention_days", 42),
        ["defaults.log_retention_days: 42 is not a CloudWatch Logs retention; allowed: 1, 3, 5, 7, 14, 30"],
    ),
    "typo in a settings key": (
        with_change("defaults.servng", {"max_capacity": 3}),
        [
            "defaults.servng: unknown key; allowed: alarm_email, tags, "
            "log_retention_days, data, training, serving, alarms"
        ],
    ),
    "typo in a nested key": (
        with_change("regions.0.serving", {"max_capacty": 3}),
        ["regions[0] (eu-west-1).serving.max_capacty: unknown key; allowed: model_package_arn, model_data_url"],
    ),
    "unknown top-level key": (
        with_change("enviroment", "prod"),
        ["enviroment: unknown key; allowed: account, environment, defaults, regions"],
    ),
    "unknown environment": (
        with_change("environment", "staging"),
        ["environment: 'staging' is not allowed; allowed: dev, prod"],
    ),
    "malformed account": (
        with_change("account", "12345"),
        ["account: '12345' is not allowed; allowed: a 12-digit AWS account ID"],
    ),
    "prod with one instance": (
        with_change("regions.0.serving", {"min_capacity": 1}) | {"environment": "prod"},
        ["regions[0] (eu-west-1).serving: min_capacity is 1; prod needs at least 2"],
    ),
    "prod without alarm e-mail": (
        with_change("defaults", {}) | {"environment": "prod"},
        ["regions[0] (eu-west-1): alarm_email is required in prod"],
    ),
    "spot wait shorter than runtime": (
        with_change("defaults.training", {"max_runtime_seconds": 7200, "max_wait_seconds": 3600}),
        ["defaults.training: max_wait_seconds (3600) must be at least max_runtime_seconds (7200) with spot instances"],
    ),
    "model package of another region": (
        with_change(
            "regions.0.serving",
            {"model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/3"},
        ),
        [
            "regions[0] (eu-west-1).serving: model_package_arn is in us-east-1; "
            "allowed: a package of this Region's registry (eu-west-1)"
        ],
    ),
    "scale-in faster than scale-out": (
        with_change("defaults.serving", {"scale_in_cooldown_seconds": 30, "scale_out_cooldown_seconds": 60}),
        ["defaults.serving: scale_in_cooldown_seconds (30) must exceed scale_out_cooldown_seconds (60)"],
    ),
    "malformed schedule": (
        with_change("defaults.training", {"retrain_schedule": "every sunday"}),
        ["defaults.training.retrain_schedule: 'every sunday' is not an EventBridge schedule; allowed: cron("],
    ),
    "reserved tag key": (
        with_change("defaults.tags", {"aws:owner": "me"}),
        ["defaults.tags: invalid tag key 'aws:owner'"],
    ),
    "unknown quality metric": (
        with_change("defaults.training", {"quality_gate": {"metric": "f1"}}),
        [
            "defaults.training.quality_gate.metric: 'f1' is not allowed; "
            "input should be 'auc', 'accuracy', 'rmse' or 'mae'"
        ],
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_is_named_with_its_path_value_and_what_is_allowed(case):
    config, expected = BAD_INPUTS[case]
    problems = problems_of(config)
    for fragment in expected:
        assert any(problem.startswith(fragment) for problem in problems), f"{fragment!r} not in {problems}"


def test_every_problem_is_reported_at_once():
    config = base_config()
    config["environment"] = "staging"
    config["defaults"] = {"alarm_email": "nope", "servng": {}}
    config["regions"][0]["availability_zones"] = ["eu-west-1a"]
    config["regions"][1]["serving"] = {"min_capacity": 9, "max_capacity": 2}
    problems = problems_of(config)
    assert len(problems) == 5, problems
    with pytest.raises(ConfigError, match=r"Invalid platform config \(5 problem\(s\)\); nothing was synthesized"):
        load_platform_config({"platform": config})


def test_a_problem_in_defaults_is_reported_once_not_per_region():
    problems = problems_of(with_change("defaults.alarm_email", "nope"))
    assert problems == ["defaults.alarm_email: 'nope' is not an e-mail address; allowed: name@domain.tld"]


def test_region_overrides_layer_over_defaults_and_environment_presets():
    config = base_config() | {"environment": "prod"}
    config["defaults"]["serving"] = {"max_capacity": 6, "instance_type": "ml.c5.xlarge"}
    config["regions"][1]["serving"] = {"max_capacity": 10}
    platform = load_platform_config({"platform": config})
    eu, us = (region.settings.serving for region in platform.regions)
    assert (eu.min_capacity, eu.max_capacity, eu.instance_type) == (2, 6, "ml.c5.xlarge")
    assert (us.min_capacity, us.max_capacity, us.instance_type) == (2, 10, "ml.c5.xlarge")
    assert platform.regions[0].is_prod


def test_command_line_overrides_address_regions_by_name_and_parse_json():
    platform = load_platform_config(
        {
            "platform": base_config(),
            "platform.environment": "prod",
            "platform.regions.us-east-1.serving.max_capacity": "7",
            "platform.defaults.tags": '{"team": "fraud"}',
        }
    )
    assert platform.environment == Environment.PROD
    assert platform.regions[1].settings.serving.max_capacity == 7
    assert platform.regions[0].settings.tags == {"team": "fraud"}


def test_command_line_override_of_an_unconfigured_region_is_an_error():
    problems = problems_of(base_config(), **{"platform.regions.ap-south-1.serving.max_capacity": "3"})
    assert problems == [
        "-c platform.regions.ap-south-1.serving.max_capacity: no Region 'ap-south-1' is configured; "
        "allowed: a configured Region's name"
    ]


def test_missing_platform_context():
    with pytest.raises(ConfigError, match="platform: missing or not an object in the CDK context"):
        load_platform_config({})


def test_shipped_config_is_valid_and_has_at_least_two_regions():
    platform = load_platform_config(shipped_context())
    assert len(platform.regions) >= 2
    assert all(len(region.availability_zones) >= 2 for region in platform.regions)


def test_autoscaling_target_derives_from_measured_capacity():
    serving = load_platform_config({"platform": base_config()}).regions[0].settings.serving
    expected = int(serving.max_requests_per_second_per_instance * 60 * serving.scaling_safety_factor)
    assert serving.target_invocations_per_minute == expected


def test_bad_config_stops_the_real_cli_before_anything_is_written(cdk_cli, tmp_path):
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
    assert "environment: 'staging' is not allowed; allowed: dev, prod" in result.stderr
    assert "regions[0] (eu-west-1).serving.max_capacity: '0' is not allowed" in result.stderr
    assert not list(outdir.rglob("*.template.json"))


def test_base_config_is_itself_valid():
    assert load_platform_config({"platform": copy.deepcopy(base_config())}).regions


def test_command_line_account_keeps_its_leading_zeros_and_numbers_are_converted():
    platform = load_platform_config(
        {"platform": base_config(), "platform.account": "012345678901", "platform.defaults.serving.max_capacity": "9"}
    )
    assert platform.account == "012345678901"
    assert platform.regions[0].settings.serving.max_capacity == 9


def test_a_limit_only_the_constructs_know_stops_the_real_cli_with_a_clear_message(cdk_cli, tmp_path):
    result = subprocess.run(
        [
            cdk_cli,
            "synth",
            "**",
            "--quiet",
            "-o",
            str(tmp_path / "out"),
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
    assert "linear traffic routing moves 60% of the capacity per step; allowed:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((tmp_path / "out").rglob("*.template.json"))


def test_a_command_line_null_removes_a_configured_model():
    config = with_change(
        "regions.0.serving", {"model_package_arn": "arn:aws:sagemaker:eu-west-1:123456789012:model-package/g/1"}
    )
    platform = load_platform_config(
        {"platform": config, "platform.regions.eu-west-1.serving.model_package_arn": "null"}
    )
    assert platform.regions[0].settings.serving.model_package_arn is None
