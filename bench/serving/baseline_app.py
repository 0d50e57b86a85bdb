"""The baseline of the serving benchmark: the classic SageMaker bring-your-own-container pattern.

A Flask app behind gunicorn sync workers, behind nginx (classic.py starts them), that parses CSV
with pandas and writes the predictions back with pandas, as SageMaker's long-standing example and
framework containers do. It predicts through the same XGBoost entry point as the image's server
(``Booster.inplace_predict``, as such an app would call it), so the comparison measures the serving
stack. MODEL_DIR names the model directory.
"""

from __future__ import annotations

import io
import os

import flask
import numpy as np
import pandas as pd
import xgboost as xgb

MODEL_DIR = os.environ["MODEL_DIR"]
THREADS = int(os.environ.get("BOOSTER_THREADS", "1"))

app = flask.Flask(__name__)
_booster: xgb.Booster | None = None


def booster() -> xgb.Booster:
    """Loaded on first use in each worker, as the classic pattern does."""
    global _booster
    if _booster is None:
        _booster = xgb.Booster(model_file=os.path.join(MODEL_DIR, "xgboost-model.ubj"))
        _booster.set_param({"nthread": THREADS})
    return _booster


@app.route("/ping", methods=["GET"])
def ping() -> flask.Response:
    return flask.Response(response="\n", status=200 if booster() else 404, mimetype="application/json")


@app.route("/invocations", methods=["POST"])
def invocations() -> flask.Response:
    if flask.request.content_type != "text/csv":
        return flask.Response(response="This predictor supports CSV only", status=415, mimetype="text/plain")
    frame = pd.read_csv(io.StringIO(flask.request.data.decode("utf-8")), header=None)
    predictions = booster().inplace_predict(frame.to_numpy(dtype=np.float32))
    out = io.StringIO()
    pd.DataFrame({"results": predictions}).to_csv(out, header=False, index=False)
    return flask.Response(response=out.getvalue(), status=200, mimetype="text/csv")
