"""The ASGI application each server worker runs: SageMaker's inference HTTP contract.

``GET /ping``                  200 once this worker has loaded the model
``POST /invocations``          predictions for the records in the body
``GET /execution-parameters``  what batch transform should send (record batching, payload size)

Errors are JSON, ``{"error": "..."}``, with a 4xx status for requests the client can fix.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import orjson
import xgboost as xgb

from tabular_xgboost.model_artifacts import ModelArtifacts
from tabular_xgboost.serving.codecs import (
    FeatureDecoder,
    RequestError,
    encode_predictions,
    request_media_type,
    response_media_type,
)
from tabular_xgboost.serving.settings import ServingSettings

LOG = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

# Bodies up to this size are predicted on the event loop: a hop to a thread would cost more than
# the work. Larger ones (batch transform) run in a thread, so /ping keeps answering meanwhile.
_INLINE_BODY_BYTES = 256 * 1024
_JSON = b"application/json"


class _ClientDisconnected(Exception):
    pass


class Predictor:
    """The booster of one worker process."""

    def __init__(self, artifacts: ModelArtifacts, threads: int) -> None:
        self._booster = xgb.Booster(model_file=artifacts.booster_bytes)
        # Serving predicts on the CPUs, whatever device trained the model.
        self._booster.set_param({"nthread": threads, "device": "cpu"})

    def predict(self, features: np.ndarray) -> np.ndarray:
        # The decoder has checked the number of features already.
        return self._booster.inplace_predict(features, validate_features=False)


class InferenceApplication:
    def __init__(self, artifacts: ModelArtifacts, settings: ServingSettings) -> None:
        self._artifacts = artifacts
        self._settings = settings
        self._decoder = FeatureDecoder(artifacts.metadata.feature_names)
        self._predictor: Predictor | None = None
        self._execution_parameters = orjson.dumps(
            {
                "MaxConcurrentTransforms": settings.max_concurrent_transforms,
                "BatchStrategy": "MULTI_RECORD",
                "MaxPayloadInMB": settings.max_payload_mb,
            }
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # Loaded in the worker process, after the fork, so XGBoost's threads belong to it.
                try:
                    self._predictor = Predictor(self._artifacts, self._settings.threads_per_worker)
                except xgb.core.XGBoostError as error:
                    await send({"type": "lifespan.startup.failed", "message": f"Cannot load the model: {error}"})
                    return
                await send({"type": "lifespan.startup.complete"})
                asyncio.get_running_loop().run_in_executor(None, self._decoder.load_csv_parser)
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = (scope["method"], scope["path"])
        try:
            if route == ("GET", "/ping"):
                await _respond(send, 200, b"{}", _JSON)
            elif route == ("POST", "/invocations"):
                await self._invocations(scope, receive, send)
            elif route == ("GET", "/execution-parameters"):
                await _respond(send, 200, self._execution_parameters, _JSON)
            elif scope["path"] in ("/ping", "/invocations", "/execution-parameters"):
                allowed = "POST" if scope["path"] == "/invocations" else "GET"
                raise RequestError(405, f"{scope['method']} is not allowed on {scope['path']}; use {allowed}.")
            else:
                raise RequestError(404, f"No such path {scope['path']!r}; use /invocations or /ping.")
        except RequestError as error:
            # The connection stays open: uvicorn discards whatever of a rejected body is still
            # arriving, so the client reads this answer instead of a connection reset.
            await _respond(send, error.status, orjson.dumps({"error": error.message}), _JSON)
        except _ClientDisconnected:
            pass
        except Exception:
            LOG.exception("Failed to answer %s %s", *route)
            await _respond(send, 500, b'{"error":"Internal server error; see the endpoint logs."}', _JSON)

    async def _invocations(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        request_type = request_media_type(headers.get("content-type"))
        answer_type = response_media_type(headers.get("accept"), request_type)
        body = await self._read_body(headers, receive)
        if len(body) <= _INLINE_BODY_BYTES:
            payload = self._predict(request_type, answer_type, body)
        else:
            payload = await asyncio.to_thread(self._predict, request_type, answer_type, body)
        await _respond(send, 200, payload, answer_type.encode())

    def _predict(self, request_type: str, answer_type: str, body: bytes) -> bytes:
        assert self._predictor is not None, "the lifespan startup loads it before requests arrive"
        features = self._decoder.decode(request_type, body)
        return encode_predictions(answer_type, self._predictor.predict(features))

    async def _read_body(self, headers: dict[str, str], receive: Receive) -> bytes:
        limit = self._settings.max_payload_bytes
        too_large = RequestError(
            413,
            f"The request body exceeds {self._settings.max_payload_mb} MiB "
            "(SAGEMAKER_MAX_PAYLOAD_IN_MB); split the records over several requests.",
        )
        declared = headers.get("content-length")
        if limit is not None and declared is not None and declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientDisconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if limit is not None and size > limit:
                raise too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


async def _respond(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
