"""The chaos experiments a mutate run exercises, and the faults they inject."""

from __future__ import annotations

import json
from pathlib import Path

from signalcheck.config import Config
from signalcheck.errors import ConfigError
from signalcheck.mutate.coverage import Injected, InjectedFault
from signalcheck.shipped import EXPERIMENTS, experiment_file


def experiment_paths(config: Config, given: list[str]) -> list[Path]:
    """The experiment files: names in chaos/experiments or paths; default those injecting a
    fault of the config's alert expectations, in the full game day's order (the burn-rate
    alerts that errors set off outlast the fault: those experiments go last)."""
    if not given:
        from signalcheck.gameday.plan import PROFILES

        wanted = {e.fault for e in config.expectations.alerts}
        order = PROFILES["full"].experiments
        shipped = sorted(
            EXPERIMENTS.glob("*.json"),
            key=lambda p: (order.index(p.stem) if p.stem in order else len(order), p.stem),
        )
        return [p for p in shipped if faults_of([p]).actions & wanted]
    try:
        return [experiment_file(item) for item in given]
    except ConfigError as exc:
        raise ConfigError(f"--experiments {exc}") from None


def faults_of(paths: list[Path]) -> Injected:
    """The faults the experiments' methods inject."""
    from signalcheck.chaos.planned import planned_faults, probed_faults

    found = set()
    for path in paths:
        experiment = json.loads(path.read_text())
        title = str(experiment.get("title", ""))
        probed = probed_faults(experiment, {})
        for action, region in planned_faults(experiment, {}):
            found.add(InjectedFault(action, title, (action, region) in probed))
    return Injected(frozenset(found))
