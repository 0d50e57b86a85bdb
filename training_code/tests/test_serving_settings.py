"""Serving settings from the environment SageMaker gives the container, and what batch transform learns of them."""

from __future__ import annotations

import pytest
from tabular_xgboost.errors import UserError
from tabular_xgboost.serving.settings import ServingSettings


def settings(**environ: str) -> ServingSettings:
    return ServingSettings.from_environment(environ)


@pytest.mark.parametrize(
    ("workers", "payload_mb", "concurrent"),
    [("17", "6", 16), ("2", "6", 2), ("4", "100", 1), ("3", "30", 3), ("8", "30", 3), ("17", "0", 17)],
)
def test_concurrent_transforms_times_the_payload_limit_stay_within_100_mb(workers, payload_mb, concurrent):
    parsed = settings(SAGEMAKER_MODEL_SERVER_WORKERS=workers, SAGEMAKER_MAX_PAYLOAD_IN_MB=payload_mb)

    assert parsed.max_concurrent_transforms == concurrent
    assert concurrent * parsed.max_payload_mb <= 100


def test_a_payload_limit_of_zero_means_no_limit_as_batch_transform_means_it():
    assert settings(SAGEMAKER_MAX_PAYLOAD_IN_MB="0").max_payload_bytes is None
    assert settings().max_payload_bytes == 6 * 1024 * 1024


@pytest.mark.parametrize("value", ["-1", "101", "six"])
def test_a_payload_limit_outside_0_to_100_stops_the_server(value):
    with pytest.raises(UserError, match=f"SAGEMAKER_MAX_PAYLOAD_IN_MB='{value}' is invalid: must be an integer from 0"):
        settings(SAGEMAKER_MAX_PAYLOAD_IN_MB=value)
