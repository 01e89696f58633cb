"""Chaos Toolkit actions: faults in a demo region, each recorded in the run ledger.

Every action resolves its target first and refuses anything outside the config's regions
and allowlist before it sends a byte; every action but the probe pauses also refuses a region
whose config does not say `demo: true` (your own service: mark your own action as a fault,
chaos/marks.py). In dry mode (`$SIGNALCHECK_CHAOS_DRY`) an action checks its target and logs
what it would do, and does nothing.

Every fault is recorded, before it is applied, in the run ledger and in the stack's open-faults
file (chaos/recording.py), and leaves both when restored (chaos/restore.py, which also restores
what a run that died left in force).

Admin faults go through the demo's `/admin/faults` API (chaos/demo_admin.py).

In every action, `region` is a configured region name or a base URL whose host is on the
config's `allowlist`, and `configuration` is the experiment's configuration, which Chaos
Toolkit passes (its `signalcheck_config` key names the signalcheck config file, else
`$SIGNALCHECK_CONFIG`).
"""

from __future__ import annotations

from typing import Any

from signalcheck.chaos import faultlog
from signalcheck.chaos.context import dry_run, run_context
from signalcheck.chaos.demo_admin import change_faults
from signalcheck.chaos.recording import record_fault
from signalcheck.chaos.restore import (
    UNDO,
    clear_admin_faults,
    restart_region,
    resume_probing,
    undo_admin_fault,
)
from signalcheck.chaos.targets import local_component, resolve
from signalcheck.stack import LocalStack

__all__ = [
    "clear_fault",
    "clear_faults",
    "inject_dependency_outage",
    "inject_errors",
    "inject_latency",
    "inject_not_ready",
    "kill_region",
    "pause_probes",
    "resume_probes",
    "start_region",
]


def inject_latency(
    region: str, latency_ms: int, configuration: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Delay every API request of the demo in `region` (a configured region, or a base URL
    on the allowlist) by `latency_ms` milliseconds (a `latency` fault), until `clear_fault` or
    `clear_faults` undoes it."""
    return _inject(configuration, region, "inject_latency", "latency", {"latency_ms": latency_ms})


def inject_errors(
    region: str, error_rate: float = 1.0, configuration: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Fail a share of the API requests of the demo in `region` (a configured region, or a
    base URL on the allowlist) with 500 (an `errors` fault); `error_rate` is that share,
    between 0 and 1 (1: every request)."""
    return _inject(configuration, region, "inject_errors", "errors", {"error_rate": error_rate})


def inject_not_ready(region: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Make `/health/ready` of the demo in `region` (a configured region, or a base URL on the
    allowlist) answer 503 (a `not_ready` fault)."""
    return _inject(configuration, region, "inject_not_ready", "not_ready", {"ready": False})


def inject_dependency_outage(
    region: str, configuration: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Cut the demo in `region` (a configured region, or a base URL on the allowlist) off from
    its database (a `dependency_down` fault)."""
    return _inject(
        configuration,
        region,
        "inject_dependency_outage",
        "dependency_down",
        {"dependency_down": True},
    )


def clear_fault(
    region: str, action: str, configuration: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Undo one admin fault of the demo in `region` (a configured region, or a base URL on the
    allowlist), leaving its others in place, and close it in the ledger; `action` is the fault:
    `latency`, `errors`, `not_ready` or `dependency_down`."""
    if action not in UNDO:
        raise ValueError(f"{action!r} is not an admin fault (one of {sorted(UNDO)})")
    return undo_admin_fault(run_context(configuration), region, action)


def clear_faults(region: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Reset every admin fault of the demo in `region` (a configured region, or a base URL on
    the allowlist) and close them in the ledger."""
    return clear_admin_faults(run_context(configuration), region)


def kill_region(region: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stop the local stack's demo process of `region` (a configured region) with a `kill`
    fault, until `start_region`."""
    ctx = run_context(configuration)
    component = local_component(resolve(ctx.config, region, "kill_region"))
    if ctx.dry:
        return dry_run(f"stop {component} of the local stack in {ctx.config.stack.data_dir}")
    fault = record_fault(ctx, faultlog.KILL, region, {"component": component})
    LocalStack(ctx.config).stop_component(component)
    return {"region": region, "component": component, "start": fault.field("start")}


def start_region(region: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Start the local stack's demo process of `region` (a configured region) again, wait until
    it serves, and close its `kill` fault in the ledger."""
    return restart_region(run_context(configuration), region)


def pause_probes(region: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stop probing `region` (a configured region) with a `probes_paused` fault: this run's
    probe passes leave it out, so its pushed results age as if its probe CronJob were
    suspended, until `resume_probes`. Acts on signalcheck's own probes, so `region` need not
    be the demo."""
    ctx = run_context(configuration)
    target = resolve(ctx.config, region)
    if ctx.dry:
        return dry_run(f"leave {target.region} out of this run's probe passes")
    fault = record_fault(ctx, faultlog.PROBES_PAUSED, region, {})
    return {"region": region, "action": faultlog.PROBES_PAUSED, "start": fault.field("start")}


def resume_probes(region: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Probe `region` (a configured region) again: close its `probes_paused` fault and push a
    fresh probe pass of it (no pass when no pause was open)."""
    return resume_probing(run_context(configuration), region)


def _inject(
    configuration: dict[str, Any] | None,
    region: str,
    func: str,
    action: str,
    change: dict[str, Any],
) -> dict[str, Any]:
    """`func` (the demo action) opens the `action` fault with the admin `change`."""
    ctx = run_context(configuration)
    target = resolve(ctx.config, region, func)
    if ctx.dry:
        return dry_run(f"PUT {target.base_url}/admin/faults {change}")
    fault = record_fault(ctx, action, region, change)
    state = change_faults(ctx.config, target, "PUT", json=change)
    return {"region": region, "action": action, "start": fault.field("start"), "faults": state}
