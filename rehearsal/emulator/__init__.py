"""The rehearsal's AWS emulator: moto's server with an extension for the platform's deploy path.

moto 5.2.5's CloudFormation silently skips resource types it does not implement (and still
reports CREATE_COMPLETE), it has defects on the path the CDK CLI takes, and it lacks or fakes
what the operator CLI's day-2 calls need. This package, loaded into the emulator process only,
registers the missing types (``resources``), fixes those defects (``fixes``) and adds the day-2
behaviour with its control endpoints (``operations``), and inference components with a simulation of
their scaling (``inference_components``, ``inference_component_scaling``). All reach into moto's internals, which
change between releases, so the extension refuses to load on any moto but the one it was written
and tested against.
"""

from __future__ import annotations

import moto

MOTO_VERSION = "5.2.5"

if moto.__version__ != MOTO_VERSION:
    raise ImportError(
        f"The rehearsal's emulator extension is written for moto {MOTO_VERSION} but moto {moto.__version__} is "
        f"installed. Install the pinned version (requirements-dev.txt) or port rehearsal/emulator/ to the new one."
    )


def install() -> None:
    """Registers the missing CloudFormation types and applies the fixes and additions; call once, before serving."""
    from rehearsal.emulator import (
        budgets,
        cost_explorer,
        fixes,
        inference_components,
        monitoring,
        operations,
        resources,
        training_jobs,
    )

    resources.register(*monitoring.TYPES, *budgets.RESOURCE_TYPES, *inference_components.REGISTERED)
    fixes.apply()
    operations.apply()
    monitoring.apply()
    budgets.apply()
    cost_explorer.apply()
    training_jobs.apply()  # after operations, whose pipeline stand-in it extends
    inference_components.apply()
