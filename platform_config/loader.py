"""Builds the validated platform config from CDK context.

The config lives under the ``platform`` key of cdk.json's context. Any value can be overridden on the command
line with a dotted path, where a Region's entry is addressed by its name::

    npx cdk synth -c platform.environment=prod
    npx cdk synth -c platform.regions.eu-west-1.serving.max_capacity=8

Override values that are JSON objects, lists or ``null`` are read as JSON; anything else stays a string and is
converted to the setting's type by validation (so an account ID keeps its leading zeros).

Every problem is collected and reported at once, before any construct exists. Each names its cdk.json key path
(``platform.regions[eu-west-1].serving.max_capacity``; a Region's entry by its name), the value found and what is
allowed, and, where the value came from the command line, the ``-c`` option that set it.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from platform_config.regions import COMMERCIAL_REGIONS, availability_zone_belongs_to
from platform_config.settings import (
    PLACEHOLDER_ACCOUNT,
    Context,
    Environment,
    RegionSettings,
    environment_presets,
)
from platform_contract.problems import Problem

CONTEXT_KEY = "platform"
_OVERRIDE_PREFIX = CONTEXT_KEY + "."
_REGION_IDENTITY_KEYS = ("region", "availability_zones")
_TOP_LEVEL_KEYS = ("account", "environment", "defaults", "regions")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_INDEX = re.compile(r"\[([^\]]+)\]")


class ConfigError(ValueError):
    """The platform config is invalid; ``problems`` lists every finding, one line each."""

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

    @property
    def key_path(self) -> str:
        """Where this Region's entry is in cdk.json; construct problems are reported under it."""
        return f"{CONTEXT_KEY}.regions[{self.region}]"


class PlatformConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    account: str | None
    environment: Environment
    regions: tuple[RegionConfig, ...] = Field(min_length=1)


class _Findings:
    """Problems in the order found, each once, with the ``-c`` option that set the value where one did."""

    def __init__(self, overrides: dict[str, str]):
        self.overrides = overrides
        self.lines: list[str] = []

    def add(self, problem: Problem) -> None:
        line = str(problem)
        option = self.overrides.get(problem.key)
        if option:
            line += f" (set by -c {option})"
        if line not in self.lines:
            self.lines.append(line)


def load_platform_config(context: Mapping[str, Any]) -> PlatformConfig:
    """Validates the ``platform`` context (with command-line overrides applied) or raises ConfigError."""
    findings = _Findings({})
    _check_context_keys(context, findings)
    document = _read_document(context, findings)
    if document is None:
        raise ConfigError(findings.lines)

    for key in sorted(set(document) - set(_TOP_LEVEL_KEYS)):
        findings.add(_unknown_key(f"{CONTEXT_KEY}.{key}", key, _TOP_LEVEL_KEYS))

    account = _account(document.get("account"), findings)
    environment_value = document.get("environment", "dev")
    try:
        environment = Environment(environment_value)
    except ValueError:
        findings.add(Problem(f"{CONTEXT_KEY}.environment", environment_value, "dev, prod"))
        environment = Environment.DEV
    if environment == Environment.PROD and account == PLACEHOLDER_ACCOUNT:
        findings.add(
            Problem(f"{CONTEXT_KEY}.account", account, "your account's ID", "the documentation's example account")
        )

    defaults = document.get("defaults", {})
    if not isinstance(defaults, dict):
        findings.add(Problem(f"{CONTEXT_KEY}.defaults", defaults, "an object of Region settings"))
        defaults = {}

    entries = document.get("regions")
    if not isinstance(entries, list) or not entries:
        findings.add(Problem(f"{CONTEXT_KEY}.regions", entries, "a non-empty list of Region entries"))
        entries = []

    regions = []
    seen_regions: dict[str, int] = {}
    for index, entry in enumerate(entries):
        region_config = _region_config(index, entry, defaults, environment, account, seen_regions, findings)
        if region_config is not None:
            regions.append(region_config)

    if findings.lines:
        raise ConfigError(findings.lines)
    return PlatformConfig(account=account, environment=environment, regions=tuple(regions))


def _check_context_keys(context: Mapping[str, Any], findings: _Findings) -> None:
    """A misspelt ``platform`` would otherwise be ignored, and its settings with it."""
    for key in sorted(context):
        head = key.split(".", 1)[0]
        if head != CONTEXT_KEY and difflib.get_close_matches(head, [CONTEXT_KEY], n=1, cutoff=0.75):
            findings.add(
                Problem(key, "<unknown context key>", f"{CONTEXT_KEY}, {CONTEXT_KEY}.<key path>", "misspelt platform?")
            )


def _read_document(context: Mapping[str, Any], findings: _Findings) -> dict | None:
    document = _decode(context.get(CONTEXT_KEY))
    if not isinstance(document, dict):
        findings.add(Problem(CONTEXT_KEY, document, "an object in the CDK context (cdk.json)", "missing or not one"))
        return None
    document = copy.deepcopy(document)
    for key in sorted(key for key in context if key.startswith(_OVERRIDE_PREFIX)):
        _apply_override(document, key, _decode(context[key]), findings)
    return document


def _decode(value: Any) -> Any:
    """Command-line context values arrive as strings; objects, lists and null get their structure back."""
    if not isinstance(value, str) or not (value.lstrip().startswith(("{", "[")) or value.strip() == "null"):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _apply_override(document: dict, key: str, value: Any, findings: _Findings) -> None:
    *parents, leaf = key[len(_OVERRIDE_PREFIX) :].split(".")
    node: Any = document
    path = CONTEXT_KEY
    for segment in parents:
        if isinstance(node, list):
            node = _region_entry(node, segment)
            path += f"[{segment}]"
            if node is None:
                findings.add(Problem(f"-c {key}", segment, "the name of a configured Region", "no such Region entry"))
                return
        elif isinstance(node, dict):
            node = node.setdefault(segment, {})
            path += f".{segment}"
        if not isinstance(node, (dict, list)):
            findings.add(Problem(f"-c {key}", segment, "a path to a setting", "it holds a value, not an object"))
            return
    if isinstance(node, list):
        findings.add(Problem(f"-c {key}", leaf, "a path to one of a Region entry's settings"))
        return
    node[leaf] = value
    findings.overrides[f"{path}.{leaf}"] = f"{key}={context_text(value)}"


def context_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _account(account: Any, findings: _Findings) -> str | None:
    key = f"{CONTEXT_KEY}.account"
    if account is None:
        return None
    if isinstance(account, (int, float)) and not isinstance(account, bool):
        findings.add(
            Problem(
                key,
                account,
                'the 12-digit ID as a string, e.g. "012345678901"',
                "a JSON number, which loses an ID's leading zeros",
            )
        )
    elif not (isinstance(account, str) and _ACCOUNT.match(account)):
        findings.add(Problem(key, account, "a 12-digit AWS account ID, or null for account-agnostic templates"))
    else:
        return account
    return None


def _region_entry(entries: list, name: str) -> dict | None:
    return next((entry for entry in entries if isinstance(entry, dict) and entry.get("region") == name), None)


def _region_config(
    index: int,
    entry: Any,
    defaults: dict,
    environment: Environment,
    account: str | None,
    seen_regions: dict[str, int],
    findings: _Findings,
) -> RegionConfig | None:
    where = f"{CONTEXT_KEY}.regions[{index}]"
    if not isinstance(entry, dict):
        findings.add(Problem(where, entry, "an object with region and availability_zones"))
        return None

    region = entry.get("region")
    if region not in COMMERCIAL_REGIONS:
        close = difflib.get_close_matches(str(region), sorted(COMMERCIAL_REGIONS), n=1)
        findings.add(Problem(f"{where}.region", region, f"an AWS Region, e.g. {close[0] if close else 'eu-west-1'}"))
        return None
    if region in seen_regions:
        findings.add(Problem(f"{where}.region", region, "each Region once", f"also regions[{seen_regions[region]}]"))
        return None
    seen_regions[region] = index
    where = f"{CONTEXT_KEY}.regions[{region}]"

    found_zones = entry.get("availability_zones")
    zones: list[str] = found_zones if isinstance(found_zones, list) else []
    zones_ok = isinstance(found_zones, list) and all(isinstance(zone, str) for zone in zones) and len(zones) >= 2
    if not zones_ok:
        findings.add(
            Problem(
                f"{where}.availability_zones",
                found_zones,
                f'a list of at least 2 zones of {region}, e.g. ["{region}a", "{region}b"]',
            )
        )
    else:
        for zone in zones:
            if not availability_zone_belongs_to(zone, region):
                findings.add(
                    Problem(f"{where}.availability_zones", zone, f"zones of {region}: {region}a, {region}b, …")
                )
        for zone in sorted({zone for zone in zones if zones.count(zone) > 1}):
            findings.add(Problem(f"{where}.availability_zones", zone, "each zone once", "listed twice"))

    overrides = {key: value for key, value in entry.items() if key not in _REGION_IDENTITY_KEYS}
    merged = _deep_merge(_deep_merge(environment_presets[environment], defaults), overrides)

    def owner(path: list[str]) -> str:
        # A problem is the Region entry's when the entry sets the value, else the defaults block's (reported once).
        return where if _has_path(overrides, path) else f"{CONTEXT_KEY}.defaults"

    context = Context(environment=environment, region=region, account=account)
    try:
        settings = RegionSettings.model_validate(merged)
    except ValidationError as error:
        for detail in error.errors():
            path = _loc_parts(detail["loc"])
            findings.add(_schema_problem(owner(path), path, detail))
        # The rules between the other settings are still checked: all problems at once.
        for problem in _rule_problems_despite(error, merged, context):
            findings.add(problem.under(owner(_key_parts(problem.key))))
        return None

    for problem in settings.problems(context):
        findings.add(problem.under(owner(_key_parts(problem.key))))

    if not zones_ok:
        return None
    return RegionConfig(
        region=region, availability_zones=tuple(zones), environment=environment, account=account, settings=settings
    )


def _rule_problems_despite(error: ValidationError, merged: dict, context: Context) -> list[Problem]:
    """The rule problems of ``merged`` with each value the schema refused put back to its default, except those
    that involve a refused value (they would judge the default, not what the user wrote)."""
    document = copy.deepcopy(merged)
    refused: list[list[str]] = []
    for _ in range(4):  # a removed list item's siblings can fail in turn; a few rounds settle it
        for detail in error.errors():
            refused.append(_loc_parts(detail["loc"]))
            _remove(document, list(detail["loc"]))
        try:
            settings = RegionSettings.model_validate(document)
        except ValidationError as again:
            error = again
            continue
        return [
            problem
            for problem in settings.problems(context)
            if not any(_overlaps(_key_parts(problem.key), path) for path in refused)
        ]
    return []


def _remove(document: Any, loc: list) -> None:
    """Removes the value at ``loc``, or the nearest enclosing one that exists (a missing required field)."""
    node, parents = document, []
    for part in loc[:-1]:
        parents.append((node, part))
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return
    last = loc[-1]
    if isinstance(node, dict) and last in node:
        del node[last]
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node.pop(last)
    elif parents:
        parent, key = parents[-1]
        _remove(parent, [key])


def _overlaps(a: list[str], b: list[str]) -> bool:
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def _loc_parts(loc: tuple) -> list[str]:
    return [f"[{part}]" if isinstance(part, int) else str(part) for part in loc]


def _key_parts(key: str) -> list[str]:
    """``serving.scheduled_capacity[0].min_capacity`` → ``serving``, ``scheduled_capacity``, ``[0]``, ..."""
    parts: list[str] = []
    for segment in key.split("."):
        name, *indexes = _INDEX.split(segment)
        parts += [name] if name else []
        parts += [f"[{index}]" for index in indexes if index]
    return parts


def _join(owner: str, parts: list[str]) -> str:
    return owner + "".join(part if part.startswith("[") else f".{part}" for part in parts)


def _schema_problem(owner: str, path: list[str], detail: Mapping[str, Any]) -> Problem:
    key = _join(owner, path)
    if detail["type"] == "extra_forbidden":
        allowed = _allowed_keys(path[:-1])
        if len(path) == 1 and owner != f"{CONTEXT_KEY}.defaults":
            allowed = [*_REGION_IDENTITY_KEYS, *allowed]
        return _unknown_key(key, path[-1], allowed)
    if detail["type"] == "platform":
        return Problem(key, detail["input"], detail["ctx"]["allowed"], detail["ctx"]["reason"])
    allowed = detail["msg"].removeprefix("Input should be ").removeprefix("Value error, ")
    return Problem(key, detail["input"], allowed)


def _unknown_key(key: str, name: str, allowed: tuple[str, ...] | list[str]) -> Problem:
    close = difflib.get_close_matches(name, list(allowed), n=1)
    reason = f"unknown key; did you mean {close[0]}?" if close else "unknown key"
    return Problem(key, "<unknown key>", ", ".join(allowed), reason)


def _allowed_keys(path: list[str]) -> list[str]:
    model: type[BaseModel] = RegionSettings
    for part in path:
        if part.startswith("["):
            continue
        annotation = model.model_fields[part].annotation
        inner = getattr(annotation, "__args__", (annotation,))[0]
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            return []
        model = inner
    return list(model.model_fields)


def _has_path(document: Any, path: list[str]) -> bool:
    for part in path:
        if part.startswith("[") and isinstance(document, list):
            index = part[1:-1]
            if not (index.isdigit() and int(index) < len(document)):
                return False
            document = document[int(index)]
        elif isinstance(document, dict) and part in document:
            document = document[part]
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
