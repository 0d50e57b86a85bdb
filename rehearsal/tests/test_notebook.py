"""The example notebook (examples/notebook-to-pipeline.ipynb), executed as Studio runs it, cell by cell in an IPython
kernel of this venv's python, against the emulator: the Region's Data and Training stacks give it what
``find_resources`` reads. Between the cell that starts the pipeline and the cell that follows it, the pipeline
stand-in does what the execution's jobs do: the real data-preparation job on the dataset the notebook uploaded, the
platform's ``train`` with the shipped config's hyperparameters, and the registration with the quality report."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import nbformat
import pytest
from nbclient import NotebookClient

from data_preparation import contract
from operator_cli import commands
from operator_cli.resources import RegionResources, StackOutputs
from platform_config import load_platform_config
from platform_config.naming import stack_name
from platform_contract.names import DataPrefix, Output, PipelineParameter, StackId
from rehearsal.aws import Emulator
from rehearsal.cdk import PROJECT_ROOT
from rehearsal.operator_phase import PREPARE_STEP, PipelineStandIn
from rehearsal.tests.support import REGION, Stacks

NOTEBOOK = PROJECT_ROOT / "examples" / "notebook-to-pipeline.ipynb"
STARTS_EXECUTION = "starts-execution"
"""The tag of the notebook's cell that starts the pipeline."""
CELL_SECONDS = 120
ROLE = "arn:aws:iam::123456789012:role/any"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/model:latest"
SPARK = "571004829621.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-spark-processing:3.5-cpu"


def _per_execution(bucket: str, prefix: str, rest: str = "") -> dict[str, Any]:
    return {
        "Std:Join": {
            "On": "",
            "Values": [f"s3://{bucket}/{prefix}", {"Get": "Execution.PipelineExecutionId"}, f"/{rest}"],
        }
    }


def _definition(bucket: str, group: str) -> dict[str, Any]:
    """The platform pipeline's Prepare, Train and registration, small, with the shipped config's Prepare settings and
    hyperparameters (those of its first Region)."""
    first_region = load_platform_config(json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]).regions[0]
    settings = first_region.settings.training
    preparation = settings.pipeline_props().preparation
    assert preparation is not None, "the shipped config prepares a raw dataset"

    def output(name: str, prefix: str) -> dict[str, Any]:
        uri = _per_execution(bucket, prefix)
        return {
            "OutputName": name,
            "S3Output": {"S3Uri": uri, "LocalPath": f"/opt/ml/processing/{name}", "S3UploadMode": "EndOfJob"},
        }

    prepare = {
        "RoleArn": ROLE,
        "AppSpecification": {
            "ImageUri": SPARK,
            "ContainerEntrypoint": ["smspark-submit"],
            "ContainerArguments": contract.job_arguments(preparation.settings.to_mapping()),
        },
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}
        },
        "ProcessingInputs": [
            {
                "InputName": "raw",
                "S3Input": {
                    "S3Uri": {
                        "Std:Join": {
                            "On": "",
                            "Values": [
                                f"s3://{bucket}/{DataPrefix.RAW}",
                                {"Get": f"Parameters.{PipelineParameter.RAW_DATASET}"},
                                "/",
                            ],
                        }
                    },
                    "LocalPath": "/opt/ml/processing/input/raw",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
        ],
        # The stand-in uploads the split dataset to the first output and the baseline to the second.
        "ProcessingOutputConfig": {
            "Outputs": [output("datasets", DataPrefix.DATASETS), output("baseline", DataPrefix.BASELINE)]
        },
    }
    baseline = {"Get": f"Steps.{PREPARE_STEP}.ProcessingOutputConfig.Outputs['baseline'].S3Output.S3Uri"}
    register = {
        "ModelPackageGroupName": group,
        "ModelApprovalStatus": "PendingManualApproval",
        "InferenceSpecification": {
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
            "Containers": [{"Image": IMAGE, "ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}}],
        },
        "ModelMetrics": {
            "ModelQuality": {
                "Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": _per_execution(bucket, DataPrefix.EVALUATION, "report/evaluation.json"),
                }
            }
        },
        "DriftCheckBaselines": {
            "ModelDataQuality": {
                "Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": {"Std:Join": {"On": "", "Values": [baseline, contract.STATISTICS_FILE]}},
                }
            }
        },
    }
    return {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": PipelineParameter.RAW_DATASET, "Type": "String", "DefaultValue": preparation.settings.dataset}
        ],
        "Steps": [
            {"Name": PREPARE_STEP, "Type": "Processing", "Arguments": prepare},
            {
                "Name": "Train",
                "Type": "Training",
                "Arguments": {
                    "HyperParameters": settings.hyperparameters,
                    "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/{DataPrefix.MODELS}"},
                },
            },
            {"Name": "RegisterModel", "Type": "RegisterModel", "Arguments": register},
        ],
    }


@dataclass(frozen=True)
class Region:
    bucket: str
    pipeline: str
    group: str
    definition: dict[str, Any]


@pytest.fixture
def region(stacks: Stacks) -> Iterator[Region]:
    """The Region's Data and Training stacks, under the names and with the outputs mlp reads."""
    bucket, pipeline, group = stacks.unique_name("data"), stacks.unique_name("pipeline"), stacks.unique_name("models")
    definition = _definition(bucket, group)
    data, training = stack_name(REGION, StackId.DATA), stack_name(REGION, StackId.TRAINING)
    stacks.deploy(
        data,
        {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}}},
        Outputs={Output.DATA_BUCKET_NAME: {"Value": {"Ref": "Bucket"}}},
    )
    stacks.deploy(
        training,
        {
            "Pipeline": {
                "Type": "AWS::SageMaker::Pipeline",
                "Properties": {
                    "PipelineName": pipeline,
                    "PipelineDefinition": {"PipelineDefinitionBody": json.dumps(definition)},
                    "RoleArn": ROLE,
                },
            },
            "Group": {"Type": "AWS::SageMaker::ModelPackageGroup", "Properties": {"ModelPackageGroupName": group}},
        },
        Outputs={Output.PIPELINE_NAME: {"Value": pipeline}, Output.MODEL_PACKAGE_GROUP_NAME: {"Value": group}},
    )
    yield Region(bucket, pipeline, group, definition)
    stacks.delete(training)
    stacks.delete(data)


def _run_jobs(emulator: Emulator, region: Region, work: Path) -> str:
    """What the jobs of the execution the notebook started do, once it has ended: Prepare on the raw dataset it
    uploaded, then Train and the registration. Returns the execution's ARN."""
    sagemaker, s3 = emulator.client("sagemaker", REGION), emulator.client("s3", REGION)
    (summary,) = sagemaker.list_pipeline_executions(PipelineName=region.pipeline)["PipelineExecutionSummaries"]
    execution_arn = summary["PipelineExecutionArn"]
    deadline = time.monotonic() + 30
    while (
        sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)["PipelineExecutionStatus"]
        == "Executing"
    ):
        assert time.monotonic() < deadline, f"{execution_arn} is still executing"
        time.sleep(0.1)
    parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=execution_arn)[
        "PipelineParameters"
    ]
    dataset = next(p["Value"] for p in parameters if p["Name"] == PipelineParameter.RAW_DATASET)
    raw = work / "raw" / dataset
    for item in s3.list_objects_v2(Bucket=region.bucket, Prefix=f"{DataPrefix.RAW}{dataset}/")["Contents"]:
        local = raw / item["Key"].removeprefix(f"{DataPrefix.RAW}{dataset}/")
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(s3.get_object(Bucket=region.bucket, Key=item["Key"])["Body"].read())
    stand_in = PipelineStandIn(emulator, REGION, work / "jobs")
    prepared = stand_in.prepare(region.definition, raw, dataset)
    stand_in.register(execution_arn, prepared.data_set, prepared)
    return execution_arn


def _text(cell: Any) -> str:
    """What a code cell showed: its printed lines and its result."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "execute_result":
            parts.append(output.data["text/plain"] + "\n")
    return "".join(parts)


def test_the_notebook_is_stored_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert [cell.id for cell in code if STARTS_EXECUTION in cell.metadata.get("tags", [])] == ["start"]


def test_the_registered_version_of_an_execution_is_the_one_with_its_report(
    emulator: Emulator, region: Region, aws: boto3.Session
) -> None:
    sagemaker = emulator.client("sagemaker", REGION)
    resources = RegionResources(
        REGION,
        StackOutputs("Data", {Output.DATA_BUCKET_NAME: region.bucket}),
        StackOutputs("Training", {Output.MODEL_PACKAGE_GROUP_NAME: region.group}),
        None,
    )
    first, second = (
        sagemaker.start_pipeline_execution(PipelineName=region.pipeline)["PipelineExecutionArn"] for _ in range(2)
    )

    def register(execution_arn: str) -> str:
        report = f"s3://{region.bucket}/{DataPrefix.EVALUATION}{execution_arn.rsplit('/', 1)[1]}/report/evaluation.json"
        return sagemaker.create_model_package(
            ModelPackageGroupName=region.group,
            InferenceSpecification={
                "Containers": [{"Image": IMAGE}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            ModelMetrics={"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": report}}},
        )["ModelPackageArn"]

    assert commands.registered_version(aws, resources, second) is None
    registered = register(first)
    assert commands.registered_version(aws, resources, second) is None, "another execution's version"
    found = commands.registered_version(aws, resources, first)
    assert found is not None and found["ModelPackageArn"] == registered


@pytest.mark.slow
def test_the_notebook_uploads_trains_follows_and_shows_the_registered_versions_evaluation(
    emulator: Emulator, region: Region, tmp_path: Path
) -> None:
    emulator.queue_pipeline_outcome(REGION, region.pipeline, status="Succeeded", seconds_per_step=0.1)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    (tmp_path / "studio").mkdir()
    client = NotebookClient(
        notebook,
        timeout=CELL_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path / "studio")}},
    )
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("AWS_")},
        **emulator.client_environment(REGION),
        # This checkout's packages, even where the venv's editable install is another checkout's.
        "PYTHONPATH": str(PROJECT_ROOT),
        "IPYTHONDIR": str(tmp_path / "ipython"),
    }
    shown: dict[str, str] = {}
    with client.setup_kernel(env=environment):
        assert client.km is not None
        assert client.km.format_kernel_cmd()[0] == sys.executable, "the kernel runs the venv's python"
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
            if cell.cell_type == "code":
                shown[cell.id] = _text(cell)
            if STARTS_EXECUTION in cell.metadata.get("tags", []):
                execution_arn = _run_jobs(emulator, region, tmp_path)

    assert f"data bucket {region.bucket}\npipeline {region.pipeline}\n" in shown["setup"]
    assert shown["dataset"].startswith("1200 rows")
    assert f"to s3://{region.bucket}/{DataPrefix.RAW}churn-notebook/part-0.csv" in shown["upload"]
    assert shown["start"] == f"started {execution_arn}\n"
    assert f"{PREPARE_STEP:<26} Processing     Succeeded" in shown["follow"]
    assert "pipeline execution Succeeded after" in shown["follow"] and shown["follow"].endswith("'Succeeded'\n")

    sagemaker, s3 = emulator.client("sagemaker", REGION), emulator.client("s3", REGION)
    (package,) = sagemaker.list_model_packages(ModelPackageGroupName=region.group)["ModelPackageSummaryList"]
    assert shown["evaluation"].startswith(f"version 1: PendingManualApproval ({package['ModelPackageArn']})\n")
    execution_id = execution_arn.rsplit("/", 1)[1]
    stored = s3.get_object(Bucket=region.bucket, Key=f"{DataPrefix.EVALUATION}{execution_id}/report/evaluation.json")
    auc = json.loads(stored["Body"].read())["binary_classification_metrics"]["auc"]["value"]
    assert f"binary_classification_metrics auc: {auc:.4f}\n" in shown["evaluation"]
    assert 0.5 < auc <= 1, "the model learned the notebook's rows"
