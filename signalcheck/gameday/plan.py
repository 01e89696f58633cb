"""What a game day does, per profile: `quick` for a first look, `full` for every experiment."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class GamedayPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    load_profile: str
    load_seconds: float
    load_region: str
    experiments: list[str]
    """Names of chaos experiments, in order; those that inject errors (inhibition, then error
    injection) last, because the burn-rate alerts they set off outlast the fault (outside every
    experiment's steady state, they would still be firing in a later one's)."""


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
