"""Which systems chaos may touch: configured regions, or URLs whose host is on the allowlist;
and, for the demo's own actions, only regions that run signalcheck's demo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chaoslib import substitute

from signalcheck.config import Config
from signalcheck.errors import TargetRefused

ACTIONS_MODULE = "signalcheck.chaos.actions"
MARK_KEY = "signalcheck"
"""The key of an activity's signalcheck mark (chaos/marks.py)."""
PROBE_ACTIONS = frozenset({"pause_probes", "resume_probes"})
"""The `signalcheck.chaos.actions` that act on signalcheck's own probes, in any region; every
other one acts on the demo (its admin API, its local-stack process): a demo action."""
MARKED_ACTIONS_DOC = "chaos/README.md#marked-actions"


@dataclass(frozen=True)
class Target:
    region: str
    base_url: str
    component: str | None
    """The local stack's demo process serving the region (None for a plain URL, or a region
    that is your own service)."""


def resolve(config: Config, region: str, demo_action: str | None = None) -> Target:
    """The target named by `region`: a configured region name or a base URL.

    Raises TargetRefused unless its host is on `config.allowlist`, and, when `demo_action`
    (the demo action about to act on it) is given, when it is a region (by name or by its
    base URL) whose config does not say `demo: true`.
    """
    if region in config.regions:
        base_url = str(config.regions[region].base_url).rstrip("/")
        component = f"demo-{region}" if config.regions[region].demo else None
    elif urlsplit(region).scheme in ("http", "https"):
        base_url, component = region.rstrip("/"), None
    else:
        raise TargetRefused(
            f"chaos target {region!r} is neither a configured region "
            f"({', '.join(config.regions)}) nor an http(s) URL"
        )
    host = urlsplit(base_url).hostname or ""
    if host not in config.allowlist:
        raise TargetRefused(
            f"chaos target {region!r}: host {host!r} is not in the allowlist {config.allowlist}"
        )
    if demo_action is not None:
        _refuse_unless_demo(config, region, base_url, demo_action)
    return Target(region=region, base_url=base_url, component=component)


def local_component(target: Target) -> str:
    """The local stack's demo process serving `target`; TargetRefused when there is none."""
    if target.component is None:
        raise TargetRefused(
            f"{target.region}: only a configured region of the local stack can be killed"
        )
    return target.component


def _refuse_unless_demo(config: Config, region: str, base_url: str, demo_action: str) -> None:
    for name, configured in config.regions.items():
        if base_url == str(configured.base_url).rstrip("/") and not configured.demo:
            shown = name if name == region else f"{region} ({name})"
            raise TargetRefused(
                f"{shown} is your service, not signalcheck's demo: {demo_action} acts on the "
                f"demo only; mark your own action as a fault ({MARKED_ACTIONS_DOC})"
            )


def experiment_targets(
    experiment: dict[str, Any], configuration: dict[str, Any]
) -> list[tuple[str, str | None]]:
    """(target, demo action or None) of every `signalcheck.chaos.actions` activity the
    experiment declares (its `region` argument), and of every http action marked for
    signalcheck (its URL, no demo action)."""
    hypothesis = experiment.get("steady-state-hypothesis") or {}
    activities = [
        *hypothesis.get("probes", []),
        *experiment.get("method", []),
        *experiment.get("rollbacks", []),
    ]
    targets = []
    for activity in activities:
        provider = activity.get("provider") or {}
        if provider.get("type") == "python" and provider.get("module") == ACTIONS_MODULE:
            arguments = substitute(provider.get("arguments") or {}, configuration, {})
            func = provider.get("func")
            if "region" in arguments:
                targets.append((str(arguments["region"]), None if func in PROBE_ACTIONS else func))
        elif provider.get("type") == "http" and MARK_KEY in activity:
            targets.append((str(substitute(provider.get("url", ""), configuration, {})), None))
    return targets


def check_experiment(
    config: Config, experiment: dict[str, Any], configuration: dict[str, Any]
) -> None:
    """Refuse the whole experiment if any action targets something outside the allowlist, or a
    demo action a region whose service is not the demo."""
    refused: dict[str, str] = {}
    for region, demo_action in experiment_targets(experiment, configuration):
        if region in refused:
            continue  # each target once, for the first action refused
        try:
            resolve(config, region, demo_action)
        except TargetRefused as exc:
            refused[region] = str(exc)
    if refused:
        raise TargetRefused("; ".join(refused.values()))
