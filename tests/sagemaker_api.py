"""Offline validation of SageMaker API requests against botocore's SageMaker service model: the emulator's
validator (rehearsal/emulator/api_shapes.py), which the tests use too."""

from rehearsal.emulator.api_shapes import request_shape, shape_problems

__all__ = ["request_shape", "shape_problems"]
