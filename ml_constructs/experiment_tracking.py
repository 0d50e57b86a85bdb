"""The Region's experiment tracking: a SageMaker managed MLflow tracking server over the data bucket."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ml_constructs.compliance import acknowledge_inline_policy
from ml_constructs.data_store import DataStore
from ml_constructs.resource_names import synth_time_name
from ml_constructs.studio_props import (
    EXPERIMENT_HYPERPARAMETER,
    TRACKING_URI_HYPERPARAMETER,
    ExperimentTrackingProps,
)
from ml_constructs.wildcard_acknowledgment import acknowledge_wildcard_resources
from platform_contract.names import DataPrefix
from platform_contract.problems import raise_if_any

# The MLflow REST calls behind them (service prefix sagemaker-mlflow, Service Authorization Reference: "Actions,
# resources, and condition keys for Amazon SageMaker with MLflow"); each takes the tracking server as its resource.
MLFLOW_READ_ACTIONS = (
    "sagemaker-mlflow:AccessUI",
    "sagemaker-mlflow:GetExperiment",
    "sagemaker-mlflow:GetExperimentByName",
    "sagemaker-mlflow:SearchExperiments",
    "sagemaker-mlflow:GetRun",
    "sagemaker-mlflow:SearchRuns",
    "sagemaker-mlflow:GetMetricHistory",
    "sagemaker-mlflow:ListArtifacts",
)
MLFLOW_LOG_ACTIONS = (
    *MLFLOW_READ_ACTIONS,
    "sagemaker-mlflow:CreateExperiment",
    "sagemaker-mlflow:SetExperimentTag",
    "sagemaker-mlflow:CreateRun",
    "sagemaker-mlflow:UpdateRun",
    "sagemaker-mlflow:SetTag",
    "sagemaker-mlflow:LogParam",
    "sagemaker-mlflow:LogMetric",
    "sagemaker-mlflow:LogBatch",
    "sagemaker-mlflow:LogInputs",
)
__all__ = ["EXPERIMENT_HYPERPARAMETER", "TRACKING_URI_HYPERPARAMETER", "ExperimentTracking", "grant_experiment_logging"]
# What a person needs to open the tracking server's UI from Studio or the console.
_UI_ACTIONS = ("sagemaker:DescribeMlflowTrackingServer", "sagemaker:CreatePresignedMlflowTrackingServerUrl")


def tracking_server_arn(scope: Construct, name: str) -> str:
    """The ARN of the tracking server ``name`` in ``scope``'s account and Region: from the name, so that a stack
    that logs to it needs no reference to the stack that holds it."""
    return Stack.of(scope).format_arn(service="sagemaker", resource="mlflow-tracking-server", resource_name=name)


class ExperimentTracking(Construct):
    """An MLflow tracking server whose artifact store is the ``mlflow/`` prefix of the Region's bucket (encrypted
    with the Region's key through S3), with a role that reaches that prefix only.

    State: the server holds every run's parameters and metrics, so it is retained when removed from its stack and
    belongs in the Region's stateful stack. Its name is static (CloudFormation's import of an existing server goes
    by its name, the type's primary identifier).

    :param data_store: the bucket and key of the artifact store. Required.
    :param props: size, version and maintenance window; see ``ExperimentTrackingProps``. Default: its defaults.
    :param removal_policy: Default: RETAIN.

    Raises ``InvalidInput`` once, with every problem of the props, each keyed by its field.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data_store: DataStore,
        props: ExperimentTrackingProps = ExperimentTrackingProps(),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        name, name_problems = synth_time_name(
            self,
            props.tracking_server_name,
            "mlflow",
            "tracking_server_name",
            lambda default: ExperimentTrackingProps(tracking_server_name=default).problems(),
        )
        raise_if_any(f"ExperimentTracking {self.node.path}", props.problems() + name_problems)
        self.tracking_server_name = name
        self.artifact_store_uri = data_store.prefix_uri(DataPrefix.MLFLOW)

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"MLflow tracking server {name}: its artifact store under {DataPrefix.MLFLOW.value}",
        )
        data_store.grant_read_write(self.role, DataPrefix.MLFLOW)
        acknowledge_inline_policy(self.role)
        acknowledge_wildcard_resources(
            self.role,
            {
                f"/{DataPrefix.MLFLOW.value}*": "The artifact store's objects only; MLflow names them per experiment "
                "and run."
            },
        )
        self.server = sagemaker.CfnMlflowTrackingServer(
            self,
            "Resource",
            tracking_server_name=name,
            artifact_store_uri=self.artifact_store_uri,
            role_arn=self.role.role_arn,
            tracking_server_size=props.tracking_server_size,
            mlflow_version=props.mlflow_version,
            weekly_maintenance_window_start=props.weekly_maintenance_window_start,
            automatic_model_registration=props.automatic_model_registration,
        )
        self.server.apply_removal_policy(removal_policy)
        # The server checks its role when it is created.
        self.server.node.add_dependency(self.role)
        self.tracking_server_arn = tracking_server_arn(self, name)
        """What MLflow clients use as their tracking URI (with the sagemaker-mlflow plugin)."""

    def grant_log(self, grantee: iam.IGrantable, data_store: DataStore) -> iam.Grant:
        """Lets ``grantee`` create experiments and runs and log parameters, metrics and artifacts."""
        return grant_experiment_logging(grantee, self.tracking_server_arn, data_store)

    def grant_read(self, grantee: iam.IGrantable, data_store: DataStore) -> iam.Grant:
        """Lets ``grantee`` browse experiments, runs and artifacts, in the MLflow UI too."""
        data_store.grant_read(grantee, DataPrefix.MLFLOW)
        iam.Grant.add_to_principal(grantee=grantee, actions=list(_UI_ACTIONS), resource_arns=[self.tracking_server_arn])
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=list(MLFLOW_READ_ACTIONS), resource_arns=[self.tracking_server_arn]
        )


def grant_experiment_logging(grantee: iam.IGrantable, server_arn: str, data_store: DataStore) -> iam.Grant:
    """Lets ``grantee`` log to the tracking server ``server_arn``: the MLflow calls, and the artifact store, which
    MLflow clients write to directly. A role with other wildcard acknowledgments gets the artifact store's too."""
    data_store.grant_read_write(grantee, DataPrefix.MLFLOW)
    if isinstance(grantee, iam.Role):
        acknowledge_wildcard_resources(
            grantee,
            {
                f"/{DataPrefix.MLFLOW.value}*": "The tracking server's artifact store only; MLflow names its objects "
                "per experiment and run."
            },
        )
    return iam.Grant.add_to_principal(grantee=grantee, actions=list(MLFLOW_LOG_ACTIONS), resource_arns=[server_arn])
