"""``mlp ground-truth upload``: labels of captured requests, in SageMaker's ground-truth format, checked whole before
anything is uploaded to where the model-quality monitor reads them.

The format (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-merge.html): JSON Lines, one
record per captured request::

    {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "..."}, "eventVersion": "0"}

``eventId`` is the captured request's inference ID (or, without one, its event ID); ``data`` holds the request's
labels, one per line with CSV encoding or a JSON number or array of numbers with JSON encoding. The files go under
``<ground-truth input>/yyyy/mm/dd/hh/``, the hour the labels were collected (UTC), "the same path format as captured
data"; a run of the monitor reads the hours of its period.
"""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path
from typing import Any, TextIO

import boto3

from operator_cli.errors import OperatorError
from operator_cli.resources import RegionResources
from platform_contract.names import Output, ProblemType

ENCODINGS = ("CSV", "JSON")
EVENT_VERSION = "0"
_SHAPE = (
    '{"groundTruthData": {"data": "<labels>", "encoding": "CSV"|"JSON"}, "eventMetadata": {"eventId": "<id>"}, '
    '"eventVersion": "0"}'
)
_ALLOWED_LABELS = {
    ProblemType.BINARY_CLASSIFICATION: "labels 0 or 1 (binary classification)",
    ProblemType.REGRESSION: "labels that are finite numbers (regression)",
}


def _labels(data: str, encoding: str) -> list[Any]:
    """The labels ``data`` holds; raises ValueError when it is not labels in ``encoding``."""
    if encoding == "CSV":
        return [float(value) for value in data.splitlines()]
    values = json.loads(data)
    flat = values if isinstance(values, list) else [values]
    if any(isinstance(value, bool) or not isinstance(value, int | float) for value in flat):
        raise ValueError("not a JSON number or array of numbers")
    return [float(value) for value in flat]


def record_problems(line: str, problem_type: ProblemType) -> list[str]:
    """What is wrong with one line of a ground-truth file, each with what is allowed; empty when nothing is."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        return [f"not JSON ({error.msg}); allowed: one record per line, {_SHAPE}"]
    if not isinstance(record, dict):
        return [f"not a JSON object; allowed: {_SHAPE}"]
    problems = []
    extra = sorted(set(record) - {"groundTruthData", "eventMetadata", "eventVersion"})
    if extra:
        problems.append(f"unknown keys {', '.join(extra)}; allowed: groundTruthData, eventMetadata, eventVersion")
    if "eventVersion" not in record:
        problems.append(f"eventVersion is missing; allowed: {EVENT_VERSION!r}")
    elif record["eventVersion"] != EVENT_VERSION:
        problems.append(f"eventVersion is {json.dumps(record['eventVersion'])}; allowed: {EVENT_VERSION!r}")
    metadata = record.get("eventMetadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("eventId"), str) or not metadata["eventId"]:
        problems.append(
            "eventMetadata.eventId is missing or empty; allowed: the captured request's inference or event ID"
        )
    truth = record.get("groundTruthData")
    if not isinstance(truth, dict):
        return [*problems, "groundTruthData is missing; allowed: an object with data and encoding"]
    encoding, data = truth.get("encoding"), truth.get("data")
    if encoding not in ENCODINGS:
        return [*problems, f"groundTruthData.encoding is {encoding!r}; allowed: {' or '.join(ENCODINGS)}"]
    if not isinstance(data, str):
        return [*problems, f"groundTruthData.data is {data!r}; allowed: a string holding the labels"]
    try:
        labels = _labels(data, encoding)
    except ValueError:
        how = "one number per line" if encoding == "CSV" else "a JSON number or array of numbers"
        return [*problems, f"groundTruthData.data {data!r} is not labels in {encoding}; allowed: {how}"]
    wrong = [
        label
        for label in labels
        if not math.isfinite(label) or (problem_type == ProblemType.BINARY_CLASSIFICATION and label not in (0, 1))
    ]
    if not labels or wrong:
        found = ", ".join(f"{label:g}" for label in wrong) or "no labels"
        problems.append(f"groundTruthData.data has {found}; allowed: {_ALLOWED_LABELS[problem_type]}")
    return problems


def file_problems(path: Path, problem_type: ProblemType) -> list[str]:
    """Every problem of the file, as ``<path> line <n>: ...``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        return [f"cannot read {path}: {error.strerror or error}"]
    except UnicodeDecodeError:
        return [f"{path} is not UTF-8 text; allowed: JSON Lines"]
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        return [f"{path} holds no records; allowed: JSON Lines, one record per line, {_SHAPE}"]
    return [
        f"{path} line {number}: {problem}" for number, line in lines for problem in record_problems(line, problem_type)
    ]


def ground_truth_key(input_uri: str, bucket: str, name: str, collected: datetime.datetime) -> str:
    """The object key of a labels file collected at ``collected`` (UTC), under the monitor's ground-truth input."""
    prefix = input_uri.removeprefix(f"s3://{bucket}/").rstrip("/")
    return f"{prefix}/{collected:%Y/%m/%d/%H}/{Path(name).stem}.jsonl"


def upload_ground_truth(
    aws: boto3.Session, resources: RegionResources, path: Path, *, collected: datetime.datetime, out: TextIO
) -> str:
    """Checks the whole file against the Region's model-quality monitor and, only when nothing is wrong, uploads it
    encrypted with the Region's key; returns its URI. Raises OperatorError listing every problem otherwise."""
    serving = resources.serving
    if serving is None or Output.MODEL_QUALITY_PROBLEM_TYPE not in serving.outputs:
        raise OperatorError(
            f"Region {resources.region} has no model-quality monitor to read labels: promote a model and keep "
            f"serving.monitoring.enabled and serving.monitoring.model_quality true"
        )
    problem_type = ProblemType(serving[Output.MODEL_QUALITY_PROBLEM_TYPE])
    problems = file_problems(path, problem_type)
    if problems:
        raise OperatorError(f"{len(problems)} problem(s), nothing uploaded:\n  " + "\n  ".join(problems))
    key = ground_truth_key(serving[Output.GROUND_TRUTH_URI], resources.bucket, path.name, collected)
    aws.client("s3").upload_file(
        str(path),
        resources.bucket,
        key,
        ExtraArgs={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": resources.key_arn},
    )
    uri = f"s3://{resources.bucket}/{key}"
    print(f"uploaded {path} to {uri}; the model-quality monitor's next run reads it", file=out)
    return uri
