"""Names shared by the stacks that create things and the tools that find them."""

from __future__ import annotations

from enum import StrEnum


class StackId(StrEnum):
    """The stacks of one Region's stage; `<stage>-<id>` is the CloudFormation stack name."""

    DATA = "Data"
    NETWORK = "Network"
    TRAINING = "Training"
    SERVING = "Serving"
    STUDIO = "Studio"


class Output(StrEnum):
    """Stack outputs. Tools find the Region's resources through these, never through guessed names."""

    DATA_BUCKET_NAME = "DataBucketName"
    KEY_ARN = "KeyArn"
    ALERT_TOPIC_ARN = "AlertTopicArn"
    PIPELINE_NAME = "PipelineName"
    MODEL_PACKAGE_GROUP_NAME = "ModelPackageGroupName"
    EXECUTION_ROLE_ARN = "ExecutionRoleArn"
    MODEL_IMAGE_URI = "ModelImageUri"
    ENDPOINT_NAME = "EndpointName"
    ENDPOINT_CONFIG_NAME = "EndpointConfigName"
    VARIANT_NAME = "VariantName"
    DASHBOARD_NAME = "DashboardName"
    BUDGET_NAME = "BudgetName"
    MONITORING_SCHEDULE_NAMES = "MonitoringScheduleNames"
    """The endpoint's monitoring schedules, comma-separated."""
    MONITORING_ALARM_NAMES = "MonitoringAlarmNames"
    """The drift and model-quality alarms, comma-separated."""
    MODEL_QUALITY_PROBLEM_TYPE = "ModelQualityProblemType"
    """What the model-quality monitor holds the labels to (a ``ProblemType``); absent without model quality."""
    GROUND_TRUTH_URI = "GroundTruthUri"
    """Where ``mlp ground-truth upload`` puts labels: the model-quality job's ground-truth input."""
    TRACKING_SERVER_ARN = "TrackingServerArn"
    DATA_SCIENTIST_ROLE_ARN = "DataScientistRoleArn"
    APPROVER_ROLE_ARN = "ApproverRoleArn"
    OPERATOR_ROLE_ARN = "OperatorRoleArn"
    DOMAIN_ID = "DomainId"


class PipelineParameter(StrEnum):
    """Parameters of the training pipeline that an execution may set."""

    INPUT_DATA = "InputDataUri"
    """A split dataset's folder under datasets/ (ending in /); empty (the default with preparation): prepare one."""
    RAW_DATASET = "RawDataset"
    """The folder under raw/ that the Prepare step reads; default: the configured dataset."""
    TRAINING_INSTANCE_TYPE = "TrainingInstanceType"
    TRAINING_INSTANCE_COUNT = "TrainingInstanceCount"
    USE_SPOT_INSTANCES = "UseSpotInstances"
    QUALITY_THRESHOLD = "QualityThreshold"


class ProblemType(StrEnum):
    """Model Monitor's problem types the model-quality monitor uses, and so the labels it accepts."""

    BINARY_CLASSIFICATION = "BinaryClassification"
    """Labels 0 or 1."""
    REGRESSION = "Regression"
    """Labels are numbers."""


class DataPrefix(StrEnum):
    """The documented layout of the data bucket. Roles are granted prefixes, never the whole bucket."""

    RAW = "raw/"
    """Raw datasets, one folder each (CSV with a header row, or Parquet), that the Prepare step reads."""
    DATASETS = "datasets/"
    """Split datasets (train/, validation/, test/, test-labels/): the Prepare step's, per execution, or uploaded."""
    CHECKPOINTS = "checkpoints/"
    """Spot-training checkpoints that an interrupted job resumes from."""
    MODELS = "models/"
    """Trained model artifacts (model.tar.gz)."""
    EVALUATION = "evaluation/"
    """Batch-transform output and evaluation reports of candidate models."""
    BASELINE = "baseline/"
    """Model Monitor baselines (statistics.json, constraints.json) of prepared datasets, per execution."""
    CAPTURE = "capture/"
    """Requests and responses captured by the endpoints."""
    GROUND_TRUTH = "ground-truth/"
    """Labels of captured requests, ``<endpoint>/yyyy/mm/dd/hh/*.jsonl``, uploaded with ``mlp ground-truth upload``."""
    MONITORING = "monitoring/"
    """Reports of the monitoring executions: statistics and constraint violations per endpoint and monitor."""
    MLFLOW = "mlflow/"
    """The MLflow tracking server's artifact store: logged models and files of experiment runs."""


class MonitoringMetric(StrEnum):
    """Where the monitors' metrics are: SageMaker publishes what a monitoring container writes into the namespace
    of its monitoring type, with the dimensions ``Endpoint`` and ``MonitoringSchedule``."""

    DATA_QUALITY_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
    MODEL_QUALITY_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
    DRIFT_PREFIX = "feature_baseline_drift_"
    """``<prefix><feature>``: the distance of a feature's distribution from its baseline (0 same, 1 disjoint)."""


class MediaType(StrEnum):
    """Content types the model image reads and writes."""

    CSV = "text/csv"
    JSON = "application/json"


MEDIA_TYPE_BY_SUFFIX = {".csv": MediaType.CSV, ".json": MediaType.JSON}
"""How `mlp` tells a file's media type from its name."""


PLATFORM_TAG_KEY = "ml-platform-stage"
"""The cost-allocation tag every resource of a Region carries; its value is the Region's stage name
(``platform_config.naming.stage_name``). The Region's budget and ``mlp cost`` select the Region's costs by it, once
it is activated as a cost-allocation tag in the Billing console."""
