"""The SageMaker request validator the emulator uses (rehearsal/emulator/api_shapes.py), for the tests."""

from rehearsal.emulator.api_shapes import request_shape, shape_problems

__all__ = ["request_shape", "shape_problems"]
