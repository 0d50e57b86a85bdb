"""Studio, the MLflow tracking server and what they change in a Region, with ``studio`` and ``experiments`` on.

The shipped config has both off; these tests synthesize the first Region alone with both on and two user profiles.
"""

from __future__ import annotations

import copy
import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from ml_constructs import ExperimentTrackingProps, StudioDomain, StudioDomainProps
from ml_constructs.experiment_tracking import (
    EXPERIMENT_HYPERPARAMETER,
    MLFLOW_LOG_ACTIONS,
    TRACKING_URI_HYPERPARAMETER,
)
from ml_constructs.private_network import EXPERIMENT_TRACKING_INTERFACE_ENDPOINTS, STUDIO_INTERFACE_ENDPOINTS
from ml_constructs.studio_props import UserProfileProps
from platform_config import ConfigError, load_platform_config
from platform_config.container import contract
from platform_contract.personas import Persona
from platform_contract.problems import InvalidInput
from tests.conftest import SERVING_REGION, SynthesizedPlatform, serving_context, shipped_context

# Renaming them replaces the domain (and orphans the users' home volume) or the tracking server (and its runs).
PINNED_DOMAIN = "Domain66AC69E0"
PINNED_TRACKING_SERVER = "ExperimentTracking78D55176"
PROFILES = [{"name": "ada", "persona": "data_scientist"}, {"name": "grace", "persona": "approver"}]

# One worker of make test runs them all, on one synthesis of the platform with Studio on.
pytestmark = pytest.mark.xdist_group("studio-platform")


def studio_context() -> dict:
    context = copy.deepcopy(serving_context())
    # Only the Region with Studio on: the others are as the session's platform has them.
    (entry,) = context["platform"]["regions"] = [
        entry for entry in context["platform"]["regions"] if entry["region"] == SERVING_REGION
    ]
    entry["studio"] = {"enabled": True, "idle_timeout_minutes": 90, "user_profiles": PROFILES}
    entry["experiments"] = {"enabled": True, "tracking_server_size": "Medium"}
    return context


@pytest.fixture(scope="session")
def studio_platform(tmp_path_factory) -> SynthesizedPlatform:
    return SynthesizedPlatform(studio_context(), tmp_path_factory.mktemp("cdk.out.studio"))


def _role_ids(template) -> dict[str, str]:
    return {
        logical_id.removeprefix("Personas")[: -len("09D6E965")]: logical_id
        for logical_id in template.find_resources("AWS::IAM::Role")
        if logical_id.startswith("Personas")
    }


def test_the_domain_is_private_encrypted_with_the_regions_key_and_shuts_idle_apps_down(studio_platform):
    template = studio_platform.template(SERVING_REGION, "studio")
    roles = _role_ids(template)
    domains = template.find_resources("AWS::SageMaker::Domain")
    assert list(domains) == [PINNED_DOMAIN]
    domain = domains[PINNED_DOMAIN]
    assert domain["DeletionPolicy"] == "Retain"
    properties = domain["Properties"]
    assert properties["AuthMode"] == "IAM"
    assert properties["AppNetworkAccessType"] == "VpcOnly"
    assert properties["DomainName"] == "mlplatform-eu-west-1-studio-studio"
    assert len(properties["SubnetIds"]) == 3
    key_output = properties["KmsKeyId"]["Fn::GetStackOutput"]
    assert key_output["StackName"] == "MlPlatform-eu-west-1-Data"
    assert re.fullmatch(r"PublishOutputFnGetAttDataStoreKey\w+Arn\w+", key_output["OutputName"])
    settings = properties["DefaultUserSettings"]
    assert settings["ExecutionRole"] == {"Fn::GetAtt": [roles["DataScientist"], "Arn"]}
    ((group, attribute),) = [reference["Fn::GetAtt"] for reference in settings["SecurityGroups"]]
    assert group.startswith("StudioSecurityGroup") and attribute == "GroupId"
    assert settings["JupyterLabAppSettings"]["AppLifecycleManagement"]["IdleSettings"] == {
        "LifecycleManagement": "ENABLED",
        "IdleTimeoutInMinutes": 90,
        "MinIdleTimeoutInMinutes": 60,
        "MaxIdleTimeoutInMinutes": 480,
    }


def test_user_profiles_run_with_their_personas_role(studio_platform):
    template = studio_platform.template(SERVING_REGION, "studio")
    roles = _role_ids(template)
    profiles = {
        profile["Properties"]["UserProfileName"]: profile["Properties"]
        for profile in template.find_resources("AWS::SageMaker::UserProfile").values()
    }
    assert set(profiles) == {"ada", "grace"}
    assert profiles["ada"]["UserSettings"]["ExecutionRole"] == {"Fn::GetAtt": [roles["DataScientist"], "Arn"]}
    assert profiles["grace"]["UserSettings"]["ExecutionRole"] == {"Fn::GetAtt": [roles["Approver"], "Arn"]}
    assert all(profile["DomainId"] == {"Fn::GetAtt": [PINNED_DOMAIN, "DomainId"]} for profile in profiles.values())


def test_studio_apps_reach_each_other_and_the_home_volume_only_within_their_group(studio_platform):
    template = studio_platform.template(SERVING_REGION, "studio")
    ingress = [rule["Properties"] for rule in template.find_resources("AWS::EC2::SecurityGroupIngress").values()]
    assert sorted((rule["FromPort"], rule["ToPort"]) for rule in ingress) == [(2049, 2049), (8192, 65535)]
    assert all(rule["SourceSecurityGroupId"] == rule["GroupId"] for rule in ingress)


def test_the_domains_roles_may_create_the_apps_network_interfaces(studio_platform):
    template = studio_platform.template(SERVING_REGION, "studio")
    for role in ("DataScientist", "Approver"):
        statements = [
            statement
            for policy in template.find_resources("AWS::IAM::Policy").values()
            if policy["Properties"]["Roles"][0]["Ref"] == _role_ids(template)[role]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        assert any(statement.get("Sid") == "CreateNetworkInterfacesInTheGivenSubnets" for statement in statements)


@pytest.mark.parametrize(
    ("platform_name", "present"), [("platform", False), ("studio_platform", True)], ids=["shipped", "studio"]
)
def test_studio_and_mlflow_endpoints_exist_only_where_the_region_uses_them(request, platform_name, present):
    synthesized = request.getfixturevalue(platform_name)
    template = synthesized.template_json(SERVING_REGION, "network")
    services = json.dumps(
        [r["Properties"]["ServiceName"] for r in template["Resources"].values() if r["Type"] == "AWS::EC2::VPCEndpoint"]
    )
    for endpoint_id in (*STUDIO_INTERFACE_ENDPOINTS, *EXPERIMENT_TRACKING_INTERFACE_ENDPOINTS):
        suffix = {
            "SageMakerStudio": ".studio",
            "SageMakerNotebook": ".notebook",
            "SageMakerExperiments": ".experiments",
        }[endpoint_id]
        assert (f'{suffix}"' in services) is present, endpoint_id


def test_the_tracking_server_keeps_its_artifacts_under_mlflow_and_is_retained(studio_platform):
    template = studio_platform.template(SERVING_REGION, "data")
    servers = template.find_resources("AWS::SageMaker::MlflowTrackingServer")
    assert list(servers) == [PINNED_TRACKING_SERVER]
    server = servers[PINNED_TRACKING_SERVER]
    assert server["DeletionPolicy"] == "Retain"
    properties = server["Properties"]
    assert properties["TrackingServerName"] == "mlplatform-eu-west-1-data-mlflow"
    assert properties["TrackingServerSize"] == "Medium"
    delimiter, parts = properties["ArtifactStoreUri"]["Fn::Join"]
    assert (delimiter, parts[0], parts[-1]) == ("", "s3://", "/mlflow/")
    assert parts[1]["Ref"].startswith("DataStoreBucket")
    outputs = studio_platform.template_json(SERVING_REGION, "data")["Outputs"]
    assert "TrackingServerArn" in outputs


def test_training_jobs_log_to_the_tracking_server(studio_platform):
    template = studio_platform.template_json(SERVING_REGION, "training")
    (pipeline,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::Pipeline"]
    body = json.dumps(pipeline["Properties"]["PipelineDefinition"])
    assert TRACKING_URI_HYPERPARAMETER in body
    assert ":mlflow-tracking-server/mlplatform-eu-west-1-data-mlflow" in body
    assert EXPERIMENT_HYPERPARAMETER in body and "mlplatform-eu-west-1-training" in body
    statements = [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy" and "ExecutionRole" in resource["Properties"]["Roles"][0]["Ref"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]
    logging = [s for s in statements if "sagemaker-mlflow:LogBatch" in s["Action"]]
    assert len(logging) == 1 and set(logging[0]["Action"]) == set(MLFLOW_LOG_ACTIONS)
    assert ":mlflow-tracking-server/mlplatform-eu-west-1-data-mlflow" in json.dumps(logging[0]["Resource"])


def test_the_image_accepts_the_tracking_hyperparameters():
    assert {TRACKING_URI_HYPERPARAMETER, EXPERIMENT_HYPERPARAMETER} <= set(contract()["hyperparameters"])


def test_studio_and_experiments_are_off_in_the_shipped_config(platform):
    for region in platform.stages:
        assert platform.stages[region].studio.domain is None
        assert platform.stages[region].data.tracking is None


def _studio_config_problems(studio: dict, experiments: dict | None = None) -> list[str]:
    context = copy.deepcopy(shipped_context())
    context["platform"]["regions"][0]["studio"] = studio
    if experiments is not None:
        context["platform"]["regions"][0]["experiments"] = experiments
    with pytest.raises(ConfigError) as error:
        load_platform_config(context)
    return error.value.problems


def test_config_refuses_what_sagemaker_refuses_all_at_once():
    where = "platform.regions[eu-west-1]"
    problems = _studio_config_problems(
        {
            "enabled": True,
            "domain_name": "my_domain",
            "idle_timeout_minutes": 30,
            "max_idle_timeout_minutes": 600000,
            "user_profiles": [{"name": "ada"}, {"name": "ada", "persona": "auditor"}],
        },
        {
            "enabled": True,
            "tracking_server_size": "Huge",
            "mlflow_version": "3",
            "weekly_maintenance_window_start": "Sun",
        },
    )
    text = "\n".join(problems)
    for expected in (
        f"{where}.studio.domain_name: 'my_domain' is not allowed; allowed: 1-63 letters, digits and hyphens",
        f"{where}.studio.idle_timeout_minutes: 30 is not allowed; allowed: 60 to 525600",
        f"{where}.studio.max_idle_timeout_minutes: 600000 is not allowed; allowed: 60 to 525600",
        f"{where}.studio.user_profiles[1].persona: 'auditor' is not allowed",
        f"{where}.experiments.tracking_server_size: 'Huge' is not allowed; allowed: Small, Medium, Large",
        f"{where}.experiments.mlflow_version: '3' is not allowed",
        f"{where}.experiments.weekly_maintenance_window_start: 'Sun' is not allowed",
    ):
        assert expected in text, text


def test_config_refuses_user_profiles_without_studio_and_duplicate_names():
    problems = "\n".join(_studio_config_problems({"user_profiles": [{"name": "ada"}, {"name": "ada"}]}))
    assert "studio.enabled: false is not allowed; allowed: true when user_profiles are given" in problems
    assert "studio.user_profiles[1].name: 'ada' is not allowed (listed twice); allowed: each name once" in problems


def data_scientists_domain(scope: cdk.Stack, props: StudioDomainProps = StudioDomainProps()) -> StudioDomain:
    """A StudioDomain on its own: a VPC of two zones, its group and key, and a role for data scientists only."""
    vpc = ec2.Vpc(scope, "Vpc", availability_zones=[f"{SERVING_REGION}a", f"{SERVING_REGION}b"], nat_gateways=0)
    return StudioDomain(
        scope,
        "Domain",
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        security_group=ec2.SecurityGroup(scope, "Group", vpc=vpc),
        key=kms.Key(scope, "Key"),
        roles={
            Persona.DATA_SCIENTIST: iam.Role(scope, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
        },
        props=props,
    )


def test_constructs_refuse_bad_props_with_every_problem():
    app = cdk.App()
    stack = cdk.Stack(app, "Studio", env=cdk.Environment(account="111122223333", region=SERVING_REGION))
    with pytest.raises(InvalidInput) as error:
        data_scientists_domain(
            stack,
            StudioDomainProps(
                idle_timeout_minutes=200,
                max_idle_timeout_minutes=100,
                user_profiles=(UserProfileProps("x-", Persona.OPERATOR),),
            ),
        )
    keys = [problem.key for problem in error.value.problems]
    assert keys == ["max_idle_timeout_minutes", "user_profiles[0].name", "roles"]
    assert ExperimentTrackingProps(tracking_server_name="-bad").problems()[0].key == "tracking_server_name"
