"""The load shapes as Locust `LoadTestShape` classes: smoke, ramp, spike, soak.

Each follows its curve in `schedule.py` for the plan's duration, then drains: it asks for
0 users (each finishes its task within the plan's `stop_timeout`, so no request is cut off
half-way and lost to the count) and ends the run once they are gone and the workers have
reported their last requests.
"""

from __future__ import annotations

from locust import LoadTestShape
from locust.runners import WORKER_REPORT_INTERVAL, MasterRunner

from signalcheck.load_profiles import ShapeName
from signalcheck.loadtests.plan import plan_of
from signalcheck.loadtests.schedule import USERS_AT

DRAIN_GRACE = 5.0


class ProfileShape(LoadTestShape):
    abstract = True
    shape: ShapeName

    def __init__(self) -> None:
        super().__init__()
        self.users_gone_at: float | None = None

    def reset_time(self) -> None:
        super().reset_time()
        self.users_gone_at = None

    def tick(self) -> tuple[int, float] | None:
        plan = plan_of(self.runner.environment)
        now = self.get_run_time()
        if now < plan.duration:
            return USERS_AT[self.shape](now, plan.users, plan.duration), plan.spawn_rate
        drain_rate = float(max(plan.users, plan.spawn_rate))  # all stop within a second
        if now > plan.duration + plan.stop_timeout + WORKER_REPORT_INTERVAL + DRAIN_GRACE:
            return None
        if self.get_current_user_count() > 0:
            return 0, drain_rate
        if self.users_gone_at is None:
            self.users_gone_at = now
        last_report = WORKER_REPORT_INTERVAL if isinstance(self.runner, MasterRunner) else 0.0
        return (0, drain_rate) if now - self.users_gone_at < last_report + 1 else None


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
