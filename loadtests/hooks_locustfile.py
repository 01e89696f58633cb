"""The locustfile `signalcheck load` runs beside the user's own (`-f theirs.py,this.py`):
signalcheck's event hooks (plan option, per-route counting, thresholds, the ledger entry) and
no User class, so only the user's users run; the profile's shape when theirs has none, else
theirs, ended by a drain like the profile shapes.

On a cluster's workers: `locust -f theirs.py,<signalcheck>/loadtests/hooks_locustfile.py
--worker ...`.
"""

from __future__ import annotations

from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner

from signalcheck.loadtests import hooks  # noqa: F401  (registers the event hooks)
from signalcheck.loadtests.plan import plan_of
from signalcheck.loadtests.shapes import ProfileShape, drained, planned_shape

Shape = planned_shape()


@events.init.add_listener
def _drain_own_shape(environment: Environment, **_: Any) -> None:
    """On the master (workers run no shape): the user's own shape ends drained."""
    shape = environment.shape_class
    if isinstance(environment.runner, WorkerRunner) or shape is None:
        return
    if not isinstance(shape, ProfileShape):
        drained(shape, plan_of(environment))
