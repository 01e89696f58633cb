"""The faults an experiment's method will inject, read from the experiment before anything
runs: what the control writes to the ledger as `planned` and `signalcheck mutate` expects."""

from __future__ import annotations

from typing import Any, NamedTuple

from chaoslib import substitute

from signalcheck.chaos import faultlog
from signalcheck.chaos.marks import mark_of
from signalcheck.chaos.targets import ACTIONS_MODULE

PROBES_MODULE = "signalcheck.chaos.probes"


class Injection(NamedTuple):
    """A fault the method injects."""

    index: int
    """Where the injecting activity is in the method."""
    action: str
    region: str
    alerts: list[str]
    """The alerts its mark declares it may cause."""


def injections(experiment: dict[str, Any], configuration: dict[str, Any]) -> list[Injection]:
    """Every fault the method injects, in order: by a `signalcheck.chaos.actions` injection
    or by an action marked as a fault."""
    found = []
    for index, activity in enumerate(experiment.get("method") or []):
        provider = activity.get("provider") or {}  # none for a {"ref": ...} activity
        action = faultlog.INJECTIONS.get(provider.get("func", ""))
        mark = mark_of(activity)
        alerts = mark.alerts if mark is not None else []
        if provider.get("module") == ACTIONS_MODULE and action is not None:
            arguments = substitute(provider.get("arguments") or {}, configuration, {})
            found.append(Injection(index, action, str(arguments.get("region")), alerts))
        elif mark is not None and mark.fault is not None:
            region = str(mark.resolved_region(configuration))
            found.append(Injection(index, mark.fault, region, alerts))
    return found


def planned_faults(
    experiment: dict[str, Any], configuration: dict[str, Any]
) -> list[tuple[str, str]]:
    """(action, region) of every fault the experiment's method injects, in order."""
    return [(i.action, i.region) for i in injections(experiment, configuration)]


def probed_faults(
    experiment: dict[str, Any], configuration: dict[str, Any]
) -> list[tuple[str, str]]:
    """The planned faults after whose injection the method runs a probe pass of their region
    (`probe_checks_pass` of signalcheck.chaos.probes): those a probe alert can notice."""
    passes = []
    for index, activity in enumerate(experiment.get("method") or []):
        provider = activity.get("provider") or {}
        if (provider.get("module"), provider.get("func")) == (PROBES_MODULE, "probe_checks_pass"):
            arguments = substitute(provider.get("arguments") or {}, configuration, {})
            passes.append((index, arguments.get("region")))
    return [
        (i.action, i.region)
        for i in injections(experiment, configuration)
        if any(index > i.index and probed in (None, i.region) for index, probed in passes)
    ]
