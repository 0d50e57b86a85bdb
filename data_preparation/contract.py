"""The data-preparation job's command-line contract: the names the pipeline step and the job must agree on.

Standard library only, so the pipeline definition can import it without PySpark. The job runs in
SageMaker's Spark processing container (``sagemaker-spark-processing:3.5-cpu``), whose ``smspark-submit``
entry point runs ``spark-submit --master yarn --deploy-mode client <app> <arguments>`` on the primary
host; docs/data-preparation.md explains each choice.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

# The job file spark-submit runs, and the package it imports, relative to the repository root.
JOB_SCRIPT = "data_preparation/prepare.py"
JOB_PACKAGE = "data_preparation"

# Container paths. Processing inputs and outputs are local folders on every instance; the driver,
# which reads the settings and publishes the results, runs on the primary instance.
RAW_INPUT_PATH = "/opt/ml/processing/input/raw"
"""Mount point of raw/: the job reads <this>/<dataset>/ (the input must be FullyReplicated)."""
DATASETS_OUTPUT_PATH = "/opt/ml/processing/output/datasets"
"""Holds train/, validation/, test/ and test-labels/ after a successful run, nothing after a failed one."""
BASELINE_OUTPUT_PATH = "/opt/ml/processing/output/baseline"
"""Holds statistics.json and constraints.json after a successful run."""
FAILURE_MESSAGE_PATH = "/opt/ml/output/message"
"""SageMaker shows the first kilobyte of this file as the job's FailureReason."""
STAGING_URI = "hdfs:///data-preparation/staging"
"""Where executors write before the driver publishes: HDFS, which the container runs across the cluster."""

# Output layout: what the training, batch-transform and evaluation steps read.
DATASET_FOLDERS = ("train", "validation", "test", "test-labels")
STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"

# Arguments.
SETTINGS_BASE64_ARGUMENT = "--settings-base64"
SETTINGS_FILE_ARGUMENT = "--settings-file"
INPUT_ARGUMENT = "--input"
DATASETS_OUTPUT_ARGUMENT = "--datasets-output"
BASELINE_OUTPUT_ARGUMENT = "--baseline-output"
STAGING_ARGUMENT = "--staging"
FAILURE_MESSAGE_ARGUMENT = "--failure-message-file"

MAX_ARGUMENT_LENGTH = 256
"""CreateProcessingJob takes container arguments of at most 256 characters each (AppSpecification.ContainerArguments,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AppSpecification.html), so the encoded settings are
passed as consecutive pieces of that length after --settings-base64."""


def encode_settings(settings: Mapping[str, Any]) -> str:
    """The settings as the value of --settings-base64.

    smspark-submit joins the command line with spaces and runs it through a shell, which would split
    JSON at its spaces and strip its quotes; base64 (URL-safe alphabet) passes through a shell unchanged.
    """
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def decode_settings(value: str) -> Any:
    """Parsed JSON from a --settings-base64 value; ValueError if it is not base64 of JSON."""
    return json.loads(base64.urlsafe_b64decode(value.encode("ascii")).decode("utf-8"))


def job_arguments(settings: Mapping[str, Any]) -> list[str]:
    """The arguments the pipeline step passes; every path takes its container default. The encoded settings come
    in pieces of at most ``MAX_ARGUMENT_LENGTH`` characters, which the job joins again."""
    encoded = encode_settings(settings)
    pieces = [encoded[start : start + MAX_ARGUMENT_LENGTH] for start in range(0, len(encoded), MAX_ARGUMENT_LENGTH)]
    return [SETTINGS_BASE64_ARGUMENT, *pieces]
