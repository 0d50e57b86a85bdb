"""CloudFormation types of Studio and experiment tracking that moto 5.2.5 lacks: AWS::SageMaker::Domain (backed by
moto's own domains), AWS::SageMaker::UserProfile and AWS::SageMaker::MlflowTrackingServer (kept here; moto has no
API for them), with the Describe calls that read them back.

Each is refused as SageMaker refuses it: the request CloudFormation would send (CreateDomain, CreateUserProfile,
CreateMlflowTrackingServer) is checked against botocore's service model (names, required members, enums, lengths,
ranges, patterns: IdleTimeoutInMinutes 60-525600, TrackingServerSize Small/Medium/Large, ...), and then by the rules
the API reference states beyond the model: a VpcOnly domain needs its VPC, subnets of that VPC and security groups;
an idle timeout lies between the minimum and maximum; a user profile's domain exists and its name is unused there; a
tracking server's name is unused and its artifact store is a bucket that exists.
"""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends
from moto.s3.models import s3_backends
from moto.sagemaker.exceptions import ResourceInUseException, ResourceNotFound, ValidationError
from moto.sagemaker.models import sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.utilities.utils import get_partition

from platform_contract.api_shapes import request_problems
from rehearsal.emulator.resources import _Resource

_user_profiles: dict[tuple[str, str, str, str], dict[str, Any]] = {}
"""(account, Region, domain ID, profile name) -> DescribeUserProfile's answer."""
_tracking_servers: dict[tuple[str, str, str], dict[str, Any]] = {}
"""(account, Region, name) -> DescribeMlflowTrackingServer's answer."""


def _refuse_invalid(operation: str, request: dict[str, Any]) -> None:
    problems = request_problems(operation, request)
    if problems:
        raise ValidationError(f"{len(problems)} validation error(s) detected: " + "; ".join(problems))


def _arn(account_id: str, region_name: str, resource: str) -> str:
    return f"arn:{get_partition(region_name)}:sagemaker:{region_name}:{account_id}:{resource}"


def _idle_problems(where: str, settings: dict[str, Any]) -> list[str]:
    idle = settings.get("JupyterLabAppSettings", {}).get("AppLifecycleManagement", {}).get("IdleSettings", {})
    low, high = idle.get("MinIdleTimeoutInMinutes", 60), idle.get("MaxIdleTimeoutInMinutes", 525600)
    timeout = idle.get("IdleTimeoutInMinutes")
    if timeout is not None and not low <= timeout <= high:
        return [
            f"{where}.IdleTimeoutInMinutes {timeout} must lie between MinIdleTimeoutInMinutes and Max ({low}-{high})"
        ]
    return []


class SageMakerDomain(_Resource, CloudFormationModel):
    TYPE = "AWS::SageMaker::Domain"
    NAME_PROPERTY = "DomainName"
    ATTRIBUTES = frozenset({"DomainArn", "DomainId", "Url", "HomeEfsFileSystemId", "SecurityGroupIdForDomainBoundary"})
    REPLACED_BY = ("DomainName", "AuthMode", "KmsKeyId", "VpcId", "AppNetworkAccessType")

    def __init__(self, account_id: str, region_name: str, name: str, properties: dict[str, Any]) -> None:
        super().__init__(account_id, region_name, properties.get("DomainName", name), properties)
        self.domain_id = ""

    @property
    def _backend(self) -> Any:
        return sagemaker_backends[self.account_id][self.region_name]

    @property
    def physical_resource_id(self) -> str:
        return self.domain_id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "DomainId":
            return self.domain_id
        described = self._backend.describe_domain(self.domain_id)
        if attribute_name == "Url":
            return described["Url"]
        if attribute_name in self.ATTRIBUTES:
            return described[attribute_name]
        return super().get_cfn_attribute(attribute_name)

    def _check(self) -> None:
        p = self.properties
        _refuse_invalid("CreateDomain", p)
        problems = _idle_problems("DefaultUserSettings", p["DefaultUserSettings"])
        if p.get("AppNetworkAccessType") == "VpcOnly":
            if not p.get("VpcId") or not p.get("SubnetIds"):
                problems.append("a VpcOnly domain needs VpcId and SubnetIds")
            if not p["DefaultUserSettings"].get("SecurityGroups"):
                problems.append("a VpcOnly domain needs DefaultUserSettings.SecurityGroups")
        ec2 = ec2_backends[self.account_id][self.region_name]
        for subnet_id in p.get("SubnetIds", []):
            subnets = [subnet for subnet in ec2.describe_subnets() if subnet.id == subnet_id]
            if not subnets or subnets[0].vpc_id != p.get("VpcId"):
                problems.append(f"subnet {subnet_id} is not a subnet of {p.get('VpcId')}")
        if problems:
            raise ValidationError("; ".join(problems))

    def create(self) -> None:
        self._check()
        p = self.properties
        created = self._backend.create_domain(
            domain_name=p["DomainName"],
            auth_mode=p["AuthMode"],
            default_user_settings=p["DefaultUserSettings"],
            subnet_ids=p.get("SubnetIds", []),
            vpc_id=p.get("VpcId", ""),
            domain_settings=p.get("DomainSettings"),
            tags=p.get("Tags"),
            app_network_access_type=p.get("AppNetworkAccessType"),
            home_efs_file_system_kms_key_id=None,
            kms_key_id=p.get("KmsKeyId"),
            app_security_group_management=p.get("AppSecurityGroupManagement"),
            default_space_settings=p.get("DefaultSpaceSettings"),
        )
        self.domain_id = created["DomainArn"].rsplit("/", 1)[-1]

    def update(self, previous: dict[str, Any]) -> None:
        self._check()
        domain = self._backend.domains[self.domain_id]
        domain.default_user_settings = self.properties["DefaultUserSettings"]
        domain.default_space_settings = self.properties.get("DefaultSpaceSettings")
        domain.subnet_ids = self.properties.get("SubnetIds", [])
        domain.last_modified_time = utcnow()

    def remove(self) -> None:
        if any(key[:3] == (self.account_id, self.region_name, self.domain_id) for key in _user_profiles):
            raise ResourceInUseException(f"Domain {self.domain_id} has user profiles; delete them first.")
        self._backend.delete_domain(self.domain_id, None)

    def exists(self) -> bool:
        return self.domain_id in self._backend.domains


class SageMakerUserProfile(_Resource, CloudFormationModel):
    TYPE = "AWS::SageMaker::UserProfile"
    ATTRIBUTES = frozenset({"UserProfileArn"})
    REPLACED_BY = ("DomainId", "UserProfileName")

    @property
    def _key(self) -> tuple[str, str, str, str]:
        return self.account_id, self.region_name, self.properties["DomainId"], self.properties["UserProfileName"]

    @property
    def arn(self) -> str:
        _, _, domain_id, name = self._key
        return _arn(self.account_id, self.region_name, f"user-profile/{domain_id}/{name}")

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "UserProfileArn":
            return self.arn
        return super().get_cfn_attribute(attribute_name)

    def _check(self, creating: bool) -> None:
        _refuse_invalid("CreateUserProfile", self.properties)
        _, _, domain_id, name = self._key
        if domain_id not in sagemaker_backends[self.account_id][self.region_name].domains:
            raise ResourceNotFound(f"Domain {domain_id} does not exist.")
        if creating and self._key in _user_profiles:
            raise ResourceInUseException(f"User profile {name} already exists in domain {domain_id}.")
        problems = _idle_problems("UserSettings", self.properties.get("UserSettings", {}))
        if problems:
            raise ValidationError("; ".join(problems))

    def create(self) -> None:
        self._check(creating=True)
        self._store()

    def update(self, previous: dict[str, Any]) -> None:
        self._check(creating=False)
        self._store()

    def _store(self) -> None:
        _, _, domain_id, name = self._key
        _user_profiles[self._key] = {
            "DomainId": domain_id,
            "UserProfileArn": self.arn,
            "UserProfileName": name,
            "Status": "InService",
            "CreationTime": utcnow(),
            "LastModifiedTime": utcnow(),
            "UserSettings": self.properties.get("UserSettings", {}),
        }

    def remove(self) -> None:
        _user_profiles.pop(self._key, None)

    def exists(self) -> bool:
        return self._key in _user_profiles


class SageMakerMlflowTrackingServer(_Resource, CloudFormationModel):
    TYPE = "AWS::SageMaker::MlflowTrackingServer"
    NAME_PROPERTY = "TrackingServerName"
    ATTRIBUTES = frozenset({"TrackingServerArn"})
    REPLACED_BY = ("TrackingServerName",)

    @property
    def _key(self) -> tuple[str, str, str]:
        return self.account_id, self.region_name, self.properties["TrackingServerName"]

    @property
    def arn(self) -> str:
        return _arn(self.account_id, self.region_name, f"mlflow-tracking-server/{self._key[2]}")

    @property
    def physical_resource_id(self) -> str:
        return self._key[2]

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "TrackingServerArn":
            return self.arn
        return super().get_cfn_attribute(attribute_name)

    def _check(self, creating: bool) -> None:
        _refuse_invalid("CreateMlflowTrackingServer", self.properties)
        if creating and self._key in _tracking_servers:
            raise ResourceInUseException(f"Tracking server {self._key[2]} already exists.")
        location = self.properties["ArtifactStoreUri"].split("://", 1)[1]
        bucket = location.split("/", 1)[0]
        if bucket not in s3_backends[self.account_id][get_partition(self.region_name)].buckets:
            raise ValidationError(
                f"ArtifactStoreUri {self.properties['ArtifactStoreUri']}: bucket {bucket} does not exist."
            )

    def create(self) -> None:
        self._check(creating=True)
        self._store()

    def update(self, previous: dict[str, Any]) -> None:
        self._check(creating=False)
        self._store()

    def _store(self) -> None:
        p = self.properties
        _tracking_servers[self._key] = {
            "TrackingServerArn": self.arn,
            "TrackingServerName": p["TrackingServerName"],
            "ArtifactStoreUri": p["ArtifactStoreUri"],
            "TrackingServerSize": p.get("TrackingServerSize", "Small"),
            "MlflowVersion": p.get("MlflowVersion", "3.0"),
            "RoleArn": p["RoleArn"],
            "TrackingServerStatus": "Created",
            "IsActive": "Active",
            "TrackingServerUrl": f"https://{p['TrackingServerName']}.{self.region_name}.experiments.sagemaker.aws",
            "AutomaticModelRegistration": p.get("AutomaticModelRegistration", False),
            "CreationTime": utcnow(),
        }

    def remove(self) -> None:
        _tracking_servers.pop(self._key, None)

    def exists(self) -> bool:
        return self._key in _tracking_servers


STUDIO_TYPES: tuple[type[_Resource], ...] = (SageMakerDomain, SageMakerUserProfile, SageMakerMlflowTrackingServer)


def _describe_user_profile(self: SageMakerResponse) -> ActionResult:
    key = (self.current_account, self.region, self._get_param("DomainId"), self._get_param("UserProfileName"))
    if key not in _user_profiles:
        raise ResourceNotFound(f"User profile {key[3]} does not exist in domain {key[2]}.")
    return ActionResult(_user_profiles[key])


def _describe_mlflow_tracking_server(self: SageMakerResponse) -> ActionResult:
    key = (self.current_account, self.region, self._get_param("TrackingServerName"))
    if key not in _tracking_servers:
        raise ResourceNotFound(f"Tracking server {key[2]} does not exist.")
    return ActionResult(_tracking_servers[key])


def add_describe_calls() -> None:
    """moto has no API for user profiles and tracking servers; these read back what the types above keep."""
    SageMakerResponse.describe_user_profile = _describe_user_profile  # type: ignore[attr-defined]
    SageMakerResponse.describe_mlflow_tracking_server = _describe_mlflow_tracking_server  # type: ignore[attr-defined]
