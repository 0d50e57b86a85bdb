"""``mlp ground-truth upload`` against the emulator's S3 and KMS: a good file lands encrypted under the hour it was
collected, where the model-quality job reads; a bad one is refused whole, with every problem, and nothing uploaded."""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path

import pytest

from operator_cli.errors import OperatorError
from operator_cli.ground_truth import upload_ground_truth
from operator_cli.resources import RegionResources, StackOutputs
from platform_contract.names import DataPrefix, Output, ProblemType
from rehearsal.tests.support import REGION, Stacks

COLLECTED = datetime.datetime(2031, 3, 15, 7, 45, tzinfo=datetime.UTC)
ENDPOINT = "EndpointMlM5Large-Ab12Cd34Ef56"


def _region(stacks: Stacks, problem_type: ProblemType) -> RegionResources:
    bucket = stacks.unique_name("data")
    stacks.client("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    key = stacks.client("kms").create_key()["KeyMetadata"]["Arn"]
    data = StackOutputs("Data", {Output.DATA_BUCKET_NAME: bucket, Output.KEY_ARN: key})
    serving = StackOutputs(
        "Serving",
        {
            Output.ENDPOINT_NAME: ENDPOINT,
            Output.GROUND_TRUTH_URI: f"s3://{bucket}/{DataPrefix.GROUND_TRUTH}{ENDPOINT}",
            Output.MODEL_QUALITY_PROBLEM_TYPE: problem_type.value,
        },
    )
    return RegionResources(REGION, data, StackOutputs("Training", {}), serving)


def _record(event_id: str, data: str, encoding: str = "CSV") -> str:
    record = {"groundTruthData": {"data": data, "encoding": encoding}, "eventMetadata": {"eventId": event_id}}
    return json.dumps(record | {"eventVersion": "0"})


def _objects(stacks: Stacks, bucket: str) -> list[str]:
    return [item["Key"] for item in stacks.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_good_labels_land_encrypted_under_the_hour_they_were_collected(aws, stacks, tmp_path: Path) -> None:
    resources = _region(stacks, ProblemType.BINARY_CLASSIFICATION)
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join([_record("a", "1"), _record("b", "0\n1"), _record("c", "[1, 0]", "JSON")]) + "\n")

    uri = upload_ground_truth(aws, resources, labels, collected=COLLECTED, out=io.StringIO())

    key = f"ground-truth/{ENDPOINT}/2031/03/15/07/labels.jsonl"
    assert uri == f"s3://{resources.bucket}/{key}"
    head = stacks.client("s3").head_object(Bucket=resources.bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == resources.key_arn
    assert stacks.client("s3").get_object(Bucket=resources.bucket, Key=key)["Body"].read() == labels.read_bytes()


def test_a_bad_file_is_refused_with_every_problem_and_nothing_is_uploaded(aws, stacks, tmp_path: Path) -> None:
    resources = _region(stacks, ProblemType.BINARY_CLASSIFICATION)
    labels = tmp_path / "labels.jsonl"
    lines = [
        _record("a", "1"),
        "not json",
        _record("b", "2"),
        _record("", "1", "XML"),
        json.dumps({"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "c"}}),
        _record("d", "[true]", "JSON"),
    ]
    labels.write_text("\n".join(lines) + "\n")

    with pytest.raises(OperatorError) as refused:
        upload_ground_truth(aws, resources, labels, collected=COLLECTED, out=io.StringIO())

    message = str(refused.value)
    assert message.startswith("6 problem(s), nothing uploaded:")
    for expected in (
        "line 2: not JSON",
        "line 3: groundTruthData.data has 2; allowed: labels 0 or 1 (binary classification)",
        "line 4: eventMetadata.eventId is missing or empty",
        "line 4: groundTruthData.encoding is 'XML'; allowed: CSV or JSON",
        "line 5: eventVersion is missing; allowed: '0'",
        "line 6: groundTruthData.data '[true]' is not labels in JSON",
    ):
        assert expected in message
    assert "line 1" not in message
    assert _objects(stacks, resources.bucket) == []


def test_regression_labels_are_numbers(aws, stacks, tmp_path: Path) -> None:
    resources = _region(stacks, ProblemType.REGRESSION)
    labels = tmp_path / "prices.jsonl"
    labels.write_text(_record("a", "12.5") + "\n" + _record("b", "cheap") + "\n" + _record("c", "nan") + "\n")

    with pytest.raises(OperatorError) as refused:
        upload_ground_truth(aws, resources, labels, collected=COLLECTED, out=io.StringIO())

    assert "line 2: groundTruthData.data 'cheap' is not labels in CSV" in str(refused.value)
    assert "line 3: groundTruthData.data has nan; allowed: labels that are finite numbers (regression)" in str(
        refused.value
    )
    labels.write_text(_record("a", "12.5") + "\n" + _record("b", "[3, 4.25]", "JSON") + "\n")
    upload_ground_truth(aws, resources, labels, collected=COLLECTED, out=io.StringIO())
    assert _objects(stacks, resources.bucket) == [f"ground-truth/{ENDPOINT}/2031/03/15/07/prices.jsonl"]


def test_a_region_without_a_model_quality_monitor_takes_no_labels(aws, stacks, tmp_path: Path) -> None:
    resources = _region(stacks, ProblemType.REGRESSION)
    without = RegionResources(REGION, resources.data, resources.training, None)
    labels = tmp_path / "labels.jsonl"
    labels.write_text(_record("a", "1") + "\n")

    with pytest.raises(OperatorError, match=r"serving\.monitoring\.model_quality"):
        upload_ground_truth(aws, without, labels, collected=COLLECTED, out=io.StringIO())
