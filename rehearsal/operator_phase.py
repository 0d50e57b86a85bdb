"""The rehearsal's day-2 phase: the operator CLI (``mlp``, run as an operator runs it) against the deployed
Region, each result checked through the AWS APIs, and each of its errors provoked once.

upload-data (a raw dataset) → train --wait (prepared, trained, evaluated, registered) → reject → train --wait,
failing at the quality gate → upload-data (a raw dataset with missing labels) → train --wait, failing at Prepare
with every violation → train --wait → (a version registered) → status → cost → approve → promote → invoke →
ground-truth upload (a malformed file refused) → monitoring runs with violations and an alarm → status → (where the
endpoint scales to zero: idle → 0 copies → a request fails → 1 copy → invoke) → status → train --wait → approve →
promote while a rollback alarm is in ALARM (rolled back: exit 1 naming the alarm, cdk.json restored, the endpoint on
the previous model) → promote again once the alarm is OK.
``mlp promote`` records the package in the rehearsal's cdk.json and deploys the Serving stack alone there,
as make deploy deploys (synth, cfn-lint, deploy): that deploy is the rehearsal's new-model-version update.

The emulator runs no SageMaker job, so what a succeeded execution's jobs leave behind is made
here, with the platform's real code (``PipelineStandIn``): the real data-preparation job on local Spark
decides whether the Prepare step succeeds (and with which violations it fails), and the emulator is told
how each execution ends and which real model server answers for the promoted model
(rehearsal/emulator/operations.py), and which monitoring executions ran (rehearsal/emulator/monitoring.py).
"""

from __future__ import annotations

import datetime
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml_constructs.studio_props import EXPERIMENT_HYPERPARAMETER, TRACKING_URI_HYPERPARAMETER
from operator_cli import commands
from platform_config.naming import platform_tag, stack_name
from platform_contract.names import Output, StackId
from rehearsal.aws import ACCOUNT, Emulator
from rehearsal.cdk import PROJECT_ROOT, Cdk
from rehearsal.checks import CheckFailed
from rehearsal.model import DataSet, ModelFailed, Prepared, TrainedModel, prepare, serving, train, write_raw_data_set

POLL_SECONDS = "0.2"
SECONDS_PER_STEP = 0.3
"""How long each emulated pipeline step takes: long enough for ``--wait`` to see steps start and end."""
MLP_SECONDS = 60
PROMOTE_SECONDS = 600
"""A promotion synthesizes every Region with the gates and deploys; one that is rolled back deploys twice."""
LARGE_FILE_BYTES = commands.LARGE_FILE_BYTES + 1024 * 1024
"""Large enough for mlp to show the upload's progress."""
DATA_SET = "churn"
SPOT_TRAINING = (600, 180)
"""Training and billable seconds of each spot training job: 70 % saved."""
ON_DEMAND_TRAINING = (300, 300)
COSTS = (("Amazon SageMaker", 41.5), ("Amazon Simple Storage Service", 2.25))
"""The Region's tagged costs of one day in the last 30, as Cost Explorer reports them to mlp cost."""
BAD_DATA_SET = "churn-unlabelled"
"""A raw dataset the Prepare step refuses: rows without a label."""
MISSING_LABELS = 60
INVOKED_ROWS = 8
QUALITY_GATE_FAILURE = (
    "Quality gate: the model's auc on the test set is 0.61, which is below the threshold 0.75; "
    "the model was not registered."
)


@dataclass(frozen=True)
class MlpRun:
    arguments: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str

    @property
    def command(self) -> str:
        return "mlp " + " ".join(self.arguments)


@dataclass
class Mlp:
    """The installed ``mlp``, run in a process of its own with the emulator's client environment."""

    project_dir: Path
    environment: dict[str, str]
    logs: Path
    runs: int = 0

    def __call__(
        self, *arguments: str, environment: dict[str, str] | None = None, timeout: float = MLP_SECONDS
    ) -> MlpRun:
        executable = Path(sys.executable).parent / "mlp"
        if not executable.exists():
            raise CheckFailed(f"mlp is not installed next to {sys.executable}; run make setup")
        started = time.monotonic()
        result = subprocess.run(
            [str(executable), "--project-dir", str(self.project_dir), *arguments],
            cwd=self.project_dir,
            # This checkout's packages, even where the installed mlp is an editable install of another checkout.
            env={**(environment or self.environment), "PYTHONPATH": str(PROJECT_ROOT)},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.runs += 1
        run = MlpRun(arguments, result.returncode, result.stdout, result.stderr)
        log = self.logs / f"mlp-{self.runs:02d}-{arguments[0]}.log"
        seconds = time.monotonic() - started
        log.write_text(
            f"$ {run.command}\nexit {run.exit_code} after {seconds:.1f} s\n"
            f"--- stdout\n{run.stdout}--- stderr\n{run.stderr}"
        )
        return run

    def fails_last(self, *arguments: str, saying: str, timeout: float = MLP_SECONDS) -> MlpRun:
        """Runs a command that must exit 1 with ``saying`` in its last line on stderr: one that runs the CDK,
        whose own output comes first."""
        run = self(*arguments, timeout=timeout)
        last = (run.stderr.strip().splitlines() or [""])[-1]
        if run.exit_code != 1 or not last.startswith("mlp: ") or saying not in last:
            raise CheckFailed(f"`{run.command}` must exit 1 saying {saying!r}; it exited {run.exit_code} with {last!r}")
        return run

    def succeeds(self, *arguments: str, timeout: float = MLP_SECONDS) -> MlpRun:
        run = self(*arguments, timeout=timeout)
        if run.exit_code != 0:
            raise CheckFailed(f"`{run.command}` exited {run.exit_code}: {run.stderr.strip()[-2000:]}")
        return run

    def fails_with(self, *arguments: str, saying: str) -> MlpRun:
        """Runs a command that must exit 1 with an error starting ``mlp: `` that contains ``saying`` (it may take
        several lines, as a list of violations does)."""
        run = self(*arguments)
        error = run.stderr.strip()
        if run.exit_code != 1 or not error.startswith("mlp: ") or saying not in error:
            raise CheckFailed(
                f"`{run.command}` must exit 1 saying {saying!r}; it exited {run.exit_code}: {error[-1000:]}"
            )
        return run

    def fails(self, *arguments: str, saying: str, environment: dict[str, str] | None = None) -> MlpRun:
        """Runs a command that must fail with exit status 1 and one line on stderr that contains ``saying``."""
        run = self(*arguments, environment=environment)
        lines = run.stderr.strip().splitlines()
        if run.exit_code != 1 or len(lines) != 1 or not lines[0].startswith("mlp: ") or saying not in lines[0]:
            raise CheckFailed(
                f"`{run.command}` must exit 1 with one line saying {saying!r}; it exited {run.exit_code} with "
                f"stderr {run.stderr.strip()[-1000:]!r}"
            )
        return run


def _version(package_arn: str) -> str:
    return package_arn.rsplit("/", 1)[1]


def _step_definitions(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for step in steps:
        yield step
        for branch in ("IfSteps", "ElseSteps"):
            yield from _step_definitions(step.get("Arguments", {}).get(branch, []))


def _resolve(node: Any, values: dict[str, str]) -> Any:
    """A step's arguments with the execution's values for ``Get`` and ``Std:Join``, as SageMaker resolves them."""
    if isinstance(node, list):
        return [_resolve(item, values) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Get"}:
        if node["Get"] not in values:
            raise CheckFailed(f"the pipeline's register step refers to {node['Get']}, which the stand-in does not know")
        return values[node["Get"]]
    if set(node) == {"Std:Join"}:
        join = node["Std:Join"]
        return join["On"].join(str(_resolve(value, values)) for value in join["Values"])
    return {key: _resolve(value, values) for key, value in node.items()}


def preparation_arguments(definition: dict[str, Any]) -> list[str]:
    """The arguments (the settings) a pipeline definition's Prepare step passes to the data-preparation job."""
    prepare_step = next(step for step in _step_definitions(definition["Steps"]) if step["Name"] == PREPARE_STEP)
    return prepare_step["Arguments"]["AppSpecification"]["ContainerArguments"]


PREPARE_STEP = "Prepare"


def training_hyperparameters(definition: dict[str, Any]) -> dict[str, str]:
    """The hyperparameters a pipeline definition's training step passes to ``train``."""
    training = next(step for step in _step_definitions(definition["Steps"]) if step["Type"] == "Training")
    return training["Arguments"].get("HyperParameters", {})


@dataclass(frozen=True)
class PipelineStandIn:
    """Does what a succeeded execution's jobs would have done, with the platform's real code where there is some.

    The Prepare step's job (``prepare``): the platform's data-preparation job, on local Spark, with the step's own
    arguments, on the raw dataset; its outputs uploaded where the step's outputs go (datasets/ and baseline/ of the
    execution). The Train step's job: the platform's ``train`` with the step's hyperparameters on the data set, its
    model uploaded where a training job uploads it under models/. The Evaluate step's report, where that step writes
    it, holds the job's validation metrics in place of test-set metrics. The RegisterModel step: CreateModelPackage
    with the step's own arguments from the execution's definition, resolved with those values.
    """

    emulator: Emulator
    region: str
    jobs: Path
    """Where the training jobs run, one directory per execution."""

    def prepare(self, definition: dict[str, Any], raw: Path, name: str) -> Prepared:
        """Runs the Prepare step's job on the raw dataset ``raw``; ModelFailed carries its violations."""
        return prepare(raw, preparation_arguments(definition), self.jobs / f"prepare-{name}")

    def register(
        self, execution_arn: str, data_set: DataSet, prepared: Prepared | None = None
    ) -> tuple[str, TrainedModel]:
        """Trains, reports and registers for the execution (on ``prepared``'s split dataset when the execution ran
        Prepare, which it uploads as the step's outputs); returns the version's ARN and its model."""
        sagemaker, s3 = self.emulator.client("sagemaker", self.region), self.emulator.client("s3", self.region)
        described = sagemaker.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution_arn)
        definition = json.loads(described["PipelineDefinition"])
        steps = {step["Name"]: step for step in _step_definitions(definition["Steps"])}
        ran = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=execution_arn)["PipelineExecutionSteps"]
        ran_by_type = {steps[step["StepName"]]["Type"]: steps[step["StepName"]] for step in ran}
        training, registration = ran_by_type["Training"], ran_by_type["RegisterModel"]
        execution_id = execution_arn.rsplit("/", 1)[-1]
        values = {"Execution.PipelineExecutionId": execution_id}
        if prepared is not None and PREPARE_STEP in {step["StepName"] for step in ran}:
            outputs = steps[PREPARE_STEP]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
            for output, local in zip(outputs, (prepared.data_set.directory, prepared.baseline), strict=True):
                uri = _resolve(output["S3Output"]["S3Uri"], values)
                values[
                    f"Steps.{PREPARE_STEP}.ProcessingOutputConfig.Outputs['{output['OutputName']}'].S3Output.S3Uri"
                ] = uri
                bucket, prefix = uri.removeprefix("s3://").split("/", 1)
                for file in sorted(path for path in local.rglob("*") if path.is_file()):
                    s3.put_object(
                        Bucket=bucket, Key=prefix + file.relative_to(local).as_posix(), Body=file.read_bytes()
                    )
            data_set = prepared.data_set
        # The emulator serves no MLflow API (SageMaker's tracking servers answer at their own endpoint, which the
        # rehearsal never calls), so train runs here without the tracking server the definition names; its logging
        # to a real MLflow server is tested in training_code/tests/test_tracking.py.
        hyperparameters = {
            key: value
            for key, value in training_hyperparameters(definition).items()
            if key not in (TRACKING_URI_HYPERPARAMETER, EXPERIMENT_HYPERPARAMETER)
        }
        model = train(data_set, hyperparameters, self.jobs / execution_id)
        # A training job uploads <S3OutputPath><job name>/output/model.tar.gz; pipelines name jobs after the step.
        output_path = training["Arguments"]["OutputDataConfig"]["S3OutputPath"]
        model_uri = f"{output_path.rstrip('/')}/pipelines-{execution_id}-{training['Name']}/output/model.tar.gz"
        arguments = _resolve(
            registration["Arguments"],
            {**values, f"Steps.{training['Name']}.ModelArtifacts.S3ModelArtifacts": model_uri},
        )
        report_uri = arguments["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
        report = json.dumps(model.validation_metrics).encode()  # SageMaker's model quality format, as Evaluate's
        for uri, body in ((model_uri, model.archive.read_bytes()), (report_uri, report)):
            bucket, key = uri.removeprefix("s3://").split("/", 1)
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        return sagemaker.create_model_package(**arguments)["ModelPackageArn"], model


@dataclass
class OperatorPhase:
    region: str
    other_region: str | None
    """A configured Region the rehearsal does not deploy: mlp must say its stacks are missing."""
    workdir: Path
    emulator: Emulator
    cdk: Cdk
    results: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.mlp = Mlp(self.workdir, self.cdk.environment(), self.workdir / "logs")
        self.sagemaker = self.emulator.client("sagemaker", self.region)
        self.outputs = {stack: self._outputs(stack) for stack in ("Data", "Training")}
        self.bucket = self.outputs[StackId.DATA][Output.DATA_BUCKET_NAME]
        self.pipeline = self.outputs[StackId.TRAINING][Output.PIPELINE_NAME]
        self.pipeline_stand_in = PipelineStandIn(self.emulator, self.region, self.workdir / "training-jobs")

    def _outputs(self, stack_id: str) -> dict[str, str]:
        cloudformation = self.emulator.client("cloudformation", self.region)
        stack = cloudformation.describe_stacks(StackName=stack_name(self.region, stack_id))["Stacks"][0]
        return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}

    def record(self, run: MlpRun, result: str) -> None:
        """Notes a command and what was checked of it, with the generated bucket name and working directory
        shortened so that the summary stays readable."""
        line = f"{run.command}: {result}"
        for long, short in ((self.bucket, "<data bucket>"), (str(self.workdir), "<workdir>")):
            line = line.replace(long, short)
        self.results.append(line)

    def run(self) -> str:
        """The whole phase; returns the ARN of the promoted model package."""
        definition = json.loads(self.sagemaker.describe_pipeline(PipelineName=self.pipeline)["PipelineDefinition"])
        target = training_hyperparameters(definition)["target_column"]
        raw = write_raw_data_set(self.workdir / "data" / DATA_SET, target=target)
        self.upload(raw)
        self.upload_large_file()
        # The real job decides what the Prepare step does; its split dataset is every execution's (same rows).
        prepared = self.pipeline_stand_in.prepare(definition, raw, DATA_SET)
        # What mlp invoke sends: a few rows of the prepared test set (features in training order, no header).
        rows = self.workdir / "rows.csv"
        rows.write_text("".join(prepared.data_set.test_rows.read_text().splitlines(keepends=True)[:INVOKED_ROWS]))
        data_set = DataSet(prepared.data_set.directory, rows)
        rejected, _ = self.train_and_register(prepared)
        self.reject(rejected)
        self.train_failing_at_quality_gate()
        self.train_failing_at_preparation(definition, target)
        candidate, model = self.train_and_register(prepared)
        not_yet = self.mlp.fails("promote", "--region", self.region, saying="no approved model")
        self.record(not_yet, f"exit 1: {not_yet.stderr.strip()}")
        versions = f"v{_version(candidate)} PendingManualApproval, v{_version(rejected)} Rejected"
        # Newest first: the candidate, the execution Prepare refused, the one the quality gate refused.
        self.status(["Succeeded, Failed, Failed", versions, "56 % of 0.4 h (3 jobs)"])
        self.cost()
        self.approve(candidate)
        with serving(model.archive, self.workdir / "endpoint-instance") as model_server:
            self.emulator.serve_model(self.region, candidate, model_server)
            self.promote(candidate)
            self.invoke(data_set)
            self.monitoring(data_set)
            self.scale_to_zero(data_set)
            self.endpoint_out_of_service(data_set)
            self.alarm_firing()
        refused, _ = self.train_and_register(prepared)
        self.approve(refused)
        self.rolled_back_promotion(refused, serving=candidate)
        self.promote(refused)
        self.errors()
        return refused

    def upload(self, raw: Path) -> str:
        run = self.mlp.succeeds("upload-data", "--region", self.region, str(raw))
        prefix = f"raw/{raw.name}/"
        listed = self.emulator.client("s3", self.region).list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        uploaded = sorted(item["Key"].removeprefix(prefix) for item in listed.get("Contents", []))
        expected = sorted(path.relative_to(raw).as_posix() for path in raw.rglob("*.csv"))
        if uploaded != expected:
            raise CheckFailed(f"upload-data put {uploaded} under {prefix}, expected {expected}")
        self.record(run, f"{len(uploaded)} files under s3://{self.bucket}/{prefix}")
        return f"s3://{self.bucket}/{prefix}"

    def upload_large_file(self) -> None:
        """A file large enough to go up in parts shows its progress."""
        large = self.workdir / "large.bin"
        large.write_bytes(os.urandom(LARGE_FILE_BYTES))
        run = self.mlp.succeeds("upload-data", "--region", self.region, str(large))
        head = self.emulator.client("s3", self.region).head_object(
            Bucket=self.bucket, Key=f"raw/{large.stem}/{large.name}"
        )
        shown = [line.split(": ", 1)[1].split("%")[0].strip() for line in run.stdout.splitlines() if "% of " in line]
        if head["ContentLength"] != LARGE_FILE_BYTES or shown[-1:] != ["100"] or len(shown) < 2:
            raise CheckFailed(f"`{run.command}` uploaded {head['ContentLength']} bytes, showing progress {shown}")
        self.record(run, f"{LARGE_FILE_BYTES} bytes, progress shown at {', '.join(shown)} %")

    def _train(
        self, dataset: str = DATA_SET, *options: str, succeeds: bool = True, saying: str = ""
    ) -> tuple[MlpRun, dict]:
        """``mlp train --data <raw dataset> --wait`` and the execution it started, as the API describes it."""
        following = ("--wait", "--poll-seconds", POLL_SECONDS)
        arguments = ("train", "--region", self.region, "--data", dataset, *options, *following)
        run = self.mlp.succeeds(*arguments) if succeeds else self.mlp.fails_with(*arguments, saying=saying)
        execution_arn = run.stdout.split("started ", 1)[1].split()[0]
        execution = self.sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        parameters = self.sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=execution_arn)
        given = {parameter["Name"]: parameter["Value"] for parameter in parameters["PipelineParameters"]}
        if given.get("RawDataset") != dataset or given.get("InputDataUri", "") != "":
            raise CheckFailed(f"`{run.command}` started {execution_arn} with parameters {given}")
        listed = self.sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=execution_arn)
        steps = listed["PipelineExecutionSteps"]
        unseen = [step["StepName"] for step in steps if f"{step['StepName']} " not in run.stdout]
        if unseen or "Executing" not in run.stdout:
            raise CheckFailed(f"`{run.command}` did not follow every step as it ran: it did not show {unseen}")
        return run, execution | {"Steps": steps}

    def _training_times(self, run: MlpRun, expected: str) -> None:
        """``train --wait`` ends with the training job's times and saving, as SageMaker reports them."""
        last = run.stdout.strip().splitlines()[-1]
        if not last.startswith("training job pipelines-") or expected not in last:
            raise CheckFailed(f"`{run.command}` must end with its training job's times ({expected!r}): {last!r}")

    def _billed_to_the_region(self, execution: dict) -> None:
        """The execution's training job carries the Region's cost-allocation tag, so the budget counts it."""
        jobs = [
            step["Metadata"]["TrainingJob"]["Arn"]
            for step in execution["Steps"]
            if "TrainingJob" in step.get("Metadata", {})
        ]
        key, value = platform_tag(self.region)
        for job in jobs:
            tags = {tag["Key"]: tag["Value"] for tag in self.sagemaker.list_tags(ResourceArn=job)["Tags"]}
            if tags.get(key) != value:
                raise CheckFailed(
                    f"the training job {job} is not tagged {key}={value}, so the budget misses it: {tags}"
                )
        if not jobs:
            raise CheckFailed(f"the execution {execution['PipelineExecutionArn']} lists no training job")

    def train_and_register(self, prepared: Prepared) -> tuple[str, TrainedModel]:
        self.emulator.queue_pipeline_outcome(
            self.region, self.pipeline, status="Succeeded", seconds_per_step=SECONDS_PER_STEP
        )
        training, billable = SPOT_TRAINING
        self.emulator.queue_training_times(self.region, self.pipeline, training=training, billable=billable)
        run, execution = self._train()
        if execution["PipelineExecutionStatus"] != "Succeeded":
            raise CheckFailed(f"`{run.command}` exited 0 but the execution is {execution['PipelineExecutionStatus']}")
        self._training_times(run, f"(spot, 1 instance(s)): {training} s training, {billable} s billable, 70 % saved")
        self._billed_to_the_region(execution)
        package, model = self.pipeline_stand_in.register(execution["PipelineExecutionArn"], prepared.data_set, prepared)
        described = self.sagemaker.describe_model_package(ModelPackageName=package)
        baseline = described.get("DriftCheckBaselines", {}).get("ModelDataQuality", {}).get("Statistics", {})
        if not baseline.get("S3Uri", "").endswith(
            f"/{execution['PipelineExecutionArn'].rsplit('/', 1)[1]}/statistics.json"
        ):
            raise CheckFailed(f"the registered version {package} has no data quality baseline of its execution")
        status = self.sagemaker.describe_model_package(ModelPackageName=package)["ModelApprovalStatus"]
        if status != "PendingManualApproval":
            raise CheckFailed(f"the registered version {package} is {status}")
        self.record(run, f"Succeeded after following {len(execution['Steps'])} steps; registered {package}")
        return package, model

    def train_failing_at_preparation(self, definition: dict[str, Any], target: str) -> None:
        """A raw dataset with unlabelled rows: the real job refuses it, and mlp prints every violation."""
        raw = write_raw_data_set(self.workdir / "data" / BAD_DATA_SET, target=target, missing_labels=MISSING_LABELS)
        self.upload(raw)
        try:
            self.pipeline_stand_in.prepare(definition, raw, BAD_DATA_SET)
        except ModelFailed as refused:
            violations = str(refused)
        else:
            raise CheckFailed(
                f"the data-preparation job accepted {raw}, which has {MISSING_LABELS} rows without a label"
            )
        self.emulator.queue_pipeline_outcome(
            self.region,
            self.pipeline,
            status="Failed",
            last_step=PREPARE_STEP,
            failure_reason=violations,
            seconds_per_step=SECONDS_PER_STEP,
        )
        run, execution = self._train(BAD_DATA_SET, succeeds=False, saying="Data preparation failed")
        missing = [line for line in violations.splitlines()[1:] if line not in run.stderr]
        if execution["PipelineExecutionStatus"] != "Failed" or missing:
            raise CheckFailed(f"`{run.command}` did not print the violations {missing}: {run.stderr}")
        self.record(run, f"exit 1 at {PREPARE_STEP}, printing {len(violations.splitlines()) - 1} violations")

    def train_failing_at_quality_gate(self) -> None:
        gate = "RejectModelOnDemand"  # --no-spot takes the pipeline's on-demand branch
        self.emulator.queue_pipeline_outcome(
            self.region,
            self.pipeline,
            status="Failed",
            last_step=gate,
            failure_reason=QUALITY_GATE_FAILURE,
            seconds_per_step=SECONDS_PER_STEP,
        )
        training, billable = ON_DEMAND_TRAINING
        self.emulator.queue_training_times(self.region, self.pipeline, training=training, billable=billable)
        run, execution = self._train(DATA_SET, "--no-spot", succeeds=False, saying=QUALITY_GATE_FAILURE)
        self._training_times(run, f"(on-demand, 1 instance(s)): {training} s training, {billable} s billable, 0 %")
        if (execution["PipelineExecutionStatus"], execution.get("FailureReason")) != ("Failed", QUALITY_GATE_FAILURE):
            raise CheckFailed(f"`{run.command}` failed, but the execution is {execution['PipelineExecutionStatus']}")
        self.record(run, f"exit 1 at {gate}, printing the reason: {run.stderr.strip()}")

    def cost(self) -> None:
        """``mlp cost``: yesterday's costs of the Region's platform tag, by service, and nothing of another tag's."""
        yesterday = (datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=1)).isoformat()
        key, value = platform_tag(self.region)
        recorded = [
            {"day": yesterday, "service": service, "amount": amount, "region": self.region, "tags": {key: value}}
            for service, amount in COSTS
        ]
        untagged = {"day": yesterday, "service": "Amazon SageMaker", "amount": 1000.0, "region": self.region}
        self.emulator.record_costs([*recorded, untagged])
        run = self.mlp.succeeds("cost", "--region", self.region)
        lines = [line.split() for line in run.stdout.splitlines()]
        total = f"{sum(amount for _, amount in COSTS):.2f}"
        if lines[-1] != ["total", total, "USD"] or ["Amazon", "SageMaker", f"{COSTS[0][1]:.2f}", "USD"] not in lines:
            raise CheckFailed(f"`{run.command}` must show {COSTS} and the total {total} USD:\n{run.stdout}")
        self.record(run, f"{len(COSTS)} services tagged {key}={value}, total {total} USD")

    def _approval(self, package: str) -> str:
        return self.sagemaker.describe_model_package(ModelPackageName=package)["ModelApprovalStatus"]

    def reject(self, package: str) -> None:
        run = self.mlp.succeeds("reject", "--region", self.region)
        if self._approval(package) != "Rejected":
            raise CheckFailed(f"`{run.command}` left {package} {self._approval(package)}")
        self.record(run, f"{package} Rejected")

    def approve(self, package: str) -> None:
        run = self.mlp.succeeds("approve", "--region", self.region)
        if self._approval(package) != "Approved":
            raise CheckFailed(f"`{run.command}` left {package} {self._approval(package)}")
        self.record(run, f"{package} Approved")

    def status(self, expected: list[str], *arguments: str) -> MlpRun:
        """``mlp status`` (of the rehearsed Region unless ``arguments`` say otherwise), showing each ``expected``
        text in the rehearsed Region's row."""
        run = self.mlp.succeeds("status", *(arguments or ("--region", self.region)))
        row = next((line for line in run.stdout.splitlines() if line.startswith(self.region)), "")
        missing = [text for text in expected if text not in row]
        if missing:
            raise CheckFailed(f"`{run.command}` does not show {missing} for {self.region}:\n{run.stdout}")
        self.record(run, " ".join(row.split()))
        return run

    def _component(self) -> dict[str, Any] | None:
        """The endpoint's inference component, where it scales to zero; None where its variant serves the model."""
        endpoint = self._outputs(StackId.SERVING)[Output.ENDPOINT_NAME]
        listed = self.sagemaker.list_inference_components(EndpointNameEquals=endpoint)["InferenceComponents"]
        if not listed:
            return None
        return self.sagemaker.describe_inference_component(InferenceComponentName=listed[0]["InferenceComponentName"])

    def _served_package(self) -> str:
        component = self._component()
        if component is not None:
            model_name = component["Specification"]["ModelName"]
        else:
            name = self._outputs(StackId.SERVING)[Output.ENDPOINT_NAME]
            endpoint = self.sagemaker.describe_endpoint(EndpointName=name)
            config = self.sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
            model_name = config["ProductionVariants"][0]["ModelName"]
        model = self.sagemaker.describe_model(ModelName=model_name)
        return model["PrimaryContainer"].get("ModelPackageName", "")

    def promote(self, package: str) -> None:
        run = self.mlp.succeeds("promote", "--region", self.region, timeout=PROMOTE_SECONDS)
        entries = json.loads((self.workdir / "cdk.json").read_text())["context"]["platform"]["regions"]
        serving = next(entry for entry in entries if entry["region"] == self.region).get("serving", {})
        if serving.get("model_package_arn") != package or "model_data_url" in serving:
            raise CheckFailed(f"`{run.command}` did not record {package} in cdk.json: serving is {serving}")
        served = self._served_package()
        if served != package:
            raise CheckFailed(f"after `{run.command}` the endpoint's model is {served}, not {package}")
        output = run.stdout + run.stderr
        if stack_name(self.region, StackId.SERVING) not in output or "scripts.lint_templates" not in output:
            raise CheckFailed(f"`{run.command}` did not show the gates' and the CDK's deploy output")
        others = [
            stack
            for stack in (StackId.DATA, StackId.NETWORK, StackId.TRAINING)
            if stack_name(self.region, stack) in output
        ]
        if others:
            raise CheckFailed(f"`{run.command}` deployed {others} too; a promotion deploys the Serving stack alone")
        self.record(
            run, f"recorded in cdk.json, synthesized, linted, the Serving stack alone deployed; it serves {package}"
        )

    def rolled_back_promotion(self, package: str, *, serving: str) -> None:
        """A promotion whose rollout a rollback alarm stops, as SageMaker does while one is in ALARM: mlp names the
        alarm, exits 1 and restores cdk.json; the endpoint still serves the previous model."""
        endpoint_name = self._outputs(StackId.SERVING)[Output.ENDPOINT_NAME]
        endpoint = self.sagemaker.describe_endpoint(EndpointName=endpoint_name)
        # The rollout is the inference component's where the endpoint scales to zero, else the endpoint's.
        deployed = self._component() or endpoint
        alarm = deployed["LastDeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"][0]["AlarmName"]
        before = (self.workdir / "cdk.json").read_text()
        cloudwatch = self.emulator.client("cloudwatch", self.region)
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="rehearsal: the new model fails")
        try:
            run = self.mlp.fails_last(
                "promote", "--region", self.region, saying="rolled the update of endpoint", timeout=PROMOTE_SECONDS
            )
        finally:
            cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="rehearsal")
        last = run.stderr.strip().splitlines()[-1]
        if alarm not in last or "is restored and the Serving stack deployed from it" not in last:
            raise CheckFailed(f"`{run.command}` did not name the alarm {alarm} and the restored cdk.json: {last}")
        if (self.workdir / "cdk.json").read_text() != before:
            raise CheckFailed(f"`{run.command}` was rolled back but left cdk.json changed")
        # The stack replaced the config the endpoint still runs, so the endpoint's config name is what tells.
        running = self.sagemaker.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
        if running != endpoint["EndpointConfigName"]:
            raise CheckFailed(f"after the rolled-back `{run.command}` the endpoint runs {running}")
        # Where it scales to zero, the component is what rolled back: it keeps the model it ran before.
        component = self._component()
        kept = deployed["Specification"]["ModelName"] if component else None
        if component and component["Specification"]["ModelName"] != kept:
            raise CheckFailed(f"after the rolled-back `{run.command}` the component runs {component['Specification']}")
        self.record(run, f"{package} rolled back by {alarm}: exit 1, cdk.json restored, still serving {serving}")

    def invoke(self, data_set: DataSet) -> None:
        rows = data_set.test_rows.read_text().splitlines()
        as_json = self.workdir / "rows.json"
        as_json.write_text(json.dumps({"instances": [[float(value) for value in row.split(",")] for row in rows]}))
        csv_run = self.mlp.succeeds("invoke", "--region", self.region, "--file", str(data_set.test_rows))
        json_run = self.mlp.succeeds("invoke", "--region", self.region, "--file", str(as_json))
        predictions = [float(line) for line in csv_run.stdout.split()]
        if len(predictions) != len(rows) or not all(math.isfinite(p) for p in predictions):
            raise CheckFailed(f"`{csv_run.command}` sent {len(rows)} rows and printed {csv_run.stdout!r}")
        as_json_predictions = json.loads(json_run.stdout)["predictions"]
        if [round(p, 5) for p in as_json_predictions] != [round(p, 5) for p in predictions]:
            raise CheckFailed(f"`{json_run.command}` answered {json_run.stdout!r}, the CSV rows {predictions}")
        shown = ", ".join(f"{p:.3f}" for p in predictions)
        self.record(csv_run, f"{len(rows)} rows -> {len(predictions)} predictions of the real model ({shown})")
        self.record(json_run, 'the same records as JSON -> {"predictions": [...]}')

    def monitoring(self, data_set: DataSet) -> None:
        """The monitoring loop as an operator meets it: labels of the served rows uploaded for the model-quality
        monitor (a malformed file refused, nothing uploaded), then a data-quality run with violations and a
        monitoring alarm in ALARM, which ``mlp status`` shows."""
        outputs = self._outputs(StackId.SERVING)
        schedules = [name for name in outputs.get(Output.MONITORING_SCHEDULE_NAMES, "").split(",") if name]
        alarms = [name for name in outputs.get(Output.MONITORING_ALARM_NAMES, "").split(",") if name]
        if len(schedules) != 2 or not alarms:
            raise CheckFailed(f"a promoted model is monitored for data and model quality, with alarms: {outputs}")
        rows = len(data_set.test_rows.read_text().splitlines())
        labels = self.workdir / "labels.jsonl"
        labels.write_text(
            "".join(
                json.dumps(
                    {
                        "groundTruthData": {"data": "1", "encoding": "CSV"},
                        "eventMetadata": {"eventId": f"r{i}"},
                        "eventVersion": "0",
                    }
                )
                + "\n"
                for i in range(rows)
            )
        )
        s3 = self.emulator.client("s3", self.region)
        ground_truth = outputs[Output.GROUND_TRUTH_URI].removeprefix(f"s3://{self.bucket}/")
        run = self.mlp.succeeds("ground-truth", "upload", "--region", self.region, str(labels))
        (uploaded,) = [item["Key"] for item in s3.list_objects_v2(Bucket=self.bucket, Prefix=ground_truth)["Contents"]]
        head = s3.head_object(Bucket=self.bucket, Key=uploaded)
        key_arn = self.outputs[StackId.DATA][Output.KEY_ARN]
        if (head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")) != ("aws:kms", key_arn):
            raise CheckFailed(f"`{run.command}` uploaded {uploaded} without the Region's key: {head}")
        self.record(run, f"{rows} labels uploaded to {uploaded}, encrypted with the Region's key")
        malformed = self.workdir / "malformed-labels.jsonl"
        malformed.write_text('{"groundTruthData": {"data": "1", "encoding": "CSV"}}\n{"eventMetadata": {}}\n')
        refused = self.mlp.fails_with(
            "ground-truth", "upload", "--region", self.region, str(malformed), saying="5 problem(s), nothing uploaded"
        )
        if len(s3.list_objects_v2(Bucket=self.bucket, Prefix=ground_truth)["Contents"]) != 1:
            raise CheckFailed(f"`{refused.command}` refused the file but uploaded something")
        self.record(refused, f"exit 1, nothing uploaded: {' '.join(refused.stderr.split())}")
        job = f"arn:aws:sagemaker:{self.region}:{ACCOUNT}:processing-job/rehearsal-data-quality"
        kinds = {
            self.sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)["MonitoringType"]: name
            for name in schedules
        }
        if set(kinds) != {"DataQuality", "ModelQuality"}:
            raise CheckFailed(f"the schedules {schedules} are not one data-quality and one model-quality monitor")
        violated, quality = kinds["DataQuality"], kinds["ModelQuality"]
        self.emulator.record_monitoring_execution(
            self.region, violated, "CompletedWithViolations", ProcessingJobArn=job
        )
        self.emulator.record_monitoring_execution(self.region, quality, "Completed")
        cloudwatch = self.emulator.client("cloudwatch", self.region)
        cloudwatch.set_alarm_state(
            AlarmName=alarms[0], StateValue="ALARM", StateReason="rehearsal: mlp status shows it"
        )
        try:
            shown = [f"{violated}: CompletedWithViolations at", "(violations: constraint_violations.json", alarms[0]]
            self.status([*shown, f"{quality}: Completed at"])
        finally:
            cloudwatch.set_alarm_state(AlarmName=alarms[0], StateValue="OK", StateReason="rehearsal")

    def scale_to_zero(self, data_set: DataSet) -> None:
        """Where the endpoint scales to zero (dev): idle, its copies and instances scale in to none; a request then
        fails and brings one copy back. Application Auto Scaling is simulated by the emulator, with the policies and
        the alarm as deployed (rehearsal/emulator/inference_component_scaling.py)."""
        component = self._component()
        if component is None:
            return
        name, endpoint = component["InferenceComponentName"], component["EndpointName"]
        idle = self.emulator.simulate_scaling(self.region, name, concurrent_requests_per_copy=0)
        variant = self.sagemaker.describe_endpoint(EndpointName=endpoint)["ProductionVariants"][0]
        copies = self._component() or {}
        if (idle["copiesAfter"], copies["RuntimeConfig"]["CurrentCopyCount"], variant["CurrentInstanceCount"]) != (
            0,
            0,
            0,
        ):
            raise CheckFailed(
                f"idle (0 concurrent requests per copy), {name} must scale in to 0 copies on 0 instances; it has "
                f"{copies['RuntimeConfig']['CurrentCopyCount']} on {variant['CurrentInstanceCount']}: {idle}"
            )
        at_zero = self.status(["(0 copies)"])
        cold = self.mlp.fails(
            "invoke", "--region", self.region, "--file", str(data_set.test_rows), saying="has no capacity"
        )
        woken = self.emulator.simulate_scaling(self.region, name)
        step = [decision for decision in woken["decisions"] if decision.get("state") == "ALARM"]
        if woken["copiesAfter"] != 1 or not step:
            raise CheckFailed(
                f"a request that found no copy must trip the no-capacity alarm and its step policy add one copy: "
                f"{woken}"
            )
        self.status(["(1 copies)"])
        self.record(at_zero, f"idle: {name} scaled in to 0 copies, 0 instances (simulated scaling)")
        self.record(
            cold,
            f"at zero: exit 1 ({cold.stderr.strip()}); alarm {step[0]['alarm']} -> {step[0]['policy']} -> 1 copy",
        )
        run = self.mlp.succeeds("invoke", "--region", self.region, "--file", str(data_set.test_rows))
        self.record(run, f"after the scale-out: {len(run.stdout.split())} predictions")

    def endpoint_out_of_service(self, data_set: DataSet) -> None:
        endpoint = self._outputs(StackId.SERVING)[Output.ENDPOINT_NAME]
        self.emulator.set_endpoint_status(self.region, endpoint, "OutOfService")
        try:
            run = self.mlp.fails(
                "invoke", "--region", self.region, "--file", str(data_set.test_rows), saying="OutOfService"
            )
            self.record(run, f"exit 1: {run.stderr.strip()}")
            self.status(["OutOfService"])
        finally:
            self.emulator.set_endpoint_status(self.region, endpoint, "InService")

    def alarm_firing(self) -> None:
        cloudwatch = self.emulator.client("cloudwatch", self.region)
        topic = self.outputs[StackId.DATA][Output.ALERT_TOPIC_ARN]
        alarms = cloudwatch.describe_alarms(AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
        alarm = next(alarm["AlarmName"] for alarm in alarms if topic in alarm.get("AlarmActions", []))
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="rehearsal: mlp status shows it")
        try:
            self.status(["InService", alarm])
        finally:
            cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="rehearsal")

    def errors(self) -> None:
        """Every error an operator may meet is one line and exit status 1."""
        region = ("--region", self.region)
        no_credentials = {
            key: value
            for key, value in self.mlp.environment.items()
            if key not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        } | {"AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_CONFIG_FILE": os.devnull}
        cases = [
            self.mlp.fails("status", *region, saying="no AWS credentials found", environment=no_credentials),
            self.mlp.fails("status", "--region", "mars-north-1", saying="'mars-north-1' is not an AWS Region"),
            self.mlp.fails(
                "status", "--region", "ap-south-1", saying="'ap-south-1' is an AWS Region but not configured"
            ),
            self.mlp.fails("invoke", *region, "--file", str(self.workdir / "missing.csv"), saying="cannot read"),
            self.mlp.fails("upload-data", *region, str(self.workdir / "missing"), saying="cannot read"),
        ]
        if self.other_region:
            cases.append(self.mlp.fails("train", "--region", self.other_region, saying="is not deployed"))
        for run in cases:
            self.record(run, f"exit 1: {run.stderr.strip()}")
        if self.other_region:
            run = self.mlp.succeeds("status", "--all")
            rows = {line.split()[0]: " ".join(line.split()) for line in run.stdout.splitlines()[2:]}
            if "Approved" not in rows.get(self.region, "") or "not deployed" not in rows.get(self.other_region, ""):
                raise CheckFailed(f"`{run.command}` shows {rows}")
            self.record(run, " | ".join(rows.values()))
