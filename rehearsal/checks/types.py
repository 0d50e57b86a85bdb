"""Per resource type: the deployed object's properties equal the template's, resolved.

Each check reads the object through its service's API by the physical ID that ListStackResources
reports. Types without a check here are covered by the existence checks only; ``UNCHECKED`` names
those that have nothing more to check.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rehearsal.aws import ACCOUNT
from rehearsal.checks.base import DeployedStack, Verifier

UNCHECKED = frozenset({"AWS::CDK::Metadata"})
"""Types with no properties worth checking beyond their existence."""


def _policy(document: Any) -> Any:
    return json.loads(document) if isinstance(document, str) else document


def _kms_key(stack: DeployedStack, key_id: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    kms = stack.client("kms")
    metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    verify.equal(metadata["KeyState"], "Enabled", f"{what} state")
    verify.equal(metadata.get("Description"), properties.get("Description"), f"{what} description")
    verify.equal(
        kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"],
        properties.get("EnableKeyRotation", False),
        f"{what} rotation",
    )
    policy = kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
    verify.equal(_policy(policy), stack.resolve(properties["KeyPolicy"]), f"{what} key policy")


def _bucket(stack: DeployedStack, name: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    s3 = stack.client("s3")
    expected = stack.resolve(properties)
    rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    expected_rule = expected["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    verify.equal(
        rule["ApplyServerSideEncryptionByDefault"],
        expected_rule["ServerSideEncryptionByDefault"],
        f"{what} default encryption",
    )
    verify.equal(
        rule.get("BucketKeyEnabled", False), expected_rule.get("BucketKeyEnabled", False), f"{what} S3 Bucket Key"
    )
    verify.equal(
        s3.get_bucket_versioning(Bucket=name).get("Status"),
        expected.get("VersioningConfiguration", {}).get("Status"),
        f"{what} versioning",
    )
    if "PublicAccessBlockConfiguration" in expected:
        block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        verify.equal(block, expected["PublicAccessBlockConfiguration"], f"{what} public access block")
    if "OwnershipControls" in expected:
        rules = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
        verify.equal(rules, expected["OwnershipControls"]["Rules"], f"{what} object ownership")
    logging = s3.get_bucket_logging(Bucket=name).get("LoggingEnabled")
    expected_logging = expected.get("LoggingConfiguration")
    verify.equal(
        logging and {"TargetBucket": logging["TargetBucket"], "TargetPrefix": logging["TargetPrefix"]},
        expected_logging
        and {
            "TargetBucket": expected_logging["DestinationBucketName"],
            "TargetPrefix": expected_logging["LogFilePrefix"],
        },
        f"{what} access logging",
    )
    if "LifecycleConfiguration" in expected:
        rules = {rule["ID"]: rule for rule in s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]}
        for expected_rule in expected["LifecycleConfiguration"]["Rules"]:
            rule = rules.get(expected_rule["Id"], {})
            where = f"{what} lifecycle rule {expected_rule['Id']}"
            verify.equal(rule.get("Status"), expected_rule["Status"], f"{where} status")
            verify.equal(
                rule.get("Expiration", {}).get("Days"), expected_rule.get("ExpirationInDays"), f"{where} expiration"
            )
            verify.equal(
                rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays"),
                expected_rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays"),
                f"{where} noncurrent-version expiration",
            )
            verify.equal(
                rule.get("AbortIncompleteMultipartUpload"),
                expected_rule.get("AbortIncompleteMultipartUpload"),
                f"{where} multipart abort",
            )
            verify.equal(
                [(t["Days"], t["StorageClass"]) for t in rule.get("Transitions", [])],
                [(t["TransitionInDays"], t["StorageClass"]) for t in expected_rule.get("Transitions", [])],
                f"{where} transitions",
            )


def _bucket_policy(
    stack: DeployedStack, physical_id: str, properties: dict[str, Any], verify: Verifier, what: str
) -> None:
    bucket = stack.resolve(properties["Bucket"])
    policy = stack.client("s3").get_bucket_policy(Bucket=bucket)["Policy"]
    verify.equal(_policy(policy), stack.resolve(properties["PolicyDocument"]), f"{what} document")


def _topic(stack: DeployedStack, arn: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    attributes = stack.client("sns").get_topic_attributes(TopicArn=arn)["Attributes"]
    verify.equal(
        attributes.get("KmsMasterKeyId"), stack.resolve(properties.get("KmsMasterKeyId")), f"{what} encryption key"
    )


def _topic_policy(
    stack: DeployedStack, physical_id: str, properties: dict[str, Any], verify: Verifier, what: str
) -> None:
    for arn in stack.resolve(properties["Topics"]):
        policy = stack.client("sns").get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"]
        verify.equal(_policy(policy), stack.resolve(properties["PolicyDocument"]), f"{what} document on {arn}")


def _subscription(stack: DeployedStack, arn: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    attributes = stack.client("sns").get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    expected = stack.resolve(properties)
    verify.equal(
        (attributes["TopicArn"], attributes["Protocol"], attributes["Endpoint"]),
        (expected["TopicArn"], expected["Protocol"], expected["Endpoint"]),
        f"{what} topic, protocol and endpoint",
    )


def _vpc(stack: DeployedStack, vpc_id: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    vpc = stack.client("ec2").describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    verify.equal(vpc["CidrBlock"], properties["CidrBlock"], f"{what} CIDR")


def _subnet(stack: DeployedStack, subnet_id: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    subnet = stack.client("ec2").describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]
    expected = stack.resolve(properties)
    verify.equal(
        (subnet["VpcId"], subnet["CidrBlock"], subnet["AvailabilityZone"], subnet["MapPublicIpOnLaunch"]),
        (
            expected["VpcId"],
            expected["CidrBlock"],
            expected["AvailabilityZone"],
            expected.get("MapPublicIpOnLaunch", False),
        ),
        f"{what} VPC, CIDR, zone and public IPs",
    )


def _route_table(stack: DeployedStack, table_id: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    table = stack.client("ec2").describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
    verify.equal(table["VpcId"], stack.resolve(properties["VpcId"]), f"{what} VPC")


def _security_group_rule(
    stack: DeployedStack, rule_id: str, properties: dict[str, Any], verify: Verifier, what: str
) -> None:
    expected = stack.resolve(properties)
    rules = stack.client("ec2").describe_security_group_rules(SecurityGroupRuleIds=[rule_id])["SecurityGroupRules"]
    verify.equal(len(rules), 1, f"{what} exists")
    if rules:
        rule, peer = rules[0], expected.get("SourceSecurityGroupId", expected.get("DestinationSecurityGroupId"))
        verify.equal(
            (rule["GroupId"], rule["IpProtocol"], rule.get("FromPort", -1), rule.get("ToPort", -1)),
            (
                expected["GroupId"],
                _PROTOCOLS.get(expected["IpProtocol"], expected["IpProtocol"]),
                expected.get("FromPort", -1),
                expected.get("ToPort", -1),
            ),
            f"{what} group, protocol and ports",
        )
        verify.equal(rule.get("ReferencedGroupInfo", {}).get("GroupId"), peer, f"{what} peer group")
        verify.equal(rule.get("CidrIpv4"), expected.get("CidrIp"), f"{what} address range")


_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp"}
"""EC2 reports these protocols by name."""


def _route_table_association(
    stack: DeployedStack, association_id: str, properties: dict[str, Any], verify: Verifier, what: str
) -> None:
    expected = stack.resolve(properties)
    tables = stack.client("ec2").describe_route_tables(RouteTableIds=[expected["RouteTableId"]])["RouteTables"]
    associations = {(a.get("RouteTableAssociationId"), a.get("SubnetId")) for t in tables for a in t["Associations"]}
    verify.true((association_id, expected["SubnetId"]) in associations, f"{what} associates {expected['SubnetId']}")


def _vpc_endpoint(
    stack: DeployedStack, endpoint_id: str, properties: dict[str, Any], verify: Verifier, what: str
) -> None:
    endpoint = stack.client("ec2").describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]
    expected = stack.resolve(properties)
    endpoint_type = expected.get("VpcEndpointType", "Gateway")
    verify.equal(
        (endpoint["ServiceName"], endpoint["VpcEndpointType"].lower(), endpoint["VpcId"]),
        (expected["ServiceName"], endpoint_type.lower(), expected["VpcId"]),
        f"{what} service, type and VPC",
    )
    if endpoint_type == "Interface":
        verify.equal(sorted(endpoint.get("SubnetIds", [])), sorted(expected["SubnetIds"]), f"{what} subnets")
        verify.equal(
            sorted(group["GroupId"] for group in endpoint.get("Groups", [])),
            sorted(expected["SecurityGroupIds"]),
            f"{what} security groups",
        )
        verify.equal(endpoint.get("PrivateDnsEnabled"), expected.get("PrivateDnsEnabled", False), f"{what} private DNS")
    else:
        verify.equal(
            sorted(endpoint.get("RouteTableIds", [])), sorted(expected.get("RouteTableIds", [])), f"{what} route tables"
        )


def _flow_log(stack: DeployedStack, flow_log_id: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    flow_log = stack.client("ec2").describe_flow_logs(FlowLogIds=[flow_log_id])["FlowLogs"][0]
    expected = stack.resolve(properties)
    verify.equal(
        (
            flow_log["ResourceId"],
            flow_log["TrafficType"],
            flow_log["LogDestinationType"],
            flow_log.get("LogGroupName"),
            flow_log.get("DeliverLogsPermissionArn"),
        ),
        (
            expected["ResourceId"],
            expected["TrafficType"],
            expected["LogDestinationType"],
            expected.get("LogGroupName"),
            expected.get("DeliverLogsPermissionArn"),
        ),
        f"{what} source, traffic, destination and role",
    )


def _log_group(stack: DeployedStack, name: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    groups = stack.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    group = next(g for g in groups if g["logGroupName"] == name)
    expected = stack.resolve(properties)
    verify.equal(group.get("retentionInDays"), expected.get("RetentionInDays"), f"{what} retention")
    verify.equal(group.get("kmsKeyId"), expected.get("KmsKeyId"), f"{what} encryption key")


def _security_group(
    stack: DeployedStack, group_id: str, properties: dict[str, Any], verify: Verifier, what: str
) -> None:
    group = stack.client("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    expected = stack.resolve(properties)
    verify.equal(group["VpcId"], expected["VpcId"], f"{what} VPC")
    # Without stated egress rules a group gets AWS's default: all traffic to anywhere.
    default_egress = [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]
    for direction, permissions, stated in (
        ("ingress", "IpPermissions", expected.get("SecurityGroupIngress", [])),
        ("egress", "IpPermissionsEgress", expected.get("SecurityGroupEgress", default_egress)),
    ):
        deployed = {
            (p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r["CidrIp"])
            for p in group[permissions]
            for r in p.get("IpRanges", [])
        }
        wanted = {(r["IpProtocol"], r.get("FromPort"), r.get("ToPort"), r["CidrIp"]) for r in stated if "CidrIp" in r}
        verify.equal(deployed, wanted, f"{what} {direction} rules to address ranges")


def _role(stack: DeployedStack, name: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    role = stack.client("iam").get_role(RoleName=name)["Role"]
    verify.equal(
        _policy(role["AssumeRolePolicyDocument"]),
        stack.resolve(properties["AssumeRolePolicyDocument"]),
        f"{what} trust policy",
    )


def _inline_policy(
    stack: DeployedStack, physical_id: str, properties: dict[str, Any], verify: Verifier, what: str
) -> None:
    expected = stack.resolve(properties)
    iam = stack.client("iam")
    for role in expected.get("Roles", []):
        document = iam.get_role_policy(RoleName=role, PolicyName=expected["PolicyName"])["PolicyDocument"]
        verify.equal(_policy(document), expected["PolicyDocument"], f"{what} document on role {role}")


def _pipeline(stack: DeployedStack, name: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    pipeline = stack.client("sagemaker").describe_pipeline(PipelineName=name)
    expected = stack.resolve(properties)
    verify.equal(
        json.loads(pipeline["PipelineDefinition"]),
        json.loads(expected["PipelineDefinition"]["PipelineDefinitionBody"]),
        f"{what} definition",
    )
    verify.equal(pipeline["RoleArn"], expected["RoleArn"], f"{what} role")


def _model_package_group(
    stack: DeployedStack, arn: str, properties: dict[str, Any], verify: Verifier, what: str
) -> None:
    group = stack.client("sagemaker").describe_model_package_group(ModelPackageGroupName=arn.rsplit("/", 1)[-1])
    verify.equal(
        group.get("ModelPackageGroupDescription"), properties.get("ModelPackageGroupDescription"), f"{what} description"
    )


def _model(stack: DeployedStack, arn: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    model = stack.client("sagemaker").describe_model(ModelName=arn.rsplit("/", 1)[-1])
    expected = stack.resolve(properties)
    verify.equal(model["ExecutionRoleArn"], expected["ExecutionRoleArn"], f"{what} role")
    verify.equal(model.get("PrimaryContainer"), expected.get("PrimaryContainer"), f"{what} container")
    verify.equal(model.get("VpcConfig") or None, expected.get("VpcConfig"), f"{what} VPC")


def _endpoint_config(stack: DeployedStack, arn: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    config = stack.client("sagemaker").describe_endpoint_config(EndpointConfigName=arn.rsplit("/", 1)[-1])
    expected = stack.resolve(properties)
    variants = {v["VariantName"]: v for v in config["ProductionVariants"]}
    for variant in expected["ProductionVariants"]:
        deployed = variants.get(variant["VariantName"], {})
        for key in ("ModelName", "InstanceType", "InitialInstanceCount", "InitialVariantWeight"):
            verify.equal(deployed.get(key), variant.get(key), f"{what} variant {variant['VariantName']} {key}")
    verify.equal(config.get("KmsKeyId"), expected.get("KmsKeyId"), f"{what} KMS key")
    verify.equal(config.get("DataCaptureConfig") or None, expected.get("DataCaptureConfig"), f"{what} data capture")


def _endpoint(stack: DeployedStack, arn: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    endpoint = stack.client("sagemaker").describe_endpoint(EndpointName=arn.rsplit("/", 1)[-1])
    verify.equal(endpoint["EndpointStatus"], "InService", f"{what} status")
    verify.equal(
        endpoint["EndpointConfigName"], stack.resolve(properties["EndpointConfigName"]), f"{what} configuration"
    )


def _inference_component(
    stack: DeployedStack, arn: str, properties: dict[str, Any], verify: Verifier, what: str
) -> None:
    component = stack.client("sagemaker").describe_inference_component(InferenceComponentName=arn.rsplit("/", 1)[-1])
    expected = stack.resolve(properties)
    verify.equal(component["InferenceComponentStatus"], "InService", f"{what} status")
    for key in ("EndpointName", "VariantName", "Specification"):
        verify.equal(component.get(key), expected.get(key), f"{what} {key}")
    if "LastDeploymentConfig" in component:  # once an update has rolled out
        verify.equal(component["LastDeploymentConfig"], expected.get("DeploymentConfig"), f"{what} rolling update")


def _scalable_target(
    stack: DeployedStack, target_id: str, properties: dict[str, Any], verify: Verifier, what: str
) -> None:
    expected = stack.resolve(properties)
    targets = stack.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace=expected["ServiceNamespace"],
        ResourceIds=[expected["ResourceId"]],
        ScalableDimension=expected["ScalableDimension"],
    )["ScalableTargets"]
    verify.equal(len(targets), 1, f"{what} registered")
    if targets:
        verify.equal(
            (targets[0]["MinCapacity"], targets[0]["MaxCapacity"]),
            (expected["MinCapacity"], expected["MaxCapacity"]),
            f"{what} min and max",
        )
    actions = stack.client("application-autoscaling").describe_scheduled_actions(
        ServiceNamespace=expected["ServiceNamespace"], ResourceId=expected["ResourceId"]
    )["ScheduledActions"]
    deployed = {a["ScheduledActionName"]: (a["Schedule"], a.get("ScalableTargetAction")) for a in actions}
    for action in expected.get("ScheduledActions", []):
        wanted = (action["Schedule"], action.get("ScalableTargetAction"))
        verify.equal(
            deployed.get(action["ScheduledActionName"]),
            wanted,
            f"{what} scheduled action {action['ScheduledActionName']}",
        )


def _scaling_policy(stack: DeployedStack, arn: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    expected = stack.resolve(properties)
    resource_id, dimension, namespace = expected["ScalingTargetId"].split("|")
    policies = stack.client("application-autoscaling").describe_scaling_policies(
        ServiceNamespace=namespace,
        ResourceId=resource_id,
        ScalableDimension=dimension,
        PolicyNames=[expected["PolicyName"]],
    )["ScalingPolicies"]
    policy: dict[str, Any] = next((p for p in policies if p["PolicyName"] == expected["PolicyName"]), {})
    verify.equal(policy.get("PolicyARN"), arn, f"{what} ARN")
    verify.equal(policy.get("PolicyType"), expected["PolicyType"], f"{what} type")
    for key in ("TargetTrackingScalingPolicyConfiguration", "StepScalingPolicyConfiguration"):
        verify.equal(policy.get(key), expected.get(key), f"{what} {key}")


def _alarm(stack: DeployedStack, name: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    alarms = stack.client("cloudwatch").describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm"])["MetricAlarms"]
    verify.equal(len(alarms), 1, f"{what} exists")
    if alarms:
        expected = stack.resolve(properties)
        for key in (
            "Threshold",
            "ComparisonOperator",
            "EvaluationPeriods",
            "DatapointsToAlarm",
            "MetricName",
            "Namespace",
            "Statistic",
            "ExtendedStatistic",
            "Period",
            "TreatMissingData",
            "AlarmActions",
            "OKActions",
        ):
            if key in expected:
                verify.equal(alarms[0].get(key), expected[key], f"{what} {key}")


def _composite_alarm(stack: DeployedStack, name: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    alarms = stack.client("cloudwatch").describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm"])[
        "CompositeAlarms"
    ]
    verify.equal(len(alarms), 1, f"{what} exists")
    if alarms:
        expected = stack.resolve(properties)
        verify.equal(alarms[0].get("AlarmRule"), expected["AlarmRule"], f"{what} rule")
        verify.equal(alarms[0].get("AlarmActions", []), expected.get("AlarmActions", []), f"{what} actions")


def _dashboard(stack: DeployedStack, name: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    body = stack.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"]
    verify.equal(json.loads(body), json.loads(stack.resolve(properties["DashboardBody"])), f"{what} body")


def _rule(stack: DeployedStack, name: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    events = stack.client("events")
    rule = events.describe_rule(Name=name, EventBusName=properties.get("EventBusName", "default"))
    expected = stack.resolve(properties)
    verify.equal(rule.get("State"), expected.get("State", "ENABLED"), f"{what} state")
    verify.equal(rule.get("ScheduleExpression"), expected.get("ScheduleExpression"), f"{what} schedule")
    if "EventPattern" in expected:
        verify.equal(json.loads(rule["EventPattern"]), expected["EventPattern"], f"{what} event pattern")
    targets = {t["Id"]: t for t in events.list_targets_by_rule(Rule=name)["Targets"]}
    for target in expected.get("Targets", []):
        verify.equal(targets.get(target["Id"], {}).get("Arn"), target["Arn"], f"{what} target {target['Id']}")


def _budget(stack: DeployedStack, name: str, properties: dict[str, Any], verify: Verifier, what: str) -> None:
    budgets = stack.client("budgets")
    expected = stack.resolve(properties)
    data = expected["Budget"]
    budget = budgets.describe_budget(AccountId=ACCOUNT, BudgetName=name)["Budget"]
    for key in ("BudgetType", "TimeUnit", "CostFilters"):
        verify.equal(budget.get(key), data.get(key), f"{what} {key}")
    limit = budget["BudgetLimit"]
    verify.equal(
        (float(limit["Amount"]), limit["Unit"]),
        (float(data["BudgetLimit"]["Amount"]), data["BudgetLimit"]["Unit"]),
        f"{what} limit",
    )
    notifications = budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=name)["Notifications"]
    verify.equal(
        sorted((n["NotificationType"], n["ComparisonOperator"], float(n["Threshold"])) for n in notifications),
        sorted(
            (entry["NotificationType"], entry["ComparisonOperator"], float(entry["Threshold"]))
            for entry in (n["Notification"] for n in expected.get("NotificationsWithSubscribers", []))
        ),
        f"{what} notifications",
    )


_NOT_IN_DESCRIBE = frozenset({"Tags", "EndpointName", "JobDefinitionName"})
"""A job definition's properties that its Describe call does not answer: tags, the template's own EndpointName and
the name (the physical ID holds it)."""


def _monitoring_job_definition(
    stack: DeployedStack, arn: str, properties: dict[str, Any], verify: Verifier, what: str
) -> None:
    monitoring_type = "DataQuality" if ":data-quality-job-definition/" in arn else "ModelQuality"
    described = stack.monitoring_job_definition(monitoring_type, arn.rsplit("/", 1)[-1])
    for key, value in stack.resolve(properties).items():
        if key not in _NOT_IN_DESCRIBE:
            verify.equal(described.get(key), value, f"{what} {key}")


def _monitoring_schedule(
    stack: DeployedStack, arn: str, properties: dict[str, Any], verify: Verifier, what: str
) -> None:
    described = stack.client("sagemaker").describe_monitoring_schedule(MonitoringScheduleName=arn.rsplit("/", 1)[-1])
    verify.equal(described["MonitoringScheduleStatus"], "Scheduled", f"{what} status")
    verify.equal(
        described["MonitoringScheduleConfig"],
        stack.resolve(properties)["MonitoringScheduleConfig"],
        f"{what} job definition, type and schedule",
    )


TYPE_CHECKS: dict[str, Callable[[DeployedStack, str, dict[str, Any], Verifier, str], None]] = {
    "AWS::KMS::Key": _kms_key,
    "AWS::Budgets::Budget": _budget,
    "AWS::S3::Bucket": _bucket,
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::SNS::Topic": _topic,
    "AWS::SNS::TopicPolicy": _topic_policy,
    "AWS::SNS::Subscription": _subscription,
    "AWS::EC2::VPC": _vpc,
    "AWS::EC2::Subnet": _subnet,
    "AWS::EC2::RouteTable": _route_table,
    "AWS::EC2::SubnetRouteTableAssociation": _route_table_association,
    "AWS::EC2::SecurityGroupIngress": _security_group_rule,
    "AWS::EC2::SecurityGroupEgress": _security_group_rule,
    "AWS::EC2::VPCEndpoint": _vpc_endpoint,
    "AWS::EC2::FlowLog": _flow_log,
    "AWS::EC2::SecurityGroup": _security_group,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::IAM::Role": _role,
    "AWS::IAM::Policy": _inline_policy,
    "AWS::SageMaker::Pipeline": _pipeline,
    "AWS::SageMaker::ModelPackageGroup": _model_package_group,
    "AWS::SageMaker::Model": _model,
    "AWS::SageMaker::EndpointConfig": _endpoint_config,
    "AWS::SageMaker::Endpoint": _endpoint,
    "AWS::SageMaker::InferenceComponent": _inference_component,
    "AWS::SageMaker::DataQualityJobDefinition": _monitoring_job_definition,
    "AWS::SageMaker::ModelQualityJobDefinition": _monitoring_job_definition,
    "AWS::SageMaker::MonitoringSchedule": _monitoring_schedule,
    "AWS::ApplicationAutoScaling::ScalableTarget": _scalable_target,
    "AWS::ApplicationAutoScaling::ScalingPolicy": _scaling_policy,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::CompositeAlarm": _composite_alarm,
    "AWS::CloudWatch::Dashboard": _dashboard,
    "AWS::Events::Rule": _rule,
}


def verify(stack: DeployedStack, verify: Verifier) -> None:
    for logical_id, definition in stack.template_resources.items():
        check = TYPE_CHECKS.get(definition["Type"])
        if check is not None and stack.condition_holds(definition.get("Condition")) and logical_id in stack.resources:
            check(
                stack,
                stack.physical_id(logical_id),
                definition.get("Properties", {}),
                verify,
                f"{stack.name}: {logical_id}",
            )


def unchecked_types(stack: DeployedStack) -> set[str]:
    """Types of the stack that get existence checks only (the summary lists them)."""
    return {d["Type"] for d in stack.template_resources.values()} - TYPE_CHECKS.keys() - UNCHECKED
