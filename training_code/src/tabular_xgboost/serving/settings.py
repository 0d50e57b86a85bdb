"""Serving settings from the environment SageMaker gives an inference container."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from tabular_xgboost.errors import UserError

_MEBIBYTE = 1024 * 1024
# Batch transform's limit on MaxConcurrentTransforms times MaxPayloadInMB (CreateTransformJob, MaxPayloadInMB).
TRANSFORM_PAYLOAD_BUDGET_MB = 100


@dataclass(frozen=True)
class ServingSettings:
    """How the server listens and how many worker processes it runs.

    Environment variables (SageMaker's names where it defines one):
      SAGEMAKER_BIND_TO_PORT          port to listen on (default 8080)
      SERVING_BIND_ADDRESS            address to listen on (default 0.0.0.0; tests use 127.0.0.1)
      SAGEMAKER_MODEL_SERVER_WORKERS  worker processes (default: one per CPU)
      SAGEMAKER_MODEL_SERVER_TIMEOUT  seconds a request may take before its worker is replaced (default 60)
      SAGEMAKER_MAX_PAYLOAD_IN_MB     largest request body in MiB, 0 to 100 (default 6, as InvokeEndpoint allows);
                                      0 means no limit, as batch transform's MaxPayloadInMB 0 sends bodies of any
                                      size with chunked transfer encoding
    """

    bind_address: str
    port: int
    workers: int
    timeout_seconds: int
    max_payload_mb: int
    cpu_count: int

    @property
    def max_payload_bytes(self) -> int | None:
        """None: no limit."""
        return self.max_payload_mb * _MEBIBYTE if self.max_payload_mb else None

    @property
    def max_concurrent_transforms(self) -> int:
        """Requests batch transform may send at once: one per worker, as long as that many payloads of the largest
        size stay within batch transform's 100 MB budget (with no payload limit, the budget does not apply)."""
        if not self.max_payload_mb:
            return self.workers
        return max(1, min(self.workers, TRANSFORM_PAYLOAD_BUDGET_MB // self.max_payload_mb))

    @property
    def threads_per_worker(self) -> int:
        """XGBoost threads per worker, so that all workers together use each CPU once."""
        return max(1, self.cpu_count // self.workers)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ServingSettings:
        cpu_count = len(os.sched_getaffinity(0))
        problems: list[str] = []

        def read(name: str, default: int, low: int, high: int) -> int:
            text = environ.get(name)
            if text is None or not text.strip():
                return default
            try:
                value = int(text)
                if low <= value <= high:
                    return value
            except ValueError:
                pass
            problems.append(f"{name}={text!r} is invalid: must be an integer from {low} to {high}")
            return default

        settings = cls(
            bind_address=environ.get("SERVING_BIND_ADDRESS", "0.0.0.0"),
            port=read("SAGEMAKER_BIND_TO_PORT", 8080, 1, 65535),
            workers=read("SAGEMAKER_MODEL_SERVER_WORKERS", cpu_count, 1, 256),
            timeout_seconds=read("SAGEMAKER_MODEL_SERVER_TIMEOUT", 60, 1, 3600),
            max_payload_mb=read("SAGEMAKER_MAX_PAYLOAD_IN_MB", 6, 0, TRANSFORM_PAYLOAD_BUDGET_MB),
            cpu_count=cpu_count,
        )
        if problems:
            raise UserError("Invalid serving settings: " + "; ".join(problems))
        return settings
