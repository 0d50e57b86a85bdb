"""The deploy rehearsal: the real CDK CLI deploys one Region's stage to the emulator, the operator
CLI runs the day-2 operations against it, then the stage is updated and destroyed, and every step
is checked through the AWS APIs.

Steps: start the emulator; ``cdk synth`` the stage; ``cdk bootstrap``; make its image assets
available; ``cdk deploy`` every stack; check them; upload an object to the data bucket; the
day-2 operations with ``mlp`` (operator_phase), whose ``mlp promote`` deploys a new model version
through a plain ``cdk deploy``; ``cdk deploy`` an update of every stack and check it, and that it
kept the promoted model; ``cdk destroy`` the stateless stacks, then the Data stack, and check what
must survive; print a summary. Any failure stops the run with a non-zero exit.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError

from operator_cli.project import Project
from platform_config.naming import stage_name
from platform_config.settings import RegionSettings
from platform_contract.names import Output, StackId
from rehearsal import isolation
from rehearsal.assembly import StageAssembly, read_stage
from rehearsal.aws import ACCOUNT, Emulator, EmulatorRefused
from rehearsal.cdk import PROJECT_ROOT, Cdk, CommandFailed
from rehearsal.checks import CheckFailed, DeployedStack, verify_stack
from rehearsal.checks.data import data_bucket_name, region_key_arn
from rehearsal.checks.training import JOB_LOG_GROUPS, imported_resources, model_versions
from rehearsal.checks.types import unchecked_types
from rehearsal.model import ModelFailed
from rehearsal.operator_phase import OperatorPhase
from rehearsal.update import MODEL_PACKAGE, UPDATES, Update, region_settings

STATEFUL_STACKS = frozenset({"Data"})
"""Stacks whose resources outlive every deployment (README: stateful, retained on delete)."""
VERBOSE = ("-vv",)
"""Deploys and destroys log every SDK call, so that a failure's log shows what the CLI asked."""
IMPORT_EXISTING = ("--import-existing-resources",)
"""As make deploy: retained resources with fixed names that exist are imported (README: Training)."""
EMULATOR_START_SECONDS = 60
EMULATOR_MAX_SECONDS = 1800
"""A safety stop for an orphaned emulator, well beyond a rehearsal on busy cores (four gated mlp promote deploys)."""
PROBE_KEY = "datasets/rehearsal/probe.txt"
IMAGE_MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 2,
            "digest": "sha256:" + "0" * 64,
        },
        "layers": [],
    }
)
"""A minimal image manifest: the CLI only asks whether the asset's tag exists."""


class RehearsalFailed(RuntimeError):
    pass


@dataclass
class Summary:
    region: str
    steps: list[tuple[str, float]] = field(default_factory=list)
    created: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per stack: resources created, checks passed."""
    existence_only: dict[str, set[str]] = field(default_factory=dict)
    operations: list[str] = field(default_factory=list)
    """Each mlp command run against the deployed Region and what was checked of its result."""
    updates: list[str] = field(default_factory=list)
    destroyed: list[str] = field(default_factory=list)
    survivors: list[str] = field(default_factory=list)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        print(f"rehearsal: {name}", flush=True)
        started = time.monotonic()
        yield
        self.steps.append((name, time.monotonic() - started))

    def render(self) -> str:
        lines = [f"Deploy rehearsal of {stage_name(self.region)}: passed", "", "Resources created and checked:"]
        for stack, (resources, checks) in self.created.items():
            lines.append(f"  {stack}: {resources} resources, {checks} checks passed")
            if self.existence_only.get(stack):
                lines.append(f"    existence checked only: {', '.join(sorted(self.existence_only[stack]))}")
        lines += ["", "Day-2 operations (mlp; each result checked through the AWS APIs):"]
        lines += [f"  {operation}" for operation in self.operations]
        lines += ["", "Updates (deployed and checked):", *(f"  {update}" for update in self.updates)]
        lines += ["", "Destroyed:", *(f"  {stack}" for stack in self.destroyed)]
        lines += ["", "Survived the destroy (retained):", *(f"  {survivor}" for survivor in self.survivors)]
        lines += ["", "Timings:", *(f"  {name:<34} {seconds:6.1f} s" for name, seconds in self.steps)]
        lines.append(f"  {'total':<34} {sum(s for _, s in self.steps):6.1f} s")
        return "\n".join(lines)


@contextlib.contextmanager
def running_emulator(directory: Path) -> Iterator[Emulator]:
    """The emulator in a process of its own, stopped on exit whatever happens."""
    log = (directory / "emulator.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "rehearsal.emulator", str(directory), "--max-seconds", str(EMULATOR_MAX_SECONDS)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        endpoint = _await_ready(process)
        yield Emulator(endpoint, directory / "emulator.crt")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _await_ready(process: subprocess.Popen[str]) -> str:
    """The endpoint from the emulator's one line of output, ``ready <endpoint>``."""
    assert process.stdout is not None
    readable, _, _ = select.select([process.stdout], [], [], EMULATOR_START_SECONDS)
    line = process.stdout.readline() if readable else ""
    if not line.startswith("ready "):
        raise RehearsalFailed(
            f"the emulator did not start within {EMULATOR_START_SECONDS} s (exit code {process.poll()})"
        )
    return line.split(" ", 1)[1].strip()


class Rehearsal:
    def __init__(self, region: str, workdir: Path, emulator: Emulator, summary: Summary) -> None:
        self.region = region
        self.stage = stage_name(region)
        self.workdir = workdir
        self.emulator = emulator
        self.summary = summary
        self.cdk = Cdk.prepare(workdir, emulator.client_environment(region), ACCOUNT, region)

    @staticmethod
    def context_args(overrides: dict[str, object]) -> list[str]:
        """``-c key=value`` as a user writes them; the config loader types each scalar setting."""
        return [arg for key, value in overrides.items() for arg in ("-c", f"{key}={value}")]

    def synth(self, name: str, overrides: dict[str, object]) -> tuple[Path, StageAssembly]:
        outdir = self.workdir / name
        with self.summary.step(f"cdk synth ({name})"):
            self.cdk.run(
                f"synth-{name}", "synth", f"{self.stage}/*", "-o", str(outdir), "--quiet", *self.context_args(overrides)
            )
        return outdir, read_stage(outdir, self.stage, ACCOUNT)

    def stage_images(self, assembly: StageAssembly) -> None:
        """Makes image assets look published, so that the CLI skips the build (no container engine needed)."""
        for image in assembly.images:
            ecr = self.emulator.client("ecr", image.region)
            try:
                ecr.put_image(
                    repositoryName=image.repository_name, imageManifest=IMAGE_MANIFEST, imageTag=image.image_tag
                )
            except ecr.exceptions.ImageAlreadyExistsException:
                pass  # staged for an earlier synth: the image's source did not change

    def deploy(self, name: str, outdir: Path, *stacks: str) -> None:
        """As make deploy does: deploys ``stacks`` (default: the whole stage), importing the retained resources with
        fixed names that exist, then brings the Training stack to its template with a drift-aware change set (an
        import takes a resource as it is)."""
        selection = [*(f"{self.stage}/{stack}" for stack in stacks), "--exclusively"] if stacks else [f"{self.stage}/*"]
        training = (f"{self.stage}/{StackId.TRAINING}", "--exclusively")
        with self.summary.step(f"cdk deploy ({name})"):
            self._cdk_deploy(f"deploy-{name}", outdir, *selection, *IMPORT_EXISTING)
            self._cdk_deploy(f"revert-drift-{name}", outdir, *training, "--revert-drift")

    def _cdk_deploy(self, step: str, outdir: Path, *args: str) -> None:
        self.cdk.run(step, "deploy", *args, "--app", str(outdir), "--require-approval", "never", *VERBOSE)

    def seed_job_log_groups(self) -> None:
        """Makes the emulated account one where SageMaker has run jobs: its job log groups exist, as SageMaker
        creates them, unencrypted and kept forever."""
        logs = self.emulator.client("logs", self.region)
        for name in JOB_LOG_GROUPS:
            logs.create_log_group(logGroupName=name)

    def recreate_training(self, outdir: Path, assembly: StageAssembly, stage: dict[str, DeployedStack]) -> dict:
        """Destroys the Training stack and deploys it again; returns the stage as deployed then."""
        training = stage[StackId.TRAINING]
        sagemaker = self.emulator.client("sagemaker", self.region)
        group = training.outputs[Output.MODEL_PACKAGE_GROUP_NAME]
        versions = model_versions(sagemaker, group)
        if not versions:
            raise CheckFailed(f"no model version in {group} before the Training stack was destroyed")
        with self.summary.step("cdk destroy (Training)"):
            self.cdk.run(
                "destroy-training", "destroy", training.artifact.path, "--exclusively", "--app", str(outdir), "--force"
            )
        self.deploy("re-create Training", outdir, StackId.TRAINING)
        with self.summary.step("check re-created Training"):
            stage = self.check(assembly)
            kept = model_versions(sagemaker, stage[StackId.TRAINING].outputs[Output.MODEL_PACKAGE_GROUP_NAME])
            if kept != versions:
                raise CheckFailed(
                    f"the registry had versions {versions} before the Training stack was re-created, then {kept}"
                )
            self.summary.updates.append(self._describe_import(stage[StackId.TRAINING], "its re-creation"))
            self.summary.updates.append(f"Training: re-created; the registry kept model versions {versions}")
        return stage

    def _describe_import(self, training: DeployedStack, when: str) -> str:
        imported = imported_resources(training)
        if sorted(imported.values()) != sorted(JOB_LOG_GROUPS):
            raise CheckFailed(f"{when} imported {imported}; expected the existing job log groups {JOB_LOG_GROUPS}")
        groups = ", ".join(sorted(imported.values()))
        return f"Training: {when} imported the existing {groups}; the drift-aware deploy set their retention and key"

    def deployed(self, assembly: StageAssembly) -> dict[str, DeployedStack]:
        return {stack.short_name: DeployedStack(self.emulator, self.region, stack) for stack in assembly.stacks}

    def check(self, assembly: StageAssembly) -> dict[str, DeployedStack]:
        stage = self.deployed(assembly)
        inventory = self.emulator.inventory()
        for stack in stage.values():
            verified = verify_stack(stack, stage, inventory)
            self.summary.created[stack.name] = (len(stack.resources), verified.passed)
            self.summary.existence_only[stack.name] = unchecked_types(stack)
        return stage

    def run(self) -> None:
        outdir, assembly = self.synth("initial", {})
        with self.summary.step("cdk bootstrap"):
            # From the assembly: in a project directory the CLI would otherwise synthesize the whole app again.
            self.cdk.run("bootstrap", "bootstrap", f"aws://{ACCOUNT}/{self.region}", "--app", str(outdir))
        self.stage_images(assembly)
        self.seed_job_log_groups()
        self.deploy("initial", outdir)
        with self.summary.step("check deployment"):
            stage = self.check(assembly)
            first_import = self._describe_import(stage[StackId.TRAINING], "the first deploy")
        bucket = data_bucket_name(stage["Data"])
        self.emulator.client("s3", self.region).put_object(Bucket=bucket, Key=PROBE_KEY, Body=b"rehearsal probe")

        operations = OperatorPhase(self.region, self._undeployed_region(), self.workdir, self.emulator, self.cdk)
        with self.summary.step("day-2 operations with mlp"):
            promoted_package = operations.run()
        self.summary.operations = operations.results
        # mlp promote deployed with a plain `cdk deploy` in the working directory, which wrote its assembly there.
        promoted = read_stage(self.workdir / "cdk.out", self.stage, ACCOUNT)
        promotion = Update(
            "Serving", MODEL_PACKAGE, lambda _: promoted_package, "AWS::SageMaker::Model", "PrimaryContainer"
        )
        settings = region_settings(self.region, self.workdir / "cdk.json")
        self.summary.updates = [
            first_import,
            f"{self._describe_update(promotion, settings, assembly, promoted)} (mlp promote)",
        ]

        updates = [update for update in UPDATES if promoted.stack(update.stack) is not None]
        overrides = dict(update.override(self.region, settings) for update in updates)
        outdir, assembly = self.synth("update", overrides)
        self.stage_images(assembly)
        self.deploy("update", outdir)
        with self.summary.step("check update"):
            stage = self.check(assembly)
            self.summary.updates += [self._describe_update(update, settings, promoted, assembly) for update in updates]
            if promotion.changes(promoted, assembly):
                raise CheckFailed(
                    f"the update, a plain cdk deploy with cdk.json, replaced the promoted {promoted_package}"
                )
            self.summary.updates.append(f"Serving: still serves {promoted_package}, as cdk.json records")
        stage = self.recreate_training(outdir, assembly, stage)
        self.destroy(outdir, assembly, stage)

    def _undeployed_region(self) -> str | None:
        """Another Region of the config: the rehearsal deploys only its own."""
        return next((region for region in Project(self.workdir).regions() if region != self.region), None)

    def _describe_update(
        self, update: Update, settings: RegionSettings, before: StageAssembly, after: StageAssembly
    ) -> str:
        """The update's effect; the checks of the updated stage have shown that it is deployed."""
        key, value = update.override(self.region, settings)
        changes = update.changes(before, after)
        if not changes:
            raise CheckFailed(
                f"-c {key}={value!r} changed no {update.resource_type} {update.property} in {update.stack}"
            )
        changed = ", ".join(logical_id for logical_id, _, _ in changes)
        return f"{update.stack}: {update.setting} = {value!r} -> {update.property} of {changed} updated"

    def destroy(self, outdir: Path, assembly: StageAssembly, stage: dict[str, DeployedStack]) -> None:
        data = stage["Data"]
        bucket, key_arn = data_bucket_name(data), region_key_arn(data)
        stack_ids = {stack.name: stack.description["StackId"] for stack in stage.values()}
        stateless = [stack.path for stack in assembly.stacks if stack.short_name not in STATEFUL_STACKS]
        vpc_id = stage["Network"].physical_id(stage["Network"].only("AWS::EC2::VPC")[0])
        with self.summary.step("cdk destroy (stateless stacks)"):
            self.cdk.run("destroy-stateless", "destroy", *stateless, "--app", str(outdir), "--force", *VERBOSE)
        with self.summary.step("check destroy"):
            self._verify_deleted([s for s in stage.values() if s.artifact.short_name not in STATEFUL_STACKS], stack_ids)
            try:
                vpcs = self.emulator.client("ec2", self.region).describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
            except ClientError:
                vpcs = []
            if vpcs:
                raise CheckFailed(f"the VPC {vpc_id} survived the Network stack's deletion")
            self._verify_survivors(bucket, key_arn, "after the stateless stacks were destroyed")
        with self.summary.step("cdk destroy (Data)"):
            self.cdk.run("destroy-data", "destroy", data.artifact.path, "--app", str(outdir), "--force", *VERBOSE)
        with self.summary.step("check retained data"):
            self._verify_deleted([data], stack_ids)
            self.summary.survivors = self._verify_survivors(bucket, key_arn, "after the Data stack was destroyed")

    def _verify_deleted(self, stacks: list[DeployedStack], stack_ids: dict[str, str]) -> None:
        cloudformation = self.emulator.client("cloudformation", self.region)
        inventory = self.emulator.inventory()["resources"]
        for stack in stacks:
            status = cloudformation.describe_stacks(StackName=stack_ids[stack.name])["Stacks"][0]["StackStatus"]
            if status != "DELETE_COMPLETE":
                raise CheckFailed(f"{stack.name} is {status} after cdk destroy")
            retained = {
                logical_id
                for logical_id, d in stack.template_resources.items()
                if d.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")
            }
            left = [
                e["logicalId"]
                for e in inventory
                if e["stack"] == stack.name and e["exists"] and e["logicalId"] not in retained
            ]
            if left:
                raise CheckFailed(f"{stack.name}: {left} outlived the stack although not retained")
            self.summary.destroyed.append(stack.name)

    def _verify_survivors(self, bucket: str, key_arn: str, when: str) -> list[str]:
        s3, kms = self.emulator.client("s3", self.region), self.emulator.client("kms", self.region)
        try:
            body = s3.get_object(Bucket=bucket, Key=PROBE_KEY)["Body"].read()
            key_state = kms.describe_key(KeyId=key_arn)["KeyMetadata"]["KeyState"]
        except ClientError as error:
            raise CheckFailed(f"the data bucket, its objects and the key must survive, {when}: {error}") from error
        if body != b"rehearsal probe" or key_state != "Enabled":
            raise CheckFailed(f"data or key damaged {when}: object {body!r}, key {key_state}")
        return [f"data bucket {bucket} with s3://{bucket}/{PROBE_KEY}", f"KMS key {key_arn} ({key_state})"]


def shipped_first_region() -> str:
    return json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]["platform"]["regions"][0]["region"]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m rehearsal", description=__doc__.split("\n\n")[0])
    parser.add_argument("--region", help="the Region whose stage to rehearse (default: the shipped config's first)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the working directory (assemblies, logs) on success too"
    )
    args = parser.parse_args(argv)
    isolation.ensure_isolated(argv)
    summary = Summary(args.region or shipped_first_region())
    workdir = Path(tempfile.mkdtemp(prefix="rehearsal-"))
    started = time.monotonic()
    try:
        with running_emulator(workdir) as emulator:
            Rehearsal(summary.region, workdir, emulator, summary).run()
    except (RehearsalFailed, CommandFailed, CheckFailed, ClientError, EmulatorRefused, ModelFailed) as error:
        print(f"rehearsal FAILED: {error}", file=sys.stderr)
        print(f"CLI logs, assemblies and emulator.log are in {workdir}", file=sys.stderr)
        return 1
    if not args.keep:
        shutil.rmtree(workdir)
    print(summary.render())
    print(f"  {'wall time':<34} {time.monotonic() - started:6.1f} s")
    return 0
