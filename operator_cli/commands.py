"""Day-2 operations on a deployed Region: data, training, approval, promotion, invocation, status."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import boto3

from operator_cli.deploy import RolledBack, deploy
from operator_cli.errors import OperatorError
from operator_cli.monitoring import package_baseline
from operator_cli.project import Project
from operator_cli.resources import RegionResources
from platform_config.naming import stage_name
from platform_contract.names import MEDIA_TYPE_BY_SUFFIX, DataPrefix

FINISHED_EXECUTION = frozenset({"Succeeded", "Failed", "Stopped"})
POLL_SECONDS = 15.0
"""How often ``train --wait`` asks for the execution's progress; its steps take minutes."""
FOLLOW_LIMIT_SECONDS = 24 * 3600
"""``train --wait`` stops following after this long; the execution goes on."""
SERVING_STATUSES = frozenset({"InService", "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed"})
"""Endpoint statuses that take requests: during an update or rollback the old fleet keeps serving."""
LARGE_FILE_BYTES = 8 * 1024 * 1024
"""Files from this size up are uploaded in parts, with a progress display."""
STATUS_HISTORY = 3
"""Executions and model versions shown per Region by ``mlp status``."""


# --- Data ------------------------------------------------------------------------------------------


def upload_data(
    aws: boto3.Session, resources: RegionResources, path: Path, *, prepared: bool = False, out: TextIO
) -> str:
    """Uploads a raw dataset, a directory or a single file, to ``raw/<name>/`` (the directory's name, or the file's
    without its suffix), where the pipeline's Prepare step reads it; with ``prepared``, a split dataset (train/,
    validation/, test/, test-labels/) to ``datasets/<name>/``, which training reads as it is. Returns its URI."""
    if not path.exists():
        raise OperatorError(f"cannot read {path}: No such file or directory")
    files = sorted(item for item in path.rglob("*") if item.is_file()) if path.is_dir() else [path]
    if not files:
        raise OperatorError(f"{path} holds no files to upload")
    s3 = aws.client("s3")
    name = path.name if path.is_dir() else path.stem
    folder = f"{DataPrefix.DATASETS if prepared else DataPrefix.RAW}{name}/"
    for file in files:
        key = folder + (file.relative_to(path).as_posix() if path.is_dir() else file.name)
        try:
            size = file.stat().st_size
            progress = _Progress(file.name, size, out) if size >= LARGE_FILE_BYTES else None
            s3.upload_file(str(file), resources.bucket, key, Callback=progress)
        except OSError as error:
            raise OperatorError(f"cannot read {file}: {error.strerror or error}") from None
        print(f"uploaded {file} ({size} bytes) to s3://{resources.bucket}/{key}", file=out)
    uri = f"s3://{resources.bucket}/{folder}"
    option = f"--prepared-data {uri}" if prepared else f"--data {name}"
    print(f"train on it with: mlp train --region {resources.region} {option}", file=out)
    return uri


class _Progress:
    """Upload progress in steps of 10 %, on one line on a terminal; boto3 calls it from its transfer threads."""

    def __init__(self, name: str, size: int, out: TextIO) -> None:
        self._name, self._size, self._out = name, size, out
        self._sent = self._shown = 0
        self._lock = threading.Lock()

    def __call__(self, chunk: int) -> None:
        with self._lock:
            self._sent += chunk
            percent = 100 * self._sent // self._size // 10 * 10
            if percent <= self._shown:
                return
            self._shown = percent
            terminal = self._out.isatty()
            line = f"{self._name}: {percent:3d}% of {self._size} bytes"
            end = "\n" if not terminal or percent == 100 else ""
            print(("\r" if terminal else "") + line, end=end, file=self._out, flush=True)


# --- Training --------------------------------------------------------------------------------------


def raw_dataset(resources: RegionResources, name: str) -> str:
    """``name`` as the pipeline's RawDataset: the name of a folder under the Region's raw/."""
    if not name or "/" in name.strip("/") or name in (".", ".."):
        raise OperatorError(
            f"--data {name}: give the name of a raw dataset, a folder under s3://{resources.bucket}/{DataPrefix.RAW} "
            "(mlp upload-data puts one there); for a split dataset use --prepared-data"
        )
    return name.strip("/")


def training_data_uri(resources: RegionResources, uri: str) -> str:
    """``uri`` as the pipeline's InputDataUri: a folder of the Region's datasets/, ending in /."""
    folder = f"s3://{resources.bucket}/{DataPrefix.DATASETS}"
    if not uri.startswith(folder):
        raise OperatorError(
            f"--prepared-data {uri}: training reads only the Region's data set folder; give a folder under {folder}"
        )
    return uri if uri.endswith("/") else uri + "/"


def start_training(aws: boto3.Session, resources: RegionResources, *, parameters: dict[str, str]) -> str:
    """Starts the Region's pipeline with ``parameters`` (the rest keep their defaults); returns the execution ARN."""
    response = aws.client("sagemaker").start_pipeline_execution(
        PipelineName=resources.pipeline_name,
        PipelineExecutionDisplayName="mlp-train",
        PipelineParameters=[{"Name": name, "Value": value} for name, value in parameters.items()],
    )
    return response["PipelineExecutionArn"]


def _step_types(steps: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    """(name, type) of every step of a definition, branches included."""
    for step in steps:
        yield step["Name"], step["Type"]
        for branch in ("IfSteps", "ElseSteps"):
            yield from _step_types(step.get("Arguments", {}).get(branch, []))


def follow_execution(aws: boto3.Session, execution_arn: str, *, out: TextIO, poll_seconds: float) -> dict[str, Any]:
    """Prints each step as it starts and ends, with the time since following began, until the execution ends;
    returns the succeeded execution (DescribePipelineExecution).

    Raises OperatorError with the failure reason when the execution fails or is stopped.
    """
    sagemaker = aws.client("sagemaker")
    definition = sagemaker.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution_arn)
    types = dict(_step_types(json.loads(definition["PipelineDefinition"]).get("Steps", [])))
    steps = sagemaker.get_paginator("list_pipeline_execution_steps")
    print(f"following {execution_arn} (Ctrl-C stops following, not the execution)", file=out, flush=True)
    started = time.monotonic()
    shown: dict[str, str] = {}
    while True:
        execution = sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        elapsed = _clock(time.monotonic() - started)
        for page in steps.paginate(PipelineExecutionArn=execution_arn, SortOrder="Ascending"):
            for step in page["PipelineExecutionSteps"]:
                name, status = step["StepName"], step["StepStatus"]
                if shown.get(name) != status:
                    shown[name] = status
                    detail = _step_detail(step)
                    print(f"  {elapsed}  {name:<26} {types.get(name, ''):<14} {status}{detail}", file=out, flush=True)
        status = execution["PipelineExecutionStatus"]
        if status in FINISHED_EXECUTION:
            print(f"pipeline execution {status} after {elapsed}", file=out)
            if status != "Succeeded":
                job_reasons = _failed_job_reasons(aws, execution_arn, out=out)
                reason = execution.get("FailureReason") or "no reason given; see the steps above"
                raise OperatorError(f"pipeline execution {status.lower()}: {job_reasons or reason}")
            return execution
        if time.monotonic() - started > FOLLOW_LIMIT_SECONDS:
            raise OperatorError(f"stopped following after {elapsed}; the execution is still {status}")
        time.sleep(poll_seconds)


def _failed_job_reasons(aws: boto3.Session, execution_arn: str, *, out: TextIO) -> str:
    """The FailureReason of each processing job of a failed step, printed in full: the Prepare step's names every
    data-quality violation (its first kilobyte, which SageMaker keeps). Empty when no processing job failed."""
    sagemaker = aws.client("sagemaker")
    steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=execution_arn)["PipelineExecutionSteps"]
    reasons = []
    for step in steps:
        job_arn = step.get("Metadata", {}).get("ProcessingJob", {}).get("Arn")
        if step.get("StepStatus") != "Failed" or not job_arn:
            continue
        job = sagemaker.describe_processing_job(ProcessingJobName=job_arn.rsplit("/", 1)[1])
        reason = job.get("FailureReason") or step.get("FailureReason", "")
        print(f"step {step['StepName']} failed; its job {job['ProcessingJobName']} says:\n{reason}", file=out)
        reasons.append(f"{step['StepName']}: {reason}")
    return "; ".join(reasons)


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


def _step_detail(step: dict[str, Any]) -> str:
    """What a finished step decided or why it failed."""
    if step.get("FailureReason"):
        return f": {step['FailureReason']}"
    outcome = step.get("Metadata", {}).get("Condition", {}).get("Outcome")
    return f" (condition {outcome.lower()})" if outcome else ""


# --- Model registry --------------------------------------------------------------------------------


def model_packages(aws: boto3.Session, resources: RegionResources, *, status: str | None = None) -> list[dict]:
    """The versions in the Region's model package group, newest first."""
    arguments = {
        "ModelPackageGroupName": resources.model_package_group,
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
    }
    if status:
        arguments["ModelApprovalStatus"] = status
    paginator = aws.client("sagemaker").get_paginator("list_model_packages")
    packages = [package for page in paginator.paginate(**arguments) for package in page["ModelPackageSummaryList"]]
    # Versions count up within a group; creation times of quick registrations may tie.
    return sorted(packages, key=lambda package: package.get("ModelPackageVersion", 0), reverse=True)


def registered_version(aws: boto3.Session, resources: RegionResources, execution_arn: str) -> dict[str, Any] | None:
    """The model version an execution registered (DescribeModelPackage), or None if it registered none: the version
    created since the execution started whose quality report is the one the execution wrote, under
    ``evaluation/<execution id>/`` of the Region's bucket."""
    sagemaker = aws.client("sagemaker")
    started = sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)["CreationTime"]
    reports = f"s3://{resources.bucket}/{DataPrefix.EVALUATION}{execution_arn.rsplit('/', 1)[1]}/"
    for summary in model_packages(aws, resources):
        if summary["CreationTime"] < started:
            return None
        package = sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
        if _quality_report_uri(package).startswith(reports):
            return package
    return None


def quality_report(aws: boto3.Session, package: dict[str, Any]) -> dict[str, Any]:
    """The quality report a version was registered with (its ModelMetrics.ModelQuality statistics): the Evaluate
    step's evaluation.json, in SageMaker's model quality format (``{"binary_classification_metrics": {"auc":
    {"value": 0.93}}}``)."""
    uri = _quality_report_uri(package)
    if not uri:
        raise OperatorError(f"{package['ModelPackageArn']} was registered without a quality report")
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def _quality_report_uri(package: dict[str, Any]) -> str:
    return package.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {}).get("S3Uri", "")


def set_approval(
    aws: boto3.Session, resources: RegionResources, *, approve: bool, version: int | None, out: TextIO
) -> str:
    """Approves or rejects a version (default: the newest one pending approval); returns its ARN."""
    packages = model_packages(aws, resources)
    package: dict | None
    if version is None:
        pending = [package for package in packages if package["ModelApprovalStatus"] == "PendingManualApproval"]
        if not pending:
            raise OperatorError(f"no version of {resources.model_package_group} is pending approval; pass --version")
        package = pending[0]
    else:
        package = next((package for package in packages if package.get("ModelPackageVersion") == version), None)
        if package is None:
            versions = ", ".join(str(package.get("ModelPackageVersion")) for package in packages) or "none"
            raise OperatorError(f"{resources.model_package_group} has no version {version}; versions: {versions}")
    new_status = "Approved" if approve else "Rejected"
    aws.client("sagemaker").update_model_package(
        ModelPackageArn=package["ModelPackageArn"], ModelApprovalStatus=new_status
    )
    print(f"{package['ModelPackageArn']}: {new_status}", file=out)
    return package["ModelPackageArn"]


def latest_approved_package(aws: boto3.Session, resources: RegionResources) -> str:
    approved = model_packages(aws, resources, status="Approved")
    if not approved:
        raise OperatorError(
            f"no approved model in {resources.model_package_group}; "
            f"approve one with mlp approve --region {resources.region}"
        )
    return approved[0]["ModelPackageArn"]


# --- Serving ---------------------------------------------------------------------------------------


def promote(project: Project, aws: boto3.Session, region: str, package_arn: str, *, out: TextIO) -> None:
    """Records ``package_arn`` as the Region's model in the project's cdk.json, with its data-quality baseline
    (``serving.monitoring.baseline``, from DescribeModelPackage; a package without one leaves data-quality monitoring
    off), then deploys the Region's Serving
    stack as ``make deploy`` deploys (operator_cli/deploy.py): gated, from cdk.json's settings, and checked.

    A failed deploy, or one SageMaker rolled back, restores cdk.json, which then again names what is served. After
    a rollback the stack still describes the refused model while the endpoint serves the previous one, and a later
    promotion of the same model would find nothing to deploy; so the Serving stack is deployed again from the
    restored cdk.json (its own rollout is not checked: whichever way it ends, the previous model is served).
    """
    baseline = package_baseline(aws, package_arn)
    previous = project.record_model_package(region, package_arn, baseline)
    print(f"recorded in {project.cdk_json}: {region} serving.model_package_arn = {package_arn}", file=out)
    if baseline:
        print(f"recorded its data-quality baseline: serving.monitoring.baseline = {baseline}", file=out)
    else:
        print(
            f"{package_arn} has no data-quality baseline (DriftCheckBaselines.ModelDataQuality or "
            "ModelMetrics.ModelDataQuality): data-quality monitoring stays off, model-quality monitoring runs",
            file=out,
        )
    try:
        deploy(project, aws, region, serving_only=True, out=out)
    except RolledBack as error:
        project.restore(previous)
        print(f"restored {project.cdk_json}; deploying the Serving stack from it again", file=out, flush=True)
        deploy(project, aws, region, serving_only=True, check_rollout=False, out=out)
        raise RolledBack(f"{error}; {project.cdk_json} is restored and the Serving stack deployed from it") from None
    except OperatorError as error:
        project.restore(previous)
        raise OperatorError(f"{error}; {project.cdk_json} is restored") from None
    print(f"{stage_name(region)} serves {package_arn}", file=out)


def invoke(aws: boto3.Session, resources: RegionResources, path: Path) -> str:
    """Sends the file's records (CSV rows or JSON) to the Region's endpoint; returns the predictions as text."""
    media_type = MEDIA_TYPE_BY_SUFFIX.get(path.suffix.lower())
    if media_type is None:
        raise OperatorError(f"cannot tell the media type of {path}; give a {' or '.join(MEDIA_TYPE_BY_SUFFIX)} file")
    try:
        body = path.read_bytes()
    except OSError as error:
        raise OperatorError(f"cannot read {path}: {error.strerror or error}") from None
    endpoint = aws.client("sagemaker").describe_endpoint(EndpointName=resources.endpoint_name)
    status = endpoint["EndpointStatus"]
    if status not in SERVING_STATUSES:
        reason = f" ({endpoint['FailureReason']})" if endpoint.get("FailureReason") else ""
        raise OperatorError(f"endpoint {resources.endpoint_name} is {status}{reason}; it takes requests once InService")
    # An endpoint that scales to zero serves its model as an inference component, which every request must name.
    hosted = hosted_components(aws, resources.endpoint_name)
    target = {"InferenceComponentName": hosted[0]} if hosted else {}
    response = aws.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=resources.endpoint_name, ContentType=media_type, Accept=media_type, Body=body, **target
    )
    return response["Body"].read().decode()


def hosted_components(aws: boto3.Session, endpoint_name: str) -> list[str]:
    """Names of the inference components the endpoint hosts (none unless it scales to zero)."""
    listed = aws.client("sagemaker").list_inference_components(EndpointNameEquals=endpoint_name)
    return [summary["InferenceComponentName"] for summary in listed["InferenceComponents"]]


# --- Status ----------------------------------------------------------------------------------------


def region_status(aws: boto3.Session, resources: RegionResources) -> dict[str, str]:
    """One row of the status table."""
    sagemaker = aws.client("sagemaker")
    executions = sagemaker.list_pipeline_executions(
        PipelineName=resources.pipeline_name, SortBy="CreationTime", SortOrder="Descending", MaxResults=STATUS_HISTORY
    )["PipelineExecutionSummaries"]
    executions = sorted(executions, key=lambda execution: execution["StartTime"], reverse=True)[:STATUS_HISTORY]
    packages = model_packages(aws, resources)[:STATUS_HISTORY]
    row = {
        "region": resources.region,
        "last executions": ", ".join(execution["PipelineExecutionStatus"] for execution in executions) or "none",
        "latest models": ", ".join(
            f"v{package.get('ModelPackageVersion')} {package['ModelApprovalStatus']}" for package in packages
        )
        or "none",
        "endpoint": "none (no model promoted)",
        "instances": "-",
    }
    if resources.serving is not None:
        endpoint = sagemaker.describe_endpoint(EndpointName=resources.endpoint_name)
        row["endpoint"] = endpoint["EndpointStatus"]
        counts = [str(variant.get("CurrentInstanceCount", "?")) for variant in endpoint.get("ProductionVariants", [])]
        row["instances"] = "/".join(counts) or "-"
        copies = [
            sagemaker.describe_inference_component(InferenceComponentName=name)["RuntimeConfig"]["CurrentCopyCount"]
            for name in hosted_components(aws, resources.endpoint_name)
        ]
        if copies:
            row["instances"] += f" ({'/'.join(map(str, copies))} copies)"
    row["alarms in ALARM"] = ", ".join(firing_alarms(aws, resources)) or "none"
    return row


def undeployed_status(region: str, missing_stack: str) -> dict[str, str]:
    """The status row of a configured Region whose stacks are not deployed."""
    return {"region": region, "last executions": f"not deployed ({missing_stack} missing)"}


def firing_alarms(aws: boto3.Session, resources: RegionResources) -> list[str]:
    """Alarms in ALARM that page the Region's alert topic: the platform's own."""
    paginator = aws.client("cloudwatch").get_paginator("describe_alarms")
    pages = paginator.paginate(StateValue="ALARM", AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    return sorted(
        alarm["AlarmName"]
        for page in pages
        for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])
        if resources.alert_topic_arn in alarm.get("AlarmActions", [])
    )


def print_table(rows: list[dict[str, str]], out: TextIO) -> None:
    columns = list(dict.fromkeys(column for row in rows for column in row))
    widths = {column: max(len(column), *(len(row.get(column, "")) for row in rows)) for column in columns}
    print("  ".join(column.ljust(widths[column]) for column in columns).rstrip(), file=out)
    print("  ".join("-" * widths[column] for column in columns), file=out)
    for row in rows:
        print("  ".join(row.get(column, "").ljust(widths[column]) for column in columns).rstrip(), file=out)
