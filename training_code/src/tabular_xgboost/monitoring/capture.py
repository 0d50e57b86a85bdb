"""SageMaker's data capture files: JSON Lines under ``<endpoint>/<variant>/yyyy/mm/dd/hh/``, one record per request.

A record ("Data capture", https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture.html)::

    {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "1,2",
                                       "encoding": "CSV"},
                     "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "0.3",
                                        "encoding": "CSV"}},
     "eventMetadata": {"eventId": "…", "inferenceId": "…", "inferenceTime": "2024-01-01T10:00:00Z"},
     "eventVersion": "0"}

``encoding`` is CSV or JSON for the endpoint's capture content types (the text as sent) and BASE64 otherwise.
Bodies are what ``serve`` reads and writes (``serving/codecs.py``): CSV records or JSON lists, objects keyed by
feature name, ``{"instances": [...]}`` or JSON Lines; predictions one per line or ``{"predictions": [...]}``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tabular_xgboost.errors import UserError
from tabular_xgboost.monitoring.contract import parse_time

CSV = "text/csv"
JSON = "application/json"
Value = float | str
"""A captured feature value: a number (NaN where missing) or text that is not one."""


@dataclass(frozen=True)
class CapturedRecord:
    event_id: str
    inference_id: str | None
    inference_time: datetime
    input: dict
    output: dict | None

    @property
    def match_id(self) -> str:
        """Ground truth joins on the caller's inference ID where the request had one, else on the event ID."""
        return self.inference_id or self.event_id


def read_captures(source: Path, start: datetime, end: datetime) -> Iterator[CapturedRecord]:
    """The records of every ``*.jsonl`` file under ``source`` whose inference time is in [start, end)."""
    for path in sorted(source.rglob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                metadata = record["eventMetadata"]
                capture = record["captureData"]
                moment = parse_time(metadata["inferenceTime"], "inferenceTime")
                captured = CapturedRecord(
                    metadata["eventId"],
                    metadata.get("inferenceId"),
                    moment,
                    capture["endpointInput"],
                    capture.get("endpointOutput"),
                )
            except (json.JSONDecodeError, KeyError, TypeError, UserError) as error:
                raise UserError(
                    f"{path} line {number} is not a data capture record ({error}); allowed: JSON with captureData "
                    "and eventMetadata (eventId, inferenceTime)"
                ) from None
            if start <= captured.inference_time < end:
                yield captured


def body_text(part: dict) -> str:
    """The captured body as text, whatever its encoding."""
    data, encoding = part.get("data", ""), part.get("encoding", "")
    if encoding in ("CSV", "JSON"):
        return data
    if encoding == "BASE64":
        try:
            return base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise UserError(f"a captured body is not base64 of UTF-8 text: {error}") from None
    raise UserError(f"a captured body has encoding {encoding!r}; allowed: CSV, JSON, BASE64")


def media_type(part: dict) -> str:
    return part.get("observedContentType", "").split(";")[0].strip().lower()


def input_rows(part: dict, features: Sequence[str]) -> list[list[Value]]:
    """The request's records, each a list of values; a record's length may differ from the features'."""
    text = body_text(part)
    if media_type(part) == CSV:
        return [[_value(field) for field in line.split(",")] for line in text.splitlines() if line.strip()]
    if media_type(part) == JSON:
        return [_json_record(record, features) for record in _json_records(text)]
    raise UserError(f"a captured request has content type {media_type(part)!r}; allowed: {CSV}, {JSON}")


def predictions(part: dict) -> list[float]:
    """The response's predictions, one per record."""
    text = body_text(part)
    try:
        if media_type(part) == JSON:
            values = json.loads(text)["predictions"]
        else:
            values = [line for line in text.splitlines() if line.strip()]
        return [float(value) for value in values]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise UserError(
            f"a captured response is not predictions: {text[:60]!r}; allowed: one number per line or "
            '{"predictions": [...]}'
        ) from None


def _value(text: object) -> Value:
    if text is None or (isinstance(text, str) and not text.strip()):
        return float("nan")
    if isinstance(text, (bool, int, float)):
        return float(text)
    try:
        return float(str(text))
    except ValueError:
        return str(text)


def _json_records(text: str) -> list:
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if isinstance(document, dict):
        document = document.get("instances", [])
    if isinstance(document, list) and document and not isinstance(document[0], (list, dict)):
        return [document]
    return document if isinstance(document, list) else [document]


def _json_record(record: object, features: Sequence[str]) -> list[Value]:
    if isinstance(record, dict):
        return [_value(record.get(name)) for name in features] + [
            _value(v) for k, v in record.items() if k not in features
        ]
    if isinstance(record, list):
        return [_value(value) for value in record]
    return [_value(record)]
