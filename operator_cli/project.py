"""The platform's project directory: its cdk.json holds the platform config, and cdk runs there.

``mlp`` reads the configured Regions from it and records a promoted model in it, so that the
config in version control always names what is deployed and a later plain ``cdk deploy`` keeps it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from operator_cli.errors import OperatorError
from platform_config.regions import COMMERCIAL_REGIONS

CHECKOUT = Path(__file__).resolve().parent.parent
"""The checkout this CLI belongs to: the default project directory."""


@dataclass(frozen=True)
class Project:
    directory: Path

    @property
    def cdk_json(self) -> Path:
        return self.directory / "cdk.json"

    def _read(self) -> tuple[str, dict[str, Any]]:
        """The text of cdk.json and its document."""
        try:
            text = self.cdk_json.read_text()
            return text, json.loads(text)
        except OSError as error:
            raise OperatorError(f"cannot read {self.cdk_json}: {error.strerror or error}") from None
        except json.JSONDecodeError as error:
            raise OperatorError(f"{self.cdk_json} is not valid JSON: {error}") from None

    def _region_entries(self, document: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            entries = document["context"]["platform"]["regions"]
        except (KeyError, TypeError):
            raise OperatorError(f"{self.cdk_json} has no platform config (context.platform.regions)") from None
        return [entry for entry in entries if isinstance(entry, dict) and "region" in entry]

    def regions(self) -> list[str]:
        """The configured Regions, in their configured order."""
        return [entry["region"] for entry in self._region_entries(self._read()[1])]

    def check_region(self, region: str) -> str:
        """``region`` if it is configured; otherwise an OperatorError that lists the configured ones."""
        regions = self.regions()
        if region not in regions:
            known = "an AWS Region but" if region in COMMERCIAL_REGIONS else "not an AWS Region and"
            raise OperatorError(
                f"Region '{region}' is {known} not configured in {self.cdk_json}; configured: {', '.join(regions)}"
            )
        return region

    def record_model_package(self, region: str, package_arn: str, baseline: dict[str, str] | None) -> str:
        """Makes ``package_arn`` the model the Region serves (``serving.model_package_arn`` of its entry, replacing
        any ``model_data_url``) and ``baseline`` its data-quality baseline (``serving.monitoring.baseline``; None
        removes the previous package's, since it describes another model); keys keep their order. Returns the
        previous text, for ``restore``."""
        text, document = self._read()
        entry = next(entry for entry in self._region_entries(document) if entry["region"] == region)
        serving = entry.setdefault("serving", {})
        serving["model_package_arn"] = package_arn
        serving.pop("model_data_url", None)
        if baseline is not None:
            serving.setdefault("monitoring", {})["baseline"] = baseline
        elif "baseline" in serving.get("monitoring", {}):
            del serving["monitoring"]["baseline"]
        self._write(json.dumps(document, indent=2, ensure_ascii=False) + ("\n" if text.endswith("\n") else ""))
        return text

    def restore(self, text: str) -> None:
        self._write(text)

    def _write(self, text: str) -> None:
        # Written next to the file and renamed over it, so cdk.json is never seen half written.
        with tempfile.NamedTemporaryFile("w", dir=self.directory, prefix=".cdk.json.", delete=False) as new:
            new.write(text)
        shutil.copymode(self.cdk_json, new.name)
        os.replace(new.name, self.cdk_json)
