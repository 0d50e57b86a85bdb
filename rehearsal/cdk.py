"""The project's pinned CDK CLI, run as a user runs it, from a working directory of the rehearsal's own.

The working directory is a project directory as a fork has one: the project's cdk.json (its CLI
settings, which keep telemetry, notices and version reporting off, and its context: feature flags
and the platform config, with the emulator's account as a fork sets its own), naming the project's
app with absolute paths. A plain ``cdk deploy`` works there, and so does
``mlp --project-dir``, which records promoted models in that cdk.json. The CLI's side effects
(cdk.out, cdk.context.json from lookups, its caches under HOME) land there and never in the
project, where other synths may be running.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from operator_cli.deploy import CLI_ENVIRONMENT, with_home
from platform_contract.personas import Persona

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_STRIPPED_PREFIXES = ("AWS_", "CDK_", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


def first_model_version(account: str, region: str) -> str:
    """Version 1 of the Region's model registry (the Data stack's ``ModelRegistry``)."""
    return f"arn:aws:sagemaker:{region}:{account}:model-package/mlplatform-{region}-data-models/1"


class CommandFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Cdk:
    workdir: Path
    client_environment: dict[str, str]
    timeout_seconds: float = 300

    @classmethod
    def prepare(cls, workdir: Path, client_environment: dict[str, str], account: str, region: str) -> Cdk:
        """Makes ``workdir`` a project directory for the platform in ``account``, with ``region`` serving a first
        model version of its registry from the start, so that the first deploy creates every stack."""
        settings = json.loads((PROJECT_ROOT / "cdk.json").read_text())
        platform = settings["context"]["platform"]
        platform["account"] = account
        entry = next(entry for entry in platform["regions"] if entry["region"] == region)
        entry.setdefault("serving", {})["model_package_arn"] = first_model_version(account, region)
        # Every optional stack part is rehearsed too: Studio with a profile per persona, and experiment tracking.
        entry["studio"] = {
            "enabled": True,
            "user_profiles": [
                {"name": persona.value.replace("_", "-"), "persona": persona.value} for persona in Persona
            ],
        }
        entry["experiments"] = {"enabled": True}
        settings["app"] = f"{sys.executable} {PROJECT_ROOT / 'app.py'}"  # the project's app, as its cdk.json names it
        settings.pop("watch", None)
        (workdir / "cdk.json").write_text(json.dumps(settings, indent=2) + "\n")
        (workdir / "home").mkdir()
        (workdir / "logs").mkdir()
        return cls(workdir, client_environment)

    def environment(self) -> dict[str, str]:
        """What the CLI runs with, and any tool that runs it (mlp promote): the emulator's client environment."""
        inherited = {key: value for key, value in os.environ.items() if not key.startswith(_STRIPPED_PREFIXES)}
        environment = {
            **inherited,
            **self.client_environment,
            # The pinned Node.js and CLI first, then the project's Python for the app.
            "PATH": os.pathsep.join(
                [str(PROJECT_ROOT / "node_modules" / ".bin"), str(Path(sys.executable).parent), inherited["PATH"]]
            ),
            **CLI_ENVIRONMENT,
        }
        return with_home(environment, self.workdir / "home")  # no ~/.aws, no ~/.cdk.json of whoever runs it

    def run(self, step: str, *args: str) -> float:
        """Runs ``cdk args`` and returns its wall time; the output goes to logs/<step>.log."""
        log = self.workdir / "logs" / f"{step}.log"
        command = [str(PROJECT_ROOT / "node_modules" / ".bin" / "cdk"), *args, "--no-color"]
        started = time.monotonic()
        with log.open("w") as output:
            try:
                result = subprocess.run(
                    command,
                    cwd=self.workdir,
                    env=self.environment(),
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    timeout=self.timeout_seconds,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise CommandFailed(
                    f"{step}: `cdk {' '.join(args)}` did not finish in {self.timeout_seconds:.0f} s"
                ) from None
        if result.returncode != 0:
            tail = "\n".join(log.read_text().splitlines()[-40:])
            raise CommandFailed(f"{step}: `cdk {' '.join(args)}` exited with {result.returncode}:\n{tail}")
        return time.monotonic() - started
