"""What the image's server could reach without HTTP: its own code, called in a loop in worker processes.

Two limits, each in as many processes as the server has workers, each process with one XGBoost thread:
  predict  the booster predicting the request's rows, already a float32 matrix;
  codec    the server's whole request path without HTTP: the CSV body decoded (FeatureDecoder), predicted
           (Predictor) and the predictions encoded (encode_predictions).
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import numpy as np
from tabular_xgboost.model_artifacts import read_model
from tabular_xgboost.serving.app import Predictor
from tabular_xgboost.serving.codecs import CSV, FeatureDecoder, encode_predictions

KINDS = ("predict", "codec")

_predictor: Predictor | None = None
_decoder: FeatureDecoder | None = None


def _load(model_dir: str, threads: int) -> None:
    global _predictor, _decoder
    artifacts = read_model(Path(model_dir))
    _predictor = Predictor(artifacts, threads)
    _decoder = FeatureDecoder(artifacts.metadata.feature_names)
    _decoder.load_csv_parser()


def _loop(kind: str, body: bytes, duration: float) -> tuple[list[float], float]:
    assert _predictor is not None and _decoder is not None
    predictor, decoder = _predictor, _decoder
    features = decoder.decode(CSV, body)

    def predict() -> object:
        return predictor.predict(features)

    def codec() -> object:
        return encode_predictions(CSV, predictor.predict(decoder.decode(CSV, body)))

    call = predict if kind == "predict" else codec
    call()
    latencies = []
    cpu_start = time.process_time()
    deadline = time.perf_counter() + duration
    while (start := time.perf_counter()) < deadline:
        call()
        latencies.append(time.perf_counter() - start)
    return latencies, time.process_time() - cpu_start


class InProcessLimits:
    """A pool of worker processes with the model loaded, measuring either limit on request."""

    def __init__(self, model_dir: Path, processes: int, threads: int) -> None:
        self._processes = processes
        self._pool = multiprocessing.get_context("spawn").Pool(processes, _load, (str(model_dir), threads))

    def measure(self, kind: str, body: bytes, duration: float) -> tuple[float, np.ndarray, float]:
        """Calls per second over all processes, latencies in ms, CPU seconds used per call."""
        results = self._pool.starmap(_loop, [(kind, body, duration)] * self._processes)
        latencies = np.concatenate([np.asarray(latency) for latency, _ in results]) * 1000
        cpu = sum(cpu for _, cpu in results)
        return len(latencies) / duration, latencies, cpu / max(len(latencies), 1)

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()
