"""`mlp`: day-2 commands for the deployed platform, per Region.

    mlp upload-data --region R [--prepared] PATH
    mlp ground-truth upload --region R FILE.jsonl
    mlp train --region R [--data DATASET | --prepared-data URI] [--instance-type T] [--no-spot] [--wait]
    mlp status [--region R | --all]
    mlp approve|reject --region R [--version N]
    mlp promote --region R
    mlp deploy --region R [-c key=value ...]
    mlp invoke --region R --file rows.csv|rows.json
    mlp cost --region R

Each Region's resources are found through its stacks' outputs. ``--project-dir`` names the
platform's project (default: this checkout): its cdk.json lists the Regions and records promoted
models, and ``cdk`` runs there. Every problem is reported as one line on stderr with exit status 1.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from operator_cli import commands, costs, ground_truth, monitoring
from operator_cli.deploy import deploy
from operator_cli.errors import OperatorError
from operator_cli.project import CHECKOUT, Project
from operator_cli.resources import StackNotDeployed, find_resources, session
from platform_contract.names import PipelineParameter

# The training pipeline's parameters, as platform_contract.names names them for ml_constructs/pipeline_steps.


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlp", description="Operate the ML platform's deployed Regions.")
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=CHECKOUT,
        help="the platform's project: its cdk.json lists the Regions and records promoted models, and cdk runs there "
        "(default: %(default)s)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_region(name: str, description: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=description, description=description)
        command.add_argument("--region", required=True, help="a Region configured in cdk.json")
        return command

    upload = with_region("upload-data", "upload a raw dataset (a directory or a file) to the Region's raw/ prefix")
    upload.add_argument("path", type=Path)
    upload.add_argument(
        "--prepared",
        action="store_true",
        help="a split dataset (train/, validation/, test/, test-labels/) to datasets/",
    )

    ground_truth = sub.add_parser("ground-truth", help="labels of captured requests for the model-quality monitor")
    ground_truth_sub = ground_truth.add_subparsers(dest="action", required=True, metavar="ACTION")
    labels = ground_truth_sub.add_parser(
        "upload", help="check a JSON Lines file of labels whole, then upload it for the model-quality monitor"
    )
    labels.add_argument("--region", required=True, help="a Region configured in cdk.json")
    labels.add_argument("file", type=Path)

    train = with_region("train", "start the Region's training pipeline")
    data = train.add_mutually_exclusive_group()
    data.add_argument("--data", metavar="DATASET", help="a raw dataset under raw/ to prepare (default: the configured)")
    data.add_argument("--prepared-data", metavar="URI", help="a split dataset's folder under datasets/, s3://...")
    train.add_argument("--instance-type", help="training instance type, e.g. ml.m5.2xlarge")
    train.add_argument("--no-spot", action="store_true", help="train on on-demand instances")
    train.add_argument("--wait", action="store_true", help="follow the execution step by step until it ends")
    train.add_argument("--poll-seconds", type=float, default=commands.POLL_SECONDS, help=argparse.SUPPRESS)

    status = sub.add_parser("status", help="executions, models, endpoint and alarms per Region")
    scope = status.add_mutually_exclusive_group()
    scope.add_argument("--region", help="only this Region")
    scope.add_argument("--all", action="store_true", help="every configured Region (the default)")

    for name in ("approve", "reject"):
        approval = with_region(name, f"{name} a model version (default: the newest one pending approval)")
        approval.add_argument("--version", type=int)

    with_region("promote", "serve the newest approved model: record it in cdk.json and deploy the Serving stack")

    deploy = with_region("deploy", "synthesize with every gate and deploy the Region's stage (make deploy)")
    deploy.add_argument(
        "-c", "--context", action="append", default=[], metavar="KEY=VALUE", help="a context override for the synth"
    )

    invoke = with_region("invoke", "send records to the Region's endpoint and print the predictions")
    invoke.add_argument("--file", type=Path, required=True, help="CSV rows (.csv) or JSON records (.json)")

    with_region("cost", f"the Region's tagged costs of the last {costs.HISTORY_DAYS} days by service (Cost Explorer)")
    return parser


def status(project: Project, region: str | None, out: TextIO) -> None:
    """The status table; with every Region, one that is not deployed gets a row that says so."""
    rows = []
    for name in [project.check_region(region)] if region else project.regions():
        aws = session(name)
        try:
            resources = find_resources(aws, name)
        except StackNotDeployed as error:
            if region:
                raise
            rows.append(commands.undeployed_status(name, error.stack))
            continue
        savings = costs.spot_savings(aws, resources, today=_today())
        rows.append(
            commands.region_status(aws, resources)
            | monitoring.monitoring_status(aws, resources)
            | {f"spot savings ({costs.HISTORY_DAYS} d)": savings}
        )
    commands.print_table(rows, out)


def run(args: argparse.Namespace, out: TextIO) -> None:
    project = Project(args.project_dir)
    if args.command == "status":
        status(project, args.region, out)
        return
    region = project.check_region(args.region)
    aws = session(region)
    resources = find_resources(aws, region)
    if args.command == "upload-data":
        commands.upload_data(aws, resources, args.path, prepared=args.prepared, out=out)
    elif args.command == "ground-truth":
        ground_truth.upload_ground_truth(aws, resources, args.file, collected=_now(), out=out)
    elif args.command == "train":
        parameters: dict[str, str] = {}
        if args.data:
            parameters[PipelineParameter.RAW_DATASET] = commands.raw_dataset(resources, args.data)
        if args.prepared_data:
            parameters[PipelineParameter.INPUT_DATA] = commands.training_data_uri(resources, args.prepared_data)
        if args.instance_type:
            parameters[PipelineParameter.TRAINING_INSTANCE_TYPE] = args.instance_type
        if args.no_spot:
            parameters[PipelineParameter.USE_SPOT_INSTANCES] = "false"
        execution_arn = commands.start_training(aws, resources, parameters=parameters)
        print(f"started {execution_arn}", file=out, flush=True)
        if args.wait:
            try:
                commands.follow_execution(aws, execution_arn, out=out, poll_seconds=args.poll_seconds)
            except OperatorError:
                costs.print_training_times(aws, execution_arn, out=out)  # a failed execution's training is billed too
                raise
            costs.print_training_times(aws, execution_arn, out=out)
    elif args.command in ("approve", "reject"):
        commands.set_approval(aws, resources, approve=args.command == "approve", version=args.version, out=out)
    elif args.command == "promote":
        package_arn = commands.latest_approved_package(aws, resources)
        print(f"promoting {package_arn}", file=out)
        commands.promote(project, aws, region, package_arn, out=out)
    elif args.command == "deploy":
        context = [arg for value in args.context for arg in ("-c", value)]
        deploy(project, aws, region, serving_only=False, context_args=context, out=out)
    elif args.command == "invoke":
        print(commands.invoke(aws, resources, args.file), file=out)
    elif args.command == "cost":
        costs.print_costs(aws, region, today=_today(), out=out)


def _now() -> datetime.datetime:
    """Now in UTC, the time zone of Cost Explorer's days, of SageMaker's times and of its S3 hour folders."""
    return datetime.datetime.now(datetime.UTC)


def _today() -> datetime.date:
    return _now().date()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        run(args, sys.stdout)
        return 0
    except OperatorError as error:
        print(f"mlp: {error}", file=sys.stderr)
    except ClientError as error:
        print(f"mlp: AWS refused the request: {error}", file=sys.stderr)
    except BotoCoreError as error:
        print(f"mlp: the AWS request failed: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        print("mlp: interrupted", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
