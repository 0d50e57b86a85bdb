"""Reusable L3 constructs of the ML platform.

Not named ``constructs``: a top-level package of that name would shadow the ``constructs`` library that aws-cdk-lib
imports.

Exports load on first use: the props modules are standard library only, so that the config (and ``mlp`` through it)
can read their defaults and rules without starting aws-cdk-lib's jsii runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "AlertTopic": "ml_constructs.alert_topic",
    "ContainerImage": "ml_constructs.container_image",
    "DataPrefix": "platform_contract.names",
    "DataStore": "ml_constructs.data_store",
    "EndpointAlarms": "ml_constructs.endpoint_alarms",
    "EndpointAlarmsProps": "ml_constructs.endpoint_alarms_props",
    "IDataStore": "ml_constructs.data_store",
    "ExperimentTracking": "ml_constructs.experiment_tracking",
    "ExperimentTrackingProps": "ml_constructs.studio_props",
    "MetricDefinition": "ml_constructs.training_pipeline_props",
    "ModelEndpoint": "ml_constructs.model_endpoint",
    "ModelEndpointProps": "ml_constructs.model_endpoint_props",
    "ModelMonitoring": "ml_constructs.model_monitoring",
    "ModelMonitoringProps": "ml_constructs.model_monitoring_props",
    "ModelRegistry": "ml_constructs.model_registry",
    "Personas": "ml_constructs.personas",
    "PipelineNotifications": "ml_constructs.pipeline_notifications",
    "PlatformDashboard": "ml_constructs.platform_dashboard",
    "PrivateNetwork": "ml_constructs.private_network",
    "QualityGate": "ml_constructs.training_pipeline_props",
    "RegionBudget": "ml_constructs.region_budget",
    "RegionBudgetProps": "ml_constructs.region_budget_props",
    "ScheduledCapacity": "ml_constructs.model_endpoint_props",
    "TrafficShifting": "ml_constructs.traffic_shifting",
    "StudioDomain": "ml_constructs.studio_domain",
    "StudioDomainProps": "ml_constructs.studio_props",
    "TrainingPipeline": "ml_constructs.training_pipeline",
    "TrainingPipelineProps": "ml_constructs.training_pipeline_props",
}
__all__ = [
    "AlertTopic",
    "ContainerImage",
    "DataPrefix",
    "DataStore",
    "EndpointAlarms",
    "EndpointAlarmsProps",
    "ExperimentTracking",
    "ExperimentTrackingProps",
    "IDataStore",
    "MetricDefinition",
    "ModelEndpoint",
    "ModelEndpointProps",
    "ModelMonitoring",
    "ModelMonitoringProps",
    "ModelRegistry",
    "Personas",
    "PipelineNotifications",
    "PlatformDashboard",
    "PrivateNetwork",
    "QualityGate",
    "RegionBudget",
    "RegionBudgetProps",
    "ScheduledCapacity",
    "StudioDomain",
    "StudioDomainProps",
    "TrafficShifting",
    "TrainingPipeline",
    "TrainingPipelineProps",
]

if TYPE_CHECKING:
    from ml_constructs.alert_topic import AlertTopic
    from ml_constructs.container_image import ContainerImage
    from ml_constructs.data_store import DataStore, IDataStore
    from ml_constructs.endpoint_alarms import EndpointAlarms
    from ml_constructs.endpoint_alarms_props import EndpointAlarmsProps
    from ml_constructs.experiment_tracking import ExperimentTracking
    from ml_constructs.model_endpoint import ModelEndpoint
    from ml_constructs.model_endpoint_props import ModelEndpointProps, ScheduledCapacity
    from ml_constructs.model_monitoring import ModelMonitoring
    from ml_constructs.model_monitoring_props import ModelMonitoringProps
    from ml_constructs.model_registry import ModelRegistry
    from ml_constructs.personas import Personas
    from ml_constructs.pipeline_notifications import PipelineNotifications
    from ml_constructs.platform_dashboard import PlatformDashboard
    from ml_constructs.private_network import PrivateNetwork
    from ml_constructs.region_budget import RegionBudget
    from ml_constructs.region_budget_props import RegionBudgetProps
    from ml_constructs.studio_domain import StudioDomain
    from ml_constructs.studio_props import ExperimentTrackingProps, StudioDomainProps
    from ml_constructs.traffic_shifting import TrafficShifting
    from ml_constructs.training_pipeline import TrainingPipeline
    from ml_constructs.training_pipeline_props import MetricDefinition, QualityGate, TrainingPipelineProps
    from platform_contract.names import DataPrefix


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ml_constructs' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
