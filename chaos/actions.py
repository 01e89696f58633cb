"""Chaos Toolkit actions: faults in a demo region, each recorded in the run ledger.

Every action resolves its target first and refuses anything outside the config's regions
and allowlist before it sends a byte; every action but the probe pauses also refuses a region
whose config does not say `demo: true` (your own service: mark your own action as a fault,
chaos/marks.py). In dry mode (`$SIGNALCHECK_CHAOS_DRY`) an action
checks its target and logs what it would do, and does nothing.

Every fault is recorded, before it is applied, in the run ledger and in the stack's open-faults
file (chaos/openfaults.py), and leaves both when restored: `restore_orphans` restores what a
run that died left in force (and names, once, what a marked action of a run that died left:
signalcheck cannot undo those).

Admin faults go through the demo's `/admin/faults` API with the bearer token from
`$SIGNALCHECK_DEMO_ADMIN_TOKEN`, or else the local stack's token file.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import httpx

from signalcheck.chaos import faultlog, signals
from signalcheck.chaos.context import RunContext, run_context
from signalcheck.chaos.openfaults import OpenFault, OpenFaults
from signalcheck.chaos.probes import probe_and_push
from signalcheck.chaos.targets import Target, TargetRefused, resolve
from signalcheck.config import Config
from signalcheck.errors import SignalcheckError
from signalcheck.ledger import LEDGER_FILE, Entry, Ledger
from signalcheck.stack import LocalStack
from signalcheck.waiting import wait_for

ADMIN_TOKEN_ENV = "SIGNALCHECK_DEMO_ADMIN_TOKEN"
ADMIN_TIMEOUT = 5.0

logger = logging.getLogger("chaostoolkit")


class AdminError(SignalcheckError):
    """The demo admin API could not be reached or refused the change."""


def inject_latency(
    region: str, latency_ms: int, configuration: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Delay every API request of `region` by `latency_ms`."""
    return _inject(configuration, region, "inject_latency", "latency", {"latency_ms": latency_ms})


def inject_errors(
    region: str, error_rate: float = 1.0, configuration: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Fail this share of the API requests of `region` with 500."""
    return _inject(configuration, region, "inject_errors", "errors", {"error_rate": error_rate})


def inject_not_ready(region: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Make `/health/ready` of `region` answer 503."""
    return _inject(configuration, region, "inject_not_ready", "not_ready", {"ready": False})


def inject_dependency_outage(
    region: str, configuration: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Cut `region` off from its database."""
    return _inject(
        configuration,
        region,
        "inject_dependency_outage",
        "dependency_down",
        {"dependency_down": True},
    )


UNDO = {
    "latency": {"latency_ms": 0},
    "errors": {"error_rate": 0.0},
    "not_ready": {"ready": True},
    "dependency_down": {"dependency_down": False},
}
"""Admin fault action -> the admin change that undoes it alone."""


def clear_fault(
    region: str, action: str, configuration: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Undo one admin fault of `region` (e.g. `not_ready`), leaving its others in place, and
    close it in the ledger."""
    if action not in UNDO:
        raise ValueError(f"{action!r} is not an admin fault (one of {sorted(UNDO)})")
    return _undo(run_context(configuration), region, action)


def clear_faults(region: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Reset every admin fault of `region` and close them in the ledger."""
    return _clear(run_context(configuration), region)


def kill_region(region: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stop the local stack's demo process of `region`."""
    ctx = run_context(configuration)
    component = _component(resolve(ctx.config, region, "kill_region"))
    if ctx.dry:
        return _would(f"stop {component} of the local stack in {ctx.config.stack.data_dir}")
    fault = record_fault(ctx, faultlog.KILL, region, {"component": component})
    LocalStack(ctx.config).stop_component(component)
    return {"region": region, "component": component, "start": fault.field("start")}


def start_region(region: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Start the demo process of `region` again, wait until it serves, close the kill."""
    return _start(run_context(configuration), region)


def pause_probes(region: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stop probing `region` (a `probes_paused` fault): this run's probe passes leave it out,
    so its pushed results age as if its probe CronJob were suspended, until `resume_probes`."""
    ctx = run_context(configuration)
    target = resolve(ctx.config, region)
    if ctx.dry:
        return _would(f"leave {target.region} out of this run's probe passes")
    fault = record_fault(ctx, faultlog.PROBES_PAUSED, region, {})
    return {"region": region, "action": faultlog.PROBES_PAUSED, "start": fault.field("start")}


def resume_probes(region: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Probe `region` again: close its `probes_paused` fault and push a fresh pass of it (no
    pass when no pause was open)."""
    return _resume(run_context(configuration), region)


def restore_open_faults(ctx: RunContext) -> list[str]:
    """Undo every fault of `signalcheck.chaos.actions` this run's ledger still has open; the regions
    restored (a marked action's fault is the control's: `signalcheck.chaos.control.restore_marked`).

    Tries every region even when one fails, then raises the first error.
    """
    open_faults = [f for f in faultlog.open_faults(ctx.ledger) if not faultlog.injected_by(f)]
    restored, errors = [], []
    for region in sorted({f.field("region") for f in open_faults}):
        actions = {f.field("action") for f in open_faults if f.field("region") == region}
        try:
            if faultlog.KILL in actions:
                _start(ctx, region)
            if actions & set(faultlog.ADMIN_ACTIONS):
                _clear(ctx, region)
            if faultlog.PROBES_PAUSED in actions:
                _resume(ctx, region)
        except Exception as exc:
            errors.append(exc)
            logger.error(f"could not restore {region}: {exc}")
        else:
            restored.append(region)
    if errors:
        raise errors[0]
    return restored


def restore_orphans(config: Config) -> tuple[list[str], list[str]]:
    """Restore every fault in the stack's open-faults file whose run died (its process is
    gone), and close it in that run's ledger: (one line per fault restored, one line per fault
    that could not be). Faults of runs still going are left to them."""
    registry = OpenFaults(config.stack.data_dir)
    restored, failed = [], []
    for fault in registry.all():
        if not fault.orphaned():
            continue
        if "activity" in fault.params:
            failed.append(
                f"cannot restore the {fault.describe()}, left open by a run that died: it was "
                f"injected by the experiment's {fault.params['activity']!r} "
                f"({fault.params.get('provider')} action), which signalcheck cannot undo: undo "
                "it yourself"
            )
            registry.remove(fault.run_dir, [(fault.action, fault.region, fault.start)])
            continue
        ctx = RunContext(config, Ledger(fault.run_dir / LEDGER_FILE), "restore", dry=False)
        try:
            how = _restore_orphan(ctx, fault)
        except Exception as exc:
            failed.append(f"could not restore the {fault.describe()}: {exc}")
            continue
        registry.remove(fault.run_dir, [(fault.action, fault.region, fault.start)])
        restored.append(f"restored the {fault.describe()}, left open by a run that died{how}")
    return restored, failed


def _restore_orphan(ctx: RunContext, fault: OpenFault) -> str:
    """Undo one fault of a dead run; how, when it took no more than closing it."""
    if fault.action == faultlog.PROBES_PAUSED:
        with signals.deferred():
            _close(ctx, fault.region, (fault.action,))
        return " (closed: a pause has nothing else to undo)"
    undo = "start_region" if fault.action == faultlog.KILL else "clear_fault"
    target = resolve(ctx.config, fault.region, undo)
    stack = LocalStack(ctx.config)
    running = {row.name: row.running for row in stack.status()}
    if target.component is not None and not running.get(target.component, False):
        if fault.action == faultlog.KILL and any(running.values()):
            _start(ctx, fault.region)
            return ""
        # The faulted process is gone, and its faults (kept in memory) with it.
        with signals.deferred():
            _close(ctx, fault.region, (fault.action,))
        return f" (closed: {target.component} is not running)"
    if fault.action == faultlog.KILL:
        _start(ctx, fault.region)
    else:
        _undo(ctx, fault.region, fault.action)
    return ""


def _undo(ctx: RunContext, region: str, action: str) -> dict[str, Any]:
    target = resolve(ctx.config, region, "clear_fault")
    if ctx.dry:
        return _would(f"PUT {target.base_url}/admin/faults {UNDO[action]}")
    with signals.deferred():
        state = _admin(ctx.config, target, "PUT", json=UNDO[action])
        closed = _close(ctx, region, (action,))
    return {"region": region, "faults": state, "closed": [f.field("action") for f in closed]}


def _clear(ctx: RunContext, region: str) -> dict[str, Any]:
    target = resolve(ctx.config, region, "clear_faults")
    if ctx.dry:
        return _would(f"DELETE {target.base_url}/admin/faults")
    with signals.deferred():
        state = _admin(ctx.config, target, "DELETE")
        closed = _close(ctx, region, faultlog.ADMIN_ACTIONS)
    return {"region": region, "faults": state, "closed": [f.field("action") for f in closed]}


def _start(ctx: RunContext, region: str) -> dict[str, Any]:
    target = resolve(ctx.config, region, "start_region")
    component = _component(target)
    if ctx.dry:
        return _would(f"start {component} of the local stack and wait until it is ready")
    with signals.deferred():
        started = LocalStack(ctx.config).start_component(component)
        _wait_serving(ctx.config, target)
        closed = _close(ctx, region, (faultlog.KILL,))
    return {"region": region, "component": component, "pid": started.pid, "closed": len(closed)}


def _resume(ctx: RunContext, region: str) -> dict[str, Any]:
    target = resolve(ctx.config, region)
    if ctx.dry:
        return _would(f"probe {target.region} again and push its results")
    with signals.deferred():
        closed = _close(ctx, region, (faultlog.PROBES_PAUSED,))
    # a rollback after the method resumed them has nothing to close, and no pass to run
    passed = probe_and_push(ctx, ctx.config, region) if closed else None
    return {"region": region, "closed": len(closed), "passed": passed}


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
        return _would(f"PUT {target.base_url}/admin/faults {change}")
    fault = record_fault(ctx, action, region, change)
    state = _admin(ctx.config, target, "PUT", json=change)
    return {"region": region, "action": action, "start": fault.field("start"), "faults": state}


def record_fault(ctx: RunContext, action: str, region: str, params: dict[str, Any]) -> Entry:
    """Record a fault about to be applied: first in the stack's open faults (which outlive
    the run), then in the run's ledger."""
    start = time.time()
    OpenFaults(ctx.config.stack.data_dir).add(ctx.ledger.path.parent, action, region, params, start)
    return faultlog.open_fault(ctx.ledger, action, region, params, start, ctx.experiment)


def _close(ctx: RunContext, region: str, actions: tuple[str, ...]) -> list[Entry]:
    """Close the open faults of `region` with one of `actions`."""
    return close_recorded(
        ctx,
        [
            f
            for f in faultlog.open_faults(ctx.ledger)
            if f.field("region") == region and f.field("action") in actions
        ],
    )


def close_recorded(ctx: RunContext, faults: list[Entry], **fields: Any) -> list[Entry]:
    """Close `faults` (with `fields`) in the run's ledger, then in the stack's open faults."""
    closed = faultlog.close(ctx.ledger, faults, **fields)
    OpenFaults(ctx.config.stack.data_dir).remove(
        ctx.ledger.path.parent,
        [(f.field("action"), f.field("region"), f.field("start")) for f in closed],
    )
    return closed


def _admin(config: Config, target: Target, method: str, **kwargs: Any) -> dict[str, Any]:
    url = f"{target.base_url}/admin/faults"
    headers = {"Authorization": f"Bearer {_admin_token(config)}"}
    try:
        response = httpx.request(method, url, headers=headers, timeout=ADMIN_TIMEOUT, **kwargs)
    except httpx.HTTPError as exc:
        raise AdminError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
    if response.is_error:
        raise AdminError(f"{method} {url} returned {response.status_code}: {response.text[:200]}")
    return response.json()


def _wait_serving(config: Config, target: Target) -> None:
    """Wait until the region answers `/health` (start_component returns at once when the
    process already runs, e.g. when an interrupted start left it booting)."""

    def serving() -> bool:
        try:
            return httpx.get(f"{target.base_url}/health", timeout=ADMIN_TIMEOUT).is_success
        except httpx.HTTPError:
            return False

    wait_for(serving, timeout=config.stack.ready_timeout, what=f"{target.region} to serve again")


def _admin_token(config: Config) -> str:
    if os.environ.get(ADMIN_TOKEN_ENV):
        return os.environ[ADMIN_TOKEN_ENV].strip()
    path = LocalStack(config).admin_token_path
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise AdminError(
            f"no demo admin token: set {ADMIN_TOKEN_ENV} or start the local stack "
            f"({path}: {exc.strerror})"
        ) from exc


def _component(target: Target) -> str:
    if target.component is None:
        raise TargetRefused(
            f"{target.region}: only a configured region of the local stack can be killed"
        )
    return target.component


def _would(what: str) -> dict[str, Any]:
    logger.info(f"dry run: would {what}")
    return {"dry": True, "would": what, "at": time.time()}


def restore_run(config: Config, run_dir: Path) -> list[str]:
    """Undo every fault the ledger in `run_dir` still has open (for a game day's Ctrl-C)."""
    ledger = Ledger(run_dir / LEDGER_FILE)
    if not ledger.path.exists():
        return []
    return restore_open_faults(RunContext(config, ledger, experiment="restore", dry=False))
