"""Runs the pipeline-definition generator (``pipeline_steps/generator.py``) in a process of its own, offline, and
caches what it writes.

The SDK takes seconds to import and generating a definition with it costs more, so synth does it at most once
per distinct ``PipelineSpec`` (Regions that share their training settings share one generation) and never on
the critical path:

* ``request_definition(spec)`` starts the generator in a separate Python process and returns at once; the CDK
  app goes on building every stack while the SDK works on the other core.
* A generated template is kept in ``.cache/pipeline-definitions/`` under a key of the spec, of every file that
  shapes the template and of the SDK's version, so a synth whose training settings did not change does not
  start the SDK at all.

The process is offline by construction: ``OFFLINE_ENVIRONMENT`` is its whole environment (nothing is inherited:
a fixed Region, dummy credentials, no AWS or SageMaker config files, no instance metadata, no IAM role
validation), and the generator refuses every network call itself.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ml_constructs.pipeline_spec import PipelineSpec
from ml_constructs.pipeline_steps import generator
from ml_constructs.pipeline_steps.generator import PROJECT_ROOT, generator_sources

GENERATOR = Path(generator.__file__).resolve()


# The SDK needs some Region to start; every Region-specific value in the template is a placeholder, so
# which one does not matter (a test proves the template is the same for another Region).
SDK_REGION = "us-east-1"
OFFLINE_ENVIRONMENT: Mapping[str, str] = {
    "AWS_DEFAULT_REGION": SDK_REGION,
    # Dummy credentials end boto's credential search before it reaches a profile or instance metadata.
    "AWS_ACCESS_KEY_ID": "offline-synth",
    "AWS_SECRET_ACCESS_KEY": "offline-synth",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
    # SDK defaults files could change the definition (tags, VPC, keys); none is read.
    "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": os.devnull,
    "SAGEMAKER_USER_CONFIG_OVERRIDE": os.devnull,
    # Role validation calls IAM.
    "SAGEMAKER_VALIDATE_ROLE": "false",
    "PYTHONHASHSEED": "0",
}
_GENERATOR_TIMEOUT_SECONDS = 300
_GENERATED_KEYS = {"definition", "spark_images"}


DEFINITION_CACHE = PROJECT_ROOT / ".cache" / "pipeline-definitions"
"""Generated templates by content key, so that a synth whose training settings did not change skips the SDK."""


def cache_key(spec: PipelineSpec, root: Path = PROJECT_ROOT) -> str:
    """Changes whenever anything that shapes the template does: the spec, every project file the generator imports
    (``GENERATOR_SOURCES`` under ``root``), the environment this module gives it, the SDK's version."""
    sources = [Path(__file__), *generator_sources(root)]
    content = "\n".join(
        [
            spec.to_json(),
            *(f"{path.parent.name}/{path.name}\n{path.read_text(encoding='utf-8')}" for path in sources),
            importlib.metadata.version("sagemaker"),
        ]
    )
    return hashlib.sha256(content.encode()).hexdigest()


class PendingDefinition:
    """A definition template from the cache, or being generated in a separate process; ``result()`` waits for it,
    and ``spark_image(region)`` for AWS's Spark processing image in ``region``, which the generator resolves too.

    A generated template is cached under ``cache_dir`` (written atomically); the template is the same either way.
    """

    def __init__(self, spec: PipelineSpec, cache_dir: Path = DEFINITION_CACHE) -> None:
        self._cache_file = cache_dir / f"{cache_key(spec)}.json"
        self._generated: dict[str, Any] | None = self._cached()
        self._process = None
        if self._generated is None:
            self._process = subprocess.Popen(
                # -s: no user site-packages; -P: nothing next to this file shadows a library.
                [sys.executable, "-s", "-P", str(GENERATOR), spec.to_json()],
                env=dict(OFFLINE_ENVIRONMENT),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )

    @property
    def from_cache(self) -> bool:
        return self._process is None

    def _cached(self) -> dict[str, Any] | None:
        try:
            generated = json.loads(self._cache_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None  # absent or damaged: generate it again
        return generated if isinstance(generated, dict) and set(generated) == _GENERATED_KEYS else None

    def result(self) -> dict[str, Any]:
        return self._wait()["definition"]

    def spark_image(self, region: str) -> str:
        """The URI of AWS's Spark processing image in ``region``, as the SDK resolves it."""
        images = self._wait()["spark_images"]
        if region not in images:
            raise ValueError(
                f"The SageMaker Python SDK knows no Spark processing image for {region}; "
                f"it lists one for {', '.join(images)}"
            )
        return images[region]

    def _wait(self) -> dict[str, Any]:
        if self._generated is None:
            assert self._process is not None  # started in __init__ whenever no template was cached
            try:
                output, errors = self._process.communicate(timeout=_GENERATOR_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                raise RuntimeError(
                    f"The SageMaker SDK did not write the pipeline definition within {_GENERATOR_TIMEOUT_SECONDS} s"
                ) from None
            if self._process.returncode != 0:
                raise RuntimeError(f"The SageMaker SDK could not write the pipeline definition:\n{errors}")
            self._generated = json.loads(output)
            self._cache_file.parent.mkdir(parents=True, exist_ok=True)
            partial = self._cache_file.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(output, encoding="utf-8")
            partial.replace(self._cache_file)
        assert self._generated is not None
        return self._generated


@functools.cache
def request_definition(spec: PipelineSpec) -> PendingDefinition:
    """The definition template of ``spec``: from the cache, or starts generating it unless already under way."""
    return PendingDefinition(spec)
