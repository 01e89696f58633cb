"""What a game day does, per profile: `quick` for a first look, `full` for every experiment
(or as a plan file says: signalcheck/gameday/planfile.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

Phase = Literal["baseline", "load", "chaos"]
PHASES: tuple[Phase, ...] = ("baseline", "load", "chaos")
"""The phases of a game day, in the order they run; each is validated when it ends."""


class GamedayPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    load_profile: str
    load_seconds: float
    load_region: str
    experiments: list[str]
    """Chaos experiments, in order: names of the shipped ones, or paths of experiment files
    (a plan file's). Those that inject errors (inhibition, then error injection) go last,
    because the burn-rate alerts they set off outlast the fault (outside every experiment's
    steady state, they would still be firing in a later one's)."""
    phases: tuple[Phase, ...] = PHASES


def experiment_label(experiment: str) -> str:
    """How the report and the run directory name an experiment: its name, or its file's stem."""
    return Path(experiment).stem


PROFILES = {
    "quick": GamedayPlan(
        name="quick",
        load_profile="ramp",
        load_seconds=20,
        load_region="us-east-1",
        experiments=["region-outage"],
    ),
    "full": GamedayPlan(
        name="full",
        load_profile="ramp",
        load_seconds=30,
        load_region="us-east-1",
        experiments=[
            "region-outage",
            "dependency-outage",
            "latency-injection",
            "inhibition",
            "error-injection",
        ],
    ),
}
