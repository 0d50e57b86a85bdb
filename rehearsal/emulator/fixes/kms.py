"""KMS: keys with tags and their key policy as a document.

See the package's docstring for the defects each fix repairs."""

from __future__ import annotations

import json
from typing import Any

from moto.kms.models import Key

# --- KMS ---------------------------------------------------------------------------------------


def fix_kms_key() -> None:
    create = Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
    ) -> Key:
        properties = cloudformation_json["Properties"]
        properties["Tags"] = [{"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in properties.get("Tags", [])]
        if not isinstance(properties["KeyPolicy"], str):
            properties["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
        return create(cls, resource_name, cloudformation_json, *args, **kwargs)

    Key.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
