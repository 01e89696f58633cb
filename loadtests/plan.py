"""The run's plan as the Locust processes see it: a JSON option on the master's command line,
forwarded by Locust to every worker when the run starts."""

from __future__ import annotations

import functools
from typing import Any

from signalcheck.load_profiles import LoadPlan

PLAN_OPTION = "--signalcheck-plan"
PLAN_ATTRIBUTE = "signalcheck_plan"
SHAPE_ENV = "SIGNALCHECK_LOAD_SHAPE"
"""Names the shape class the locustfile binds (on the master; workers run no shape)."""


def plan_of(environment: Any) -> LoadPlan:
    """The plan of the run `environment` (a Locust Environment) belongs to."""
    text = getattr(environment.parsed_options, PLAN_ATTRIBUTE, None)
    if not text:
        raise RuntimeError(f"locust was started without {PLAN_OPTION}; use `signalcheck load`")
    return _parse(text)


@functools.cache
def _parse(text: str) -> LoadPlan:
    return LoadPlan.model_validate_json(text)
