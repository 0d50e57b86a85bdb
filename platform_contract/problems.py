"""The one shape of a validation problem: what was found, where, and what is allowed.

Construct props report problems against their own field names; the config layer prefixes them with the
cdk.json key path of the section the props came from, so a user reads ``platform.regions[eu-west-1].serving.
traffic_shifting.wait_seconds: 4000 is not allowed; allowed: 0-3600``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One finding. ``key`` is a dotted path relative to whatever was validated (empty: the whole thing)."""

    key: str
    found: Any
    allowed: str
    reason: str = ""
    """Why the value is refused, where "is not allowed" alone would not tell (e.g. a rule between two fields)."""

    def under(self, prefix: str) -> Problem:
        """The same problem, its key prefixed with ``prefix`` (the path of the section it was found in)."""
        key = f"{prefix}.{self.key}" if prefix and self.key else prefix or self.key
        return Problem(key, self.found, self.allowed, self.reason)

    def __str__(self) -> str:
        found = _render(self.found)
        reason = f" ({self.reason})" if self.reason else ""
        where = f"{self.key}: " if self.key else ""
        return f"{where}{found} is not allowed{reason}; allowed: {self.allowed}"


def _render(found: Any) -> str:
    """Values as the user wrote them in JSON; ``<...>`` describes what was found instead of quoting it."""
    if isinstance(found, str) and found.startswith("<"):
        return found
    if found is None or isinstance(found, bool):
        return json.dumps(found)
    return repr(found)


class InvalidInput(ValueError):
    """Raised once with every problem found, never at the first."""

    def __init__(self, subject: str, problems: Iterable[Problem]) -> None:
        self.subject = subject
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{subject} ({len(self.problems)} problem(s)):\n{lines}")


def raise_if_any(subject: str, problems: Iterable[Problem]) -> None:
    found = tuple(problems)
    if found:
        raise InvalidInput(subject, found)
