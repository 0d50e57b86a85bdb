"""What a StudioDomain and an ExperimentTracking server are made of: frozen props, their defaults, and the rules
SageMaker enforces on them (CreateDomain, CreateUserProfile, CreateMlflowTrackingServer).

Field names are the keys of the ``studio`` and ``experiments`` sections of cdk.json, so a problem's key is the config
path below the section. Standard library and ``platform_contract`` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from platform_contract.personas import Persona
from platform_contract.problems import Problem

# DomainName and UserProfileName (SageMaker API reference, CreateDomain and CreateUserProfile).
_STUDIO_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
STUDIO_NAME_ALLOWED = "1-63 letters, digits and hyphens, starting and ending with a letter or digit"
# IdleSettings.IdleTimeoutInMinutes, MinIdleTimeoutInMinutes and MaxIdleTimeoutInMinutes.
MIN_IDLE_TIMEOUT_MINUTES = 60
MAX_IDLE_TIMEOUT_MINUTES = 525600
# CreateMlflowTrackingServer: TrackingServerName, TrackingServerSize, MlflowVersion, WeeklyMaintenanceWindowStart.
_TRACKING_SERVER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
TRACKING_SERVER_SIZES = ("Small", "Medium", "Large")
_MLFLOW_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
_MAINTENANCE_WINDOW = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):([0-5]\d)$")
TRACKING_URI_HYPERPARAMETER = "mlflow_tracking_uri"
EXPERIMENT_HYPERPARAMETER = "mlflow_experiment"
"""The image's hyperparameters that point ``train`` at a tracking server (training_code/contract.json)."""
MAX_USER_PROFILES = 50
"""Kept well under SageMaker's per-domain quota of user profiles; more people share a domain through spaces."""


def studio_name_problems(key: str, name: str) -> list[Problem]:
    return [] if _STUDIO_NAME.match(name) else [Problem(key, name, STUDIO_NAME_ALLOWED)]


@dataclass(frozen=True)
class UserProfileProps:
    """One person's Studio user profile; its apps run with the persona's role."""

    name: str
    """1-63 letters, digits and hyphens. Required."""
    persona: Persona = Persona.DATA_SCIENTIST
    """The role the profile's apps run with. Default: data_scientist."""

    def problems(self) -> list[Problem]:
        return studio_name_problems("name", self.name)


@dataclass(frozen=True)
class StudioDomainProps:
    """A Region's SageMaker Studio domain."""

    domain_name: str | None = None
    """Default: ``<stack name>-studio``, lower case."""
    idle_timeout_minutes: int = 120
    """JupyterLab apps shut down after this long idle, 60-525600. Default: 120."""
    max_idle_timeout_minutes: int = 480
    """The longest idle time a user may choose for their own apps, from idle_timeout_minutes to 525600.
    Default: 480."""
    user_profiles: tuple[UserProfileProps, ...] = ()
    """Default: none (profiles can be added in the console; their apps run as the data scientist)."""

    def problems(self) -> list[Problem]:
        problems = []
        if self.domain_name is not None:
            problems += studio_name_problems("domain_name", self.domain_name)
        for key, value in (
            ("idle_timeout_minutes", self.idle_timeout_minutes),
            ("max_idle_timeout_minutes", self.max_idle_timeout_minutes),
        ):
            if not MIN_IDLE_TIMEOUT_MINUTES <= value <= MAX_IDLE_TIMEOUT_MINUTES:
                problems.append(Problem(key, value, f"{MIN_IDLE_TIMEOUT_MINUTES} to {MAX_IDLE_TIMEOUT_MINUTES}"))
        if self.max_idle_timeout_minutes < self.idle_timeout_minutes:
            problems.append(
                Problem(
                    "max_idle_timeout_minutes",
                    self.max_idle_timeout_minutes,
                    f"at least idle_timeout_minutes ({self.idle_timeout_minutes})",
                )
            )
        if len(self.user_profiles) > MAX_USER_PROFILES:
            problems.append(
                Problem("user_profiles", f"<{len(self.user_profiles)} profiles>", f"at most {MAX_USER_PROFILES}")
            )
        seen: set[str] = set()
        for index, profile in enumerate(self.user_profiles):
            problems += [problem.under(f"user_profiles[{index}]") for problem in profile.problems()]
            if profile.name in seen:
                problems.append(Problem(f"user_profiles[{index}].name", profile.name, "each name once", "listed twice"))
            seen.add(profile.name)
        return problems


@dataclass(frozen=True)
class ExperimentTrackingProps:
    """A Region's SageMaker managed MLflow tracking server."""

    tracking_server_name: str | None = None
    """Default: ``<stack name>-mlflow``, lower case; 1-256 letters, digits and hyphens."""
    tracking_server_size: str = "Small"
    """Small, Medium or Large (concurrent users and runs it serves). Default: Small."""
    mlflow_version: str | None = None
    """MLflow version of the server, e.g. 3.0.0. Default: SageMaker's current one."""
    weekly_maintenance_window_start: str | None = None
    """Day and time (UTC) of weekly maintenance, e.g. Sun:03:00. Default: SageMaker chooses."""
    automatic_model_registration: bool = False
    """Registers models logged to MLflow in the SageMaker model registry too. Default: false (the pipeline's quality
    gate registers models)."""

    def problems(self) -> list[Problem]:
        problems = []
        if self.tracking_server_name is not None and not _TRACKING_SERVER_NAME.match(self.tracking_server_name):
            problems.append(
                Problem(
                    "tracking_server_name",
                    self.tracking_server_name,
                    "1-256 letters, digits and hyphens, starting and ending with a letter or digit",
                )
            )
        if self.tracking_server_size not in TRACKING_SERVER_SIZES:
            problems.append(
                Problem("tracking_server_size", self.tracking_server_size, ", ".join(TRACKING_SERVER_SIZES))
            )
        if self.mlflow_version is not None and not _MLFLOW_VERSION.match(self.mlflow_version):
            problems.append(Problem("mlflow_version", self.mlflow_version, "a version major.minor.patch, e.g. 3.0.0"))
        if self.weekly_maintenance_window_start is not None and not _MAINTENANCE_WINDOW.match(
            self.weekly_maintenance_window_start
        ):
            problems.append(
                Problem(
                    "weekly_maintenance_window_start",
                    self.weekly_maintenance_window_start,
                    "Ddd:HH:MM in UTC, e.g. Sun:03:00 (Mon, Tue, Wed, Thu, Fri, Sat, Sun)",
                )
            )
        return problems
