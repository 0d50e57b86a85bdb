"""The ``train`` command over a /opt/ml directory laid out as SageMaker lays it out: in this process where one job is
enough, in processes of their own where the test is about processes (several hosts, SIGKILL)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

import numpy as np
import pytest
import xgboost as xgb
from container_harness import (
    METRIC_DEFINITIONS,
    SageMakerDir,
    Table,
    classification_table,
    container_command,
    free_port,
    regression_table,
    start_training,
    subprocess_environment,
    train_in_process,
)
from scipy.stats import rankdata

CLASSIFICATION = {"target_column": "label", "task": "classification"}


def load_booster(job: SageMakerDir) -> xgb.Booster:
    return xgb.Booster(model_file=job.model_dir / "xgboost-model.ubj")


def test_a_finished_job_leaves_the_model_what_serving_needs_and_a_model_quality_report(
    trained_classifier, classifier_rounds
):
    metadata = json.loads((trained_classifier.model_dir / "model-metadata.json").read_text())

    assert metadata["task"] == "classification"
    assert metadata["feature_names"] == ["x0", "x1", "x2", "x3", "x4", "x5"]
    assert load_booster(trained_classifier).num_boosted_rounds() == classifier_rounds
    report = trained_classifier.evaluation["binary_classification_metrics"]
    assert set(report) == {"auc", "accuracy", "logloss"}
    assert all(set(metric) == {"value"} for metric in report.values())
    assert report["auc"]["value"] > 0.85
    assert not trained_classifier.failure_file.exists()


# --- metric definitions --------------------------------------------------------------------------


def _auc(target: np.ndarray, score: np.ndarray) -> float:
    ranks = rankdata(score)
    positives = target == 1
    n_pos, n_neg = positives.sum(), (~positives).sum()
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _independent_metrics(task: str, target: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    """The metrics recomputed from the model's predictions, without XGBoost's evaluation code."""
    prediction = prediction.astype(np.float64)
    if task == "classification":
        p = np.clip(prediction, 1e-16, 1 - 1e-16)
        return {
            "logloss": float(-np.mean(target * np.log(p) + (1 - target) * np.log(1 - p))),
            "error": float(np.mean((prediction > 0.5) != target)),
            "auc": _auc(target, prediction),
        }
    error = prediction - target
    return {"rmse": float(np.sqrt(np.mean(error**2))), "mae": float(np.mean(np.abs(error)))}


TASK_CASES = {
    "classification": (
        classification_table(2400, seed=5),
        "label",
        "binary_classification_metrics",
        ("logloss", "error", "auc"),
    ),
    "regression": (regression_table(2400, seed=5), "price", "regression_metrics", ("mae", "rmse")),
}


@pytest.mark.parametrize("task", TASK_CASES)
def test_metric_definitions_capture_the_values_the_trainer_prints(sagemaker_dir, task):
    table, target, report_section, metrics = TASK_CASES[task]
    train, validation = table.rows(0, 1800), table.rows(1800, 2400)
    # Classification reads CSV, regression Parquet: both formats SageMaker channels commonly hold.
    write = Table.write_csv if task == "classification" else Table.write_parquet
    write(train, sagemaker_dir.channel("train") / f"part-0.{'csv' if task == 'classification' else 'parquet'}")
    write(
        validation, sagemaker_dir.channel("validation") / f"part-0.{'csv' if task == 'classification' else 'parquet'}"
    )
    sagemaker_dir.hyperparameters({"target_column": target, "task": task, "num_round": "25"})

    status, log = train_in_process(sagemaker_dir)
    assert status == 0, log

    definitions = json.loads(METRIC_DEFINITIONS.read_text())
    assert all(set(d) == {"Name", "Regex"} and re.compile(d["Regex"]).groups == 1 for d in definitions)
    captured = {d["Name"]: [float(m) for m in re.findall(d["Regex"], log)] for d in definitions}
    booster = load_booster(sagemaker_dir)
    recomputed = {
        "train": _independent_metrics(task, train.column(target), booster.inplace_predict(train.features(target))),
        "validation": _independent_metrics(
            task, validation.column(target), booster.inplace_predict(validation.features(target))
        ),
    }
    report = sagemaker_dir.evaluation[report_section]
    for name, values in captured.items():
        dataset, metric = name.split(":")
        if metric not in metrics:
            assert values == [], f"{name} matched a line of a {task} job"
            continue
        assert len(values) >= 25, f"{name} should match once per round"
        # SageMaker records the last match as the final value: the one of the model written.
        final = values[-1]
        assert final == pytest.approx(recomputed[dataset][metric], rel=1e-5), name
        if dataset == "validation":
            reported = 1 - report["accuracy"]["value"] if metric == "error" else report[metric]["value"]
            assert final == pytest.approx(reported, rel=1e-12), name


def test_integer_boolean_and_empty_columns_of_any_size_are_features(sagemaker_dir):
    rows = 400
    rng = np.random.default_rng(4)
    amount_in_cents = rng.integers(10**9, 10**15, size=rows)
    flag = rng.random(rows) > 0.5
    table = Table(
        ("amount_in_cents", "flag", "never_filled", "label"),
        (amount_in_cents, flag, np.full(rows, np.nan), (flag ^ (amount_in_cents > 5 * 10**14)).astype(np.int64)),
    )
    table.write_parquet(sagemaker_dir.channel("train") / "part-0.parquet")
    sagemaker_dir.hyperparameters({**CLASSIFICATION, "num_round": "10"})

    status, log = train_in_process(sagemaker_dir)

    assert status == 0, log
    assert sagemaker_dir.evaluation["binary_classification_metrics"]["accuracy"]["value"] > 0.9


def test_early_stopping_keeps_the_best_round_and_reports_its_metrics(sagemaker_dir):
    classification_table(1500, seed=6).write_csv(sagemaker_dir.channel("train") / "train.csv")
    sagemaker_dir.hyperparameters(
        {**CLASSIFICATION, "num_round": "500", "eta": "0.9", "max_depth": "8", "early_stopping_rounds": "5"}
    )

    status, log = train_in_process(sagemaker_dir)

    assert status == 0, log
    rounds = [float(value) for value in re.findall(r"\[round \d+/500\] .*validation-auc=(\S+)", log)]
    best_round = int(np.argmax(rounds)) + 1
    assert len(rounds) == best_round + 5, "stops 5 rounds after the best one"
    assert load_booster(sagemaker_dir).num_boosted_rounds() == best_round
    assert sagemaker_dir.evaluation["binary_classification_metrics"]["auc"]["value"] == max(rounds)


# --- failures ------------------------------------------------------------------------------------


def _header_only(job: SageMakerDir) -> None:
    job.channel("train").mkdir(parents=True)
    (job.channel("train") / "train.csv").write_text("x0,x1,label\n")


def _non_numeric_features(job: SageMakerDir) -> None:
    job.channel("train").mkdir(parents=True)
    (job.channel("train") / "train.csv").write_text("x0,city,label\n1.5,Paris,1\n2.5,Lyon,0\n")


def _multi_class_target(job: SageMakerDir) -> None:
    job.channel("train").mkdir(parents=True)
    (job.channel("train") / "train.csv").write_text("x0,label\n" + "".join(f"{i},{i % 3}\n" for i in range(30)))


def _classification_data(job: SageMakerDir) -> None:
    classification_table(100).write_csv(job.channel("train") / "train.csv")


def _unsupported_file(job: SageMakerDir) -> None:
    classification_table(100).write_csv(job.channel("train") / "train.csv")
    (job.channel("train") / "notes.txt").write_text("not data")


FAILURES = {
    "missing train channel": (lambda job: None, CLASSIFICATION, ["'train' channel is missing"]),
    "header without rows": (_header_only, CLASSIFICATION, ["'train' channel has no rows"]),
    "missing target column": (
        _classification_data,
        {"target_column": "churned", "task": "classification"},
        ["Target column 'churned'", "['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'label']"],
    ),
    "non-numeric features": (_non_numeric_features, CLASSIFICATION, ["must be numeric", "'city' (string)"]),
    "target not binary": (_multi_class_target, CLASSIFICATION, ["must hold 0 and 1", "it also holds: 2"]),
    "unsupported file kind": (_unsupported_file, CLASSIFICATION, ["unsupported kind (notes.txt)", ".parquet"]),
    "several bad hyperparameters": (
        _classification_data,
        {"target_column": "label", "task": "classify", "num_round": "0", "eta": "fast", "depth": "3"},
        [
            "task='classify' is invalid: must be one of classification, regression",
            "num_round='0' is invalid: must be an integer from 1 to 10000",
            "eta='fast' is invalid: must be a number in (0, 1]",
            "unknown hyperparameter 'depth'",
        ],
    ),
}


@pytest.mark.parametrize("case", FAILURES)
def test_a_failed_job_exits_non_zero_and_says_why_in_the_failure_file(sagemaker_dir, case):
    prepare, hyperparameters, reasons = FAILURES[case]
    prepare(sagemaker_dir)
    sagemaker_dir.hyperparameters(hyperparameters)

    status, log = train_in_process(sagemaker_dir)

    assert status == 1, log
    failure = sagemaker_dir.failure_file.read_text()
    for reason in reasons:
        assert reason in failure
    assert len(failure) <= 1024
    assert not sagemaker_dir.model_dir.exists()


# --- managed spot training -----------------------------------------------------------------------

SPOT_HYPERPARAMETERS = {**CLASSIFICATION, "num_round": "30", "checkpoint_frequency": "10"}


def _spot_job(root, **hyperparameters: str) -> SageMakerDir:
    job = SageMakerDir(root)
    classification_table(2000, seed=3, features=10).write_csv(job.channel("train") / "train.csv")
    job.hyperparameters(SPOT_HYPERPARAMETERS | hyperparameters)
    return job


def _checkpointed_rounds(job: SageMakerDir) -> list[int]:
    return sorted(int(p.stem.split("-")[1]) for p in job.checkpoint_dir.glob("checkpoint-*.ubj"))


def test_a_resumed_job_ends_with_exactly_the_model_of_an_uninterrupted_one(tmp_path):
    uninterrupted = _spot_job(tmp_path / "uninterrupted")
    status, log = train_in_process(uninterrupted)
    assert status == 0, log
    assert "Trained 30 rounds in this run" in log
    # What SageMaker copies back into a job restarted after an interruption at round 25.
    resumed = _spot_job(tmp_path / "resumed")
    resumed.checkpoint_dir.mkdir()
    checkpoint = "checkpoint-000020.ubj"
    (resumed.checkpoint_dir / checkpoint).write_bytes((uninterrupted.checkpoint_dir / checkpoint).read_bytes())

    status, log = train_in_process(resumed)

    assert status == 0, log
    assert "Resuming from the checkpoint written after round 20." in log
    assert "Trained 10 rounds in this run" in log
    # Without row or column sampling, training is deterministic: resuming changes nothing at all.
    model = "xgboost-model.ubj"
    assert (resumed.model_dir / model).read_bytes() == (uninterrupted.model_dir / model).read_bytes()
    assert resumed.evaluation == uninterrupted.evaluation


@pytest.mark.slow
def test_a_killed_job_resumes_from_its_last_checkpoint(tmp_path):
    job = _spot_job(tmp_path / "killed", num_round="3000")
    process = start_training(job)
    deadline = time.monotonic() + 60
    while not _checkpointed_rounds(job):
        assert process.poll() is None and time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.005)
    process.kill()
    assert process.wait()[0] == -signal.SIGKILL
    checkpointed = max(_checkpointed_rounds(job))
    assert 0 < checkpointed < 3000
    job.hyperparameters(SPOT_HYPERPARAMETERS | {"num_round": str(checkpointed + 10)})

    status, log = train_in_process(job)

    assert status == 0, log
    assert f"Resuming from the checkpoint written after round {checkpointed}." in log
    assert "Trained 10 rounds in this run" in log


def test_sigterm_checkpoints_the_rounds_done_and_stops_so_a_restart_loses_none(tmp_path):
    # checkpoint_frequency 1000: a checkpoint before the last round exists only because of the SIGTERM.
    job = _spot_job(tmp_path / "stopped", num_round="300", checkpoint_frequency="1000")

    def stop_after_round_3(line: str) -> None:
        if "[round 3/300]" in line:
            os.kill(os.getpid(), signal.SIGTERM)  # what StopTrainingJob sends

    status, log = train_in_process(job, on_log_line=stop_after_round_3)

    assert status == 128 + signal.SIGTERM, log
    stopped_after = int(re.search(r"Training stopped on SIGTERM: stopped after (\d+) rounds", log).group(1))
    assert stopped_after == 3, "the round in progress when the signal came is the last one"
    assert _checkpointed_rounds(job) == [3]
    assert not job.failure_file.exists() and not job.model_dir.exists()

    status, resumed_log = train_in_process(job)
    assert status == 0, resumed_log
    assert "Resuming from the checkpoint written after round 3." in resumed_log
    assert "Trained 297 rounds in this run" in resumed_log


def test_checkpoints_are_written_every_n_rounds_and_only_the_newest_two_are_kept(trained_classifier, classifier_rounds):
    assert _checkpointed_rounds(trained_classifier) == [classifier_rounds - 10, classifier_rounds]


def test_a_job_whose_checkpoint_already_holds_every_round_trains_none(trained_classifier, classifier_rounds, tmp_path):
    job = SageMakerDir(tmp_path / "opt-ml")
    (job.channel("train")).mkdir(parents=True)
    (job.channel("train") / "train.csv").write_bytes((trained_classifier.channel("train") / "train.csv").read_bytes())
    job.hyperparameters({**CLASSIFICATION, "num_round": str(classifier_rounds)})
    job.checkpoint_dir.mkdir()
    checkpoint = f"checkpoint-{classifier_rounds:06d}.ubj"
    (job.checkpoint_dir / checkpoint).write_bytes((trained_classifier.checkpoint_dir / checkpoint).read_bytes())

    status, log = train_in_process(job)

    assert status == 0, log
    assert "Trained 0 rounds in this run" in log
    assert job.evaluation == trained_classifier.evaluation


# --- several instances ---------------------------------------------------------------------------


@pytest.mark.parametrize("distribution", ["FullyReplicated", "ShardedByS3Key"])
def test_two_hosts_train_one_model_together_over_the_collective(tmp_path, distribution):
    hosts = ["algo-1", "algo-2"]
    table = classification_table(2000, seed=11)
    jobs = {host: SageMakerDir(tmp_path / host) for host in hosts}
    for index, (host, job) in enumerate(jobs.items()):
        job.resource_config(hosts, current_host=host)
        job.input_data_config(distribution)
        job.hyperparameters({**CLASSIFICATION, "num_round": "10"})
        # With ShardedByS3Key, S3 hands each host different files; otherwise each gets them all.
        own_rows = table.rows(index * 1000, (index + 1) * 1000) if distribution == "ShardedByS3Key" else table
        own_rows.write_csv(job.channel("train") / "train.csv")
    cluster_environment = {
        "TRAINING_HOST_ADDRESSES": json.dumps(dict.fromkeys(hosts, "127.0.0.1")),
        "TRAINING_TRACKER_PORT": str(free_port()),
        "TRAINING_CLUSTER_TIMEOUT_SECONDS": "60",
    }

    cpus = sorted(os.sched_getaffinity(0))
    processes = {
        host: start_training(job, cpu=cpus[index % len(cpus)], **cluster_environment)
        for index, (host, job) in enumerate(jobs.items())
    }
    logs = {}
    for host, process in processes.items():
        status, logs[host] = process.wait()
        assert status == 0, logs[host]

    # 2000 rows, 20 % held out for validation, the remaining 1600 split evenly over the hosts.
    assert "Joined the collective as rank 0 of 2" in logs["algo-1"]
    assert "Joined the collective as rank 1 of 2" in logs["algo-2"]
    for host in hosts:
        assert "Training on 1600 rows across 2 host(s) (800 on this host)" in logs[host]
    assert load_booster(jobs["algo-1"]).num_boosted_rounds() == 10
    assert jobs["algo-1"].evaluation["binary_classification_metrics"]["auc"]["value"] > 0.85
    assert not jobs["algo-2"].model_dir.exists(), "only the first host writes the model"


def test_when_one_host_fails_the_others_fail_within_the_cluster_timeout(tmp_path):
    hosts = ["algo-1", "algo-2"]
    jobs = {host: SageMakerDir(tmp_path / host) for host in hosts}
    for job in jobs.values():
        job.resource_config(hosts, current_host=job.root.name)
        job.hyperparameters({**CLASSIFICATION, "num_round": "5"})
    classification_table(400).write_csv(jobs["algo-1"].channel("train") / "train.csv")
    jobs["algo-2"].channel("train").mkdir(parents=True)
    (jobs["algo-2"].channel("train") / "train.csv").write_text("x0,x1\n1,2\n")  # no target column
    cluster_environment = {
        "TRAINING_HOST_ADDRESSES": json.dumps(dict.fromkeys(hosts, "127.0.0.1")),
        "TRAINING_TRACKER_PORT": str(free_port()),
        "TRAINING_CLUSTER_TIMEOUT_SECONDS": "2",
    }

    processes = [start_training(job, cpu=index, **cluster_environment) for index, job in enumerate(jobs.values())]
    statuses = [process.wait()[0] for process in processes]

    assert statuses == [1, 1]
    assert "Target column 'label'" in jobs["algo-2"].failure_file.read_text()
    assert jobs["algo-1"].failure_file.read_text() == (
        f"The 2 hosts did not all join within 2 s (tracker 127.0.0.1:{cluster_environment['TRAINING_TRACKER_PORT']}); "
        "another host probably failed first: see its failure reason."
    )


def test_a_command_started_as_the_image_starts_it_imports_what_the_image_has(sagemaker_dir):
    """container_command runs ``train`` without scikit-learn (absent from the image; XGBoost would import it) and
    without importing the harness, which the image does not have either."""
    classification_table(200, seed=5).write_csv(sagemaker_dir.channel("train") / "train.csv")
    sagemaker_dir.hyperparameters({**CLASSIFICATION, "num_round": "2"})
    python, *arguments = container_command("train")

    result = subprocess.run(
        [python, "-X", "importtime", *arguments],
        env=subprocess_environment(OPT_ML_ROOT=str(sagemaker_dir.root)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    timings = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    imported = [line.rsplit("|", 1)[-1].strip() for line in timings]
    assert "xgboost" in imported
    # XGBoost's attempt at scikit-learn is listed as a bare "sklearn"; loading it would list its modules.
    assert not [name for name in imported if name.startswith(("sklearn.", "container_harness"))]
