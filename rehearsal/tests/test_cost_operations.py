"""What mlp shows of a Region's costs, against the emulator: spot savings of the pipeline's training jobs
(rehearsal/emulator/training_jobs.py) and the Region's tagged costs by service (rehearsal/emulator/cost_explorer.py)."""

from __future__ import annotations

import datetime
import io
import json

import boto3
import pytest
from botocore.exceptions import ClientError

from operator_cli import costs
from operator_cli.resources import RegionResources, StackOutputs
from platform_contract.names import Output
from rehearsal.aws import Emulator, EmulatorRefused
from rehearsal.tests.support import REGION, Stacks

ROLE = "arn:aws:iam::123456789012:role/any"
TODAY = datetime.date(2031, 3, 15)
"""Cost Explorer's days in these tests; far from the clock, so no other test's costs fall in its window."""


def _pipeline(stacks: Stacks) -> str:
    """Two training branches, as the platform's: spot by default, on demand when UseSpot is false."""

    def train(name: str, spot: bool) -> dict:
        arguments = {
            "RoleArn": ROLE,
            "ResourceConfig": {"InstanceCount": {"Get": "Parameters.Count"}, "InstanceType": "ml.m5.xlarge"},
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/models/"},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600} | ({"MaxWaitTimeInSeconds": 7200} if spot else {}),
        }
        return {
            "Name": name,
            "Type": "Training",
            "Arguments": arguments | ({"EnableManagedSpotTraining": True} if spot else {}),
        }

    definition = {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": "UseSpot", "Type": "Boolean", "DefaultValue": True},
            {"Name": "Count", "Type": "Integer", "DefaultValue": 2},
        ],
        "Steps": [
            {
                "Name": "Branch",
                "Type": "Condition",
                "Arguments": {
                    "Conditions": [{"Type": "Equals", "LeftValue": {"Get": "Parameters.UseSpot"}, "RightValue": True}],
                    "IfSteps": [train("TrainSpot", True)],
                    "ElseSteps": [train("TrainOnDemand", False)],
                },
            }
        ],
    }
    name = stacks.unique_name("pipeline")
    stacks.client("sagemaker").create_pipeline(
        PipelineName=name, PipelineDefinition=json.dumps(definition), RoleArn=ROLE
    )
    return name


def _resources(pipeline: str) -> RegionResources:
    training = StackOutputs("Training", {Output.PIPELINE_NAME: pipeline})
    return RegionResources(REGION, StackOutputs("Data", {}), training, None)


def _execute(stacks: Stacks, pipeline: str, **parameters: str) -> str:
    started = stacks.client("sagemaker").start_pipeline_execution(
        PipelineName=pipeline, PipelineParameters=[{"Name": k, "Value": v} for k, v in parameters.items()]
    )
    return started["PipelineExecutionArn"]


def test_train_wait_ends_with_the_training_and_billable_time_and_the_spot_saving(
    emulator: Emulator, stacks: Stacks, aws: boto3.Session
) -> None:
    pipeline = _pipeline(stacks)
    emulator.queue_training_times(REGION, pipeline, training=600, billable=180)
    spot = _execute(stacks, pipeline)
    out = io.StringIO()
    costs.print_training_times(aws, spot, out=out)
    (line,) = out.getvalue().splitlines()
    assert "(spot, 2 instance(s)): 600 s training, 180 s billable, 70 % saved" in line
    assert line.startswith(f"training job pipelines-{spot.rsplit('/', 1)[1]}-trainspot")

    # SageMaker bills an on-demand job for all of its training time, whatever was queued.
    emulator.queue_training_times(REGION, pipeline, training=400, billable=100)
    on_demand = _execute(stacks, pipeline, UseSpot="false", Count="1")
    out = io.StringIO()
    costs.print_training_times(aws, on_demand, out=out)
    assert "(on-demand, 1 instance(s)): 400 s training, 400 s billable, 0 % saved" in out.getvalue()

    # Status weighs each job by its instance-seconds: (2 x 420 + 1 x 0) saved of (2 x 600 + 1 x 400) trained.
    today = datetime.datetime.now(datetime.UTC).date()
    assert costs.spot_savings(aws, _resources(pipeline), today=today) == "52 % of 0.4 h (2 jobs)"
    assert costs.spot_savings(aws, _resources(_pipeline(stacks)), today=today) == "none"


def test_the_emulator_refuses_training_times_sagemaker_would_not_report(emulator: Emulator, stacks: Stacks) -> None:
    with pytest.raises(EmulatorRefused, match="0 <= billableSeconds <= trainingSeconds"):
        emulator.queue_training_times(REGION, _pipeline(stacks), training=100, billable=200)


def _cost(day: str, service: str, amount: float, stage: str = f"MlPlatform-{REGION}") -> dict:
    return {"day": day, "service": service, "amount": amount, "region": REGION, "tags": {"ml-platform-stage": stage}}


def test_mlp_cost_sums_the_last_thirty_days_of_the_regions_tagged_costs_by_service(
    emulator: Emulator, aws: boto3.Session
) -> None:
    emulator.record_costs(
        [
            _cost("2031-02-13", "Amazon SageMaker", 12.5),  # the first day of the window
            _cost("2031-03-14", "Amazon SageMaker", 30.25),  # the last
            _cost("2031-03-01", "Amazon Simple Storage Service", 1.75),
            _cost("2031-02-12", "Amazon SageMaker", 1000),  # before the window
            _cost("2031-03-15", "Amazon SageMaker", 1000),  # today: not yet a whole day
            _cost("2031-03-01", "Amazon SageMaker", 1000, stage="MlPlatform-us-east-1"),  # another Region
            {"day": "2031-03-01", "service": "Amazon SageMaker", "amount": 1000},  # untagged
        ]
    )
    totals, unit = costs.costs_by_service(aws, REGION, today=TODAY)
    assert (totals, unit) == ({"Amazon SageMaker": 42.75, "Amazon Simple Storage Service": 1.75}, "USD")
    out = io.StringIO()
    costs.print_costs(aws, REGION, today=TODAY, out=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"{REGION}: costs tagged ml-platform-stage=MlPlatform-{REGION}, 2031-02-13 to 2031-03-14"
    assert lines[1].split() == ["Amazon", "SageMaker", "42.75", "USD"]
    assert lines[-1].split() == ["total", "44.50", "USD"]


def test_mlp_cost_says_when_no_cost_carries_the_tag(aws: boto3.Session) -> None:
    out = io.StringIO()
    costs.print_costs(aws, REGION, today=datetime.date(2031, 9, 1), out=out)
    assert "no costs carry the tag; it counts once activated as a cost-allocation tag" in out.getvalue()


def test_get_cost_and_usage_refuses_what_cost_explorer_refuses(aws: boto3.Session) -> None:
    ce = aws.client("ce", region_name="us-east-1")
    request = costs.cost_request(REGION, today=TODAY)
    with pytest.raises(ClientError, match="must be before end date"):
        ce.get_cost_and_usage(**request | {"TimePeriod": {"Start": "2031-03-15", "End": "2031-03-01"}})
    with pytest.raises(ClientError, match="Metrics 'Dollars'"):
        ce.get_cost_and_usage(**request | {"Metrics": ["Dollars"]})
    with pytest.raises(ClientError, match="exactly one of And, Or, Not"):
        ce.get_cost_and_usage(**request | {"Filter": {}})
