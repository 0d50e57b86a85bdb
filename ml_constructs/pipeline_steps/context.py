"""What every step builder shares: the spec, the SDK session, the pipeline parameters and the placeholders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ml_constructs.pipeline_spec import PLACEHOLDERS, DeployTimeValues, PipelineSpec


@dataclass(frozen=True)
class StepContext:
    spec: PipelineSpec
    session: Any
    input_data: Any
    """The InputDataUri parameter."""
    instance_type: Any
    instance_count: Any
    threshold: Any
    network: Any
    data_root: Any
    """Where the split dataset is that the steps read: InputDataUri, or the Prepare step's output."""
    baseline_root: Any = None
    """Where the Prepare step wrote the Model Monitor baseline; None when the steps read a given dataset."""
    branch: str = ""
    """Ends the name of every step built with this context, so that each branch's steps have names of their own."""
    values: DeployTimeValues = PLACEHOLDERS

    @property
    def bucket(self) -> str:
        return f"s3://{self.values.bucket_name}/"

    def dataset(self, folder: str) -> Any:
        """``<data root><folder>/``: a folder of the split dataset."""
        from sagemaker.core.workflow.functions import Join

        return Join(on="", values=[self.data_root, f"{folder}/"])

    def name(self, step: str) -> str:
        return f"{step}{self.branch}"

    def per_execution(self, prefix: str, suffix: str = "") -> Any:
        """``s3://<bucket>/<prefix><execution id>/<suffix>``."""
        from sagemaker.core.workflow.execution_variables import ExecutionVariables
        from sagemaker.core.workflow.functions import Join

        return Join(on="", values=[f"{self.bucket}{prefix}", ExecutionVariables.PIPELINE_EXECUTION_ID, f"/{suffix}"])

    def volume_key(self, encrypted: bool) -> str | None:
        return self.values.key_arn if encrypted else None

    def model_builder(self, training: Any) -> Any:
        """The trained artifact served by the image: there is no inference code to package (dependencies={})."""
        from sagemaker.serve.model_builder import ModelBuilder

        return ModelBuilder(
            s3_model_data_url=training.properties.ModelArtifacts.S3ModelArtifacts,
            image_uri=self.values.image_uri,
            role_arn=self.values.execution_role_arn,
            network=self.network,
            dependencies={},
            sagemaker_session=self.session,
        )
