"""The training pipeline's definition: what the SageMaker SDK writes during synth, read back from the template
as CloudFormation will deliver it to SageMaker, and every job request in it checked against botocore's
SageMaker service model, offline."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from app import build_platform
from bench.synth import context_for
from data_preparation import contract
from data_preparation.settings import PreparationSettings, QualityRules
from ml_constructs import definition_process, training_pipeline
from ml_constructs.definition_process import OFFLINE_ENVIRONMENT, PendingDefinition
from ml_constructs.definition_process import request_definition as pending_definition
from ml_constructs.pipeline_spec import EVALUATE_ENTRYPOINT, PLACEHOLDERS, PipelineSpec, PreparationSpec
from ml_constructs.pipeline_steps.generator import GENERATOR_SOURCES, JOB_STEP_TYPES
from ml_constructs.training_pipeline_props import MetricDefinition, TrainingPipelineProps
from operator_cli.deploy import with_home
from platform_config import load_platform_config
from platform_config.naming import platform_tag
from platform_contract.api_shapes import request_shape, shape_problems
from platform_contract.instance_types import InstanceFamily, InstanceType
from platform_contract.names import PipelineParameter
from stacks.training_stack import METRIC_DEFINITIONS_FILE
from tests.conftest import PROJECT_ROOT, shipped_context

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PIPELINE_RESOURCE = "AWS::SageMaker::Pipeline"
GENERATOR = PROJECT_ROOT / "ml_constructs" / "pipeline_steps" / "generator.py"

# --- CloudFormation, as it will resolve the definition body ----------------------------------------------------


def family(name: str) -> InstanceFamily:
    instance_type = InstanceType.parse(name)
    assert instance_type is not None, name
    return instance_type.family


def _fake_id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:17]


def cloudformation_value(value: Any) -> Any:
    """``value`` with intrinsic functions replaced by plausible deploy-time values."""
    if isinstance(value, list):
        return [cloudformation_value(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1 or not next(iter(value)).startswith(("Fn::", "Ref")):
        return {key: cloudformation_value(item) for key, item in value.items()}
    ((function, argument),) = value.items()
    if function == "Fn::Join":
        delimiter, parts = argument
        return delimiter.join(cloudformation_value(part) for part in parts)
    if function == "Fn::Sub":
        pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
        }
        return re.sub(r"\$\{([^}]+)\}", lambda match: pseudo[match[1]], argument)
    if function == "Ref":
        return {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws"}.get(
            argument, f"ref-{argument}"
        )
    if function == "Fn::GetAtt":
        logical_id, attribute = argument
        if attribute == "GroupId":
            return f"sg-{_fake_id(logical_id)}"
        assert attribute == "Arn" and "Role" in logical_id, f"no plausible value for {value}"
        return f"arn:aws:iam::{ACCOUNT}:role/Training-{logical_id[:40]}"
    if function == "Fn::GetStackOutput":
        name = argument["OutputName"]
        if "Subnet" in name:
            return f"subnet-{_fake_id(name)}"
        if "Key" in name:
            return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        if "Bucket" in name and "Arn" not in name:
            return "mlplatform-eu-west-1-data-datastorebucket-ab12cd34ef56"
    raise AssertionError(f"no plausible value for {value}")


def pipeline_properties(template: dict) -> dict:
    (pipeline,) = [resource for resource in template["Resources"].values() if resource["Type"] == PIPELINE_RESOURCE]
    return pipeline["Properties"]


def deployed_definition(template: dict) -> dict:
    """The definition SageMaker receives once CloudFormation has resolved the body's references."""
    body = cloudformation_value(pipeline_properties(template)["PipelineDefinition"]["PipelineDefinitionBody"])
    return json.loads(body)


def steps_of(steps: list[dict]) -> Iterator[dict]:
    for step in steps:
        yield step
        yield from steps_of(step["Arguments"].get("IfSteps", []) + step["Arguments"].get("ElseSteps", []))


def all_steps(definition: dict) -> dict[str, dict]:
    return {step["Name"]: step for step in steps_of(definition["Steps"])}


@pytest.fixture(scope="module")
def definition(platform) -> dict:
    return deployed_definition(platform.template_json(REGION, "training"))


# --- SageMaker pipelines, as an execution will evaluate the step arguments ------------------------------------

# Properties of earlier steps, as the pipeline resolves them at run time.
PREPARED = "s3://mlplatform-eu-west-1-data-datastorebucket-ab12cd34ef56/datasets/ab12cd34ef56/"
BASELINE = "s3://mlplatform-eu-west-1-data-datastorebucket-ab12cd34ef56/baseline/ab12cd34ef56/"
STEP_PROPERTIES = {
    "ProcessingOutputConfig.Outputs['datasets'].S3Output.S3Uri": PREPARED,
    "ProcessingOutputConfig.Outputs['baseline'].S3Output.S3Uri": BASELINE,
    "ModelArtifacts.S3ModelArtifacts": "s3://bucket/models/pipelines-ab12cd34-TrainSpot-Ab12Cd/output/model.tar.gz",
    "ModelName": "pipelines-ab12cd34-CreateModelSpot-Ab12Cd",
    "TransformOutput.S3OutputPath": "s3://bucket/evaluation/ab12cd34/predictions/",
}


def at_run_time(value: Any, parameters: dict[str, Any]) -> Any:
    """``value`` with pipeline parameters, execution variables, step properties and functions evaluated."""
    if isinstance(value, list):
        return [at_run_time(item, parameters) for item in value]
    if not isinstance(value, dict):
        return value
    if "Get" in value:
        kind, _, path = value["Get"].partition(".")
        if kind == "Parameters":
            return parameters[path]
        if kind == "Execution":
            return {"PipelineExecutionId": "ab12cd34ef56"}[path]
        _step, _, path = path.partition(".")
        return STEP_PROPERTIES[path]
    if "Std:Join" in value:
        join = value["Std:Join"]
        return join["On"].join(str(at_run_time(item, parameters)) for item in join["Values"])
    if "Std:JsonGet" in value:
        return 0.87
    return {key: at_run_time(item, parameters) for key, item in value.items()}


def parameter_defaults(definition: dict) -> dict[str, Any]:
    return {parameter["Name"]: parameter["DefaultValue"] for parameter in definition["Parameters"]}


# --- botocore's SageMaker service model --------------------------------------------------------------------------

# Each step type is one API request; names the pipeline generates at run time are added as it will add them.
REQUESTS = {
    "Training": ("CreateTrainingJob", {"TrainingJobName": "pipelines-ab12cd34-TrainSpot-Ab12Cd"}),
    "Processing": ("CreateProcessingJob", {"ProcessingJobName": "pipelines-ab12cd34-EvaluateSpot-Ab12Cd"}),
    "Transform": ("CreateTransformJob", {"TransformJobName": "pipelines-ab12cd34-PredictTestSetSpot-Ab12Cd"}),
    "Model": ("CreateModel", {"ModelName": "pipelines-ab12cd34-CreateModelSpot-Ab12Cd"}),
    "RegisterModel": ("CreateModelPackage", {}),
}


# Where each job request holds its instance resources.
RESOURCES = {
    "Training": ("ResourceConfig",),
    "Transform": ("TransformResources",),
    "Processing": ("ProcessingResources", "ClusterConfig"),
}


def request_problems(step: dict, parameters: dict[str, Any]) -> list[str]:
    operation, generated = REQUESTS[step["Type"]]
    request = {**generated, **at_run_time(step["Arguments"], parameters)}
    problems = shape_problems(request, request_shape(operation), operation)
    resources = request
    for key in RESOURCES.get(step["Type"], ("-",)):
        resources = resources.get(key, {})
    instance = InstanceType.parse(resources.get("InstanceType", ""))
    # Instance storage is encrypted in hardware; SageMaker rejects a volume key for it (API reference,
    # ResourceConfig, TransformResources and ProcessingClusterConfig: VolumeKmsKeyId).
    if instance and instance.family.local_storage and "VolumeKmsKeyId" in resources:
        problems.append(f"{operation}: VolumeKmsKeyId with {instance.name}, which has local storage")
    return problems


# --- The tests -----------------------------------------------------------------------------------------------

# The capacity branches of both data sources: after Prepare, and on a given InputDataUri.
CAPACITIES = ("Spot", "OnDemand", "SpotGivenData", "OnDemandGivenData")


def test_the_definition_is_valid_json_once_cloudformation_resolves_it(platform):
    for region in ("eu-west-1", "us-east-1"):
        body = pipeline_properties(platform.template_json(region, "training"))["PipelineDefinition"][
            "PipelineDefinitionBody"
        ]
        assert "Fn::Join" in body, "deploy-time values reach the body as CloudFormation references"
        text = json.dumps(deployed_definition(platform.template_json(region, "training")))
        assert "deploy-time" not in text and "${Token" not in text


def taken(steps: list[dict], parameters: dict[str, Any]) -> list[dict]:
    """The steps an execution with ``parameters`` can run: those after Prepare unless InputDataUri is given."""
    given = parameters.get("InputDataUri", "") != ""
    return [
        step
        for step in steps
        if step["Name"].endswith("GivenData") == given and not (given and step["Name"] == "Prepare")
    ]


def test_every_job_step_is_a_valid_sagemaker_request_for_every_parameter_choice(definition):
    steps = all_steps(definition)
    checked = [step for step in steps.values() if step["Type"] in REQUESTS]
    assert sorted(step["Type"] for step in checked) == sorted(["Processing"] + 4 * list(REQUESTS)), (
        "Prepare, and one of each per data source and capacity branch"
    )
    for parameters in (
        parameter_defaults(definition),
        {**parameter_defaults(definition), "TrainingInstanceType": "ml.c5.2xlarge", "TrainingInstanceCount": 3},
        {**parameter_defaults(definition), "InputDataUri": "s3://b/datasets/churn/", "RawDataset": "churn-2027"},
    ):
        for step in taken(checked, parameters):
            assert request_problems(step, parameters) == [], step["Name"]
    (instance_types,) = [p["EnumValues"] for p in definition["Parameters"] if p["Name"] == "TrainingInstanceType"]
    for instance_type in instance_types:
        parameters = {**parameter_defaults(definition), "TrainingInstanceType": instance_type}
        for step in (step for step in taken(checked, parameters) if step["Type"] == "Training"):
            assert request_problems(step, parameters) == [], (step["Name"], instance_type)


def test_instance_types_with_local_storage_get_no_volume_key_and_the_parameter_stays_among_them():
    spec = dataclasses.replace(
        SPEC,
        instance_type="ml.g5.xlarge",
        training_instance_types=TrainingPipelineProps(instance_type="ml.g5.xlarge").training_instance_types,
        training_volume_key=False,
        evaluation_instance_type="ml.g4dn.xlarge",
        evaluation_volume_key=False,
    )
    # The project's cache, as synth uses it: generated once per change of the generator, not on every run.
    definition = PendingDefinition(spec).result()
    (parameter,) = [p for p in definition["Parameters"] if p["Name"] == "TrainingInstanceType"]
    assert "ml.g5.xlarge" in parameter["EnumValues"] and "ml.p4d.24xlarge" in parameter["EnumValues"]
    assert all(family(name).local_storage for name in parameter["EnumValues"])
    checked = [step for step in all_steps(definition).values() if step["Type"] in REQUESTS]
    for instance_type in parameter["EnumValues"]:
        for step in checked:
            if step["Type"] != "RegisterModel":
                assert (
                    request_problems(step, {**parameter_defaults(definition), "TrainingInstanceType": instance_type})
                    == []
                ), step["Name"]
    train = all_steps(definition)["TrainSpot"]["Arguments"]
    assert "VolumeKmsKeyId" not in train["ResourceConfig"]
    assert train["OutputDataConfig"]["KmsKeyId"] == PLACEHOLDERS.key_arn, "outputs are still encrypted with the key"


def test_the_training_instance_type_parameter_accepts_only_types_of_the_defaults_storage_kind(definition):
    (parameter,) = [p for p in definition["Parameters"] if p["Name"] == "TrainingInstanceType"]
    assert parameter["DefaultValue"] in parameter["EnumValues"]
    assert "ml.c5.2xlarge" in parameter["EnumValues"]
    assert not any(family(name).local_storage for name in parameter["EnumValues"])
    assert not any(family(name).arm64 for name in parameter["EnumValues"])


BAD_ARGUMENTS = {
    "a flag that is not a boolean": ("TrainSpot", ("EnableManagedSpotTraining",), "yes"),
    "a member the API does not know": ("TrainSpot", ("StoppingCondition", "MaxWaitTime"), 7200),
    "a missing required member": ("EvaluateSpot", ("RoleArn",), None),
    "a value outside the enum": ("PredictTestSetSpot", ("TransformInput", "SplitType"), "Lines"),
    "a volume larger than SageMaker allows": (
        "EvaluateSpot",
        ("ProcessingResources", "ClusterConfig", "VolumeSizeInGB"),
        20000,
    ),
    "an entrypoint that is not a list": ("EvaluateSpot", ("AppSpecification", "ContainerEntrypoint"), "evaluate"),
    "too many metric definitions": (
        "TrainSpot",
        ("AlgorithmSpecification", "MetricDefinitions"),
        [{"Name": "m", "Regex": "r"}] * 41,
    ),
    "a group name outside the pattern": ("RegisterModelSpot", ("ModelPackageGroupName",), "models_v1"),
    "a Spark cluster larger than SageMaker allows": (
        "Prepare",
        ("ProcessingResources", "ClusterConfig", "InstanceCount"),
        101,
    ),
    "a distribution SageMaker does not know": (
        "Prepare",
        ("ProcessingInputs", 2, "S3Input", "S3DataDistributionType"),
        "Replicated",
    ),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS, ids=list(BAD_ARGUMENTS))
def test_the_validator_catches_a_bad_argument(definition, case):
    step_name, path, bad_value = BAD_ARGUMENTS[case]
    step = copy.deepcopy(all_steps(definition)[step_name])
    *parents, leaf = path
    node = step["Arguments"]
    for key in parents:
        node = node[key]
    if bad_value is None:
        del node[leaf]
    else:
        node[leaf] = bad_value
    problems = request_problems(step, parameter_defaults(definition))
    assert problems and all(str(leaf) in problem for problem in problems), problems


def test_spot_training_checkpoints_per_execution_and_on_demand_waits_for_nothing(definition):
    steps = all_steps(definition)
    spot, on_demand = steps["TrainSpot"]["Arguments"], steps["TrainOnDemand"]["Arguments"]
    assert spot["EnableManagedSpotTraining"] is True
    assert spot["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert on_demand["EnableManagedSpotTraining"] is False
    assert on_demand["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    for training in (spot, on_demand):
        checkpoint = at_run_time(training["CheckpointConfig"], parameter_defaults(definition))
        assert checkpoint == {
            "S3Uri": "s3://mlplatform-eu-west-1-data-datastorebucket-ab12cd34ef56/checkpoints/ab12cd34ef56/",
            "LocalPath": "/opt/ml/checkpoints",
        }
    choice = all_steps(definition)["ChooseCapacity"]
    assert choice["Type"] == "Condition"
    assert choice["Arguments"]["Conditions"] == [
        {"Type": "Equals", "LeftValue": {"Get": "Parameters.UseSpotInstances"}, "RightValue": True}
    ]
    assert next(step["Name"] for step in choice["Arguments"]["IfSteps"]) == "TrainSpot"
    assert next(step["Name"] for step in choice["Arguments"]["ElseSteps"]) == "TrainOnDemand"


def test_every_job_is_isolated_in_the_private_subnets_and_encrypted_with_the_regions_key(platform, definition):
    template = platform.template_json(REGION, "training")
    (group_id,) = [key for key, value in template["Resources"].items() if value["Type"] == "AWS::EC2::SecurityGroup"]
    security_groups = [f"sg-{_fake_id(group_id)}"]
    network_outputs = [
        output for output in platform.template_json(REGION, "network").get("Outputs", {}) if "Subnet" in output
    ]
    subnets = sorted(f"subnet-{_fake_id(output)}" for output in network_outputs)
    assert len(subnets) == 3, "one private subnet per configured Availability Zone"
    key = cloudformation_value({"Fn::GetStackOutput": {"OutputName": "DataStoreKeyArn"}})
    steps = all_steps(definition)
    prepare = steps["Prepare"]["Arguments"]
    assert prepare["NetworkConfig"] == {
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
        "VpcConfig": {"SecurityGroupIds": security_groups, "Subnets": prepare["NetworkConfig"]["VpcConfig"]["Subnets"]},
    }
    assert sorted(prepare["NetworkConfig"]["VpcConfig"]["Subnets"]) == subnets
    assert prepare["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == key
    assert prepare["ProcessingOutputConfig"]["KmsKeyId"] == key
    for capacity in CAPACITIES:
        training = steps[f"Train{capacity}"]["Arguments"]
        assert training["EnableNetworkIsolation"] is True
        assert training["EnableInterContainerTrafficEncryption"] is True
        assert sorted(training["VpcConfig"]["Subnets"]) == subnets
        assert training["VpcConfig"]["SecurityGroupIds"] == security_groups
        assert training["ResourceConfig"]["VolumeKmsKeyId"] == key
        assert training["OutputDataConfig"]["KmsKeyId"] == key
        evaluation = steps[f"Evaluate{capacity}"]["Arguments"]
        assert evaluation["NetworkConfig"] == {
            "EnableNetworkIsolation": True,
            "EnableInterContainerTrafficEncryption": True,
            "VpcConfig": {
                "SecurityGroupIds": security_groups,
                "Subnets": evaluation["NetworkConfig"]["VpcConfig"]["Subnets"],
            },
        }
        assert sorted(evaluation["NetworkConfig"]["VpcConfig"]["Subnets"]) == subnets
        assert evaluation["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == key
        assert evaluation["ProcessingOutputConfig"]["KmsKeyId"] == key
        transform = steps[f"PredictTestSet{capacity}"]["Arguments"]
        assert transform["TransformResources"]["VolumeKmsKeyId"] == key
        assert transform["TransformOutput"]["KmsKeyId"] == key
        model = steps[f"CreateModel{capacity}"]["Arguments"]
        assert model["EnableNetworkIsolation"] is True
        assert (
            sorted(model["VpcConfig"]["Subnets"]) == subnets
            and model["VpcConfig"]["SecurityGroupIds"] == security_groups
        )


def test_jobs_run_the_platforms_image_with_the_execution_role(platform, definition):
    template = platform.template_json(REGION, "training")
    image = cloudformation_value(template["Outputs"]["ModelImageUri"]["Value"])
    role = cloudformation_value(template["Outputs"]["ExecutionRoleArn"]["Value"])
    assert re.fullmatch(
        rf"{ACCOUNT}\.dkr\.ecr\.{REGION}\.amazonaws\.com/"
        rf"cdk-hnb659fds-container-assets-{ACCOUNT}-{REGION}:[0-9a-f]{{64}}",
        image,
    )
    steps = all_steps(definition)
    for capacity in CAPACITIES:
        training = steps[f"Train{capacity}"]["Arguments"]
        assert training["AlgorithmSpecification"]["TrainingImage"] == image
        assert "ContainerEntrypoint" not in training["AlgorithmSpecification"], "SageMaker runs `<image> train`"
        assert training["RoleArn"] == role
        evaluation = steps[f"Evaluate{capacity}"]["Arguments"]
        assert evaluation["AppSpecification"] == {"ImageUri": image, "ContainerEntrypoint": list(EVALUATE_ENTRYPOINT)}
        assert evaluation["RoleArn"] == role
        model = steps[f"CreateModel{capacity}"]["Arguments"]
        assert model["PrimaryContainer"]["Image"] == image and model["ExecutionRoleArn"] == role
        registration = steps[f"RegisterModel{capacity}"]["Arguments"]
        assert registration["InferenceSpecification"]["Containers"][0]["Image"] == image


def test_training_reads_prepares_output_or_a_given_dataset_with_the_configured_hyperparameters_and_metrics(definition):
    parameters = parameter_defaults(definition)
    assert parameters["InputDataUri"] == "", "by default the pipeline prepares the raw dataset"
    steps = all_steps(definition)

    def channels(step: str, parameters: dict) -> dict:
        training = at_run_time(steps[step]["Arguments"], parameters)
        return {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in training["InputDataConfig"]}

    assert channels("TrainSpot", parameters) == {"train": f"{PREPARED}train/", "validation": f"{PREPARED}validation/"}
    given = {**parameters, "InputDataUri": "s3://b/datasets/churn/"}
    assert channels("TrainSpotGivenData", given) == {
        "train": "s3://b/datasets/churn/train/",
        "validation": "s3://b/datasets/churn/validation/",
    }
    training = at_run_time(steps["TrainSpot"]["Arguments"], parameters)
    assert (
        training["ResourceConfig"]["InstanceType"] == "ml.m5.xlarge"
        and training["ResourceConfig"]["InstanceCount"] == 1
    )
    assert training["HyperParameters"] == shipped_context()["platform"]["defaults"]["training"]["hyperparameters"]
    shipped = MetricDefinition.list_from_file(METRIC_DEFINITIONS_FILE)
    assert training["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": m.name, "Regex": m.regex} for m in shipped
    ]
    assert training["OutputDataConfig"]["S3OutputPath"].endswith("/models/")


def test_the_quality_gate_registers_a_good_model_for_approval_and_fails_otherwise(definition):
    parameters = parameter_defaults(definition)
    assert parameters["QualityThreshold"] == 0.75
    steps = all_steps(definition)
    gate = steps["QualityGateSpot"]["Arguments"]
    (condition,) = gate["Conditions"]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert condition["LeftValue"] == {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.EvaluateSpot.PropertyFiles.EvaluationReport"},
            "Path": "binary_classification_metrics.auc.value",
        }
    }
    assert condition["RightValue"] == {"Get": "Parameters.QualityThreshold"}
    assert [step["Name"] for step in gate["IfSteps"]] == ["RegisterModelSpot"]
    assert [step["Name"] for step in gate["ElseSteps"]] == ["RejectModelSpot"]
    assert steps["EvaluateSpot"]["PropertyFiles"] == [
        {"PropertyFileName": "EvaluationReport", "OutputName": "evaluation", "FilePath": "evaluation.json"}
    ]
    registration = at_run_time(steps["RegisterModelSpot"]["Arguments"], parameters)
    assert registration["ModelApprovalStatus"] == "PendingManualApproval"
    assert registration["ModelPackageGroupName"] == "mlplatform-eu-west-1-data-models"
    assert registration["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"] == (
        "s3://mlplatform-eu-west-1-data-datastorebucket-ab12cd34ef56/evaluation/ab12cd34ef56/report/evaluation.json"
    )
    message = at_run_time(steps["RejectModelSpot"]["Arguments"]["ErrorMessage"], parameters)
    assert (
        message == "Quality gate: the model's auc on the test set is 0.87, which is below the threshold 0.75; "
        "the model was not registered."
    )


def test_the_evaluation_reads_predictions_and_labels_where_the_container_expects_them(definition):
    parameters = {**parameter_defaults(definition), "InputDataUri": "s3://b/datasets/churn/"}
    steps = all_steps(definition)
    prepared = at_run_time(steps["PredictTestSetSpot"]["Arguments"], parameter_defaults(definition))
    assert prepared["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == f"{PREPARED}test/"
    transform = at_run_time(steps["PredictTestSetSpotGivenData"]["Arguments"], parameters)
    assert transform["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == "s3://b/datasets/churn/test/"
    assert (
        transform["TransformInput"]["ContentType"] == "text/csv" and transform["TransformInput"]["SplitType"] == "Line"
    )
    evaluation = at_run_time(steps["EvaluateSpotGivenData"]["Arguments"], parameters)
    inputs = {item["S3Input"]["LocalPath"]: item["S3Input"]["S3Uri"] for item in evaluation["ProcessingInputs"]}
    assert inputs == {
        "/opt/ml/processing/input/predictions": STEP_PROPERTIES["TransformOutput.S3OutputPath"],
        "/opt/ml/processing/input/labels": "s3://b/datasets/churn/test-labels/",
    }
    (output,) = evaluation["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["LocalPath"] == "/opt/ml/processing/evaluation"
    assert output["S3Output"]["S3Uri"].endswith("/evaluation/ab12cd34ef56/report/")


def test_the_parameters_let_an_execution_choose_data_instances_spot_and_threshold(definition):
    # The contract's names, by construction: the generator imports them.
    assert {(parameter["Name"], parameter["Type"]) for parameter in definition["Parameters"]} == {
        (PipelineParameter.INPUT_DATA, "String"),
        (PipelineParameter.TRAINING_INSTANCE_TYPE, "String"),
        (PipelineParameter.TRAINING_INSTANCE_COUNT, "Integer"),
        (PipelineParameter.USE_SPOT_INSTANCES, "Boolean"),
        (PipelineParameter.QUALITY_THRESHOLD, "Float"),
        (PipelineParameter.RAW_DATASET, "String"),
    }
    assert parameter_defaults(definition)[PipelineParameter.RAW_DATASET] == "churn", "the configured dataset"
    assert definition.get("PipelineExperimentConfig") is None, "no experiments: they would depend on the SDK's Region"


SPARK_ACCOUNTS = {"eu-west-1": "571004829621", "us-east-1": "173754725891"}
"""AWS's Spark processing image registries, as the SageMaker Python SDK lists them (another account per Region)."""


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1"])
def test_prepare_runs_the_data_preparation_job_on_awss_spark_image_of_the_region(platform, region):
    definition = deployed_definition(platform.template_json(region, "training"))
    prepare = all_steps(definition)["Prepare"]["Arguments"]
    app = prepare["AppSpecification"]
    account = SPARK_ACCOUNTS[region]
    assert app["ImageUri"] == f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-spark-processing:3.5-cpu"
    submit, py_files_option, package, script = app["ContainerEntrypoint"]
    assert (submit, py_files_option) == ("smspark-submit", "--py-files")
    inputs = {item["InputName"]: item["S3Input"] for item in prepare["ProcessingInputs"]}
    assets = f"s3://cdk-hnb659fds-assets-{ACCOUNT}-{region}/"
    for name, local in (("package", package), ("script", script)):
        folder, _, key = local.rpartition("/")
        assert inputs[name]["LocalPath"] == folder and inputs[name]["S3Uri"] == assets + key, name
    assert package.endswith(".zip") and script.endswith(".py")
    # The settings from cdk.json, base64 through smspark-submit's shell; label and task from the hyperparameters.
    option, *pieces = app["ContainerArguments"]
    settings = contract.decode_settings("".join(pieces))
    assert option == "--settings-base64"
    assert PreparationSettings.from_mapping(settings) == PreparationSettings(
        dataset="churn",
        label_column="label",
        task="classification",
        rules=QualityRules(max_null_fraction={"label": 0}, min_rows=1000),
    )
    assert prepare["ProcessingResources"]["ClusterConfig"] | {"VolumeKmsKeyId": None} == {
        "InstanceCount": 1,
        "InstanceType": "ml.m5.xlarge",
        "VolumeSizeInGB": 30,
        "VolumeKmsKeyId": None,
    }
    at_run = at_run_time(prepare, {**parameter_defaults(definition), "RawDataset": "churn-2027"})
    raw = next(item["S3Input"] for item in at_run["ProcessingInputs"] if item["InputName"] == "raw")
    bucket = cloudformation_value({"Fn::GetStackOutput": {"OutputName": "DataStoreBucketName"}})
    assert raw == {
        "S3Uri": f"s3://{bucket}/raw/churn-2027/",
        "LocalPath": "/opt/ml/processing/input/raw/churn",
        "S3DataType": "S3Prefix",
        "S3InputMode": "File",
        # Every host gets every file: the driver lists them all and the executors read theirs.
        "S3DataDistributionType": "FullyReplicated",
        "S3CompressionType": "None",
    }
    outputs = {item["OutputName"]: item["S3Output"] for item in at_run["ProcessingOutputConfig"]["Outputs"]}
    assert outputs["datasets"]["S3Uri"] == f"s3://{bucket}/datasets/ab12cd34ef56/"
    assert outputs["datasets"]["LocalPath"] == contract.DATASETS_OUTPUT_PATH
    assert outputs["baseline"]["S3Uri"] == f"s3://{bucket}/baseline/ab12cd34ef56/"
    assert outputs["baseline"]["LocalPath"] == contract.BASELINE_OUTPUT_PATH


def test_inputdatauri_chooses_between_preparing_the_raw_dataset_and_a_given_split_dataset(definition):
    (choice,) = definition["Steps"]
    assert (choice["Name"], choice["Type"]) == ("ChooseInputData", "Condition")
    assert choice["Arguments"]["Conditions"] == [
        {"Type": "Equals", "LeftValue": {"Get": "Parameters.InputDataUri"}, "RightValue": ""}
    ]
    assert [step["Name"] for step in choice["Arguments"]["IfSteps"]] == ["Prepare", "ChooseCapacity"]
    assert [step["Name"] for step in choice["Arguments"]["ElseSteps"]] == ["ChooseCapacityGivenData"]
    given = json.dumps(choice["Arguments"]["ElseSteps"])
    assert "Steps.Prepare" not in given, "the given-data branch reads nothing of Prepare, which did not run"


def test_a_model_trained_on_prepared_data_is_registered_with_its_data_quality_baseline(definition):
    steps = all_steps(definition)
    registration = at_run_time(steps["RegisterModelSpot"]["Arguments"], parameter_defaults(definition))
    baseline = {
        "Statistics": {"ContentType": "application/json", "S3Uri": f"{BASELINE}statistics.json"},
        "Constraints": {"ContentType": "application/json", "S3Uri": f"{BASELINE}constraints.json"},
    }
    assert registration["ModelMetrics"]["ModelDataQuality"] == baseline
    assert registration["DriftCheckBaselines"] == {"ModelDataQuality": baseline}
    given = steps["RegisterModelSpotGivenData"]["Arguments"]
    assert "ModelDataQuality" not in given["ModelMetrics"] and "DriftCheckBaselines" not in given


def test_every_job_and_model_an_execution_creates_carries_the_platforms_tags(definition):
    # The config's tags, and the Region's cost-allocation tag, so that the Region's budget counts the jobs.
    configured = shipped_context()["platform"]["defaults"]["tags"]
    tags = [{"Key": key, "Value": value} for key, value in [*configured.items(), platform_tag(REGION)]]
    jobs = [step for step in all_steps(definition).values() if step["Type"] in JOB_STEP_TYPES]
    assert len(jobs) == 1 + 4 * 4, "Prepare, and per branch a training, a model, a transform and an evaluation"
    for step in jobs:
        assert sorted(step["Arguments"]["Tags"], key=str) == sorted(tags, key=str), step["Name"]


def test_prepare_on_instances_with_local_storage_names_no_volume_key():
    spec = dataclasses.replace(
        SPEC,
        preparation=PreparationSpec(
            dataset="churn",
            arguments=("--settings-base64", "e30="),
            instance_type="ml.r5d.2xlarge",
            instance_count=3,
            volume_key=False,
            volume_size_gb=100,
            max_runtime_seconds=7200,
        ),
    )
    # The project's cache, as synth uses it: generated once per change of the generator, not on every run.
    definition = PendingDefinition(spec).result()
    prepare = all_steps(definition)["Prepare"]
    assert "VolumeKmsKeyId" not in prepare["Arguments"]["ProcessingResources"]["ClusterConfig"]
    assert prepare["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 3, "one Spark cluster"
    assert request_problems(prepare, parameter_defaults(definition)) == []


# --- Offline and deterministic -------------------------------------------------------------------------------

SPEC = PipelineSpec(
    instance_type="ml.m5.xlarge",
    training_instance_types=("ml.c5.xlarge", "ml.m5.xlarge"),
    training_volume_key=True,
    instance_count=2,
    use_spot_instances=False,
    volume_size_gb=50,
    max_runtime_seconds=1800,
    max_wait_seconds=3600,
    evaluation_instance_type="ml.m5.large",
    evaluation_volume_key=True,
    hyperparameters=(("num_round", "50"), ("task", "regression")),
    metric_definitions=(("validation:rmse", "rmse=([0-9.]+)"),),
    quality_metric="rmse",
    quality_threshold=4.5,
)


def run_generator(*, environment: dict[str, str], prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*prefix, sys.executable, "-s", "-P", str(GENERATOR), SPEC.to_json()],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_the_generator_is_offline_deterministic_and_independent_of_the_sdks_region(tmp_path):
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("unshare (util-linux) is needed to cut the network for this test")
    first = run_generator(environment=dict(OFFLINE_ENVIRONMENT), prefix=(unshare, "--net"))
    assert first.returncode == 0, first.stderr
    elsewhere = run_generator(environment={**OFFLINE_ENVIRONMENT, "AWS_DEFAULT_REGION": "ap-southeast-2"})
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert first.stdout == elsewhere.stdout
    generated = json.loads(first.stdout)
    template = json.dumps(generated["definition"])
    assert not re.search(r"(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-[0-9]", template), "no Region in the template"
    for placeholder in (PLACEHOLDERS.bucket_name, PLACEHOLDERS.execution_role_arn, PLACEHOLDERS.image_uri):
        assert placeholder in template
    assert generated["spark_images"]["eu-west-1"] == (
        "571004829621.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-spark-processing:3.5-cpu"
    ), "resolved offline by the SDK"


def test_the_generator_refuses_any_network_access_even_one_the_sdk_would_swallow():
    probe = (
        "import runpy, socket, sys\n"
        f"generator = runpy.run_path({str(GENERATOR)!r})\n"
        "sys.addaudithook(generator['_refuse_network'])\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', 9), timeout=1)\n"
        "except PermissionError as refused:\n"
        "    print(refused)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert "Synth is offline" in result.stdout, result.stderr


@pytest.mark.slow
def test_synth_without_network_aws_environment_or_home_config_gives_the_same_training_stack(platform, tmp_path):
    """A second, independent synth in a network namespace with no interfaces, no AWS_* variables and a home
    whose AWS and SageMaker config would change the definition if anything read them."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("unshare (util-linux) is needed to cut the network for this test")
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text("[default]\nregion = ap-southeast-2\nendpoint_url = http://169.254.169.254\n")
    (home / ".config" / "sagemaker").mkdir(parents=True)
    (home / ".config" / "sagemaker" / "config.yaml").write_text(
        "SchemaVersion: '1.0'\nSageMaker:\n  TrainingJob:\n    EnableNetworkIsolation: false\n"
        "    Tags: [{Key: leak, Value: 'yes'}]\n"
    )
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "CDK_DEFAULT_"))}
    environment = with_home(environment, home) | {
        "CDK_OUTDIR": str(tmp_path / "cdk.out"),
        "CDK_CONTEXT_JSON": json.dumps(json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]),
    }
    result = subprocess.run(
        [unshare, "--net", sys.executable, "app.py"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (template_file,) = (tmp_path / "cdk.out" / f"assembly-MlPlatform-{REGION}").glob("*Training*.template.json")
    offline = json.loads(template_file.read_text())
    expected = platform.template_json(REGION, "training")
    assert pipeline_properties(offline) == pipeline_properties(expected)
    assert offline["Resources"].keys() == expected["Resources"].keys()


def test_regions_with_the_same_training_settings_share_one_generation(monkeypatch):
    """The expensive part runs once per distinct spec: three Regions with the shipped settings, one generator."""
    started: list[PipelineSpec] = []

    @cache
    def counting_request(spec: PipelineSpec):
        started.append(spec)
        return pending_definition(spec)

    monkeypatch.setattr(training_pipeline, "request_definition", counting_request)
    app = cdk.App(context=context_for(3))
    stages = build_platform(app, load_platform_config(app.node.get_all_context()))
    assert len(stages) == 3
    assert len(started) == 1
    for region, stage in stages.items():
        steps = all_steps(deployed_definition(dict(Template.from_stack(stage.training).to_json()))).values()
        key, value = platform_tag(region)
        tagged = {tag["Value"] for step in steps for tag in step["Arguments"].get("Tags", []) if tag["Key"] == key}
        assert tagged == {value}, "each Region's jobs carry its own cost-allocation tag"


@pytest.mark.slow  # three generations with the SDK
def test_a_generated_definition_is_cached_by_content_and_a_damaged_cache_is_regenerated(tmp_path):
    spec = dataclasses.replace(SPEC, instance_count=1)
    first = PendingDefinition(spec, cache_dir=tmp_path)
    assert not first.from_cache
    template = first.result()
    (cached_file,) = tmp_path.glob("*.json")
    second = PendingDefinition(spec, cache_dir=tmp_path)
    assert second.from_cache and second.result() == template
    changed = PendingDefinition(dataclasses.replace(spec, instance_count=spec.instance_count + 1), cache_dir=tmp_path)
    assert not changed.from_cache, "another spec must not reuse the template"
    changed.result()
    cached_file.write_text("{not json")
    damaged = PendingDefinition(spec, cache_dir=tmp_path)
    assert not damaged.from_cache and damaged.result() == template


def test_the_cache_key_covers_every_project_file_the_generator_imports(tmp_path):
    for pattern in GENERATOR_SOURCES:
        for source in PROJECT_ROOT.glob(pattern):
            copy_of = tmp_path / source.relative_to(PROJECT_ROOT)
            copy_of.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, copy_of)
    before = definition_process.cache_key(SPEC, root=tmp_path)
    assert before == definition_process.cache_key(SPEC), "the copy shapes the template as the project does"
    for changed in (
        "platform_contract/names.py",
        "ml_constructs/pipeline_steps/train.py",
        "data_preparation/contract.py",
    ):
        path = tmp_path / changed
        original = path.read_text()
        path.write_text(original + "\n# changed\n")
        assert definition_process.cache_key(SPEC, root=tmp_path) != before, changed
        path.write_text(original)
