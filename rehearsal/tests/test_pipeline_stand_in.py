"""The stand-in for a pipeline run's jobs: a real model, registered as the RegisterModel step would, served for real."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from data_preparation import contract
from rehearsal.aws import Emulator
from rehearsal.model import ModelFailed, serving, write_data_set, write_raw_data_set
from rehearsal.operator_phase import PipelineStandIn
from rehearsal.tests.support import REGION, Stacks

ROLE = "arn:aws:iam::123456789012:role/any"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/model:latest"
HYPERPARAMETERS = {"target_column": "label", "task": "classification", "num_round": "20"}


def _definition(bucket: str, group: str) -> str:
    """The platform pipeline's training and registration, small."""
    report = {
        "Std:Join": {
            "On": "",
            "Values": [
                f"s3://{bucket}/evaluation/",
                {"Get": "Execution.PipelineExecutionId"},
                "/report/evaluation.json",
            ],
        }
    }
    register = {
        "ModelPackageGroupName": group,
        "ModelApprovalStatus": "PendingManualApproval",
        "InferenceSpecification": {
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
            "Containers": [{"Image": IMAGE, "ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}}],
        },
        "ModelMetrics": {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": report}}},
    }
    return json.dumps(
        {
            "Version": "2020-12-01",
            "Steps": [
                {
                    "Name": "Train",
                    "Type": "Training",
                    "Arguments": {
                        "HyperParameters": HYPERPARAMETERS,
                        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/models/"},
                    },
                },
                {"Name": "Register", "Type": "RegisterModel", "Arguments": register},
            ],
        }
    )


@pytest.mark.slow
def test_a_succeeded_execution_leaves_a_real_registered_model_that_the_endpoint_serves(
    emulator: Emulator, stacks: Stacks, tmp_path: Path
) -> None:
    sagemaker, s3 = stacks.client("sagemaker"), stacks.client("s3")
    bucket, group, name = stacks.unique_name("data"), stacks.unique_name("models"), stacks.unique_name()
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    sagemaker.create_pipeline(PipelineName=name, PipelineDefinition=_definition(bucket, group), RoleArn=ROLE)
    execution = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    data_set = write_data_set(tmp_path / "data", target="label")

    package, model = PipelineStandIn(emulator, REGION, tmp_path / "jobs").register(execution, data_set)

    described = sagemaker.describe_model_package(ModelPackageName=package)
    assert (described["ModelPackageGroupName"], described["ModelApprovalStatus"]) == (group, "PendingManualApproval")
    model_data = described["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    execution_id = execution.rsplit("/", 1)[1]
    assert model_data == f"s3://{bucket}/models/pipelines-{execution_id}-Train/output/model.tar.gz"
    stored = s3.get_object(Bucket=bucket, Key=model_data.split("/", 3)[3])["Body"].read()
    assert stored == model.archive.read_bytes()
    report_uri = described["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    report = json.loads(s3.get_object(Bucket=bucket, Key=report_uri.split("/", 3)[3])["Body"].read())
    assert 0.5 < report["binary_classification_metrics"]["auc"]["value"] <= 1, "the model learned the generated data"

    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={"ModelPackageName": package})
    variant = {"VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    rows = data_set.test_rows.read_bytes()
    with serving(model.archive, tmp_path / "instance") as url:
        emulator.serve_model(REGION, package, url)
        answer = stacks.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=name, ContentType="text/csv", Body=rows
        )
    predictions = [float(line) for line in answer["Body"].read().split()]
    assert len(predictions) == len(rows.splitlines()) and all(0 <= p <= 1 for p in predictions)


def test_a_model_the_server_cannot_load_fails_with_the_servers_reason(tmp_path):
    note = tmp_path / "README"
    note.write_text("no model here")
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as model:
        model.add(note, arcname="README")
    with pytest.raises(ModelFailed) as failed, serving(archive, tmp_path / "instance"):
        pass
    assert str(failed.value).startswith("the platform's serve did not answer /ping: serve exited with status ")
    assert "xgboost-model.ubj" in (tmp_path / "instance" / "serve.log").read_text()


@pytest.mark.slow
def test_the_prepare_step_runs_the_real_job_on_local_spark_and_refuses_unlabelled_rows(
    emulator: Emulator, tmp_path: Path
) -> None:
    settings = {"dataset": "churn", "label_column": "label", "task": "classification", "rules": {"min_rows": 100}}
    definition = {
        "Steps": [
            {
                "Name": "Prepare",
                "Type": "Processing",
                "Arguments": {"AppSpecification": {"ContainerArguments": contract.job_arguments(settings)}},
            }
        ]
    }
    stand_in = PipelineStandIn(emulator, REGION, tmp_path / "jobs")
    prepared = stand_in.prepare(definition, write_raw_data_set(tmp_path / "raw" / "churn", target="label"), "churn")
    assert sorted(path.name for path in prepared.data_set.directory.iterdir()) == [
        "test",
        "test-labels",
        "train",
        "validation",
    ]
    assert sorted(path.name for path in prepared.baseline.iterdir()) == ["constraints.json", "statistics.json"]
    unlabelled = write_raw_data_set(tmp_path / "raw" / "bad", target="label", missing_labels=30)
    with pytest.raises(ModelFailed) as refused:
        stand_in.prepare(definition, unlabelled, "bad")
    assert "label_column label: missing in 0.025 (30 of 1200 rows); allowed: a label in every row" in str(refused.value)
