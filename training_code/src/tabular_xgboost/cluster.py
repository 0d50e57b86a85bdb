"""The hosts of a training job and XGBoost's collective communication between them.

With several hosts in ``resourceconfig.json`` every host trains on its share of the rows and
XGBoost's collective (the successor of Rabit) combines gradient statistics across hosts, the same
scheme SageMaker's built-in XGBoost uses. The first host runs the tracker that hosts connect to.

Environment overrides (for running several "hosts" on one machine):
  TRAINING_HOST_ADDRESSES   JSON object host name -> address, instead of resolving host names in DNS
  TRAINING_TRACKER_PORT     the tracker's port on the first host (default 9099)
  TRAINING_CLUSTER_TIMEOUT_SECONDS  how long hosts wait for each other (default 900)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from xgboost import collective as xgb_collective
from xgboost.core import XGBoostError
from xgboost.tracker import RabitTracker

from tabular_xgboost.errors import UserError
from tabular_xgboost.sagemaker_environment import SageMakerPaths, read_json_file

LOG = logging.getLogger(__name__)

DEFAULT_TRACKER_PORT = 9099
DEFAULT_CLUSTER_TIMEOUT_SECONDS = 900
_SINGLE_HOST = "algo-1"


@dataclass(frozen=True)
class Cluster:
    """The job's hosts in SageMaker's order, which every host sees the same way."""

    hosts: tuple[str, ...]
    current_host: str
    host_addresses: Mapping[str, str]
    tracker_port: int
    timeout_seconds: int

    @classmethod
    def from_environment(cls, paths: SageMakerPaths, environ: Mapping[str, str] = os.environ) -> Cluster:
        hosts: tuple[str, ...] = (_SINGLE_HOST,)
        current_host = _SINGLE_HOST
        if paths.resource_config_file.exists():
            config = read_json_file(paths.resource_config_file, "The resource configuration")
            hosts = tuple(config.get("hosts") or hosts)
            current_host = config.get("current_host", current_host)
            if current_host not in hosts:
                raise UserError(
                    f"{paths.resource_config_file}: current_host '{current_host}' is not among hosts {list(hosts)}."
                )
        return cls(
            hosts=hosts,
            current_host=current_host,
            host_addresses=_host_addresses(environ),
            tracker_port=_positive_int(environ, "TRAINING_TRACKER_PORT", DEFAULT_TRACKER_PORT),
            timeout_seconds=_positive_int(environ, "TRAINING_CLUSTER_TIMEOUT_SECONDS", DEFAULT_CLUSTER_TIMEOUT_SECONDS),
        )

    @property
    def is_distributed(self) -> bool:
        return len(self.hosts) > 1

    @property
    def rank(self) -> int:
        return self.hosts.index(self.current_host)

    @property
    def is_leader(self) -> bool:
        """The first host: it runs the tracker and writes the model, report and checkpoints."""
        return self.rank == 0

    def address_of(self, host: str) -> str:
        """The host's IP address; SageMaker's host names can take a moment to appear in DNS."""
        if host in self.host_addresses:
            return self.host_addresses[host]
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            try:
                return socket.gethostbyname(host)
            except socket.gaierror as error:
                if time.monotonic() > deadline:
                    raise UserError(
                        f"Host '{host}' did not resolve within {self.timeout_seconds} s: {error}"
                    ) from error
                time.sleep(1)


def _host_addresses(environ: Mapping[str, str]) -> dict[str, str]:
    text = environ.get("TRAINING_HOST_ADDRESSES")
    if not text:
        return {}
    try:
        addresses = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(f"TRAINING_HOST_ADDRESSES is not valid JSON: {error}") from error
    if not isinstance(addresses, dict) or not all(isinstance(v, str) for v in addresses.values()):
        raise UserError('TRAINING_HOST_ADDRESSES must be a JSON object like {"algo-1": "10.0.0.5"}.')
    return addresses


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise UserError(f"{name}={text!r} is invalid: must be a positive integer.")
    return value


@contextlib.contextmanager
def tracker_on_first_host(cluster: Cluster) -> Iterator[None]:
    """Runs the collective's tracker on the first host of a cluster for the duration of the block.

    Started before any host reads its data, so hosts that get to joining first find it listening
    instead of backing off and retrying.
    """
    if not (cluster.is_distributed and cluster.is_leader):
        yield
        return
    address = cluster.address_of(cluster.hosts[0])
    tracker = RabitTracker(
        n_workers=len(cluster.hosts),
        host_ip=address,
        port=cluster.tracker_port,
        sortby="task",
        timeout=cluster.timeout_seconds,
    )
    tracker.start()
    LOG.info("Started the collective tracker on %s:%d.", address, cluster.tracker_port)
    yield
    tracker.wait_for(cluster.timeout_seconds)


@contextlib.contextmanager
def collective(cluster: Cluster) -> Iterator[None]:
    """Joins XGBoost's collective for the duration of the block; a no-op on a single host.

    The rank XGBoost assigns follows the host's position in ``hosts`` (task ids sort that way), so
    rank 0 is the first host on every run. A host that fails before joining (bad data, say) makes
    the others fail once the cluster timeout passes, instead of waiting forever.
    """
    if not cluster.is_distributed:
        yield
        return
    tracker_address = cluster.address_of(cluster.hosts[0])
    try:
        xgb_collective.init(
            dmlc_tracker_uri=tracker_address,
            dmlc_tracker_port=cluster.tracker_port,
            dmlc_task_id=f"{cluster.rank:05d}-{cluster.current_host}",
            dmlc_timeout=cluster.timeout_seconds,
        )
    except XGBoostError as error:
        raise UserError(
            f"The {len(cluster.hosts)} hosts did not all join within {cluster.timeout_seconds} s "
            f"(tracker {tracker_address}:{cluster.tracker_port}); another host probably failed "
            "first: see its failure reason."
        ) from error
    try:
        assigned_rank = xgb_collective.get_rank()
        if assigned_rank != cluster.rank:
            raise RuntimeError(f"XGBoost assigned rank {assigned_rank}, expected {cluster.rank}.")
        LOG.info("Joined the collective as rank %d of %d.", assigned_rank, len(cluster.hosts))
        yield
    finally:
        xgb_collective.finalize()
