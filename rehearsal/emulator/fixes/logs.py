"""CloudWatch Logs: a log group's key, its Arn attribute and updates in place.

See the package's docstring for the defects each fix repairs."""

from __future__ import annotations

from typing import Any

from moto.logs.models import LogGroup, logs_backends

# --- CloudWatch Logs ---------------------------------------------------------------------------


def fix_log_group() -> None:
    create = LogGroup.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
    ) -> LogGroup:
        properties = cloudformation_json["Properties"]
        # moto's log group reads the key from the CreateLogGroup API's parameter name.
        if "KmsKeyId" in properties:
            properties["kmsKeyId"] = properties.pop("KmsKeyId")
        return create(cls, resource_name, cloudformation_json, *args, **kwargs)

    def update_from_cloudformation_json(
        cls: type[LogGroup],
        original_resource: LogGroup,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> LogGroup:
        properties = cloudformation_json["Properties"]
        if properties.get("LogGroupName", original_resource.name) != original_resource.name:
            logs_backends[account_id][region_name].delete_log_group(original_resource.name)
            return cls.create_from_cloudformation_json(
                properties["LogGroupName"], cloudformation_json, account_id, region_name
            )
        original_resource.retention_in_days = properties.get("RetentionInDays")
        original_resource.kms_key_id = properties.get("KmsKeyId")
        return original_resource

    def get_cfn_attribute(self: LogGroup, attribute_name: str) -> Any:
        return f"{self.arn}:*" if attribute_name == "Arn" else get_attribute(self, attribute_name)

    get_attribute = LogGroup.get_cfn_attribute
    LogGroup.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
    LogGroup.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)  # type: ignore[assignment]
    LogGroup.get_cfn_attribute = get_cfn_attribute
