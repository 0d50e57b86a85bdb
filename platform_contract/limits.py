"""Limits of AWS services that the config and the constructs both apply."""

# Kept on one line so that it reads as CloudWatch Logs documents it (fmt: skip keeps the formatter off).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
"""Values CloudWatch Logs accepts for a log group's retention (PutRetentionPolicy, retentionInDays)."""

MAX_TAGS_PER_RESOURCE = 50
"""AWS's limit of user tags on one resource (Tagging AWS resources, "Tag restrictions")."""
PLATFORM_TAGS = 1
"""Tags the platform adds to resources itself (``names.PLATFORM_TAG_KEY``); the config's tags share the limit."""
MAX_USER_TAGS = MAX_TAGS_PER_RESOURCE - PLATFORM_TAGS

BUDGET_CURRENCIES = ("USD",)
"""Units a COST budget's limit may be in: AWS Budgets and Cost Explorer report the costs of the commercial
partition's accounts in USD (the Budgets API's Spend examples; CalculatedSpend comes back in USD), whatever currency
the invoice is paid in, so a budget in any other unit compares amounts that never meet."""
MAX_BUDGET_NOTIFICATIONS = 10
"""Notifications one budget may have (AWS Budgets API reference, Notification: "up to ten notifications")."""
MAX_BUDGET_NAME_LENGTH = 100
"""Length of a budget's name (AWS Budgets API reference, Budget.BudgetName: 1-100, no ':' or '\\')."""
