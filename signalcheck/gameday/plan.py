"""What a game day does, per profile: `quick` for a first look, `full` for every experiment
(or as a plan file says: signalcheck/gameday/planfile.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

Phase = Literal["baseline", "load", "chaos"]
PHASES: tuple[Phase, ...] = ("baseline", "load", "chaos")
"""The phases of a game day, in the order they run; each is validated when it ends."""


class Lane(BaseModel):
    """Chaos experiments run one after another in one region. A game day runs its lanes at the
    same time, so each region has at most one experiment at a time."""

    model_config = ConfigDict(frozen=True)

    region: str | None = None
    """The region its experiments fault (`$SIGNALCHECK_CHAOS_REGION`); None: each
    experiment's own default."""
    experiments: list[str]
    """Names of the shipped experiments, or paths of experiment files (a plan file's)."""


class GamedayPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    load_profile: str
    load_seconds: float
    load_region: str
    lanes: list[Lane]
    """Lanes that run at the same time, in different regions: experiments that do not
    interfere, i.e. that set off no alert of another lane's experiment while it runs (each
    experiment's `alert_fires` judges "for the faulted region only" by the alerts that start
    after its fault). Within a lane, those that inject errors go last: the burn-rate alerts
    they set off outlast the fault."""
    phases: tuple[Phase, ...] = PHASES

    @property
    def experiments(self) -> list[str]:
        """Every experiment of the plan, lane after lane."""
        return [experiment for lane in self.lanes for experiment in lane.experiments]


def experiment_label(experiment: str) -> str:
    """How the report and the run directory name an experiment: its name, or its file's stem."""
    return Path(experiment).stem


PROFILES = {
    "quick": GamedayPlan(
        name="quick",
        load_profile="ramp",
        load_seconds=20,
        load_region="us-east-1",
        lanes=[Lane(experiments=["region-outage"])],
    ),
    # The longest experiment (inhibition: errors, not ready, the fast burn's 2 minutes, a
    # kill) has a region of its own; the others share the other two regions, none setting
    # off an alert of the inhibition's while that one waits for it: the outage's ServiceDown
    # is resolved before the inhibition's kill, the error injection's HighErrorRate starts
    # after the inhibition's has been detected (behind the latency injection).
    "full": GamedayPlan(
        name="full",
        load_profile="ramp",
        load_seconds=30,
        load_region="us-east-1",
        lanes=[
            Lane(region="eu-west-1", experiments=["inhibition"]),
            Lane(region="us-east-1", experiments=["latency-injection", "error-injection"]),
            Lane(region="ap-south-1", experiments=["region-outage", "dependency-outage"]),
        ],
    ),
}
