"""The ``serve`` command: gunicorn as the process manager, workers running the inference application.

gunicorn's master binds the port, starts one worker process per CPU, replaces workers that die or
hang, and on SIGTERM stops accepting connections and lets in-flight requests finish. Each worker
runs an event loop (uvloop) with the HTTP/1.1 connections of ``connection.py`` (httptools) and the small
application in ``app.py`` (``worker.py``).

The master reads the model files; workers build their booster from those bytes after they start.
When the container runs as root (as SageMaker starts it), workers switch to the unprivileged
``model-server`` user if the image has it, so request handling never runs as root.
"""

from __future__ import annotations

import os
import pwd
from typing import Any

from gunicorn.app.base import BaseApplication

from tabular_xgboost.model_artifacts import read_model
from tabular_xgboost.sagemaker_environment import SageMakerPaths
from tabular_xgboost.serving.app import InferenceApplication
from tabular_xgboost.serving.settings import ServingSettings
from tabular_xgboost.serving.worker import ModelServerWorker

UNPRIVILEGED_USER = "model-server"
# SageMaker sends SIGKILL 30 s after SIGTERM; finishing in-flight requests within 25 s lets the
# server exit cleanly before that.
_GRACEFUL_TIMEOUT_SECONDS = 25
# Longer than the idle timeout of SageMaker's front end, so the server never closes a connection
# the front end is about to reuse.
_KEEPALIVE_SECONDS = 75


class _GunicornServer(BaseApplication):
    def __init__(self, application: InferenceApplication, options: dict[str, Any]) -> None:
        self._application = application
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._options.items():
            self.cfg.set(name, value)

    def load(self) -> InferenceApplication:
        return self._application


def gunicorn_options(settings: ServingSettings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "bind": f"{settings.bind_address}:{settings.port}",
        "workers": settings.workers,
        "worker_class": ModelServerWorker,
        "timeout": settings.timeout_seconds,
        "graceful_timeout": _GRACEFUL_TIMEOUT_SECONDS,
        "keepalive": _KEEPALIVE_SECONDS,
        "errorlog": "-",
        "loglevel": "info",
        # The runtime control socket would be one more writable path and listening endpoint.
        "control_socket_disable": True,
    }
    # Worker heartbeats go to a file; on an overlay file system writes to it can stall, memory can't.
    if os.access("/dev/shm", os.W_OK):
        options["worker_tmp_dir"] = "/dev/shm"
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam(UNPRIVILEGED_USER)
        except KeyError:
            pass
        else:
            options.update(user=account.pw_uid, group=account.pw_gid)
    return options


def run_server(paths: SageMakerPaths) -> None:
    """Serves until SIGTERM; gunicorn then ends the process (status 0 after a graceful stop).

    Raises UserError before binding the port when the settings or the model are invalid.
    """
    settings = ServingSettings.from_environment()
    artifacts = read_model(paths.model_dir)
    _GunicornServer(InferenceApplication(artifacts, settings), gunicorn_options(settings)).run()
