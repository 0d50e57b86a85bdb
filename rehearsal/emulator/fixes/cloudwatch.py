"""CloudWatch (serving): DescribeAlarms by state returns composite alarms too.

See the package's docstring for the defects each fix repairs."""

from __future__ import annotations

from moto.cloudwatch.models import CloudWatchBackend


def fix_alarms_by_state() -> None:
    """DescribeAlarms with StateValue returns no composite alarms: moto filters a one-shot iterator twice, once for
    metric and once for composite alarms. ``mlp status`` lists the composite alarm that pages when it fires."""
    by_state = CloudWatchBackend.get_alarms_by_state_value
    CloudWatchBackend.get_alarms_by_state_value = lambda self, target_state: list(by_state(self, target_state))
