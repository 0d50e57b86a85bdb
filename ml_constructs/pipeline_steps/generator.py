"""Writes the training pipeline's definition with the SageMaker Python SDK, as a script in a process of its own:
``python -s -P generator.py '<spec as JSON>'`` prints ``{"definition": <template>, "spark_images": {<Region>: <URI>}}``
(``definition_process`` starts it and caches what it writes). The Spark image URIs are the SDK's, resolved
offline for every Region it lists: AWS's image lives in a repository of another account per Region.

In that process an audit hook refuses every network connection and name lookup and telemetry is switched off
before the first SDK call, so a change in the SDK that reaches for the network fails synth instead of leaking a
request. ``-P`` keeps the project root off sys.path, so that nothing of the project can shadow a library; the
project packages the steps import (``GENERATOR_PACKAGES``) are loaded from their folders, and
``GENERATOR_SOURCES`` lists every file that shapes the template, which keys the definition cache.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GENERATOR_PACKAGES = ("platform_contract", "data_preparation", "ml_constructs")
"""Project packages the generator process imports, loaded from their folders (never from sys.path)."""
GENERATOR_SOURCES = (
    "ml_constructs/__init__.py",
    "ml_constructs/pipeline_spec.py",
    "ml_constructs/pipeline_steps/*.py",
    "platform_contract/*.py",
    "data_preparation/__init__.py",
    "data_preparation/contract.py",
)
"""The files, relative to the project root, whose content shapes the template: what the generator imports."""


def generator_sources(root: Path = PROJECT_ROOT) -> list[Path]:
    return [path for pattern in GENERATOR_SOURCES for path in sorted(root.glob(pattern))]


def _load_packages() -> None:
    """Makes the project packages the steps import importable in the generator process, each from its folder."""
    for name in GENERATOR_PACKAGES:
        folder = PROJECT_ROOT / name
        spec = importlib.util.spec_from_file_location(
            name, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)


if __name__ == "__main__":
    _load_packages()

from ml_constructs.pipeline_spec import PLACEHOLDERS, SPARK_VERSION, PipelineSpec  # noqa: E402
from ml_constructs.pipeline_steps.context import StepContext  # noqa: E402
from ml_constructs.pipeline_steps.evaluate import evaluate_step  # noqa: E402
from ml_constructs.pipeline_steps.gate import gate_step  # noqa: E402
from ml_constructs.pipeline_steps.predict import model_step, predict_step  # noqa: E402
from ml_constructs.pipeline_steps.prepare import BASELINE_OUTPUT, DATASETS_OUTPUT, output_uri, prepare_step  # noqa: E402
from ml_constructs.pipeline_steps.train import train_step  # noqa: E402
from platform_contract.names import DataPrefix, PipelineParameter  # noqa: E402

_NETWORK_EVENTS = frozenset(
    {
        "socket.connect",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.sendto",
        "socket.sendmsg",
    }
)

_network_attempts: list[str] = []


def _refuse_network(event: str, args: tuple) -> None:
    if event in _NETWORK_EVENTS:
        # Recorded as well as refused: the SDK swallows errors of some calls (telemetry, for one).
        _network_attempts.append(f"{event}{args!r}")
        raise PermissionError(f"Synth is offline; the SageMaker SDK attempted {event}{args!r}")


def _switch_off_telemetry() -> None:
    # The SDK's documented switch (TelemetryOptOut in its defaults config) makes it re-validate that config
    # against its JSON schema on every lookup, which costs seconds; this replaces the one function that sends.
    from sagemaker.core.telemetry import telemetry_logging

    if not callable(getattr(telemetry_logging, "_send_telemetry_request", None)):
        raise RuntimeError("The SageMaker SDK's telemetry sender moved; switch it off again before generating")
    telemetry_logging._send_telemetry_request = lambda *args, **kwargs: None


JOB_STEP_TYPES = ("Processing", "Training", "Transform", "Model")
"""Steps whose request creates a job or a model: each carries the platform's tags (``PipelineSpec.tags``
and ``stack_tag_key``)."""


def _train_and_evaluate(build: StepContext, capacity: str, spot: bool) -> list:
    """Train → create model → batch-predict the test set → evaluate → register if good enough."""
    training = train_step(build, capacity, spot)
    model = model_step(build, capacity, training)
    prediction = predict_step(build, capacity, model)
    evaluation, report = evaluate_step(build, capacity, prediction)
    return [training, model, prediction, evaluation, gate_step(build, capacity, training, evaluation, report)]


def _choose_capacity(build: StepContext, use_spot: Any) -> Any:
    """Managed spot training cannot be switched by a parameter inside one training step: the API rejects a
    MaxWaitTimeInSeconds without it and requires one with it. So the parameter chooses between two branches built
    by the same function, one on spot and one on on-demand capacity."""
    from sagemaker.core.workflow.conditions import ConditionEquals
    from sagemaker.mlops.workflow.condition_step import ConditionStep

    return ConditionStep(
        name=build.name("ChooseCapacity"),
        conditions=[ConditionEquals(left=use_spot, right=True)],
        if_steps=_train_and_evaluate(build, "Spot", spot=True),
        else_steps=_train_and_evaluate(build, "OnDemand", spot=False),
    )


GIVEN_DATA_BRANCH = "GivenData"
"""Ends the names of the steps that train on a given InputDataUri instead of Prepare's output."""


def _steps(build: StepContext, use_spot: Any, raw_dataset: Any) -> list:
    """Without preparation: train on InputDataUri. With it, InputDataUri chooses: empty (its default), Prepare
    splits raw/<RawDataset>/ and the steps read its output; a dataset folder, the steps read that and Prepare does
    not run. A step can read only the properties of steps that ran before it, and pipelines have no expression
    that picks one of two values, so each choice has its own branch, built by the same functions."""
    import dataclasses

    from sagemaker.core.workflow.conditions import ConditionEquals
    from sagemaker.mlops.workflow.condition_step import ConditionStep

    if build.spec.preparation is None:
        return [_choose_capacity(build, use_spot)]
    prepare = prepare_step(build, raw_dataset)
    prepared = dataclasses.replace(
        build, data_root=output_uri(prepare, DATASETS_OUTPUT), baseline_root=output_uri(prepare, BASELINE_OUTPUT)
    )
    given = dataclasses.replace(build, branch=GIVEN_DATA_BRANCH)
    return [
        ConditionStep(
            name="ChooseInputData",
            conditions=[ConditionEquals(left=build.input_data, right="")],
            if_steps=[prepare, _choose_capacity(prepared, use_spot)],
            else_steps=[_choose_capacity(given, use_spot)],
        )
    ]


def _tag_jobs(steps: list[dict[str, Any]], tags: list[dict[str, str]]) -> None:
    """Puts ``tags`` on the request of every job and model step, branches included. The SDK's model builder takes
    no tags, so one loop tags every request alike."""
    for step in steps:
        if step["Type"] in JOB_STEP_TYPES:
            step["Arguments"]["Tags"] = tags
        for branch in ("IfSteps", "ElseSteps"):
            _tag_jobs(step["Arguments"].get(branch, []), tags)


def spark_images() -> dict[str, str]:
    """AWS's Spark processing image (``SPARK_VERSION``, CPU) in every Region the SDK knows it for."""
    from sagemaker.core import image_uris

    regions = image_uris.config_for_framework("spark")["processing"]["versions"][SPARK_VERSION]["registries"]
    return {region: image_uris.retrieve("spark", region=region, version=SPARK_VERSION) for region in sorted(regions)}


def generate_definition(spec: PipelineSpec) -> dict[str, Any]:
    """The pipeline definition of ``spec`` as the SDK writes it, with deploy-time placeholders.

    Runs in the generator process (``definition_process.OFFLINE_ENVIRONMENT``, network refused).
    """
    import logging
    import warnings

    # The SDK narrates at INFO level and warns that nothing runs under a PipelineSession; both are expected.
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    _switch_off_telemetry()

    from sagemaker.core.training.configs import Networking
    from sagemaker.core.workflow.parameters import ParameterBoolean, ParameterFloat, ParameterInteger, ParameterString
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.mlops.workflow.pipeline import Pipeline

    values = PLACEHOLDERS
    use_spot = ParameterBoolean(PipelineParameter.USE_SPOT_INSTANCES.value, default_value=spec.use_spot_instances)
    # With preparation, an empty InputDataUri means: prepare the raw dataset.
    input_data = ParameterString(
        PipelineParameter.INPUT_DATA.value,
        default_value="" if spec.preparation else f"s3://{values.bucket_name}/{DataPrefix.DATASETS}",
    )
    build = StepContext(
        spec=spec,
        session=PipelineSession(),
        input_data=input_data,
        data_root=input_data,
        instance_type=ParameterString(
            PipelineParameter.TRAINING_INSTANCE_TYPE.value,
            default_value=spec.instance_type,
            enum_values=list(spec.training_instance_types),
        ),
        instance_count=ParameterInteger(
            PipelineParameter.TRAINING_INSTANCE_COUNT.value, default_value=spec.instance_count
        ),
        threshold=ParameterFloat(PipelineParameter.QUALITY_THRESHOLD.value, default_value=spec.quality_threshold),
        network=Networking(
            subnets=list(values.subnet_ids),
            security_group_ids=list(values.security_group_ids),
            enable_network_isolation=True,
            enable_inter_container_traffic_encryption=True,
        ),
    )
    raw_dataset = (
        ParameterString(PipelineParameter.RAW_DATASET.value, default_value=spec.preparation.dataset)
        if spec.preparation
        else None
    )
    parameters = [build.input_data, build.instance_type, build.instance_count, use_spot, build.threshold]
    pipeline = Pipeline(
        name="training",
        parameters=parameters + ([raw_dataset] if raw_dataset is not None else []),
        steps=_steps(build, use_spot, raw_dataset),
        sagemaker_session=build.session,
        # Experiments would make the definition depend on the SDK's Region; lineage is tracked without them.
        pipeline_experiment_config=None,
    )
    definition = json.loads(pipeline.definition())
    tags = list(spec.tags)
    if spec.stack_tag_key is not None:
        tags.append((spec.stack_tag_key, values.stack_tag_value))
    if tags:
        _tag_jobs(definition["Steps"], [{"Key": key, "Value": value} for key, value in sorted(tags)])
    return definition


if __name__ == "__main__":
    sys.addaudithook(_refuse_network)
    generated = {
        "definition": generate_definition(PipelineSpec.from_json(sys.argv[1])),
        "spark_images": spark_images(),
    }
    if _network_attempts:
        sys.exit("Synth is offline, but the SageMaker SDK attempted: " + "; ".join(_network_attempts))
    sys.stdout.write(json.dumps(generated, sort_keys=True))
