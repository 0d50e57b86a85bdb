"""The Studio stack: the persona roles, and the Studio domain with its user profiles where the config has one; the
Region's MLflow tracking server (in the Data stack) where it has one."""

from __future__ import annotations

from collections.abc import Mapping

from platform_contract.names import Output, StackId
from platform_contract.personas import PERSONA_OUTPUTS
from rehearsal.checks.base import DeployedStack, Verifier


def verify(studio: DeployedStack, stage: Mapping[str, DeployedStack], verify: Verifier) -> None:
    iam = studio.client("iam")
    for persona, output in PERSONA_OUTPUTS.items():
        name = studio.outputs[output].rsplit("/", 1)[-1]
        verify.equal(iam.get_role(RoleName=name)["Role"]["Arn"], studio.outputs[output], f"the {persona} role")
    sagemaker = studio.client("sagemaker")
    for logical_id, _ in studio.of_type("AWS::SageMaker::Domain"):
        domain = sagemaker.describe_domain(DomainId=studio.physical_id(logical_id))
        verify.equal(domain["AppNetworkAccessType"], "VpcOnly", f"{logical_id} runs its apps in the VPC only")
        verify.equal(domain["DomainId"], studio.outputs[Output.DOMAIN_ID], f"{logical_id} is the stack's DomainId")
        for profile_id, profile in studio.of_type("AWS::SageMaker::UserProfile"):
            described = sagemaker.describe_user_profile(
                DomainId=domain["DomainId"], UserProfileName=profile["UserProfileName"]
            )
            verify.equal(
                described["UserSettings"]["ExecutionRole"],
                studio.resolve(profile["UserSettings"]["ExecutionRole"]),
                f"{profile_id} runs with its persona's role",
            )
    data = stage[StackId.DATA]
    for logical_id, properties in data.of_type("AWS::SageMaker::MlflowTrackingServer"):
        server = sagemaker.describe_mlflow_tracking_server(TrackingServerName=data.physical_id(logical_id))
        verify.equal(server["TrackingServerArn"], data.outputs[Output.TRACKING_SERVER_ARN], f"{logical_id} ARN")
        verify.equal(server["ArtifactStoreUri"], data.resolve(properties["ArtifactStoreUri"]), f"{logical_id} store")
