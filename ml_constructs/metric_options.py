"""The options every ``metric_*`` method of the platform's constructs takes, as aws-cdk-lib's MetricOptions."""

from __future__ import annotations

from typing import TypedDict

from aws_cdk import Duration


class MetricOptions(TypedDict, total=False):
    """What a caller may change of a construct's metric (its ``metric_*`` methods). Defaults: the method's own
    period, statistic and label."""

    period: Duration
    statistic: str
    label: str
    color: str
