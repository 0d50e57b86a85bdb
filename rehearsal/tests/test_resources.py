"""Every type the extension registers is created, updated and deleted for real, in moto's own backends."""

from __future__ import annotations

import json

from rehearsal.tests.support import REGION, Stacks

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/any"


def _definition(threshold: float) -> str:
    return json.dumps(
        {"Version": "2020-12-01", "Steps": [{"Name": "Gate", "Type": "Fail", "Arguments": {"Threshold": threshold}}]}
    )


def test_sagemaker_pipeline(stacks: Stacks) -> None:
    name, pipeline = stacks.unique_name(), stacks.unique_name("pipeline")

    def resources(threshold: float) -> dict:
        return {
            "Pipeline": {
                "Type": "AWS::SageMaker::Pipeline",
                "Properties": {
                    "PipelineName": pipeline,
                    "RoleArn": ROLE,
                    "PipelineDefinition": {"PipelineDefinitionBody": _definition(threshold)},
                },
            }
        }

    assert stacks.deploy(name, resources(0.75))["StackStatus"] == "CREATE_COMPLETE"
    sagemaker = stacks.client("sagemaker")
    assert stacks.physical_ids(name)["Pipeline"] == pipeline
    assert sagemaker.describe_pipeline(PipelineName=pipeline)["PipelineDefinition"] == _definition(0.75)
    assert stacks.backed(name) == {"Pipeline": True}

    assert stacks.deploy(name, resources(0.8))["StackStatus"] == "UPDATE_COMPLETE"
    assert sagemaker.describe_pipeline(PipelineName=pipeline)["PipelineDefinition"] == _definition(0.8)

    assert stacks.delete(name) == "DELETE_COMPLETE"
    assert pipeline not in [p["PipelineName"] for p in sagemaker.list_pipelines()["PipelineSummaries"]]


def test_sagemaker_model_package_group(stacks: Stacks) -> None:
    name, group = stacks.unique_name(), stacks.unique_name("models")
    stacks.deploy(
        name,
        {
            "Group": {
                "Type": "AWS::SageMaker::ModelPackageGroup",
                "Properties": {
                    "ModelPackageGroupName": group,
                    "ModelPackageGroupDescription": "candidates",
                },
            }
        },
        Outputs={"Arn": {"Value": {"Fn::GetAtt": ["Group", "ModelPackageGroupArn"]}}},
    )
    described = stacks.client("sagemaker").describe_model_package_group(ModelPackageGroupName=group)
    assert described["ModelPackageGroupDescription"] == "candidates"
    assert stacks.physical_ids(name)["Group"] == described["ModelPackageGroupArn"]
    assert stacks.backed(name) == {"Group": True}
    stacks.delete(name)
    assert group not in str(stacks.client("sagemaker").list_model_package_groups())


VARIANT = "endpoint/serving/variant/AllTraffic"


def _scalable_target(max_capacity: int, schedule: str) -> dict:
    return {
        "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
        "Properties": {
            "ServiceNamespace": "sagemaker",
            "ResourceId": VARIANT,
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
            "MinCapacity": 1,
            "MaxCapacity": max_capacity,
            "RoleARN": ROLE,
            "ScheduledActions": [
                {
                    "ScheduledActionName": "night",
                    "Schedule": schedule,
                    "ScalableTargetAction": {"MinCapacity": 1, "MaxCapacity": 2},
                }
            ],
        },
    }


def _scaling_policy(target_value: float) -> dict:
    return {
        "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
        "Properties": {
            "PolicyName": "invocations",
            "PolicyType": "TargetTrackingScaling",
            "ScalingTargetId": {"Ref": "Target"},
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": target_value,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
            },
        },
    }


def test_application_autoscaling_target_and_policy(stacks: Stacks) -> None:
    name = stacks.unique_name()
    autoscaling = stacks.client("application-autoscaling")
    # Other tests register targets of their own in the shared emulator.
    scope = {"ServiceNamespace": "sagemaker", "ResourceIds": [VARIANT]}
    stacks.deploy(name, {"Target": _scalable_target(4, "cron(0 20 * * ? *)"), "Policy": _scaling_policy(100.0)})
    ids = stacks.physical_ids(name)
    assert ids["Target"] == "endpoint/serving/variant/AllTraffic|sagemaker:variant:DesiredInstanceCount|sagemaker"
    target = autoscaling.describe_scalable_targets(**scope)["ScalableTargets"][0]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 4)
    actions = autoscaling.describe_scheduled_actions(ServiceNamespace="sagemaker", ResourceId=VARIANT)[
        "ScheduledActions"
    ]
    assert [(a["ScheduledActionName"], a["Schedule"]) for a in actions] == [("night", "cron(0 20 * * ? *)")]
    policy = autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=VARIANT)["ScalingPolicies"][
        0
    ]
    assert policy["PolicyARN"] == ids["Policy"]
    assert stacks.backed(name) == {"Target": True, "Policy": True}

    stacks.deploy(name, {"Target": _scalable_target(6, "cron(0 21 * * ? *)"), "Policy": _scaling_policy(120.0)})
    target = autoscaling.describe_scalable_targets(**scope)["ScalableTargets"][0]
    assert target["MaxCapacity"] == 6
    actions = autoscaling.describe_scheduled_actions(ServiceNamespace="sagemaker", ResourceId=VARIANT)[
        "ScheduledActions"
    ]
    assert [a["Schedule"] for a in actions] == ["cron(0 21 * * ? *)"]
    policy = autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=VARIANT)["ScalingPolicies"][
        0
    ]
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 120.0
    assert policy["PolicyARN"] == ids["Policy"], "an in-place update keeps the policy's ARN"

    stacks.delete(name)
    assert autoscaling.describe_scalable_targets(**scope)["ScalableTargets"] == []
    assert (
        autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=VARIANT)["ScalingPolicies"] == []
    )


def test_cloudwatch_metric_and_composite_alarms(stacks: Stacks) -> None:
    name = stacks.unique_name()
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"

    def resources(threshold: float) -> dict:
        return {
            "Latency": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "Namespace": "AWS/SageMaker",
                    "MetricName": "ModelLatency",
                    "ExtendedStatistic": "p99",
                    "Period": 60,
                    "EvaluationPeriods": 5,
                    "DatapointsToAlarm": 3,
                    "Threshold": threshold,
                    "ComparisonOperator": "GreaterThanThreshold",
                    "AlarmActions": [topic],
                    "Dimensions": [{"Name": "EndpointName", "Value": "serving"}],
                },
            },
            "ErrorRate": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "EvaluationPeriods": 5,
                    "Threshold": 1,
                    "ComparisonOperator": "GreaterThanThreshold",
                    "AlarmActions": [topic],
                    "Metrics": [
                        {"Id": "rate", "Expression": "100 * errors / invocations", "ReturnData": True},
                        {
                            "Id": "errors",
                            "ReturnData": False,
                            "MetricStat": {
                                "Metric": {"Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors"},
                                "Period": 60,
                                "Stat": "Sum",
                            },
                        },
                        {
                            "Id": "invocations",
                            "ReturnData": False,
                            "MetricStat": {
                                "Metric": {"Namespace": "AWS/SageMaker", "MetricName": "Invocations"},
                                "Period": 60,
                                "Stat": "Sum",
                            },
                        },
                    ],
                },
            },
            "Health": {
                "Type": "AWS::CloudWatch::CompositeAlarm",
                "Properties": {
                    "AlarmRule": {
                        "Fn::Join": ["", ["ALARM(", {"Ref": "Latency"}, ") OR ALARM(", {"Ref": "ErrorRate"}, ")"]]
                    },
                    "AlarmActions": [topic],
                },
            },
        }

    stacks.deploy(name, resources(250))
    ids = stacks.physical_ids(name)
    cloudwatch = stacks.client("cloudwatch")
    alarms = cloudwatch.describe_alarms(AlarmNames=list(ids.values()), AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    metric = {a["AlarmName"]: a for a in alarms["MetricAlarms"]}
    assert metric[ids["Latency"]]["Threshold"] == 250
    assert metric[ids["Latency"]]["AlarmActions"] == [topic]
    assert [m["Id"] for m in metric[ids["ErrorRate"]]["Metrics"]] == ["rate", "errors", "invocations"]
    composite = alarms["CompositeAlarms"][0]
    assert composite["AlarmRule"] == f"ALARM({ids['Latency']}) OR ALARM({ids['ErrorRate']})"
    assert stacks.backed(name) == {"Latency": True, "ErrorRate": True, "Health": True}

    stacks.deploy(name, resources(500))
    assert cloudwatch.describe_alarms(AlarmNames=[ids["Latency"]])["MetricAlarms"][0]["Threshold"] == 500

    stacks.delete(name)
    assert cloudwatch.describe_alarms(AlarmNames=list(ids.values()))["MetricAlarms"] == []


def test_s3_bucket_policy(stacks: Stacks) -> None:
    name = stacks.unique_name()
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": [
                    {"Fn::GetAtt": ["Bucket", "Arn"]},
                    {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]},
                ],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    stacks.deploy(
        name,
        {
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Policy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": policy},
            },
        },
    )
    bucket = stacks.physical_ids(name)["Bucket"]
    deployed = json.loads(stacks.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    assert deployed["Statement"][0]["Resource"] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    assert stacks.backed(name) == {"Policy": True}
    stacks.delete(name)
    assert bucket not in [b["Name"] for b in stacks.client("s3").list_buckets()["Buckets"]]


def test_sns_subscription_and_topic_policy(stacks: Stacks) -> None:
    name = stacks.unique_name()

    def policy(sid: str) -> dict:
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": {"Ref": "Topic"},
                }
            ],
        }

    def resources(sid: str) -> dict:
        return {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Pager": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": "email", "Endpoint": "oncall@example.com"},
            },
            "Policy": {
                "Type": "AWS::SNS::TopicPolicy",
                "Properties": {"Topics": [{"Ref": "Topic"}], "PolicyDocument": policy(sid)},
            },
        }

    stacks.deploy(name, resources("Alarms"))
    ids, sns = stacks.physical_ids(name), stacks.client("sns")
    subscription = sns.get_subscription_attributes(SubscriptionArn=ids["Pager"])["Attributes"]
    assert (subscription["TopicArn"], subscription["Endpoint"]) == (ids["Topic"], "oncall@example.com")
    topic_policy = json.loads(sns.get_topic_attributes(TopicArn=ids["Topic"])["Attributes"]["Policy"])
    assert topic_policy["Statement"][0]["Sid"] == "Alarms"
    assert stacks.backed(name) == {"Pager": True, "Policy": True}

    stacks.deploy(name, resources("Events"))
    topic_policy = json.loads(sns.get_topic_attributes(TopicArn=ids["Topic"])["Attributes"]["Policy"])
    assert topic_policy["Statement"][0]["Sid"] == "Events"

    stacks.delete(name)
    assert ids["Pager"] not in str(sns.list_subscriptions())


def test_security_group_rules_without_ports_and_egress(stacks: Stacks) -> None:
    name = stacks.unique_name()
    group = {"Fn::GetAtt": ["Group", "GroupId"]}
    stacks.deploy(
        name,
        {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.9.0.0/16"}},
            "Group": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": "jobs", "VpcId": {"Ref": "Vpc"}},
            },
            "EspIn": {
                "Type": "AWS::EC2::SecurityGroupIngress",
                "Properties": {"GroupId": group, "IpProtocol": "50", "SourceSecurityGroupId": group},
            },
            "EspOut": {
                "Type": "AWS::EC2::SecurityGroupEgress",
                "Properties": {"GroupId": group, "IpProtocol": "50", "DestinationSecurityGroupId": group},
            },
            "TcpIn": {
                "Type": "AWS::EC2::SecurityGroupIngress",
                "Properties": {
                    "GroupId": group,
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "CidrIp": "10.9.0.0/16",
                },
            },
        },
    )
    ids, ec2 = stacks.physical_ids(name), stacks.client("ec2")
    rules = ec2.describe_security_group_rules(SecurityGroupRuleIds=[ids["EspIn"], ids["EspOut"], ids["TcpIn"]])[
        "SecurityGroupRules"
    ]
    by_id = {rule["SecurityGroupRuleId"]: rule for rule in rules}
    assert (by_id[ids["EspIn"]]["IpProtocol"], by_id[ids["EspIn"]]["IsEgress"]) == ("50", False)
    assert (by_id[ids["EspOut"]]["IpProtocol"], by_id[ids["EspOut"]]["IsEgress"]) == ("50", True)
    assert by_id[ids["TcpIn"]]["CidrIpv4"] == "10.9.0.0/16"
    assert stacks.backed(name) == {"EspIn": True, "EspOut": True, "TcpIn": True}
    assert stacks.delete(name) == "DELETE_COMPLETE"


def test_cdk_metadata_is_recorded_as_a_no_op(stacks: Stacks) -> None:
    name = stacks.unique_name()
    stacks.deploy(
        name, {"CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2:deflate64:abc"}}}
    )
    assert stacks.physical_ids(name)["CDKMetadata"]
    entry = next(e for e in stacks.emulator.inventory()["resources"] if e["stack"] == name)
    assert entry["backing"].startswith("none")


def test_each_registered_type_has_its_test_here(stacks: Stacks) -> None:
    assert set(stacks.emulator.inventory()["registeredTypes"]) == {
        "AWS::SageMaker::Pipeline",
        "AWS::SageMaker::ModelPackageGroup",
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::CompositeAlarm",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::Subscription",
        "AWS::SNS::TopicPolicy",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::CDK::Metadata",
        # Their tests are in test_monitoring_resources.py.
        "AWS::SageMaker::DataQualityJobDefinition",
        "AWS::SageMaker::ModelQualityJobDefinition",
        "AWS::SageMaker::MonitoringSchedule",
        "AWS::Budgets::Budget",  # rehearsal/tests/test_budgets.py
        # Tested in test_studio_resources.py.
        "AWS::SageMaker::Domain",
        "AWS::SageMaker::UserProfile",
        "AWS::SageMaker::MlflowTrackingServer",
        "AWS::SageMaker::InferenceComponent",  # test_inference_components.py
    }
