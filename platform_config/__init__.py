"""Typed, validated configuration of the platform. Only app.py reads it from the CDK context.

The names below load on first use: ``mlp`` imports only ``platform_config.naming`` and ``platform_config.regions``,
and importing the config models with it (pydantic and the constructs' props) cost every ``mlp`` command about 0.35 s
before it did anything.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # The exported names for type checkers, as re-exports ("as" the same name).
    from platform_config.loader import CONTEXT_KEY as CONTEXT_KEY
    from platform_config.loader import ConfigError as ConfigError
    from platform_config.loader import PlatformConfig as PlatformConfig
    from platform_config.loader import RegionConfig as RegionConfig
    from platform_config.loader import load_platform_config as load_platform_config
    from platform_config.settings import Environment as Environment
    from platform_config.settings import RegionSettings as RegionSettings

_MODULE_OF = {
    "CONTEXT_KEY": "platform_config.loader",
    "ConfigError": "platform_config.loader",
    "PlatformConfig": "platform_config.loader",
    "RegionConfig": "platform_config.loader",
    "load_platform_config": "platform_config.loader",
    "Environment": "platform_config.settings",
    "RegionSettings": "platform_config.settings",
}

__all__ = [*_MODULE_OF]


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULE_OF[name]), name)
    globals()[name] = value
    return value
