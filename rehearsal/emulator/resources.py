"""CloudFormation resource types that moto 5.2.5 lacks, backed by moto's own service backends.

moto silently skips a type it does not know and still reports the stack CREATE_COMPLETE, so every
type in the platform's templates must be either native to moto or registered here. moto builds
its type map from the *direct* subclasses of ``CloudFormationModel`` (``parsing.get_model_list``,
cached), so each class below names ``CloudFormationModel`` as a base itself and takes its shared
behaviour from the plain mixin ``_Resource``; ``register`` then clears moto's caches.

Every instance keeps the physical ID that ``Ref`` returns and can say whether its backing object
still exists in the service backend (``exists``); ``inventory`` reports that for every stack so
that the rehearsal can prove each resource is real. The one type with nothing to back it,
``AWS::CDK::Metadata``, says so explicitly.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.cloudformation.models import cloudformation_backends
from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat, cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends
from moto.s3.models import s3_backends
from moto.sagemaker.models import sagemaker_backends
from moto.sns.models import sns_backends
from moto.utilities.utils import get_partition


class _Resource:
    """Shared behaviour of the registered types; subclasses implement create, update, remove and exists."""

    TYPE: ClassVar[str]
    NAME_PROPERTY: ClassVar[str] = ""
    """The property that names the resource; without it moto generates a name as CloudFormation does."""
    ATTRIBUTES: ClassVar[frozenset[str]] = frozenset()
    """What Fn::GetAtt may ask for."""
    REPLACED_BY: ClassVar[tuple[str, ...]] = ()
    """Properties whose change makes CloudFormation replace the resource instead of updating it."""
    BACKING: ClassVar[str] = "backend object"

    def __init__(self, account_id: str, region_name: str, name: str, properties: dict[str, Any]) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.name = name
        self.properties = properties

    # moto's CloudFormation interface.

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> _Resource:
        resource = cls(account_id, region_name, resource_name, cloudformation_json["Properties"])
        resource.create()
        return resource

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: _Resource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> _Resource:
        properties = cloudformation_json["Properties"]
        if any(properties.get(key) != original_resource.properties.get(key) for key in cls.REPLACED_BY):
            original_resource.remove()
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
        # moto generates a fresh name for every update of an unnamed resource; an in-place update keeps it.
        previous = original_resource.properties
        original_resource.properties = properties
        original_resource.update(previous)
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        """How moto's CloudFormation deletes a resource instance."""
        self.remove()

    def is_created(self) -> bool:
        return True

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        raise UnformattedGetAttTemplateException()

    # What each type implements.

    def create(self) -> None:
        raise NotImplementedError

    def update(self, previous: dict[str, Any]) -> None:
        """Applies ``self.properties`` in place; ``previous`` holds the properties it replaces."""
        raise NotImplementedError

    def remove(self) -> None:
        raise NotImplementedError

    def exists(self) -> bool:
        raise NotImplementedError


class SageMakerPipeline(_Resource, CloudFormationModel):
    TYPE = "AWS::SageMaker::Pipeline"
    NAME_PROPERTY = "PipelineName"
    REPLACED_BY = ("PipelineName",)

    @property
    def _backend(self) -> Any:
        return sagemaker_backends[self.account_id][self.region_name]

    def _definition(self) -> str:
        definition = self.properties["PipelineDefinition"]
        if "PipelineDefinitionBody" in definition:
            return definition["PipelineDefinitionBody"]
        location = definition["PipelineDefinitionS3Location"]
        s3 = s3_backends[self.account_id][get_partition(self.region_name)]
        key = s3.get_object(location["Bucket"], location["Key"], version_id=location.get("Version"))
        if key is None:
            raise ValueError(f"PipelineDefinitionS3Location s3://{location['Bucket']}/{location['Key']} does not exist")
        return key.value.decode()

    def create(self) -> None:
        self._backend.create_pipeline(
            pipeline_name=self.name,
            pipeline_display_name=self.properties.get("PipelineDisplayName"),
            pipeline_definition=self._definition(),
            pipeline_definition_s3_location=None,
            pipeline_description=self.properties.get("PipelineDescription"),
            role_arn=self.properties["RoleArn"],
            tags=self.properties.get("Tags", []),
            parallelism_configuration=self.properties.get("ParallelismConfiguration"),
        )

    def update(self, previous: dict[str, Any]) -> None:
        pipeline = self._backend.pipelines[self.name]
        pipeline.pipeline_definition = self._definition()
        pipeline.pipeline_display_name = self.properties.get("PipelineDisplayName", self.name)
        pipeline.pipeline_description = self.properties.get("PipelineDescription")
        pipeline.role_arn = self.properties["RoleArn"]
        pipeline.tags = self.properties.get("Tags", [])
        pipeline.parallelism_configuration = self.properties.get("ParallelismConfiguration")

    def remove(self) -> None:
        self._backend.delete_pipeline(self.name)

    def exists(self) -> bool:
        return self.name in self._backend.pipelines


class SageMakerModelPackageGroup(_Resource, CloudFormationModel):
    TYPE = "AWS::SageMaker::ModelPackageGroup"
    NAME_PROPERTY = "ModelPackageGroupName"
    ATTRIBUTES = frozenset({"ModelPackageGroupArn", "CreationTime", "ModelPackageGroupStatus"})
    REPLACED_BY = ("ModelPackageGroupName", "ModelPackageGroupDescription")

    @property
    def _backend(self) -> Any:
        return sagemaker_backends[self.account_id][self.region_name]

    @property
    def physical_resource_id(self) -> str:
        return self._backend.model_package_groups[self.name].arn

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        group = self._backend.model_package_groups[self.name]
        if attribute_name == "ModelPackageGroupArn":
            return group.arn
        if attribute_name == "CreationTime":
            return str(group.creation_time)
        if attribute_name == "ModelPackageGroupStatus":
            return group.model_package_group_status
        return super().get_cfn_attribute(attribute_name)

    def create(self) -> None:
        self._backend.create_model_package_group(
            model_package_group_name=self.name,
            model_package_group_description=self.properties.get("ModelPackageGroupDescription"),
            tags=self.properties.get("Tags", []),
        )

    def update(self, previous: dict[str, Any]) -> None:
        self._backend.model_package_groups[self.name].tags = self.properties.get("Tags", [])

    def remove(self) -> None:
        # moto 5.2.5 has no DeleteModelPackageGroup; the group lives in this dictionary only.
        self._backend.model_package_groups.pop(self.name, None)

    def exists(self) -> bool:
        return self.name in self._backend.model_package_groups


def _scalable_target_key(properties: dict[str, Any]) -> tuple[str, str, str]:
    """(resource ID, scalable dimension, service namespace), given directly or as the target's Ref."""
    if "ScalingTargetId" in properties:
        resource_id, dimension, namespace = properties["ScalingTargetId"].split("|")
        return resource_id, dimension, namespace
    return properties["ResourceId"], properties["ScalableDimension"], properties["ServiceNamespace"]


class ScalableTarget(_Resource, CloudFormationModel):
    TYPE = "AWS::ApplicationAutoScaling::ScalableTarget"
    ATTRIBUTES = frozenset({"Id"})
    REPLACED_BY = ("ResourceId", "ScalableDimension", "ServiceNamespace")

    @property
    def _backend(self) -> Any:
        return applicationautoscaling_backends[self.account_id][self.region_name]

    @property
    def physical_resource_id(self) -> str:
        # What CloudFormation's Ref returns, and what a scaling policy's ScalingTargetId holds.
        return "|".join(_scalable_target_key(self.properties))

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Id":
            return self.physical_resource_id
        return super().get_cfn_attribute(attribute_name)

    def create(self) -> None:
        self._register()

    def update(self, previous: dict[str, Any]) -> None:
        resource_id, dimension, namespace = _scalable_target_key(self.properties)
        kept = {action["ScheduledActionName"] for action in self.properties.get("ScheduledActions", [])}
        for action in previous.get("ScheduledActions", []):
            if action["ScheduledActionName"] not in kept:
                self._backend.delete_scheduled_action(namespace, action["ScheduledActionName"], resource_id, dimension)
        self._register()

    def _register(self) -> None:
        resource_id, dimension, namespace = _scalable_target_key(self.properties)
        self._backend.register_scalable_target(
            namespace=namespace,
            r_id=resource_id,
            dimension=dimension,
            min_capacity=self.properties["MinCapacity"],
            max_capacity=self.properties["MaxCapacity"],
            role_arn=self.properties.get("RoleARN"),
            suspended_state=self.properties.get("SuspendedState"),
        )
        for action in self.properties.get("ScheduledActions", []):
            self._backend.put_scheduled_action(
                service_namespace=namespace,
                schedule=action["Schedule"],
                timezone=action.get("Timezone"),
                scheduled_action_name=action["ScheduledActionName"],
                resource_id=resource_id,
                scalable_dimension=dimension,
                start_time=action.get("StartTime"),
                end_time=action.get("EndTime"),
                scalable_target_action=action.get("ScalableTargetAction"),
            )

    def remove(self) -> None:
        resource_id, dimension, namespace = _scalable_target_key(self.properties)
        for action in self.properties.get("ScheduledActions", []):
            self._backend.delete_scheduled_action(namespace, action["ScheduledActionName"], resource_id, dimension)
        self._backend.deregister_scalable_target(namespace, resource_id, dimension)

    def exists(self) -> bool:
        resource_id, dimension, _ = _scalable_target_key(self.properties)
        return self._backend._scalable_target_exists(resource_id, dimension)


class ScalingPolicy(_Resource, CloudFormationModel):
    TYPE = "AWS::ApplicationAutoScaling::ScalingPolicy"
    ATTRIBUTES = frozenset({"Arn"})
    REPLACED_BY = ("PolicyName", "ScalingTargetId", "ResourceId", "ScalableDimension", "ServiceNamespace")

    def __init__(self, account_id: str, region_name: str, name: str, properties: dict[str, Any]) -> None:
        super().__init__(account_id, region_name, name, properties)
        self.arn = ""

    @property
    def _backend(self) -> Any:
        return applicationautoscaling_backends[self.account_id][self.region_name]

    @property
    def _key(self) -> str:
        resource_id, dimension, namespace = _scalable_target_key(self.properties)
        return f"{namespace}\t{resource_id}\t{dimension}\t{self.properties['PolicyName']}"

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Arn":
            return self.arn
        return super().get_cfn_attribute(attribute_name)

    def create(self) -> None:
        self.arn = self._put().policy_arn

    def update(self, previous: dict[str, Any]) -> None:
        # AWS keeps a policy's ARN when it changes in place (alarms act on it); moto mints a new one.
        self._put().policy_arn = self.arn

    def _put(self) -> Any:
        resource_id, dimension, namespace = _scalable_target_key(self.properties)
        policy_type = self.properties["PolicyType"]
        body_property = {
            "TargetTrackingScaling": "TargetTrackingScalingPolicyConfiguration",
            "StepScaling": "StepScalingPolicyConfiguration",
        }[policy_type]
        return self._backend.put_scaling_policy(
            policy_name=self.properties["PolicyName"],
            service_namespace=namespace,
            resource_id=resource_id,
            scalable_dimension=dimension,
            policy_body=self.properties[body_property],
            policy_type=policy_type,
        )

    def remove(self) -> None:
        resource_id, dimension, namespace = _scalable_target_key(self.properties)
        self._backend.delete_scaling_policy(self.properties["PolicyName"], namespace, resource_id, dimension)

    def exists(self) -> bool:
        return self._key in self._backend.policies


def _metric_data_queries(metrics: list[dict[str, Any]]) -> list[MetricDataQuery] | None:
    """CloudFormation's Metrics property as moto's alarm model holds it (as PutMetricAlarm builds it)."""
    if not metrics:
        return None
    queries = []
    for query in metrics:
        stat = query.get("MetricStat")
        metric_stat = None
        if stat:
            metric = stat["Metric"]
            metric_stat = MetricStat(
                metric=Metric(
                    metric_name=metric["MetricName"],
                    namespace=metric["Namespace"],
                    dimensions=[Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])],
                ),
                period=stat["Period"],
                stat=stat["Stat"],
                unit=stat.get("Unit"),
            )
        queries.append(
            MetricDataQuery(
                query_id=query["Id"],
                # moto annotates these as str, but its own GetMetricData passes None where a query has none.
                label=query.get("Label"),  # type: ignore[arg-type]
                period=query.get("Period"),  # type: ignore[arg-type]
                return_data=query.get("ReturnData"),  # type: ignore[arg-type]
                expression=query.get("Expression"),
                metric_stat=metric_stat,
            )
        )
    return queries


class _AlarmResource(_Resource):
    """Metric and composite alarms share moto's alarm model and PutMetricAlarm."""

    NAME_PROPERTY = "AlarmName"
    ATTRIBUTES = frozenset({"Arn"})
    REPLACED_BY = ("AlarmName",)
    COMPOSITE: ClassVar[bool]

    @property
    def _backend(self) -> Any:
        return cloudwatch_backends[self.account_id][self.region_name]

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Arn":
            return self._backend.alarms[self.name].alarm_arn
        return super().get_cfn_attribute(attribute_name)

    def create(self) -> None:
        self._put()

    def update(self, previous: dict[str, Any]) -> None:
        self._put()

    def _put(self) -> None:
        raise NotImplementedError

    def remove(self) -> None:
        self._backend.delete_alarms([self.name])

    def exists(self) -> bool:
        alarm = self._backend.alarms.get(self.name)
        return alarm is not None and (alarm.rule is not None) == self.COMPOSITE


class CloudWatchAlarm(_AlarmResource, CloudFormationModel):
    TYPE = "AWS::CloudWatch::Alarm"
    COMPOSITE = False

    def _put(self) -> None:
        p = self.properties
        self._backend.put_metric_alarm(
            name=self.name,
            namespace=p.get("Namespace"),
            metric_name=p.get("MetricName"),
            metric_data_queries=_metric_data_queries(p.get("Metrics", [])),
            comparison_operator=p["ComparisonOperator"],
            evaluation_periods=p["EvaluationPeriods"],
            datapoints_to_alarm=p.get("DatapointsToAlarm"),
            period=p.get("Period"),
            threshold=p.get("Threshold"),
            statistic=p.get("Statistic"),
            extended_statistic=p.get("ExtendedStatistic"),
            description=p.get("AlarmDescription"),
            dimensions=p.get("Dimensions", []),
            alarm_actions=p.get("AlarmActions", []),
            ok_actions=p.get("OKActions", []),
            insufficient_data_actions=p.get("InsufficientDataActions", []),
            unit=p.get("Unit"),
            actions_enabled=p.get("ActionsEnabled", True),
            treat_missing_data=p.get("TreatMissingData"),
            evaluate_low_sample_count_percentile=p.get("EvaluateLowSampleCountPercentile"),
            threshold_metric_id=p.get("ThresholdMetricId"),
            tags=p.get("Tags", []),
        )


class CloudWatchCompositeAlarm(_AlarmResource, CloudFormationModel):
    TYPE = "AWS::CloudWatch::CompositeAlarm"
    COMPOSITE = True

    def _put(self) -> None:
        # moto's alarm model has no fields for the actions suppressor; the rehearsal does not rely on it.
        p = self.properties
        self._backend.put_metric_alarm(
            name=self.name,
            namespace=None,
            metric_name=None,
            comparison_operator=None,
            evaluation_periods=None,
            period=None,
            threshold=None,
            statistic=None,
            description=p.get("AlarmDescription"),
            dimensions=[],
            alarm_actions=p.get("AlarmActions", []),
            ok_actions=p.get("OKActions", []),
            insufficient_data_actions=p.get("InsufficientDataActions", []),
            actions_enabled=p.get("ActionsEnabled", True),
            rule=p["AlarmRule"],
            tags=p.get("Tags", []),
        )


def _policy_text(document: Any) -> str:
    """Policy documents arrive as objects from templates and as strings from some constructs."""
    return document if isinstance(document, str) else json.dumps(document)


class S3BucketPolicy(_Resource, CloudFormationModel):
    TYPE = "AWS::S3::BucketPolicy"
    REPLACED_BY = ("Bucket",)

    @property
    def _backend(self) -> Any:
        return s3_backends[self.account_id][get_partition(self.region_name)]

    def create(self) -> None:
        self._backend.put_bucket_policy(
            self.properties["Bucket"], _policy_text(self.properties["PolicyDocument"]).encode()
        )

    def update(self, previous: dict[str, Any]) -> None:
        self.create()

    def remove(self) -> None:
        if self.properties["Bucket"] in self._backend.buckets:
            self._backend.delete_bucket_policy(self.properties["Bucket"])

    def exists(self) -> bool:
        bucket = self._backend.buckets.get(self.properties["Bucket"])
        return bucket is not None and bucket.policy is not None


class SnsSubscription(_Resource, CloudFormationModel):
    TYPE = "AWS::SNS::Subscription"
    REPLACED_BY = ("Endpoint", "Protocol", "TopicArn", "Region")
    # Attributes that SetSubscriptionAttributes takes; the policies among them are JSON text.
    _ATTRIBUTE_PROPERTIES = (
        "DeliveryPolicy",
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
        "SubscriptionRoleArn",
    )

    def __init__(self, account_id: str, region_name: str, name: str, properties: dict[str, Any]) -> None:
        super().__init__(account_id, region_name, name, properties)
        self.arn = ""

    @property
    def _backend(self) -> Any:
        return sns_backends[self.account_id][self.properties.get("Region", self.region_name)]

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def create(self) -> None:
        subscription = self._backend.subscribe(
            self.properties["TopicArn"], self.properties["Endpoint"], self.properties["Protocol"]
        )
        self.arn = subscription.arn
        self._set_attributes()

    def update(self, previous: dict[str, Any]) -> None:
        self._set_attributes()

    def _set_attributes(self) -> None:
        for name in self._ATTRIBUTE_PROPERTIES:
            if name in self.properties:
                value = self.properties[name]
                text = str(value).lower() if isinstance(value, bool) else _policy_text(value)
                self._backend.set_subscription_attributes(self.arn, name, text)

    def remove(self) -> None:
        self._backend.unsubscribe(self.arn)

    def exists(self) -> bool:
        return self.arn in self._backend.subscriptions


class SnsTopicPolicy(_Resource, CloudFormationModel):
    TYPE = "AWS::SNS::TopicPolicy"

    @property
    def _backend(self) -> Any:
        return sns_backends[self.account_id][self.region_name]

    def create(self) -> None:
        for topic_arn in self.properties["Topics"]:
            self._backend.get_topic(topic_arn).policy = _policy_text(self.properties["PolicyDocument"])

    def update(self, previous: dict[str, Any]) -> None:
        self._restore_default_policies(set(previous["Topics"]) - set(self.properties["Topics"]))
        self.create()

    def remove(self) -> None:
        self._restore_default_policies(self.properties["Topics"])

    def _restore_default_policies(self, topic_arns: Any) -> None:
        # A topic without a policy of its own has SNS's default one.
        for topic_arn in topic_arns:
            topic = self._backend.topics.get(topic_arn)
            if topic is not None:
                topic._policy_json = topic._create_default_topic_policy(self.region_name, self.account_id, topic.name)

    def exists(self) -> bool:
        expected = json.loads(_policy_text(self.properties["PolicyDocument"]))
        topics = [self._backend.topics.get(arn) for arn in self.properties["Topics"]]
        return all(topic is not None and topic._policy_json == expected for topic in topics)


class _SecurityGroupRule(_Resource):
    """A rule of a security group, as its own resource; the physical ID is the rule's ID (sgr-...)."""

    EGRESS: ClassVar[bool]
    PEER: ClassVar[str]
    PREFIX_LIST: ClassVar[str]
    REPLACED_BY = (
        "GroupId",
        "GroupName",
        "IpProtocol",
        "FromPort",
        "ToPort",
        "CidrIp",
        "CidrIpv6",
        "SourceSecurityGroupId",
        "DestinationSecurityGroupId",
        "SourcePrefixListId",
        "DestinationPrefixListId",
    )

    def __init__(self, account_id: str, region_name: str, name: str, properties: dict[str, Any]) -> None:
        super().__init__(account_id, region_name, name, properties)
        self.rule_id = ""

    @property
    def _backend(self) -> Any:
        return ec2_backends[self.account_id][self.region_name]

    @property
    def physical_resource_id(self) -> str:
        return self.rule_id

    def _rule(self) -> dict[str, Any]:
        p = self.properties
        ranges = [{key: p[key], "Description": p.get("Description")} for key in ("CidrIp", "CidrIpv6") if key in p]
        return {
            "group_name_or_id": p.get("GroupId", p.get("GroupName")),
            "ip_protocol": p["IpProtocol"],
            # Protocols other than TCP, UDP and ICMP have no ports; the EC2 API says -1.
            "from_port": p.get("FromPort", -1),
            "to_port": p.get("ToPort", -1),
            "ip_ranges": ranges,
            "source_groups": [{"GroupId": p[self.PEER], "Description": p.get("Description")}] if self.PEER in p else [],
            "prefix_list_ids": [{"PrefixListId": p[self.PREFIX_LIST]}] if self.PREFIX_LIST in p else [],
        }

    def _group(self) -> Any:
        return self._backend.get_security_group_by_name_or_id(self._rule()["group_name_or_id"])

    def create(self) -> None:
        authorize = (
            self._backend.authorize_security_group_egress
            if self.EGRESS
            else self._backend.authorize_security_group_ingress
        )
        rules, _ = authorize(**self._rule())
        self.rule_id = rules[0].id

    def update(self, previous: dict[str, Any]) -> None:
        """Only Description changes in place (anything else replaces the rule); moto's rules keep their first."""

    def _rules(self) -> list[Any]:
        group = self._group()
        if group is None:
            return []
        return group.egress_rules if self.EGRESS else group.ingress_rules

    def remove(self) -> None:
        if self._group() is not None:
            revoke = (
                self._backend.revoke_security_group_egress
                if self.EGRESS
                else self._backend.revoke_security_group_ingress
            )
            revoke(**self._rule())

    def exists(self) -> bool:
        return any(rule.id == self.rule_id for rule in self._rules())


class SecurityGroupIngress(_SecurityGroupRule, CloudFormationModel):
    """Replaces moto's own, which rejects rules without ports (e.g. ESP, protocol 50) and cannot be deleted."""

    TYPE = "AWS::EC2::SecurityGroupIngress"
    EGRESS = False
    PEER = "SourceSecurityGroupId"
    PREFIX_LIST = "SourcePrefixListId"


class SecurityGroupEgress(_SecurityGroupRule, CloudFormationModel):
    TYPE = "AWS::EC2::SecurityGroupEgress"
    EGRESS = True
    PEER = "DestinationSecurityGroupId"
    PREFIX_LIST = "DestinationPrefixListId"


class CdkMetadata(_Resource, CloudFormationModel):
    """The CDK's analytics record. CloudFormation creates nothing for it, and neither does the emulator."""

    TYPE = "AWS::CDK::Metadata"
    BACKING = "none: CloudFormation creates nothing for this type"

    def create(self) -> None:
        pass

    def update(self, previous: dict[str, Any]) -> None:
        pass

    def remove(self) -> None:
        pass

    def exists(self) -> bool:
        return True


# Studio's types build on _Resource above.
from rehearsal.emulator import studio  # noqa: E402

REGISTERED: tuple[type[_Resource], ...] = (
    SageMakerPipeline,
    SageMakerModelPackageGroup,
    ScalableTarget,
    ScalingPolicy,
    CloudWatchAlarm,
    CloudWatchCompositeAlarm,
    S3BucketPolicy,
    SnsSubscription,
    SnsTopicPolicy,
    SecurityGroupIngress,
    SecurityGroupEgress,
    CdkMetadata,
    *studio.STUDIO_TYPES,
)


_registered: list[type[_Resource]] = list(REGISTERED)


def register(*more: type[_Resource]) -> None:
    """Makes moto's CloudFormation see the types above and ``more``, those of other modules of the extension (they
    exist once their modules are imported)."""
    _registered.extend(cls for cls in more if cls not in _registered)
    studio.add_describe_calls()
    for cache in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cache.cache_clear()
    known = parsing.get_model_map()
    missing = [cls.TYPE for cls in _registered if known.get(cls.TYPE) is not cls]
    if missing:
        raise RuntimeError(f"moto did not pick up the registered CloudFormation types {missing}")


def inventory(account_id: str) -> dict[str, Any]:
    """The registered types, and every resource of theirs in every stack, live or deleted (what a
    delete retained or failed to delete stays in its stack's resource map), with whether its
    backing object exists."""
    entries = []
    for region_name, backend in cloudformation_backends[account_id].items():
        for stack in [*backend.stacks.values(), *backend.deleted_stacks.values()]:
            for logical_id, resource in stack.resource_map._parsed_resources.items():
                if isinstance(resource, _Resource):
                    entries.append(
                        {
                            "region": region_name,
                            "stack": stack.name,
                            "stackStatus": stack.status,
                            "logicalId": logical_id,
                            "type": resource.TYPE,
                            "physicalId": resource.physical_resource_id,
                            "backing": resource.BACKING,
                            "exists": resource.exists(),
                        }
                    )
    return {"registeredTypes": [cls.TYPE for cls in _registered], "resources": entries}
