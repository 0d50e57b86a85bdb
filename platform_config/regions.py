"""The AWS Regions the platform knows how to deploy to.

Synth makes no network calls, so Region and Availability Zone names are checked
against this static list instead of an EC2 lookup. Add a Region here when AWS
opens one that your organisation uses.
"""

import re

COMMERCIAL_REGIONS: frozenset[str] = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)

_AZ_SUFFIX = re.compile(r"^[a-z]$")


def availability_zone_belongs_to(zone: str, region: str) -> bool:
    """True when ``zone`` is named like an Availability Zone of ``region`` (e.g. eu-west-1a)."""
    return zone.startswith(region) and bool(_AZ_SUFFIX.match(zone[len(region) :]))
