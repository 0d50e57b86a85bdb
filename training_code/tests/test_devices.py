"""``train`` trains on the instance's GPU when it has one and the image is the GPU build, else on its CPUs."""

from __future__ import annotations

import pytest
from container_harness import classification_table, train_in_process
from tabular_xgboost.devices import choose_device, gpu_count
from tabular_xgboost.errors import UserError

CASES = {
    "GPU build on a GPU instance": ("auto", True, 1, "cuda", "this image is the GPU build"),
    "several GPUs": ("auto", True, 4, "cuda", "only the first of its 4 GPUs trains"),
    "GPU build on a CPU instance": ("auto", True, 0, "cpu", "the instance has no NVIDIA GPU"),
    "CPU build on a GPU instance": ("auto", False, 1, "cpu", "this image is the CPU build (build argument ACCELERATOR"),
    "CPU build on a CPU instance": ("auto", False, 0, "cpu", "the instance has no NVIDIA GPU"),
    "CPU asked for on a GPU instance": ("cpu", True, 1, "cpu", "TRAINING_DEVICE=cpu"),
}


@pytest.mark.parametrize("case", CASES)
def test_the_device_follows_the_build_and_the_instance(case):
    requested, cuda_built, gpus, device, reason = CASES[case]

    choice = choose_device(requested, cuda_built=cuda_built, gpus=gpus)

    assert choice.device == device
    assert reason in choice.reason


@pytest.mark.parametrize(
    ("cuda_built", "gpus", "reason"),
    [(True, 0, "the instance has no NVIDIA GPU"), (False, 2, "this image is the CPU build")],
)
def test_asking_for_the_gpu_where_it_cannot_be_used_fails_with_the_reason(cuda_built, gpus, reason):
    with pytest.raises(UserError, match=f"TRAINING_DEVICE=cuda, but .*{reason}"):
        choose_device("cuda", cuda_built=cuda_built, gpus=gpus)


def test_gpus_are_counted_from_what_the_nvidia_driver_shows(tmp_path):
    assert gpu_count(tmp_path / "absent") == 0
    for address in ("0000:00:1e.0", "0000:00:1f.0"):
        (tmp_path / address).mkdir()
    assert gpu_count(tmp_path) == 2


def test_train_logs_the_device_and_a_gpu_it_cannot_have_is_the_failure_reason(sagemaker_dir):
    classification_table(200).write_csv(sagemaker_dir.channel("train") / "train.csv")
    sagemaker_dir.hyperparameters({"target_column": "label", "task": "classification", "num_round": "2"})

    status, log = train_in_process(sagemaker_dir)
    assert status == 0, log
    assert "Training on device cpu: the instance has no NVIDIA GPU." in log

    status, log = train_in_process(sagemaker_dir, TRAINING_DEVICE="cuda")
    assert status == 1, log
    assert sagemaker_dir.failure_file.read_text().startswith("TRAINING_DEVICE=cuda, but the instance has no NVIDIA GPU")
