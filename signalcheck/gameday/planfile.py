"""A game day plan file (`signalcheck gameday --plan FILE`, YAML): the experiments (paths,
relative to the file), the load profile and the phases, checked against the config.

```yaml
name: staging-latency
phases: [baseline, load, chaos]      # default: all three, always in this order
load: {profile: ramp, region: eu-west-1, seconds: 30}
experiments:                         # one after another, each in its own default region
  - experiments/toxiproxy-latency.json
```

or, instead of `experiments`, lanes that run at the same time, one region each (experiments
that set off none of each other's alerts):

```yaml
lanes:
  - {region: eu-west-1, experiments: [experiments/toxiproxy-latency.json]}
  - {region: us-east-1, experiments: [experiments/pod-kill.json, experiments/errors.json]}
```
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from signalcheck.config import Config, _describe, read_yaml_mapping
from signalcheck.errors import ConfigError
from signalcheck.gameday.plan import PHASES, GamedayPlan, Lane, Phase
from signalcheck.shipped import EXPERIMENT_SUFFIXES


class PlanLoad(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: str
    """A profile of the config's `load.profiles`."""
    region: str
    """A region of the config's `regions`."""
    seconds: float = Field(gt=0)


class PlanLane(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str
    """A region of the config's `regions`, faulted by no other lane."""
    experiments: list[Path] = Field(min_length=1)


class PlanFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    phases: list[Phase] = Field(default_factory=lambda: list(PHASES))
    load: PlanLoad | None = None
    experiments: list[Path] = Field(default_factory=list)
    lanes: list[PlanLane] = Field(default_factory=list)


def read_plan(path: Path, config: Config) -> GamedayPlan:
    """The game day the plan file at `path` describes; a ConfigError naming the file, the key
    and the expected form when it is not one this config can run."""
    raw = read_yaml_mapping(path, "plan file")
    try:
        plan = PlanFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from None
    _check_phases(path, plan)
    if plan.experiments:
        found = [_experiment(path, "experiments", i, e) for i, e in enumerate(plan.experiments)]
        lanes = [Lane(experiments=found)]
    else:
        lanes = [_lane(path, config, plan.lanes, n) for n in range(len(plan.lanes))]
    # Without a load phase the plan's load is never used: a placeholder fills the fields.
    load = plan.load or PlanLoad(profile="", region=next(iter(config.regions)), seconds=1)
    if "load" in plan.phases:
        _check_load(path, config, load)
    return GamedayPlan(
        name=plan.name,
        load_profile=load.profile,
        load_seconds=load.seconds,
        load_region=load.region,
        lanes=lanes,
        phases=tuple(plan.phases),
    )


def _check_phases(path: Path, plan: PlanFile) -> None:
    """The phases in order, each with what it needs."""
    if plan.phases != [p for p in PHASES if p in plan.phases]:
        raise ConfigError(
            f"{path}: phases: expected some of {list(PHASES)}, once each, in that order"
        )
    if "load" in plan.phases and plan.load is None:
        raise ConfigError(
            f"{path}: load: required by the load phase ({{profile, region, seconds}})"
        )
    if plan.experiments and plan.lanes:
        raise ConfigError(
            f"{path}: lanes: give either experiments (one after another) or lanes, not both"
        )
    if "chaos" in plan.phases and not (plan.experiments or plan.lanes):
        raise ConfigError(
            f"{path}: experiments: the chaos phase needs at least one experiment file"
        )


def _lane(path: Path, config: Config, lanes: list[PlanLane], index: int) -> Lane:
    """Lane `index`, in a region of the config that no earlier lane faults."""
    lane, key = lanes[index], f"lanes.{index}"
    if lane.region not in config.regions:
        raise ConfigError(
            f"{path}: {key}.region: expected a region of the config "
            f"({', '.join(config.regions)}), got {lane.region!r}"
        )
    if any(other.region == lane.region for other in lanes[:index]):
        raise ConfigError(
            f"{path}: {key}.region: {lane.region} has a lane already (a region runs one "
            "experiment at a time: put them in one lane)"
        )
    experiments = [
        _experiment(path, f"{key}.experiments", i, e) for i, e in enumerate(lane.experiments)
    ]
    return Lane(region=lane.region, experiments=experiments)


def _experiment(path: Path, key: str, index: int, experiment: Path) -> str:
    """The experiment file, resolved against the plan file's directory, which must exist."""
    resolved = experiment if experiment.is_absolute() else path.resolve().parent / experiment
    if resolved.suffix not in EXPERIMENT_SUFFIXES:
        raise ConfigError(
            f"{path}: {key}.{index}: expected a Chaos Toolkit experiment file "
            f"({', '.join(EXPERIMENT_SUFFIXES)}), got {str(experiment)!r}"
        )
    if not resolved.is_file():
        raise ConfigError(f"{path}: {key}.{index}: no such file {str(resolved)!r}")
    return str(resolved)


def _check_load(path: Path, config: Config, load: PlanLoad) -> None:
    if load.profile not in config.load.profiles:
        known = ", ".join(sorted(config.load.profiles)) or "none"
        raise ConfigError(
            f"{path}: load.profile: expected a profile of the config's load.profiles "
            f"({known}), got {load.profile!r}"
        )
    if load.region not in config.regions:
        raise ConfigError(
            f"{path}: load.region: expected a region of the config ({', '.join(config.regions)}), "
            f"got {load.region!r}"
        )
