"""Builds the validated platform config from CDK context.

The config lives under the ``platform`` key of cdk.json's context. Any value can
be overridden on the command line with a dotted path, where a Region's entry is
addressed by its name::

    npx cdk synth -c platform.environment=prod
    npx cdk synth -c platform.regions.eu-west-1.serving.max_capacity=8

Override values that are JSON objects, lists or ``null`` are read as JSON;
anything else stays a string and is converted to the setting's type by
validation (so an account ID keeps its leading zeros).

Every problem is collected and reported at once, each naming its key path, the
value found and what is allowed, before any construct exists.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from platform_config.regions import COMMERCIAL_REGIONS, availability_zone_belongs_to
from platform_config.settings import Environment, RegionSettings, environment_presets

CONTEXT_KEY = "platform"
_OVERRIDE_PREFIX = CONTEXT_KEY + "."
_REGION_IDENTITY_KEYS = ("region", "availability_zones")
_TOP_LEVEL_KEYS = ("account", "environment", "defaults", "regions")


class ConfigError(ValueError):
    """The platform config is invalid; ``problems`` lists every finding."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"Invalid platform config ({len(problems)} problem(s)); nothing was synthesized:\n{lines}")


class RegionConfig(BaseModel):
    """The effective settings of one Region: defaults, environment preset and overrides merged."""

    model_config = ConfigDict(frozen=True)

    region: str
    availability_zones: tuple[str, ...]
    environment: Environment
    account: str | None
    settings: RegionSettings

    @property
    def is_prod(self) -> bool:
        return self.environment == Environment.PROD


class PlatformConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    account: str | None
    environment: Environment
    regions: tuple[RegionConfig, ...] = Field(min_length=1)


def load_platform_config(context: Mapping[str, Any]) -> PlatformConfig:
    """Validates the ``platform`` context (with command-line overrides applied) or raises ConfigError."""
    problems: list[str] = []
    document = _read_document(context, problems)
    if document is None:
        raise ConfigError(problems)

    unknown = sorted(set(document) - set(_TOP_LEVEL_KEYS))
    problems += [f"{key}: unknown key; allowed: {', '.join(_TOP_LEVEL_KEYS)}" for key in unknown]

    account = document.get("account")
    if account is not None and not (isinstance(account, str) and account.isdigit() and len(account) == 12):
        problems.append(
            f"account: {account!r} is not allowed; allowed: a 12-digit AWS account ID, or null for offline synth"
        )

    environment_value = document.get("environment", "dev")
    try:
        environment = Environment(environment_value)
    except ValueError:
        problems.append(f"environment: {environment_value!r} is not allowed; allowed: dev, prod")
        environment = Environment.DEV

    defaults = document.get("defaults", {})
    if not isinstance(defaults, dict):
        problems.append(f"defaults: {defaults!r} is not allowed; allowed: an object of Region settings")
        defaults = {}

    entries = document.get("regions")
    if not isinstance(entries, list) or not entries:
        problems.append(f"regions: {entries!r} is not allowed; allowed: a non-empty list of Region entries")
        entries = []

    regions = []
    reported: set[str] = set()
    seen_regions: dict[str, int] = {}
    for index, entry in enumerate(entries):
        region_config = _region_config(index, entry, defaults, environment, account, seen_regions, problems, reported)
        if region_config is not None:
            regions.append(region_config)

    if problems:
        raise ConfigError(problems)
    return PlatformConfig(account=account, environment=environment, regions=tuple(regions))


def _read_document(context: Mapping[str, Any], problems: list[str]) -> dict | None:
    document = _decode(context.get(CONTEXT_KEY))
    if not isinstance(document, dict):
        problems.append(f"{CONTEXT_KEY}: missing or not an object in the CDK context (cdk.json); allowed: an object")
        return None
    document = copy.deepcopy(document)
    for key in sorted(key for key in context if key.startswith(_OVERRIDE_PREFIX)):
        _apply_override(document, key, _decode(context[key]), problems)
    return document


def _decode(value: Any) -> Any:
    """Command-line context values arrive as strings; objects, lists and null get their structure back."""
    if not isinstance(value, str) or not (value.lstrip().startswith(("{", "[")) or value.strip() == "null"):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _apply_override(document: dict, key: str, value: Any, problems: list[str]) -> None:
    *parents, leaf = key[len(_OVERRIDE_PREFIX) :].split(".")
    node: Any = document
    for segment in parents:
        if isinstance(node, list):
            node = _region_entry(node, segment)
            if node is None:
                problems.append(f"-c {key}: no Region '{segment}' is configured; allowed: a configured Region's name")
                return
        elif isinstance(node, dict):
            node = node.setdefault(segment, {})
        if not isinstance(node, (dict, list)):
            problems.append(f"-c {key}: '{segment}' holds a value, not an object; allowed: a path to a setting")
            return
    if isinstance(node, list):
        problems.append(f"-c {key}: a Region entry cannot be replaced whole; allowed: a path to one of its settings")
        return
    node[leaf] = value


def _region_entry(entries: list, name: str) -> dict | None:
    return next((entry for entry in entries if isinstance(entry, dict) and entry.get("region") == name), None)


def _region_config(
    index: int,
    entry: Any,
    defaults: dict,
    environment: Environment,
    account: str | None,
    seen_regions: dict[str, int],
    problems: list[str],
    reported: set[str],
) -> RegionConfig | None:
    where = f"regions[{index}]"
    if not isinstance(entry, dict):
        problems.append(f"{where}: {entry!r} is not allowed; allowed: an object with region and availability_zones")
        return None

    region = entry.get("region")
    if region not in COMMERCIAL_REGIONS:
        problems.append(f"{where}.region: {region!r} is not a known AWS Region; allowed: e.g. eu-west-1, us-east-1")
        return None
    where = f"regions[{index}] ({region})"
    if region in seen_regions:
        problems.append(
            f"{where}.region: {region} is listed twice (also "
            f"regions[{seen_regions[region]}]); allowed: each Region once"
        )
    seen_regions.setdefault(region, index)

    zones = entry.get("availability_zones")
    zones_ok = isinstance(zones, list) and all(isinstance(zone, str) for zone in zones)
    if not zones_ok or len(zones) < 2:
        problems.append(
            f"{where}.availability_zones: {zones!r} is not allowed; allowed: a list of at least 2 zones of {region}, "
            f'e.g. ["{region}a", "{region}b"]'
        )
    else:
        problems += [
            f"{where}.availability_zones: '{zone}' is not an Availability Zone "
            f"of {region}; allowed: {region}a, {region}b, …"
            for zone in zones
            if not availability_zone_belongs_to(zone, region)
        ]
        duplicates = sorted({zone for zone in zones if zones.count(zone) > 1})
        if duplicates:
            problems.append(
                f"{where}.availability_zones: {', '.join(duplicates)} listed twice; allowed: each zone once"
            )

    overrides = {key: value for key, value in entry.items() if key not in _REGION_IDENTITY_KEYS}
    merged = _deep_merge(_deep_merge(environment_presets[environment], defaults), overrides)
    try:
        settings = RegionSettings.model_validate(merged, context={"environment": environment, "region": region})
    except ValidationError as error:
        for detail in error.errors():
            path = [str(part) for part in detail["loc"]]
            owner = where if _has_path(overrides, path) or not _has_path(defaults, path) else "defaults"
            message = _describe(owner, path, detail)
            if message not in reported:
                reported.add(message)
                problems.append(message)
        return None

    if not zones_ok:
        return None
    return RegionConfig(
        region=region, availability_zones=tuple(zones), environment=environment, account=account, settings=settings
    )


def _describe(owner: str, path: list[str], detail: dict) -> str:
    key = ".".join([owner, *path])
    message = detail["msg"].removeprefix("Value error, ")
    if detail["type"] == "extra_forbidden":
        allowed = _allowed_keys(path[:-1], in_region_entry=owner != "defaults")
        return f"{key}: unknown key; allowed: {', '.join(allowed)}"
    if detail["type"] in ("value_error", "assertion_error"):
        return f"{key}: {message}"
    return f"{key}: {detail['input']!r} is not allowed; {message[0].lower()}{message[1:]}"


def _allowed_keys(path: list[str], in_region_entry: bool) -> list[str]:
    model: type[BaseModel] = RegionSettings
    for part in path:
        annotation = model.model_fields[part].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    allowed = list(model.model_fields)
    return [*_REGION_IDENTITY_KEYS, *allowed] if in_region_entry and not path else allowed


def _has_path(document: Any, path: list[str]) -> bool:
    for part in path:
        if isinstance(document, dict) and part in document:
            document = document[part]
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return False
    return True


def _deep_merge(base: dict, overlay: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
