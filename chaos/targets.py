"""Which systems chaos may touch: configured regions, or URLs whose host is on the allowlist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chaoslib import substitute

from signalcheck.config import Config
from signalcheck.errors import SignalcheckError

ACTIONS_MODULE = "signalcheck.chaos.actions"
MARK_KEY = "signalcheck"
"""The key of an activity's signalcheck mark (chaos/marks.py)."""


class TargetRefused(SignalcheckError):
    """A chaos target outside the config's regions or allowlist; nothing was done."""


@dataclass(frozen=True)
class Target:
    region: str
    base_url: str
    component: str | None
    """The local stack component serving the region (None for a plain URL)."""


def resolve(config: Config, region: str) -> Target:
    """The target named by `region`: a configured region name or a base URL.

    Raises TargetRefused unless its host is on `config.allowlist`.
    """
    if region in config.regions:
        base_url = str(config.regions[region].base_url).rstrip("/")
        component: str | None = f"demo-{region}"
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
    return Target(region=region, base_url=base_url, component=component)


def experiment_targets(experiment: dict[str, Any], configuration: dict[str, Any]) -> list[str]:
    """The `region` argument of every `signalcheck.chaos.actions` activity the experiment
    declares, and the URL of every http action marked for signalcheck (a fault or a restore)."""
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
            if "region" in arguments:
                targets.append(str(arguments["region"]))
        elif provider.get("type") == "http" and MARK_KEY in activity:
            targets.append(str(substitute(provider.get("url", ""), configuration, {})))
    return targets


def check_experiment(
    config: Config, experiment: dict[str, Any], configuration: dict[str, Any]
) -> None:
    """Refuse the whole experiment if any action targets something outside the allowlist."""
    refused = []
    for region in experiment_targets(experiment, configuration):
        try:
            resolve(config, region)
        except TargetRefused as exc:
            refused.append(str(exc))
    if refused:
        raise TargetRefused("; ".join(dict.fromkeys(refused)))  # each target once
