"""QualityGate: register the model for approval if it is good enough, fail the execution if not.

A model registered from prepared data carries the Prepare step's Model Monitor baseline (statistics and
constraints of its training features) as its data quality metrics and as its drift-check baselines
(CreateModelPackage's ModelMetrics.ModelDataQuality and DriftCheckBaselines.ModelDataQuality), so that a monitor
of the endpoint that serves it can take them from the registry.
"""

from __future__ import annotations

from typing import Any

from data_preparation.contract import CONSTRAINTS_FILE, STATISTICS_FILE
from ml_constructs.pipeline_spec import EVALUATION_REPORT, HIGHER_IS_BETTER, quality_report_path
from ml_constructs.pipeline_steps.context import StepContext
from platform_contract.names import DataPrefix, MediaType


def gate_step(build: StepContext, capacity: str, training: Any, evaluation: Any, report: Any) -> Any:
    """Registers the model for approval if the report's metric passes the threshold; fails the execution if not."""
    from sagemaker.core.drift_check_baselines import DriftCheckBaselines
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo, ConditionLessThanOrEqualTo
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.model_step import ModelStep

    spec = build.spec
    media_types = [media_type.value for media_type in MediaType]
    baselines: dict[str, Any] = {}
    if build.baseline_root is not None:

        def baseline(file: str) -> Any:
            return MetricsSource(
                content_type=MediaType.JSON.value, s3_uri=Join(on="", values=[build.baseline_root, file])
            )

        baselines = {
            "model_data_statistics": baseline(STATISTICS_FILE),
            "model_data_constraints": baseline(CONSTRAINTS_FILE),
        }
    score = JsonGet(step_name=evaluation.name, property_file=report, json_path=quality_report_path(spec.quality_metric))
    registration = ModelStep(
        name=build.name(f"RegisterModel{capacity}"),
        step_args=build.model_builder(training).register(
            model_package_group_name=build.values.model_package_group_name,
            content_types=media_types,
            response_types=media_types,
            transform_instances=[spec.evaluation_instance_type],
            approval_status="PendingManualApproval",
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(
                    content_type=MediaType.JSON.value,
                    s3_uri=build.per_execution(DataPrefix.EVALUATION, f"report/{EVALUATION_REPORT}"),
                ),
                **baselines,
            ),
            drift_check_baselines=DriftCheckBaselines(**baselines) if baselines else None,
        ),
    )
    higher_is_better = spec.quality_metric in HIGHER_IS_BETTER
    rejection = FailStep(
        name=build.name(f"RejectModel{capacity}"),
        error_message=Join(
            on="",
            values=[
                f"Quality gate: the model's {spec.quality_metric} on the test set is ",
                score,
                ", which is " + ("below" if higher_is_better else "above") + " the threshold ",
                build.threshold,
                "; the model was not registered.",
            ],
        ),
    )
    return ConditionStep(
        name=build.name(f"QualityGate{capacity}"),
        conditions=[
            (ConditionGreaterThanOrEqualTo if higher_is_better else ConditionLessThanOrEqualTo)(
                left=score, right=build.threshold
            )
        ],
        if_steps=[registration],
        else_steps=[rejection],
    )
