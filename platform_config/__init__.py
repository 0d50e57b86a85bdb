"""Typed, validated configuration of the platform. Only app.py reads it from the CDK context."""

from platform_config.loader import CONTEXT_KEY, ConfigError, PlatformConfig, RegionConfig, load_platform_config
from platform_config.settings import Environment, RegionSettings

__all__ = [
    "CONTEXT_KEY",
    "ConfigError",
    "Environment",
    "PlatformConfig",
    "RegionConfig",
    "RegionSettings",
    "load_platform_config",
]
