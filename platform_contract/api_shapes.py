"""Offline validation of AWS API requests against botocore's service models: member names, required members,
types, enums, lengths, ranges and patterns. The tests check what the platform sends with it, and the deploy
rehearsal's emulator checks requests with it as the services do."""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.model import ServiceModel, Shape

_NUMBERS: dict[str, type | tuple[type, ...]] = {
    "integer": int,
    "long": int,
    "float": (int, float),
    "double": (int, float),
}


@cache
def service_model(service: str = "sagemaker") -> ServiceModel:
    """botocore's model of ``service``, loaded once: SageMaker's is megabytes of JSON, too much to parse per request."""
    from botocore.session import get_session  # deferred: only what validates needs botocore

    return get_session().get_service_model(service)


@cache
def request_shape(operation: str, service: str = "sagemaker") -> Shape:
    return service_model(service).operation_model(operation).input_shape


def sdk_refusal(operation: str, request: dict[str, Any], service: str = "sagemaker") -> str | None:
    """What botocore's own parameter validation reports for ``request``, as the SDKs refuse it before sending; None
    when it passes."""
    from botocore.validate import ParamValidator  # deferred, as in service_model

    report = ParamValidator().validate(request, request_shape(operation, service))
    return report.generate_report() if report.has_errors() else None


def request_problems(operation: str, request: dict[str, Any], service: str = "sagemaker") -> list[str]:
    """Where ``request`` breaks the input shape of ``operation``, each problem with its member path."""
    return shape_problems(request, request_shape(operation, service), operation)


@cache
def _pattern(pattern: str) -> re.Pattern | None:
    try:
        return re.compile(pattern)
    except re.error:  # Java-only syntax
        return None


def shape_problems(value: Any, shape: Shape, path: str) -> list[str]:
    """Where ``value`` breaks ``shape``: unknown or missing members, types, enums, lengths, ranges, patterns."""
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: {value!r} is not a structure"]
        problems = [f"{path}.{name}: required but missing" for name in shape.required_members if name not in value]
        for name, item in value.items():
            if name not in shape.members:
                problems.append(f"{path}.{name}: not a member of {shape.name}")
            else:
                problems += shape_problems(item, shape.members[name], f"{path}.{name}")
        return problems
    if kind in ("list", "map"):
        if not isinstance(value, list if kind == "list" else dict):
            return [f"{path}: {value!r} is not a {kind}"]
        problems = _length_problems(len(value), meta, path)
        if kind == "list":
            for index, item in enumerate(value):
                problems += shape_problems(item, shape.member, f"{path}[{index}]")
        elif isinstance(value, dict):
            for key, item in value.items():
                problems += shape_problems(key, shape.key, f"{path} key")
                problems += shape_problems(item, shape.value, f"{path}[{key}]")
        return problems
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: {value!r} is not a string"]
        problems = _length_problems(len(value), meta, path)
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.enum}")
        pattern = _pattern(meta["pattern"]) if "pattern" in meta else None
        if pattern and not pattern.fullmatch(value):
            problems.append(f"{path}: {value!r} does not match {meta['pattern']}")
        return problems
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: {value!r} is not a boolean"]
    if kind in _NUMBERS:
        if isinstance(value, bool) or not isinstance(value, _NUMBERS[kind]):
            return [f"{path}: {value!r} is not a {kind}"]
        problems = []
        if "min" in meta and value < meta["min"]:
            problems.append(f"{path}: {value} is below {meta['min']}")
        if "max" in meta and value > meta["max"]:
            problems.append(f"{path}: {value} is above {meta['max']}")
        return problems
    raise AssertionError(f"{path}: no check for {kind} shapes")


def _length_problems(length: int, meta: dict, path: str) -> list[str]:
    if "min" in meta and length < meta["min"]:
        return [f"{path}: length {length} is below {meta['min']}"]
    if "max" in meta and length > meta["max"]:
        return [f"{path}: length {length} is above {meta['max']}"]
    return []
