"""The ``train`` command: SageMaker's training contract around a gradient-boosted tree model."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import xgboost as xgb
from xgboost import collective as xgb_collective

from tabular_xgboost.checkpoints import CheckpointStore
from tabular_xgboost.cluster import Cluster, collective, tracker_on_first_host
from tabular_xgboost.datasets import Dataset, read_channel
from tabular_xgboost.devices import training_device
from tabular_xgboost.errors import TrainingStopped, UserError
from tabular_xgboost.hyperparameters import Hyperparameters, parse_hyperparameters
from tabular_xgboost.metrics import (
    TASK_METRICS,
    format_scores,
    parse_evaluation,
    write_evaluation_report,
)
from tabular_xgboost.model_artifacts import ModelMetadata, save_model
from tabular_xgboost.sagemaker_environment import SageMakerPaths, channel_distribution, read_json_file
from tabular_xgboost.tracking import Tracker, tracking

LOG = logging.getLogger(__name__)

EVALUATION_REPORT = "evaluation.json"
_BEST_ITERATION, _BEST_SCORE = "best_iteration", "best_score"


def run_training(
    paths: SageMakerPaths, environ: Mapping[str, str] = os.environ, stop: threading.Event | None = None
) -> None:
    """Trains and, on the first host, writes the model, the evaluation report and checkpoints.

    :param stop: once set, training ends after the round in progress, the first host writes a checkpoint and
        TrainingStopped is raised. Default: never set.
    """
    hyperparameters = _read_hyperparameters(paths)
    cluster = Cluster.from_environment(paths, environ)
    with tracker_on_first_host(cluster):
        train_set, validation_set = _read_data(paths, hyperparameters, cluster)
        with collective(cluster):
            _train_and_save(paths, hyperparameters, cluster, train_set, validation_set, stop or threading.Event())


def _train_and_save(
    paths: SageMakerPaths,
    hyperparameters: Hyperparameters,
    cluster: Cluster,
    train_set: Dataset,
    validation_set: Dataset,
    stop: threading.Event,
) -> None:
    """Trains on every host together; the first host writes the model and the report."""
    _check_same_features_on_every_host(train_set.feature_names)
    total_rows = _sum_over_hosts(train_set.row_count)
    LOG.info(
        "Training on %d rows across %d host(s) (%d on this host), validating on %d rows here.",
        total_rows,
        len(cluster.hosts),
        train_set.row_count,
        validation_set.row_count,
    )
    with tracking(hyperparameters, enabled=cluster.is_leader) as tracker:
        tracker.log_parameters({"train_rows": total_rows, "features": ",".join(train_set.feature_names)})
        booster, validation_scores = _fit(paths, hyperparameters, cluster, train_set, validation_set, stop, tracker)
        if cluster.is_leader:
            save_model(paths.model_dir, booster, ModelMetadata(hyperparameters.task, train_set.feature_names))
            write_evaluation_report(paths.output_data_dir / EVALUATION_REPORT, hyperparameters.task, validation_scores)
            LOG.info("Wrote the model (%d trees) to %s.", booster.num_boosted_rounds(), paths.model_dir)
            tracker.log_model(paths.model_dir, validation_scores)


def _read_hyperparameters(paths: SageMakerPaths) -> Hyperparameters:
    raw = {}
    if paths.hyperparameters_file.exists():
        raw = read_json_file(paths.hyperparameters_file, "The hyperparameters file")
    if not isinstance(raw, dict):
        raise UserError(f"{paths.hyperparameters_file} must hold a JSON object of hyperparameters.")
    return parse_hyperparameters(raw)


def _read_data(paths: SageMakerPaths, hyperparameters: Hyperparameters, cluster: Cluster) -> tuple[Dataset, Dataset]:
    """This host's training and validation rows.

    Without a validation channel, a seeded random ``validation_fraction`` of the training rows is
    held out. When every host sees all files (FullyReplicated), each host keeps every n-th row;
    with ShardedByS3Key, S3 already gave each host its own files.
    """
    read = {"target_column": hyperparameters.target_column, "task": hyperparameters.task}
    train_set = read_channel("train", paths.channel_dir("train"), **read)
    if paths.channel_dir("validation").exists():
        validation_set = read_channel("validation", paths.channel_dir("validation"), **read)
        validation_set = _align_features(validation_set, train_set.feature_names)
    else:
        train_set, validation_set = _hold_out(train_set, hyperparameters)

    if cluster.is_distributed:
        train_set = _share_of(train_set, "train", paths, cluster)
        validation_set = _share_of(validation_set, "validation", paths, cluster)
    return train_set, validation_set


def _align_features(validation_set: Dataset, feature_names: tuple[str, ...]) -> Dataset:
    if set(validation_set.feature_names) != set(feature_names):
        raise UserError(
            f"The 'validation' channel's feature columns {list(validation_set.feature_names)} "
            f"differ from the 'train' channel's {list(feature_names)}."
        )
    order = [validation_set.feature_names.index(name) for name in feature_names]
    return Dataset(validation_set.features[:, order], validation_set.target, feature_names)


def _hold_out(train_set: Dataset, hyperparameters: Hyperparameters) -> tuple[Dataset, Dataset]:
    validation_rows = round(train_set.row_count * hyperparameters.validation_fraction)
    if validation_rows == 0 or validation_rows == train_set.row_count:
        raise UserError(
            f"The 'train' channel has {train_set.row_count} rows: too few to hold out "
            f"validation_fraction={hyperparameters.validation_fraction:g} for validation. "
            "Add rows or give the job a 'validation' channel."
        )
    shuffled = np.random.default_rng(hyperparameters.seed).permutation(train_set.row_count)
    LOG.info("No 'validation' channel: holding out %d training rows for validation.", validation_rows)
    return train_set.take(np.sort(shuffled[validation_rows:])), train_set.take(np.sort(shuffled[:validation_rows]))


def _share_of(dataset: Dataset, channel: str, paths: SageMakerPaths, cluster: Cluster) -> Dataset:
    if channel_distribution(paths, channel) == "FullyReplicated":
        dataset = dataset.take(np.arange(cluster.rank, dataset.row_count, len(cluster.hosts)))
    if dataset.row_count == 0:
        raise UserError(
            f"Host {cluster.current_host} got no rows of the '{channel}' channel to train on; "
            f"use fewer instances than rows ({len(cluster.hosts)} now)."
        )
    return dataset


def _check_same_features_on_every_host(feature_names: tuple[str, ...]) -> None:
    if not xgb_collective.is_distributed():
        return
    leader_names = xgb_collective.broadcast(list(feature_names), 0)
    if tuple(leader_names) != feature_names:
        raise UserError(
            f"This host's feature columns {list(feature_names)} differ from the first host's "
            f"{leader_names}; every host needs data with the same columns."
        )


def _sum_over_hosts(count: int) -> int:
    if not xgb_collective.is_distributed():
        return count
    return int(xgb_collective.allreduce(np.array([count], dtype=np.int64), xgb_collective.Op.SUM)[0])


def _stop_on_any_host(stop: threading.Event) -> bool:
    """Whether any host was asked to stop: hosts receive SIGTERM at different moments, and all of them must end
    after the same round, or the ones still training wait for the others forever."""
    if not xgb_collective.is_distributed():
        return stop.is_set()
    return bool(xgb_collective.allreduce(np.array([stop.is_set()], dtype=np.int32), xgb_collective.Op.MAX)[0])


@dataclass
class _EarlyStopping:
    """Tracks the best round of the objective metric; the state lives in booster attributes, so it
    is saved with every checkpoint and a resumed run stops where an uninterrupted one would."""

    patience: int | None
    maximize: bool

    def record(self, booster: xgb.Booster, iteration: int, score: float) -> None:
        best_score = booster.attr(_BEST_SCORE)
        improved = best_score is None or (score > float(best_score) if self.maximize else score < float(best_score))
        if improved:
            booster.set_attr(**{_BEST_ITERATION: str(iteration), _BEST_SCORE: repr(score)})

    def should_stop(self, booster: xgb.Booster) -> bool:
        best_iteration = booster.attr(_BEST_ITERATION)
        if self.patience is None or best_iteration is None:
            return False
        return booster.num_boosted_rounds() - 1 - int(best_iteration) >= self.patience

    def best_model(self, booster: xgb.Booster) -> xgb.Booster:
        best_iteration = booster.attr(_BEST_ITERATION)
        if self.patience is None or best_iteration is None:
            return booster
        return booster[: int(best_iteration) + 1]


def _fit(
    paths: SageMakerPaths,
    hyperparameters: Hyperparameters,
    cluster: Cluster,
    train_set: Dataset,
    validation_set: Dataset,
    stop: threading.Event,
    tracker: Tracker,
) -> tuple[xgb.Booster, dict[str, float]]:
    threads = len(os.sched_getaffinity(0))
    device = training_device()
    task_metrics = TASK_METRICS[hyperparameters.task]
    dtrain = xgb.QuantileDMatrix(train_set.features, train_set.target, max_bin=hyperparameters.max_bin, nthread=threads)
    dvalidation = xgb.QuantileDMatrix(validation_set.features, validation_set.target, ref=dtrain, nthread=threads)
    evals = [(dtrain, "train"), (dvalidation, "validation")]

    checkpoints = CheckpointStore(paths.checkpoint_dir)
    checkpoint = checkpoints.latest() if cluster.is_leader else None
    if cluster.is_distributed:
        # Only the first host writes checkpoints; every host resumes from the one it found.
        # (Wrapped, because XGBoost refuses to broadcast None.)
        checkpoint = xgb_collective.broadcast({"checkpoint": checkpoint}, 0)["checkpoint"]
    params = hyperparameters.booster_params(threads=threads, device=device) | {
        "eval_metric": list(task_metrics.eval_metrics)
    }
    booster = xgb.Booster(params, cache=[dtrain, dvalidation], model_file=checkpoint.model if checkpoint else None)
    early_stopping = _EarlyStopping(hyperparameters.early_stopping_rounds, task_metrics.maximize)

    first_round = booster.num_boosted_rounds()
    if checkpoint:
        LOG.info("Resuming from the checkpoint written after round %d.", first_round)
    rounds_trained = 0
    for iteration in range(first_round, hyperparameters.num_round):
        if early_stopping.should_stop(booster):
            break
        if _stop_on_any_host(stop):
            if cluster.is_leader and rounds_trained and iteration % hyperparameters.checkpoint_frequency:
                checkpoints.save(booster)
            raise TrainingStopped(iteration)
        booster.update(dtrain, iteration)
        rounds_trained += 1
        scores = parse_evaluation(booster.eval_set(evals, iteration))
        LOG.info("[round %d/%d] %s", iteration + 1, hyperparameters.num_round, format_scores(scores))
        tracker.log_round(iteration, scores)
        early_stopping.record(booster, iteration, scores[f"validation-{task_metrics.objective}"])
        finished = iteration + 1 == hyperparameters.num_round or early_stopping.should_stop(booster)
        if cluster.is_leader and (finished or (iteration + 1) % hyperparameters.checkpoint_frequency == 0):
            checkpoints.save(booster)
    LOG.info("Trained %d rounds in this run; %d came from a checkpoint.", rounds_trained, first_round)

    model = early_stopping.best_model(booster)
    final_scores = parse_evaluation(model.eval_set(evals[1:], 0))
    LOG.info("[final] trees=%d %s", model.num_boosted_rounds(), format_scores(final_scores))
    return model, final_scores
