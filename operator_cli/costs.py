"""What a Region costs: the spot savings of its training jobs, and its costs by service from Cost Explorer.

Savings come from DescribeTrainingJob of the jobs the pipeline's Training steps ran: SageMaker reports the time a
job trained (TrainingTimeInSeconds) and the time it bills (BillableTimeInSeconds, less with managed spot training),
so the saving is 1 - billable / training. Costs come from Cost Explorer's GetCostAndUsage of the costs that carry
the Region's cost-allocation tag (``platform_config.naming.platform_tag``), grouped by service. The periods are
counted back from today's date when ``mlp`` runs.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

import boto3

from operator_cli.resources import RegionResources
from platform_config.naming import platform_tag

HISTORY_DAYS = 30
"""How far back ``mlp status`` sums spot savings and ``mlp cost`` sums costs."""
COST_METRIC = "UnblendedCost"
"""What AWS Budgets compares a cost budget with, so that ``mlp cost`` and the budget agree."""
COST_EXPLORER_REGION = "us-east-1"
"""Cost Explorer has one endpoint, ce.us-east-1.amazonaws.com, for every Region's costs."""


@dataclass(frozen=True)
class TrainingJobTime:
    name: str
    training_seconds: int
    billable_seconds: int
    instances: int
    spot: bool

    @property
    def saving_percent(self) -> float | None:
        if self.training_seconds <= 0:
            return None
        return 100 * (1 - self.billable_seconds / self.training_seconds)

    def line(self) -> str:
        how = "spot" if self.spot else "on-demand"
        saving = self.saving_percent
        saved = "" if saving is None else f", {saving:.0f} % saved"
        return (
            f"training job {self.name} ({how}, {self.instances} instance(s)): "
            f"{self.training_seconds} s training, {self.billable_seconds} s billable{saved}"
        )


def _execution_jobs(sagemaker: Any, execution_arn: str) -> Iterator[TrainingJobTime]:
    """The training jobs of an execution's Training steps that report their times."""
    pages = sagemaker.get_paginator("list_pipeline_execution_steps").paginate(PipelineExecutionArn=execution_arn)
    for page in pages:
        for step in page["PipelineExecutionSteps"]:
            arn = step.get("Metadata", {}).get("TrainingJob", {}).get("Arn")
            if not arn:
                continue
            job = sagemaker.describe_training_job(TrainingJobName=arn.rsplit("/", 1)[-1])
            if "TrainingTimeInSeconds" in job and "BillableTimeInSeconds" in job:
                yield TrainingJobTime(
                    name=job["TrainingJobName"],
                    training_seconds=job["TrainingTimeInSeconds"],
                    billable_seconds=job["BillableTimeInSeconds"],
                    instances=job.get("ResourceConfig", {}).get("InstanceCount", 1),
                    spot=job.get("EnableManagedSpotTraining", False),
                )


def print_training_times(aws: boto3.Session, execution_arn: str, *, out: TextIO) -> None:
    """What ``train --wait`` ends with: each training job's training and billable time and the spot saving."""
    jobs = list(_execution_jobs(aws.client("sagemaker"), execution_arn))
    for job in jobs:
        print(job.line(), file=out)
    if not jobs:
        print("no training job of this execution reports its times (none ran, or it has not finished)", file=out)


def spot_savings(aws: boto3.Session, resources: RegionResources, *, today: datetime.date) -> str:
    """The ``mlp status`` column: the saving over the last days' training jobs of the Region's pipeline, weighed by
    their instance-seconds."""
    sagemaker = aws.client("sagemaker")
    since = datetime.datetime.combine(today - datetime.timedelta(days=HISTORY_DAYS), datetime.time(), datetime.UTC)
    pages = sagemaker.get_paginator("list_pipeline_executions").paginate(
        PipelineName=resources.pipeline_name, CreatedAfter=since
    )
    jobs = [
        job
        for page in pages
        for execution in page["PipelineExecutionSummaries"]
        if execution["StartTime"] >= since
        for job in _execution_jobs(sagemaker, execution["PipelineExecutionArn"])
    ]
    trained = sum(job.training_seconds * job.instances for job in jobs)
    if not trained:
        return "none"
    billed = sum(job.billable_seconds * job.instances for job in jobs)
    return f"{100 * (1 - billed / trained):.0f} % of {trained / 3600:.1f} h ({len(jobs)} jobs)"


def cost_request(region: str, *, today: datetime.date, page_token: str | None = None) -> dict[str, Any]:
    """GetCostAndUsage of the last days' costs tagged with the Region's platform tag, by service ([Start, End))."""
    key, value = platform_tag(region)
    request: dict[str, Any] = {
        "TimePeriod": {
            "Start": (today - datetime.timedelta(days=HISTORY_DAYS)).isoformat(),
            "End": today.isoformat(),
        },
        "Granularity": "MONTHLY",
        "Metrics": [COST_METRIC],
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        "Filter": {"Tags": {"Key": key, "Values": [value], "MatchOptions": ["EQUALS"]}},
    }
    if page_token:
        request["NextPageToken"] = page_token
    return request


def costs_by_service(aws: boto3.Session, region: str, *, today: datetime.date) -> tuple[dict[str, float], str]:
    """The Region's tagged costs of the last days per service, and their unit."""
    ce = aws.client("ce", region_name=COST_EXPLORER_REGION)
    totals: dict[str, float] = defaultdict(float)
    unit, token = "USD", None
    while True:
        response = ce.get_cost_and_usage(**cost_request(region, today=today, page_token=token))
        for period in response["ResultsByTime"]:
            for group in period.get("Groups", []):
                metric = group["Metrics"][COST_METRIC]
                totals[group["Keys"][0]] += float(metric["Amount"])
                unit = metric["Unit"]
        token = response.get("NextPageToken")
        if not token:
            return dict(totals), unit


def print_costs(aws: boto3.Session, region: str, *, today: datetime.date, out: TextIO) -> None:
    """``mlp cost``: the table of the Region's costs by service, most expensive first, and their total."""
    totals, unit = costs_by_service(aws, region, today=today)
    key, value = platform_tag(region)
    start = today - datetime.timedelta(days=HISTORY_DAYS)
    print(f"{region}: costs tagged {key}={value}, {start} to {today - datetime.timedelta(days=1)}", file=out)
    if not totals:
        print(
            "no costs carry the tag; it counts once activated as a cost-allocation tag in the Billing console, "
            "from then on (Cost Explorer's data is up to a day behind)",
            file=out,
        )
        return
    width = max(len(service) for service in totals)
    for service, amount in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {service:<{width}}  {amount:>12.2f} {unit}", file=out)
    print(f"  {'total':<{width}}  {sum(totals.values()):>12.2f} {unit}", file=out)
