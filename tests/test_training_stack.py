"""The Training stack of each Region: roles, registry, job logs, network and notifications, and the
TrainingPipeline and PipelineNotifications constructs on their own."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from data_preparation.settings import PreparationSettings, QualityRules, ValueRange
from ml_constructs import (
    ContainerImage,
    DataStore,
    MetricDefinition,
    ModelRegistry,
    PipelineNotifications,
    QualityGate,
    TrainingPipeline,
    TrainingPipelineProps,
)
from ml_constructs.container_image import TRAINING_CODE_DIR
from ml_constructs.training_pipeline import JOB_LOG_GROUPS
from ml_constructs.training_pipeline_props import PreparationProps
from platform_contract.problems import InvalidInput
from tests.conftest import shipped_context

REGIONS = ("eu-west-1", "us-east-1")
# Renaming it replaces the registry that holds the Region's model versions and approvals.
PINNED_MODEL_PACKAGE_GROUP = "ModelRegistryModelPackageGroup1833CAA7"
# AWS's Spark processing image registries, as the SageMaker Python SDK lists them.
SPARK_ACCOUNTS = {"eu-west-1": "571004829621", "us-east-1": "173754725891"}
SAGEMAKER_JOB_NAMESPACES = [
    "/aws/sagemaker/TrainingJobs",
    "/aws/sagemaker/ProcessingJobs",
    "/aws/sagemaker/TransformJobs",
]


def resources(template: Template, type_: str) -> Mapping[str, Mapping[str, Any]]:
    return template.find_resources(type_)


def role_statements(template: Template, role_fragment: str) -> dict[str, dict]:
    """The statements of the default policy of the role whose logical ID contains ``role_fragment``, by Sid
    (statements without one, from grants, by their first action and index)."""
    (policy,) = [
        policy
        for policy in resources(template, "AWS::IAM::Policy").values()
        if role_fragment in policy["Properties"]["Roles"][0]["Ref"]
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    return {
        statement.get("Sid") or f"{_actions(statement)[0]}#{index}": statement
        for index, statement in enumerate(statements)
    }


def _actions(statement: dict) -> list[str]:
    actions = statement["Action"]
    return actions if isinstance(actions, list) else [actions]


def _resources(statement: dict) -> list:
    found = statement["Resource"]
    return found if isinstance(found, list) else [found]


def flat(value) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize("region", REGIONS)
def test_no_role_has_a_wildcard_action_or_a_managed_policy(platform, region):
    template = platform.template(region, "training")
    for logical_id, role in resources(template, "AWS::IAM::Role").items():
        assert "ManagedPolicyArns" not in role["Properties"], logical_id
        assert "Policies" not in role["Properties"], logical_id
    for logical_id, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            assert not any("*" in action for action in _actions(statement)), f"{logical_id}: {statement}"


def test_the_execution_role_reaches_only_its_prefixes_of_the_regions_bucket(platform):
    statements = role_statements(platform.template("eu-west-1", "training"), "ExecutionRole")
    object_access: dict[str, set[str]] = {}
    for statement in statements.values():
        for resource in _resources(statement):
            text = flat(resource)
            if "DataStoreBucket" in text and "Fn::Join" in text:
                prefix = resource["Fn::Join"][1][-1]
                object_access.setdefault(prefix, set()).update(_actions(statement))
    read_write = {"s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"}
    assert object_access == {
        "/raw/*": {"s3:GetObject"},
        # Prepare writes a split dataset per execution; training, transform and evaluation read it.
        "/datasets/*": read_write,
        "/baseline/*": {"s3:AbortMultipartUpload", "s3:PutObject"},
        "/checkpoints/*": read_write,
        "/models/*": read_write,
        "/evaluation/*": read_write,
    }
    listing = [
        statement
        for statement in statements.values()
        if _actions(statement) == ["s3:ListBucket"] and "DataStoreBucket" in flat(statement["Resource"])
    ]
    assert sorted(prefix for statement in listing for prefix in statement["Condition"]["StringLike"]["s3:prefix"]) == [
        "checkpoints/*",
        "datasets/*",
        "evaluation/*",
        "models/*",
        "raw/*",
    ]


def test_the_execution_role_lets_sagemaker_encrypt_job_volumes_with_the_regions_key_only(platform):
    template = platform.template("eu-west-1", "training")
    statements = role_statements(template, "ExecutionRole")
    key_statements = {
        sid: statement
        for sid, statement in statements.items()
        if any(action.startswith("kms:") for action in _actions(statement))
    }
    for sid, statement in key_statements.items():
        assert "DataStoreKey" in flat(statement["Resource"]), sid
    via_sagemaker = {"kms:ViaService": "sagemaker.eu-west-1.amazonaws.com"}
    grant = statements["LetSageMakerGrantItsVolumesTheKey"]
    assert _actions(grant) == ["kms:CreateGrant"]
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}, "StringEquals": via_sagemaker}
    describe = statements["LetSageMakerDescribeTheVolumeKey"]
    assert (_actions(describe), describe["Condition"]) == (["kms:DescribeKey"], {"StringEquals": via_sagemaker})
    # Every other use of the key is S3's, for the prefixes the role reads and writes.
    others = [
        s
        for sid, s in key_statements.items()
        if sid not in {"LetSageMakerGrantItsVolumesTheKey", "LetSageMakerDescribeTheVolumeKey"}
    ]
    assert others and all(
        s["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}} for s in others
    )
    assert not {"kms:CreateGrant", "kms:DescribeKey"} & {a for s in others for a in _actions(s)}


def test_the_pipeline_role_starts_encrypted_jobs_without_key_permissions_of_its_own(platform):
    # SageMaker asks the caller of Create*Job for kms:CreateGrant only where the job's role lacks it.
    statements = role_statements(platform.template("eu-west-1", "training"), "PipelineRole")
    key_actions = {a for s in statements.values() for a in _actions(s) if a.startswith("kms:")}
    assert key_actions <= {"kms:Decrypt"}, "reading the evaluation report through S3 is its only use of the key"


def test_the_execution_role_pulls_only_the_asset_repository(platform):
    statements = role_statements(platform.template("eu-west-1", "training"), "ExecutionRole")
    ecr = {
        sid: statement
        for sid, statement in statements.items()
        if any(a.startswith("ecr:") for a in _actions(statement))
    }
    assert set(ecr) == {"PullTheImage", "PullTheSparkImage", "SignInToTheRegistry"}
    assert sorted(_actions(ecr["PullTheImage"])) == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert "cdk-hnb659fds-container-assets-${AWS::AccountId}-eu-west-1" in flat(ecr["PullTheImage"]["Resource"])
    assert _actions(ecr["SignInToTheRegistry"]) == ["ecr:GetAuthorizationToken"]


@pytest.mark.parametrize("region", REGIONS)
def test_the_execution_role_pulls_awss_spark_image_from_that_repository_of_awss_account_only(platform, region):
    statements = role_statements(platform.template(region, "training"), "ExecutionRole")
    spark = statements["PullTheSparkImage"]
    assert sorted(_actions(spark)) == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ]
    (resource,) = _resources(spark)
    # The SDK's registry of the Region: another account, one repository.
    account = SPARK_ACCOUNTS[region]
    assert resource == f"arn:aws:ecr:{region}:{account}:repository/sagemaker-spark-processing"


def test_the_execution_role_reads_only_the_preparation_code_of_the_asset_bucket(platform):
    statements = role_statements(platform.template("eu-west-1", "training"), "ExecutionRole")
    in_asset_bucket: dict[str, list] = {}
    for statement in statements.values():
        for action in _actions(statement):
            in_asset_bucket.setdefault(action, []).extend(
                resource for resource in _resources(statement) if "cdk-hnb659fds-assets-" in flat(resource)
            )
    objects = sorted(resource["Fn::Join"][1][-1] for resource in in_asset_bucket["s3:GetObject"])
    assert sorted(key.rsplit(".", 1)[1] for key in objects) == ["py", "zip"], "the job script and the package, by hash"
    assert {action for action, found in in_asset_bucket.items() if found} == {"s3:GetObject", "s3:ListBucket"}
    (listing,) = [
        s
        for s in statements.values()
        if "cdk-hnb659fds-assets-" in flat(s["Resource"]) and _actions(s) == ["s3:ListBucket"]
    ]
    assert sorted(listing["Condition"]["StringLike"]["s3:prefix"]) == sorted(key.lstrip("/") for key in objects)


def test_the_execution_role_writes_only_the_job_log_groups_and_job_metrics(platform):
    template = platform.template("eu-west-1", "training")
    statements = role_statements(template, "ExecutionRole")
    log_groups = resources(template, "AWS::Logs::LogGroup")
    assert sorted(group["Properties"]["LogGroupName"] for group in log_groups.values()) == sorted(
        JOB_LOG_GROUPS.values()
    )
    assert sorted(_resources(statements["WriteJobLogs"]), key=flat) == sorted(
        ({"Fn::GetAtt": [logical_id, "Arn"]} for logical_id in log_groups), key=flat
    )
    assert "logs:CreateLogGroup" not in flat(statements), "the groups exist: SageMaker need not create them"
    metrics = statements["PublishJobMetrics"]
    assert _actions(metrics) == ["cloudwatch:PutMetricData"]
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": SAGEMAKER_JOB_NAMESPACES}}


@pytest.mark.parametrize("region", REGIONS)
def test_job_log_groups_are_encrypted_kept_and_retained(platform, region):
    for group in resources(platform.template(region, "training"), "AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == 365
        assert "DataStoreKey" in flat(group["Properties"]["KmsKeyId"])
        # What CloudFormation needs to import an existing group automatically (they exist wherever a job ran).
        assert group["DeletionPolicy"] == "Retain" and isinstance(group["Properties"]["LogGroupName"], str)


def test_the_execution_role_manages_network_interfaces_of_the_private_network_only(platform):
    statements = role_statements(platform.template("eu-west-1", "training"), "ExecutionRole")
    create = statements["CreateNetworkInterfacesInTheGivenSubnets"]
    targets = flat(create["Resource"])
    assert targets.count(":subnet/") == 3 and targets.count(":security-group/") == 1
    manage = statements["ManageNetworkInterfacesOfTheVpc"]
    assert ":vpc/" in flat(manage["Condition"]["ArnEquals"]["ec2:Vpc"])
    assert _resources(statements["DescribeTheNetwork"]) == ["*"]
    assert all(action.startswith("ec2:Describe") for action in _actions(statements["DescribeTheNetwork"]))


def test_only_the_pipeline_role_passes_the_execution_role_and_only_to_sagemaker(platform):
    template = platform.template("eu-west-1", "training")
    passing = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "iam:PassRole" in _actions(statement)
    ]
    (statement,) = passing
    assert statement["Resource"]["Fn::GetAtt"][0].startswith("PipelineExecutionRole")
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    assert "iam:PassRole" not in flat(role_statements(template, "ExecutionRole"))


def test_the_pipeline_role_only_runs_pipeline_jobs_and_registers_in_its_group(platform):
    statements = role_statements(platform.template("eu-west-1", "training"), "PipelineRole")
    sagemaker = {sid: s for sid, s in statements.items() if any(a.startswith("sagemaker:") for a in _actions(s))}
    (registration,) = [s for s in sagemaker.values() if "sagemaker:CreateModelPackage" in _actions(s)]
    assert {sid for sid, s in sagemaker.items() if s is not registration} == {
        "RunTrainingJobs",
        "RunProcessingJobs",
        "RunTransformJobs",
        "CreateModels",
    }
    for sid in ("RunTrainingJobs", "RunProcessingJobs", "RunTransformJobs", "CreateModels"):
        (resource,) = _resources(sagemaker[sid])
        assert resource["Fn::Join"][1][0] == "arn:aws:sagemaker:eu-west-1:"
        assert resource["Fn::Join"][1][-1].endswith("/pipelines-*")
    assert sorted(_actions(registration)) == [
        "sagemaker:CreateModelPackage",
        "sagemaker:DescribeModelPackage",
        "sagemaker:DescribeModelPackageGroup",
    ]
    registry = flat(registration["Resource"])
    assert ":model-package-group/mlplatform-eu-west-1-data-models" in registry
    assert ":model-package/mlplatform-eu-west-1-data-models/*" in registry
    reads = [s for s in statements.values() if "s3:GetObject" in _actions(s)]
    assert [resource["Fn::Join"][1][-1] for s in reads for resource in _resources(s)] == ["/evaluation/*"]


@pytest.mark.parametrize("region", REGIONS)
def test_the_model_package_group_lives_in_the_stateful_stack_under_its_pinned_logical_id(platform, region):
    # A retained group in the Training stack would block its every re-creation: CloudFormation cannot create a
    # second group of the name, nor import the first automatically (its primary identifier is a read-only ARN).
    assert not resources(platform.template(region, "training"), "AWS::SageMaker::ModelPackageGroup")
    groups = resources(platform.template(region, "data"), "AWS::SageMaker::ModelPackageGroup")
    assert list(groups) == [PINNED_MODEL_PACKAGE_GROUP]
    group = groups[PINNED_MODEL_PACKAGE_GROUP]
    assert group["DeletionPolicy"] == "Retain" and group["UpdateReplacePolicy"] == "Retain"
    assert group["Properties"]["ModelPackageGroupName"] == f"mlplatform-{region}-data-models"


def test_the_pipeline_runs_with_the_pipeline_role_after_its_roles_and_registry_exist(platform):
    template = platform.template_json("eu-west-1", "training")
    ((_logical_id, pipeline),) = [
        (k, r) for k, r in template["Resources"].items() if r["Type"] == "AWS::SageMaker::Pipeline"
    ]
    assert pipeline["Properties"]["PipelineName"] == "mlplatform-eu-west-1-training-pipeline"
    assert pipeline["Properties"]["RoleArn"]["Fn::GetAtt"][0].startswith("PipelinePipelineRole")
    depends_on = set(pipeline["DependsOn"])
    stage = platform.stages["eu-west-1"]
    assert stage.data in stage.training.dependencies, "the registry is the Data stack's"
    assert any("PipelineRoleDefaultPolicy" in item for item in depends_on)
    assert any("ExecutionRoleDefaultPolicy" in item for item in depends_on)


def test_job_instances_reach_each_other_only_on_the_ports_distributed_training_needs(platform):
    template = platform.template_json("eu-west-1", "training")
    rules: dict[str, list] = {"AWS::EC2::SecurityGroupIngress": [], "AWS::EC2::SecurityGroupEgress": []}
    for resource in template["Resources"].values():
        if resource["Type"] in rules:
            properties = resource["Properties"]
            peer = properties.get("SourceSecurityGroupId") or properties["DestinationSecurityGroupId"]
            assert peer["Fn::GetAtt"][0].startswith("JobSecurityGroup"), "only the group's own members"
            rules[resource["Type"]].append(
                (properties["IpProtocol"], properties.get("FromPort"), properties.get("ToPort"))
            )
    expected = sorted([("tcp", 0, 65535), ("udp", 500, 500), ("50", None, None)])
    assert sorted(rules["AWS::EC2::SecurityGroupIngress"]) == expected
    assert sorted(rules["AWS::EC2::SecurityGroupEgress"]) == expected
    (group,) = resources(platform.template("eu-west-1", "training"), "AWS::EC2::SecurityGroup").values()
    assert "SecurityGroupIngress" not in group["Properties"], "nothing outside the group may connect"
    assert [rule["FromPort"] for rule in group["Properties"]["SecurityGroupEgress"]] == [443]


def _rules(template: Template) -> dict[str, dict]:
    return {logical_id: rule["Properties"] for logical_id, rule in resources(template, "AWS::Events::Rule").items()}


def test_failures_and_registrations_reach_the_alert_topic(platform):
    template = platform.template("eu-west-1", "training")
    rules = _rules(template)
    patterns = {logical_id: rule["EventPattern"] for logical_id, rule in rules.items()}
    assert len(patterns) == 4, "no schedule unless configured"
    by_type = {pattern["detail-type"][0]: pattern for pattern in patterns.values()}
    failed = by_type["SageMaker Model Building Pipeline Execution Status Change"]
    assert failed["source"] == ["aws.sagemaker"]
    assert failed["detail"]["currentPipelineExecutionStatus"] == ["Failed"]
    assert "pipeline/mlplatform-eu-west-1-training-pipeline" in flat(failed["detail"]["pipelineArn"])
    job = by_type["SageMaker Training Job State Change"]
    assert job["detail"]["TrainingJobStatus"] == ["Failed"]
    assert "PipelineExecutionRole" in flat(job["detail"]["RoleArn"])
    processing = by_type["SageMaker Processing Job State Change"]
    assert processing["detail"]["ProcessingJobStatus"] == ["Failed"]
    assert "PipelineExecutionRole" in flat(processing["detail"]["RoleArn"])
    transformer = next(
        rule["Targets"][0]["InputTransformer"]
        for rule in rules.values()
        if rule["EventPattern"]["detail-type"] == ["SageMaker Processing Job State Change"]
    )
    assert transformer["InputPathsMap"]["detail-FailureReason"] == "$.detail.FailureReason", "Prepare's violations"
    registered = by_type["SageMaker Model Package State Change"]
    assert registered["detail"] == {
        "ModelPackageGroupName": ["mlplatform-eu-west-1-data-models"],
        "ModelApprovalStatus": ["PendingManualApproval"],
    }
    for rule in rules.values():
        (target,) = rule["Targets"]
        assert "AlertsTopic" in flat(target["Arn"])
        assert "NotificationsPublisherRole" in flat(target["RoleArn"])
        assert "InputTransformer" in target
    publisher = role_statements(template, "NotificationsPublisherRole")
    assert _actions(publisher["PublishToTheAlertTopic"]) == ["sns:Publish"]
    assert publisher["EncryptMessagesWithTheTopicsKey"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "sns.eu-west-1.amazonaws.com"}
    }


def test_the_stack_exports_what_tools_need_under_stable_names(platform):
    outputs = platform.template_json("eu-west-1", "training")["Outputs"]
    assert {"PipelineName", "ModelPackageGroupName", "ExecutionRoleArn", "DataBucketName", "ModelImageUri"} <= set(
        outputs
    )
    assert outputs["PipelineName"]["Value"] == "mlplatform-eu-west-1-training-pipeline"
    assert outputs["ModelPackageGroupName"]["Value"] == "mlplatform-eu-west-1-data-models"


def test_prod_protects_the_training_stack(prod_platform):
    assert prod_platform.stages["eu-west-1"].training.termination_protection is True


# --- The constructs on their own ---------------------------------------------------------------------------


def pipeline_stack(**props) -> tuple[cdk.Stack, TrainingPipeline]:
    app = cdk.App(context=shipped_context())
    stack = cdk.Stack(app, "Training", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )
    pipeline = TrainingPipeline(
        stack,
        "Pipeline",
        image=ContainerImage.from_asset(TRAINING_CODE_DIR),
        data_store=DataStore(stack, "Data"),
        registry=ModelRegistry(stack, "Registry"),
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        security_group=ec2.SecurityGroup(stack, "Group", vpc=vpc, allow_all_outbound=False),
        props=TrainingPipelineProps(**props),
    )
    return stack, pipeline


HYPERPARAMETERS = {"target_column": "churned", "task": "classification"}
PREPARATION = PreparationProps(PreparationSettings(dataset="churn", label_column="churned", task="classification"))


def test_preparation_props_collect_the_jobs_problems_and_the_clusters_keyed_by_config_name():
    settings = PreparationSettings(
        dataset="churn",
        label_column="churned",
        task="classification",
        feature_columns=("age", "income"),
        train_fraction=0.8,
        rules=QualityRules(value_ranges={"agee": ValueRange(0, 120)}),
    )
    props = TrainingPipelineProps(
        hyperparameters={"target_column": "label", "task": "classification"},
        preparation=PreparationProps(
            settings, instance_type="ml.g5.xlarge", instance_count=101, max_runtime_seconds=10**6
        ),
    )
    problems = props.problems()
    assert [problem.key for problem in problems] == [
        "preparation.train_fraction, validation_fraction, test_fraction",
        "preparation.instance_type",
        "preparation.instance_count",
        "preparation.max_runtime_seconds",
        "preparation.rules.value_ranges.agee",
        "preparation.label_column",
    ]
    assert str(problems[0]) == (
        "preparation.train_fraction, validation_fraction, test_fraction: sum to 0.8 + 0.15 + 0.15 is not allowed; "
        "allowed: a sum of 1"
    )
    assert "allowed: a column the settings name: churned, age, income" in str(problems[4])
    assert "allowed: the hyperparameter target_column ('label')" in str(problems[5])
    assert TrainingPipelineProps(hyperparameters=HYPERPARAMETERS, preparation=PREPARATION).problems() == []


def test_props_collect_every_problem_keyed_by_its_config_name():
    props = TrainingPipelineProps(
        instance_type="m5.xlarge",
        instance_count=0,
        volume_size_gb=20000,
        max_runtime_seconds=3 * 3600,
        max_wait_seconds=3600,
        transform_instance_type="ml.c7g.large",
        hyperparameters={"k" * 300: "v"},
        metric_definitions=(MetricDefinition("", "x"), *[MetricDefinition("m", "r")] * 40),
        quality_gate=QualityGate("auc", 1.5),
        pipeline_name="training_v1",
    )
    assert [problem.key for problem in props.problems()] == [
        "instance_type",
        "transform_instance_type",
        "instance_count",
        "volume_size_gb",
        "max_wait_seconds",
        "hyperparameters." + "k" * 40,
        "metric_definitions",
        "metric_definitions[0]",
        "quality_gate.threshold",
        "pipeline_name",
    ]
    assert TrainingPipelineProps().problems() == []
    assert (
        str(props.problems()[-2])
        == "quality_gate.threshold: 1.5 is not allowed (for auc); allowed: above 0 and at most 1"
    )


def test_the_stack_job_tag_shares_the_tag_limit_and_may_not_repeat_a_job_tag():
    fifty = {f"tag-{index}": "x" for index in range(50)}
    assert TrainingPipelineProps(job_tags=fifty).problems() == []
    problems = TrainingPipelineProps(job_tags=fifty, stack_job_tag=("tag-0", "eu-west-1")).problems()
    assert [str(problem) for problem in problems] == [
        "job_tags: <51 tags> is not allowed; allowed: at most 50 with stack_job_tag",
        "stack_job_tag: 'tag-0' is not allowed (one value per key); allowed: a key that job_tags does not set",
    ]


def test_a_misconfigured_pipeline_raises_once_with_every_problem():
    with pytest.raises(InvalidInput) as raised:
        pipeline_stack(instance_count=0, quality_gate=QualityGate("rmse", -1.0), max_wait_seconds=60)
    assert [problem.key for problem in raised.value.problems] == [
        "instance_count",
        "max_wait_seconds",
        "quality_gate.threshold",
    ]
    assert str(raised.value).startswith("TrainingPipeline Training/Pipeline (3 problem(s)):")


def test_the_stack_maps_the_training_settings_onto_the_props_by_name(platform):
    props = platform.stages["eu-west-1"].training.pipeline.props
    (settings,) = [region.settings.training for region in platform.config.regions if region.region == "eu-west-1"]
    mapped = [field.name for field in dataclasses.fields(props) if field.name in type(settings).model_fields]
    assert len(mapped) == 10, "every setting the pipeline takes, under its cdk.json name"
    for name in mapped:
        actual, expected = getattr(props, name), getattr(settings, name)
        if name in ("quality_gate", "preparation"):
            continue
        assert actual == expected, name
    assert dataclasses.asdict(props.quality_gate) == settings.quality_gate.model_dump()
    assert settings.preparation is not None and props.preparation is not None
    job = props.preparation.settings
    assert (job.dataset, job.label_column, job.task) == ("churn", "label", "classification")
    assert job.rules.min_rows == settings.preparation.rules.min_rows == 1000
    assert props.job_tags == {"project": "ml-platform", "cost-center": "ml"}
    assert props.stack_job_tag == ("ml-platform-stage", "MlPlatform-eu-west-1")
    assert props.metric_definitions, "the container's metric definitions"


def test_metric_definitions_are_read_from_the_containers_file_and_checked(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"Name": "validation:auc", "Regex": "validation-auc=([0-9.]+)"}]))
    assert MetricDefinition.list_from_file(good) == (MetricDefinition("validation:auc", "validation-auc=([0-9.]+)"),)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"Name": "auc"}, {"Name": "x", "Regex": "y", "Extra": 1}]))
    with pytest.raises(
        ValueError, match=r"entry 0 .*; entry 1 .*allowed: an object with the strings Name and Regex only"
    ):
        MetricDefinition.list_from_file(bad)
    with pytest.raises(ValueError, match="Cannot read metric definitions from"):
        MetricDefinition.list_from_file(tmp_path / "missing.json")


def test_a_scheduled_retraining_may_only_start_this_pipeline():
    stack, pipeline = pipeline_stack(preparation=PREPARATION, hyperparameters=HYPERPARAMETERS)
    key = kms.Key(stack, "TopicKey")
    PipelineNotifications(
        stack,
        "Notifications",
        pipeline=pipeline,
        topic=sns.Topic(stack, "Topic", master_key=key),
        retrain_schedule=events.Schedule.expression("cron(0 3 ? * MON *)"),
    )
    template = Template.from_stack(stack)
    (schedule,) = [rule for rule in _rules(template).values() if "ScheduleExpression" in rule]
    assert schedule["ScheduleExpression"] == "cron(0 3 ? * MON *)"
    (target,) = schedule["Targets"]
    assert "pipeline/training-pipeline" in flat(target["Arn"])
    # On the configured raw dataset; InputDataUri keeps its empty default, which prepares it.
    assert target["SageMakerPipelineParameters"] == {
        "PipelineParameterList": [{"Name": "RawDataset", "Value": "churn"}]
    }
    starter = role_statements(template, "NotificationsStarterRole")
    (statement,) = starter.values()
    assert _actions(statement) == ["sagemaker:StartPipelineExecution"]
    assert "pipeline/training-pipeline" in flat(statement["Resource"])
    assert "StarterRole" in flat(target["RoleArn"])


def test_pipeline_metrics_are_the_pipelines_own():
    _, pipeline = pipeline_stack(pipeline_name="churn-training")
    failed = pipeline.metric_executions_failed()
    assert (failed.namespace, failed.metric_name, failed.statistic) == (
        "AWS/Sagemaker/ModelBuildingPipeline",
        "ExecutionFailed",
        "Sum",
    )
    assert failed.dimensions == {"PipelineName": "churn-training"}
    assert pipeline.metric_execution_duration().statistic == "Maximum"
