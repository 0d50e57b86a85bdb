"""Reusable L3 constructs of the ML platform.

Not named ``constructs``: a top-level package of that name would shadow the
``constructs`` library that aws-cdk-lib imports.
"""

from ml_constructs.alert_topic import AlertTopic
from ml_constructs.data_store import DataPrefix, DataStore
from ml_constructs.model_image import ModelImage
from ml_constructs.private_network import PrivateNetwork

__all__ = ["AlertTopic", "DataPrefix", "DataStore", "ModelImage", "PrivateNetwork"]
