"""A simulation of Application Auto Scaling for an inference component's copies; no real scaling happens here.

Application Auto Scaling acts on CloudWatch metrics over minutes; the emulator has neither the metrics SageMaker
publishes nor a clock worth waiting for. ``POST /_rehearsal/sagemaker/inference-component-scaling`` evaluates, once
and at once, what the service would decide for the component's registered scalable target, with the policies and
the alarm as they were deployed (nothing here is a constant of the platform's):

- each target-tracking policy on ``SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution``, given the
  metric's value (``concurrentRequestsPerCopy``, the caller's stand-in for traffic): with copies > 0 the desired
  count is ceil(copies x value / TargetValue), so an idle component (0) scales in to the target's MinCapacity; with
  no copy the metric has no datapoint and the policy does nothing;
- each step-scaling policy that an alarm names in its AlarmActions: the alarm is evaluated against the datapoints
  that CloudWatch holds for its metric (the emulator records ``NoCapacityInvocationFailures`` for every request that
  finds no copy) over its EvaluationPeriods of Period seconds, with its Statistic, ComparisonOperator, Threshold,
  DatapointsToAlarm and TreatMissingData; in ALARM, the step adjustment whose bounds hold the breach
  (metric - Threshold) changes the count as its AdjustmentType says.

The new count is clamped to the target's MinCapacity and MaxCapacity and applied as SageMaker applies a runtime
config: the component's desired and current copies, and the variant's instances that they need. Cooldowns, scale-in
protection, gradual scale-in and the minutes SageMaker takes to start an instance are not simulated.
"""

from __future__ import annotations

import datetime
import math
import operator
from collections.abc import Callable
from typing import Any

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.cloudwatch.models import MetricDatum, cloudwatch_backends
from moto.core.utils import utcnow

from rehearsal.aws import INFERENCE_COMPONENT_SCALING_PATH
from rehearsal.emulator import inference_components, operations

CONCURRENCY_METRIC = "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": operator.ge,
    "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
_STATISTICS: dict[str, Callable[[list[float]], float]] = {
    "Sum": sum,
    "Maximum": max,
    "Minimum": min,
    "Average": lambda values: sum(values) / len(values),
    "SampleCount": len,
}


def _datapoints(backend: Any, alarm: Any, start: datetime.datetime, end: datetime.datetime) -> list[float]:
    dimensions = {(d.name, d.value) for d in alarm.dimensions}
    return [
        datum.value
        for datum in backend.metric_data
        if isinstance(datum, MetricDatum)
        and datum.namespace == alarm.namespace
        and datum.name == alarm.metric_name
        and {(d.name, d.value) for d in datum.dimensions} == dimensions
        and start <= datum.timestamp.replace(tzinfo=None) < end
    ]


def evaluate_alarm(account_id: str, region_name: str, alarm: Any, now: datetime.datetime) -> tuple[str, float | None]:
    """(state, the newest period's statistic) of a metric alarm over its last EvaluationPeriods periods."""
    backend = cloudwatch_backends[account_id][region_name]
    period = datetime.timedelta(seconds=int(alarm.period))
    compare, statistic = _COMPARISONS[alarm.comparison_operator], _STATISTICS[alarm.statistic]
    breaching, newest = 0, None
    for index in range(int(alarm.evaluation_periods)):
        end = now - index * period
        values = _datapoints(backend, alarm, end - period, end)
        if not values:
            breaching += alarm.treat_missing_data == "breaching"
            continue
        value = statistic(values)
        newest = value if newest is None else newest
        breaching += compare(value, float(alarm.threshold))
    needed = int(alarm.datapoints_to_alarm or alarm.evaluation_periods)
    return ("ALARM" if breaching >= needed else "OK"), newest


def _step_change(configuration: dict[str, Any], breach: float, current: int) -> int:
    """The count a step policy asks for, from the step adjustment whose bounds hold ``breach``."""
    for step in configuration["StepAdjustments"]:
        lower = float(step.get("MetricIntervalLowerBound", -math.inf))
        upper = float(step.get("MetricIntervalUpperBound", math.inf))
        if lower <= breach < upper:
            adjustment = int(step["ScalingAdjustment"])
            kind = configuration.get("AdjustmentType", "ChangeInCapacity")
            if kind == "ExactCapacity":
                return adjustment
            if kind == "PercentChangeInCapacity":
                return current + math.trunc(current * adjustment / 100)
            return current + adjustment
    return current


def simulate(request: dict[str, Any], account_id: str) -> dict[str, Any]:
    """Evaluates the component's scaling policies once; returns what each decided and the copies after."""
    region, name = operations.required(request, "region", "inferenceComponentName")
    found = inference_components.components(account_id, region).get(name)
    if found is None:
        raise operations.ControlError(404, f"no inference component {name} in {region}")
    concurrency = request.get("concurrentRequestsPerCopy")
    if concurrency is not None and (not isinstance(concurrency, int | float) or concurrency < 0):
        raise operations.ControlError(400, f"concurrentRequestsPerCopy {concurrency!r}; allowed: a number >= 0")
    autoscaling = applicationautoscaling_backends[account_id][region]
    resource_id = inference_components.RESOURCE_ID_PREFIX + name
    target = autoscaling.targets.get(inference_components.COPY_COUNT_DIMENSION, {}).get(resource_id)
    if target is None:
        raise operations.ControlError(404, f"{name} has no scalable target ({resource_id} is not registered)")
    policies = [
        policy
        for policy in autoscaling.policies.values()
        if policy.resource_id == resource_id and policy.scalable_dimension == inference_components.COPY_COUNT_DIMENSION
    ]
    before, now = found.desired_copies, utcnow().replace(tzinfo=None)
    decisions: list[dict[str, Any]] = []
    wanted: list[int] = []
    for policy in policies:
        tracking = policy.target_tracking_scaling_policy_configuration
        if tracking is not None:
            metric = tracking.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
            if metric != CONCURRENCY_METRIC or concurrency is None or before == 0:
                decisions.append({"policy": policy.policy_name, "action": "none: no datapoint of its metric"})
                continue
            desired = math.ceil(before * float(concurrency) / float(tracking["TargetValue"]))
            wanted.append(desired)
            decisions.append({"policy": policy.policy_name, "metric": concurrency, "desired": desired})
        step = policy.step_scaling_policy_configuration
        if step is not None:
            alarms = [
                alarm
                for alarm in cloudwatch_backends[account_id][region].alarms.values()
                if policy.policy_arn in alarm.alarm_actions
            ]
            for alarm in alarms:
                state, value = evaluate_alarm(account_id, region, alarm, now)
                alarm.update_state(f"Simulated evaluation: {alarm.metric_name} is {value}", "{}", state)
                decision: dict[str, Any] = {"policy": policy.policy_name, "alarm": alarm.name, "state": state}
                if state == "ALARM" and value is not None:
                    desired = _step_change(step, value - float(alarm.threshold), before)
                    wanted.append(desired)
                    decision |= {"metric": value, "desired": desired}
                decisions.append(decision)
    # Application Auto Scaling follows the policy that asks for the most capacity.
    after = max(wanted) if wanted else before
    after = max(target.min_capacity or 0, min(target.max_capacity or after, after))
    if after != before:
        found.set_copies(after)
    return {"inferenceComponentName": name, "copiesBefore": before, "copiesAfter": after, "decisions": decisions}


CONTROL_HANDLERS: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    INFERENCE_COMPONENT_SCALING_PATH: simulate,
}
