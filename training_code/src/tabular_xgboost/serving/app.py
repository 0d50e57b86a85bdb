"""The application each server worker runs: SageMaker's inference HTTP contract.

``GET /ping``                  200 once this worker has loaded the model
``POST /invocations``          predictions for the records in the body
``GET /execution-parameters``  what batch transform should send (record batching, payload size)

Errors are JSON, ``{"error": "..."}``, with a 4xx status for requests the client can fix. The connection handling
(``connection.py``) hands over complete requests; answering one is a plain function call, so a request costs no
more than its decoding, prediction and encoding.
"""

from __future__ import annotations

import ctypes
import json
import logging
import threading
from typing import NamedTuple

import numpy as np
import orjson
import xgboost as xgb
from xgboost import core as xgb_core

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

# Bodies up to this size are predicted on the event loop: a hop to a thread would cost more than
# the work. Larger ones (batch transform) run in a thread, so /ping keeps answering meanwhile.
_INLINE_BODY_BYTES = 256 * 1024
_JSON = b"application/json"
_ROUTES = {"/ping": "GET", "/invocations": "POST", "/execution-parameters": "GET"}


class Response(NamedTuple):
    status: int
    body: bytes
    content_type: bytes = _JSON


class ModelLoadError(Exception):
    """The worker cannot build its booster from the model files."""


class Predictor:
    """The booster of one worker process.

    Predicts through XGBoost's C entry point for dense arrays (``XGBoosterPredictFromDense``, what
    ``Booster.inplace_predict`` calls) with the call's arguments prepared once: ``inplace_predict``'s Python code,
    which handles every input type and option, costs more than predicting a few rows. The tests compare its
    predictions with ``inplace_predict``'s.
    """

    # Normal prediction (probabilities for binary:logistic) with every tree; NaN marks a missing value.
    _PREDICTION_ARGUMENTS = json.dumps(
        {
            "type": 0,
            "training": False,
            "iteration_begin": 0,
            "iteration_end": 0,
            "missing": float("nan"),
            "strict_shape": False,
            "cache_id": 0,
        }
    ).encode()

    def __init__(self, artifacts: ModelArtifacts, threads: int) -> None:
        self._booster = xgb.Booster(model_file=artifacts.booster_bytes)
        # Serving predicts on the CPUs, whatever device trained the model.
        self._booster.set_param({"nthread": threads, "device": "cpu"})
        self._per_thread = threading.local()

    def _input_matrix(self) -> ctypes.c_void_p:
        """This thread's proxy matrix, through which XGBoost reads the array to predict.

        Without one, XGBoost builds a proxy and a context for each call, and the context reads the cgroup's CPU
        quota from /sys/fs/cgroup: 60-100 us per call, about a third of predicting one row (docs/serving-benchmark.md).
        A proxy points at the last array it was given, so each thread that predicts has its own.
        """
        proxy = getattr(self._per_thread, "proxy", None)
        if proxy is None:
            proxy = self._per_thread.proxy = xgb_core._ProxyDMatrix()
        return proxy.handle

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Predictions for a C-contiguous float32 matrix whose width the decoder has checked."""
        features = np.ascontiguousarray(features, dtype=np.float32)
        rows, columns = features.shape
        array_interface = b'{"data":[%d,true],"shape":[%d,%d],"typestr":"<f4","version":3}' % (
            features.ctypes.data,
            rows,
            columns,
        )
        shape = ctypes.POINTER(xgb_core.c_bst_ulong)()
        dimensions = xgb_core.c_bst_ulong()
        predictions = ctypes.POINTER(ctypes.c_float)()
        xgb_core._check_call(
            xgb_core._LIB.XGBoosterPredictFromDense(
                self._booster.handle,
                array_interface,
                self._PREDICTION_ARGUMENTS,
                self._input_matrix(),
                ctypes.byref(shape),
                ctypes.byref(dimensions),
                ctypes.byref(predictions),
            )
        )
        result_shape = tuple(int(shape[axis]) for axis in range(dimensions.value))
        # The buffer is the booster's, reused by its next prediction on this thread: copy it.
        return np.ctypeslib.as_array(predictions, shape=result_shape).copy()


class InferenceApplication:
    """Built in gunicorn's master from the model files; ``start`` builds the booster in each worker."""

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

    @property
    def max_body_bytes(self) -> int | None:
        """The largest request body; None: no limit."""
        return self._settings.max_payload_bytes

    def start(self) -> None:
        """Builds the booster in the worker process, after the fork, so that XGBoost's threads belong to it."""
        try:
            self._predictor = Predictor(self._artifacts, self._settings.threads_per_worker)
        except xgb.core.XGBoostError as error:
            raise ModelLoadError(f"Cannot load the model: {error}") from error

    def warm_up(self) -> None:
        """Work worth doing once the worker answers /ping rather than before (run in a thread)."""
        self._decoder.load_csv_parser()

    def too_large(self) -> Response:
        return _error(
            413,
            f"The request body exceeds {self._settings.max_payload_mb} MiB (SAGEMAKER_MAX_PAYLOAD_IN_MB); "
            "split the records over several requests.",
        )

    @staticmethod
    def runs_in_thread(method: str, path: str, body: bytes) -> bool:
        """Whether answering takes long enough that the event loop should go on serving meanwhile."""
        return len(body) > _INLINE_BODY_BYTES and path == "/invocations"

    def respond(self, method: str, path: str, headers: dict[bytes, bytes], body: bytes) -> Response:
        """The answer to one complete request; never raises. Header names are lower case."""
        try:
            if path == "/invocations" and method == "POST":
                return self._invocations(headers, body)
            if path == "/ping" and method == "GET":
                return Response(200, b"{}")
            if path == "/execution-parameters" and method == "GET":
                return Response(200, self._execution_parameters)
            if path in _ROUTES:
                raise RequestError(405, f"{method} is not allowed on {path}; use {_ROUTES[path]}.")
            raise RequestError(404, f"No such path {path!r}; use /invocations or /ping.")
        except RequestError as error:
            return _error(error.status, error.message)
        except Exception:
            LOG.exception("Failed to answer %s %s", method, path)
            return Response(500, b'{"error":"Internal server error; see the endpoint logs."}')

    def _invocations(self, headers: dict[bytes, bytes], body: bytes) -> Response:
        assert self._predictor is not None, "start() builds it before the worker accepts connections"
        request_type = request_media_type(_text(headers.get(b"content-type")))
        answer_type = response_media_type(_text(headers.get(b"accept")), request_type)
        features = self._decoder.decode(request_type, body)
        return Response(200, encode_predictions(answer_type, self._predictor.predict(features)), answer_type.encode())


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def _error(status: int, message: str) -> Response:
    return Response(status, orjson.dumps({"error": message}))
