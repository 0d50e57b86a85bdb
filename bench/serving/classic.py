"""The classic stack of SageMaker's framework containers, started on loopback for the serving benchmark.

nginx (``nginx.conf.template``) in front of gunicorn with sync workers running the Flask app of
``baseline_app.py`` on a Unix socket, as sagemaker-containers and the scikit_bring_your_own example start them:
``gunicorn --timeout T -k sync -b unix:SOCKET -w WORKERS``. nginx comes from Debian; ``ensure_nginx``
installs it with apt-get when it is missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from container_harness import RunningServer, free_port, running, subprocess_environment

BENCH_DIR = Path(__file__).resolve().parent
_TEMPLATE = BENCH_DIR / "nginx.conf.template"
# The model server timeout of sagemaker-containers (SAGEMAKER_MODEL_SERVER_TIMEOUT's default).
_TIMEOUT_SECONDS = 60


def ensure_debian_package(command: str, package: str) -> str:
    """The path of ``command``, installing ``package`` with apt-get when it is missing (needs root)."""
    path = shutil.which(command)
    if path:
        return path
    if os.geteuid() != 0:
        sys.exit(f"{command} is missing: install it with `sudo apt-get install {package}` and run again.")
    print(f"Installing {package} with apt-get ...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", package], check=True, stdout=subprocess.DEVNULL)
    return shutil.which(command) or sys.exit(f"{command} is still missing after apt-get install {package}.")


@dataclass
class ClassicStack:
    """The front proxy, which the load generator talks to, and gunicorn behind it."""

    nginx: RunningServer
    gunicorn: subprocess.Popen

    @property
    def port(self) -> int:
        return self.nginx.port

    @property
    def pids(self) -> tuple[int, ...]:
        return self.nginx.process.pid, self.gunicorn.pid


@contextlib.contextmanager
def classic_stack(model_dir: Path, workers: int, threads: int, scratch: Path) -> Iterator[ClassicStack]:
    nginx = ensure_debian_package("nginx", "nginx-light")
    scratch.mkdir(mode=0o755)
    # nginx's worker runs as an unprivileged user when started as root and must reach the socket.
    os.chmod(scratch.parent, 0o755)
    socket, port = scratch / "gunicorn.sock", free_port()
    config = scratch / "nginx.conf"
    config.write_text(
        _TEMPLATE.read_text()
        .replace("@SCRATCH@", str(scratch))
        .replace("@SOCKET@", str(socket))
        .replace("@PORT@", str(port))
    )
    gunicorn_command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--timeout",
        str(_TIMEOUT_SECONDS),
        "--worker-class",
        "sync",
        "--bind",
        f"unix:{socket}",
        "--workers",
        str(workers),
        "--no-control-socket",
        "--chdir",
        str(BENCH_DIR),
        "baseline_app:app",
    ]
    environ = subprocess_environment(MODEL_DIR=str(model_dir), BOOSTER_THREADS=str(threads))
    with (scratch / "gunicorn.log").open("w") as log:
        gunicorn = subprocess.Popen(gunicorn_command, env=environ, stdout=log, stderr=subprocess.STDOUT)
    try:
        with running([nginx, "-c", str(config), "-p", str(scratch)], port, environ, scratch / "nginx.log") as proxy:
            yield ClassicStack(proxy, gunicorn)
    finally:
        gunicorn.terminate()
        try:
            gunicorn.wait(timeout=30)
        except subprocess.TimeoutExpired:
            gunicorn.kill()
            gunicorn.wait()
