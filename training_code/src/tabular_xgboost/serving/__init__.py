"""The inference server: SageMaker's /ping and /invocations contract."""
