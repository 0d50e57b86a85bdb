"""Limits of AWS services that the config and the constructs both apply."""

# Kept on one line so that it reads as CloudWatch Logs documents it (fmt: skip keeps the formatter off).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
"""Values CloudWatch Logs accepts for a log group's retention (PutRetentionPolicy, retentionInDays)."""

MAX_TAGS_PER_RESOURCE = 50
"""AWS's limit of user tags on one resource (Tagging AWS resources, "Tag restrictions")."""
PLATFORM_TAGS = 0
"""Tags the platform adds to resources itself; the config's tags share the limit with them."""
MAX_USER_TAGS = MAX_TAGS_PER_RESOURCE - PLATFORM_TAGS
