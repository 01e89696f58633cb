"""The load shapes as Locust `LoadTestShape` classes: smoke, ramp, spike, soak, and how every
run ends, a user's own LoadTestShape's included.

Each profile shape follows its curve in `schedule.py` for the plan's duration, then drains:
it asks for 0 users (each finishes its task within the plan's `stop_timeout`, so no request
is cut off half-way and lost to the count) and ends the run once they are gone and the
workers have reported their last requests. A user's own shape drains the same way when it
ends, or when the plan's duration is over, whichever is first.
"""

from __future__ import annotations

import os

from locust import LoadTestShape
from locust.runners import WORKER_REPORT_INTERVAL, MasterRunner

from signalcheck.load_profiles import LoadPlan, ShapeName
from signalcheck.loadtests.plan import SHAPE_ENV, plan_of
from signalcheck.loadtests.schedule import USERS_AT

DRAIN_GRACE = 5.0


class Drain:
    """The end of a run: 0 users until they are gone and the workers' last reports are in
    (at most `stop_timeout` plus a report interval and a grace), then None (stop)."""

    def __init__(self) -> None:
        self.began: float | None = None
        self.users_gone_at: float | None = None

    def tick(self, shape: LoadTestShape, plan: LoadPlan) -> tuple[int, float] | None:
        now = shape.get_run_time()
        if self.began is None:
            self.began = now
        users = shape.get_current_user_count()
        drain_rate = float(max(plan.users, plan.spawn_rate, users))  # all stop within a second
        if now > self.began + plan.stop_timeout + WORKER_REPORT_INTERVAL + DRAIN_GRACE:
            return None
        if users > 0:
            return 0, drain_rate
        if self.users_gone_at is None:
            self.users_gone_at = now
        last_report = WORKER_REPORT_INTERVAL if isinstance(shape.runner, MasterRunner) else 0.0
        return (0, drain_rate) if now - self.users_gone_at < last_report + 1 else None


class ProfileShape(LoadTestShape):
    abstract = True
    shape: ShapeName

    def __init__(self) -> None:
        super().__init__()
        self.drain = Drain()

    def reset_time(self) -> None:
        super().reset_time()
        self.drain = Drain()

    def tick(self) -> tuple[int, float] | None:
        plan = plan_of(self.runner.environment)
        now = self.get_run_time()
        if now < plan.duration:
            return USERS_AT[self.shape](now, plan.users, plan.duration), plan.spawn_rate
        return self.drain.tick(self, plan)


class SmokeShape(ProfileShape):
    shape = "smoke"


class RampShape(ProfileShape):
    shape = "ramp"


class SpikeShape(ProfileShape):
    shape = "spike"


class SoakShape(ProfileShape):
    shape = "soak"


SHAPE_CLASSES: dict[str, type[ProfileShape]] = {
    cls.shape: cls for cls in (SmokeShape, RampShape, SpikeShape, SoakShape)
}


def planned_shape() -> type[ProfileShape] | None:
    """The shape class a locustfile binds: the one $SIGNALCHECK_LOAD_SHAPE names (set by the
    runner on the master unless the user's own locustfile has a LoadTestShape), else none."""
    name = os.environ.get(SHAPE_ENV)
    return SHAPE_CLASSES[name] if name else None


def drained(shape: LoadTestShape, plan: LoadPlan) -> None:
    """Make a user's own shape end as the profile shapes do: drained, when its `tick` returns
    None or after the plan's duration, whichever is first (Locust applies no run time to a
    shape, so the duration is what bounds it)."""
    own_tick = shape.tick
    drain = Drain()

    def tick() -> tuple[int, float] | tuple[int, float, list] | None:
        if drain.began is None and shape.get_run_time() < plan.duration:
            wanted = own_tick()
            if wanted is not None:
                return wanted
        return drain.tick(shape, plan)

    shape.tick = tick  # type: ignore[method-assign]
