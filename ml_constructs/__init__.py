"""Reusable L3 constructs of the ML platform.

Not named ``constructs``: a top-level package of that name would shadow the
``constructs`` library that aws-cdk-lib imports.
"""

from ml_constructs.alert_topic import AlertTopic
from ml_constructs.data_store import DataStore
from ml_constructs.endpoint_alarms import EndpointAlarms
from ml_constructs.model_endpoint import CapacitySchedule, ModelEndpoint
from ml_constructs.model_image import ModelImage
from ml_constructs.pipeline_notifications import PipelineNotifications
from ml_constructs.platform_dashboard import PlatformDashboard
from ml_constructs.private_network import PrivateNetwork
from ml_constructs.traffic_routing import TrafficRouting
from ml_constructs.training_pipeline import MetricDefinition, QualityGate, TrainingPipeline
from platform_contract.names import DataPrefix

__all__ = [
    "AlertTopic",
    "CapacitySchedule",
    "DataPrefix",
    "DataStore",
    "EndpointAlarms",
    "MetricDefinition",
    "ModelEndpoint",
    "ModelImage",
    "PipelineNotifications",
    "PlatformDashboard",
    "PrivateNetwork",
    "QualityGate",
    "TrafficRouting",
    "TrainingPipeline",
]
