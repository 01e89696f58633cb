"""The locustfile `signalcheck load` runs: the users of the plan's mix and one shape.

Locust uses every LoadTestShape it finds in this module, so exactly one is bound here,
chosen by $SIGNALCHECK_LOAD_SHAPE (set by the runner on the master; workers need none).
Run it yourself on a cluster's workers: `locust -f loadtests/locustfile.py --worker ...`.
"""

from __future__ import annotations

from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner

from signalcheck.loadtests import hooks  # noqa: F401  (registers the event hooks)
from signalcheck.loadtests.plan import plan_of
from signalcheck.loadtests.shapes import planned_shape
from signalcheck.loadtests.users import (
    USER_CLASSES,
    AssignmentWorkflowUser,
    BrowseUser,
    HealthCheckUser,
    RumUser,
)

__all__ = ["AssignmentWorkflowUser", "BrowseUser", "HealthCheckUser", "RumUser"]

Shape = planned_shape()


@events.init.add_listener
def _mix_users(environment: Environment, **_: Any) -> None:
    """The master picks the users by the plan's weights (workers start what it tells them)."""
    if isinstance(environment.runner, WorkerRunner):
        return
    plan = plan_of(environment)
    for kind in plan.user_kinds():
        USER_CLASSES[kind].weight = plan.user_mix[kind]
    environment.user_classes = [USER_CLASSES[kind] for kind in plan.user_kinds()]
