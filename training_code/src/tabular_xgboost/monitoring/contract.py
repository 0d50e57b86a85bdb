"""What a monitoring job hands the container, and what the container hands back.

Inputs, as environment variables ("Container Contract Inputs",
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-contract-inputs.html): ``dataset_source``
(the captured data, ``<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl`` below it), ``start_time`` and ``end_time``
(the period analysed; SageMaker may download more), ``output_path``, ``baseline_statistics`` and
``baseline_constraints``, ``publish_cloudwatch_metrics``, ``sagemaker_endpoint_name`` and
``sagemaker_monitoring_schedule_name``. The model-quality command also reads ``ground_truth_source`` (ground-truth
files, same layout) and the platform's own ``quality_metric`` and ``quality_threshold``, which the job definition
sets.

Outputs ("Container Contract Outputs", https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-contract-outputs.html):
``statistics.json`` and ``constraint_violations.json`` under ``output_path``, and, with
``publish_cloudwatch_metrics`` Enabled, CloudWatch metrics as JSON Lines under ``/opt/ml/output/metrics/cloudwatch``
("CloudWatch Metrics for Bring Your Own Containers",
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-cloudwatch.html): SageMaker puts them into the
namespace of the monitoring type, with the dimensions each line names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tabular_xgboost.errors import UserError

STATISTICS_FILE = "statistics.json"
VIOLATIONS_FILE = "constraint_violations.json"
METRICS_DIRECTORY = ("output", "metrics", "cloudwatch")
DEFAULT_GROUND_TRUTH_SOURCE = "/opt/ml/processing/groundtruth"


def parse_time(text: str, name: str) -> datetime:
    """An ISO 8601 time as SageMaker writes them (``2019-12-01T15:20:00Z``), in UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace(" ", ""))
    except ValueError:
        raise UserError(f"{name} is {text!r}; allowed: an ISO 8601 time such as 2019-12-01T15:20:00Z") from None
    return parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class MonitoringJob:
    """One monitoring execution's inputs, from the environment SageMaker sets."""

    dataset_source: Path
    output_path: Path
    start_time: datetime
    end_time: datetime
    endpoint_name: str
    schedule_name: str
    publish_metrics: bool
    baseline_statistics: Path | None
    baseline_constraints: Path | None
    metrics_directory: Path
    environ: Mapping[str, str]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str], opt_ml_root: Path) -> MonitoringJob:
        missing = [
            name for name in ("dataset_source", "output_path", "start_time", "end_time") if not environ.get(name)
        ]
        if missing:
            raise UserError(
                f"the monitoring job sets no {', '.join(missing)}; allowed: a monitoring schedule's job, which sets "
                "dataset_source, output_path, start_time and end_time"
            )
        start, end = parse_time(environ["start_time"], "start_time"), parse_time(environ["end_time"], "end_time")
        if end <= start:
            raise UserError(f"end_time {format_time(end)} is not after start_time {format_time(start)}")
        return cls(
            dataset_source=Path(environ["dataset_source"]),
            output_path=Path(environ["output_path"]),
            start_time=start,
            end_time=end,
            endpoint_name=environ.get("sagemaker_endpoint_name", ""),
            schedule_name=environ.get("sagemaker_monitoring_schedule_name", ""),
            publish_metrics=environ.get("publish_cloudwatch_metrics", "Disabled") == "Enabled",
            baseline_statistics=Path(environ["baseline_statistics"]) if environ.get("baseline_statistics") else None,
            baseline_constraints=Path(environ["baseline_constraints"]) if environ.get("baseline_constraints") else None,
            metrics_directory=opt_ml_root.joinpath(*METRICS_DIRECTORY),
            environ=dict(environ),
        )

    @property
    def dimensions(self) -> list[dict[str, str]]:
        """The dimensions the documentation recommends for a real-time endpoint, which the alarms select."""
        return [
            {"Name": "Endpoint", "Value": self.endpoint_name},
            {"Name": "MonitoringSchedule", "Value": self.schedule_name},
        ]

    def metric(self, name: str, value: float | None = None, statistics: Mapping[str, float] | None = None) -> dict:
        """A metric line: ``Value`` or ``StatisticValues``, never both; timestamped with the period's end."""
        line: dict[str, Any] = {
            "MetricName": name,
            "Timestamp": format_time(self.end_time),
            "Dimensions": self.dimensions,
        }
        if statistics is not None:
            line["StatisticValues"] = dict(statistics)
        else:
            line["Value"] = value
        return line

    def write_outputs(self, statistics: dict, violations: list[dict], metrics: list[dict]) -> None:
        self.output_path.mkdir(parents=True, exist_ok=True)
        (self.output_path / STATISTICS_FILE).write_text(json.dumps(statistics, indent=2) + "\n", encoding="utf-8")
        (self.output_path / VIOLATIONS_FILE).write_text(
            json.dumps({"violations": violations}, indent=2) + "\n", encoding="utf-8"
        )
        if self.publish_metrics and metrics:
            self.metrics_directory.mkdir(parents=True, exist_ok=True)
            lines = "".join(json.dumps(line) + "\n" for line in metrics)
            (self.metrics_directory / "metrics.jsonl").write_text(lines, encoding="utf-8")


def read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UserError(f"cannot read the {what} {path}: {error.strerror or error}") from None
    except json.JSONDecodeError as error:
        raise UserError(f"the {what} {path} is not JSON: {error}") from None


def opt_ml_root(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get("OPT_ML_ROOT", "/opt/ml"))
