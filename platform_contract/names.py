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
    TRACKING_SERVER_ARN = "TrackingServerArn"
    DATA_SCIENTIST_ROLE_ARN = "DataScientistRoleArn"
    APPROVER_ROLE_ARN = "ApproverRoleArn"
    OPERATOR_ROLE_ARN = "OperatorRoleArn"
    DOMAIN_ID = "DomainId"


class PipelineParameter(StrEnum):
    """Parameters of the training pipeline that an execution may set."""

    INPUT_DATA = "InputDataUri"
    TRAINING_INSTANCE_TYPE = "TrainingInstanceType"
    TRAINING_INSTANCE_COUNT = "TrainingInstanceCount"
    USE_SPOT_INSTANCES = "UseSpotInstances"
    QUALITY_THRESHOLD = "QualityThreshold"


class DataPrefix(StrEnum):
    """The documented layout of the data bucket. Roles are granted prefixes, never the whole bucket."""

    DATASETS = "datasets/"
    """Training, validation and test data, uploaded by people or upstream jobs."""
    RAW = "raw/"
    """Data as it arrives, before preparation turns it into data sets."""
    CHECKPOINTS = "checkpoints/"
    """Spot-training checkpoints that an interrupted job resumes from."""
    MODELS = "models/"
    """Trained model artifacts (model.tar.gz)."""
    EVALUATION = "evaluation/"
    """Batch-transform output and evaluation reports of candidate models."""
    CAPTURE = "capture/"
    """Requests and responses captured by the endpoints."""
    MLFLOW = "mlflow/"
    """The MLflow tracking server's artifact store: logged models and files of experiment runs."""


class MediaType(StrEnum):
    """Content types the model image reads and writes."""

    CSV = "text/csv"
    JSON = "application/json"


MEDIA_TYPE_BY_SUFFIX = {".csv": MediaType.CSV, ".json": MediaType.JSON}
"""How `mlp` tells a file's media type from its name."""
