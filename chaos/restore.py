"""Undoing the faults of `signalcheck.chaos.actions`: one at a time, as the restore actions
do, and every one still open at the end of a run, of an interrupted game day, or left by a run
that died.

A restore holds SIGINT and SIGTERM until it is done (chaos/signals.py), so an interrupt never
leaves a half-started region or a fault nobody knows about. A marked action's fault is the
control's to restore (chaos/control.py): signalcheck only names one a run that died left.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from signalcheck.chaos import faultlog, signals
from signalcheck.chaos.context import RunContext, dry_run
from signalcheck.chaos.demo_admin import change_faults, serving
from signalcheck.chaos.openfaults import OpenFault, OpenFaults
from signalcheck.chaos.probing import probe_and_push
from signalcheck.chaos.recording import close_region_faults
from signalcheck.chaos.targets import local_component, resolve
from signalcheck.config import Config
from signalcheck.ledger import LEDGER_FILE, Ledger
from signalcheck.stack import LocalStack
from signalcheck.waiting import wait_for

logger = logging.getLogger("chaostoolkit")

UNDO = {
    "latency": {"latency_ms": 0},
    "errors": {"error_rate": 0.0},
    "not_ready": {"ready": True},
    "dependency_down": {"dependency_down": False},
}
"""Admin fault action -> the admin change that undoes it alone."""


def undo_admin_fault(ctx: RunContext, region: str, action: str) -> dict[str, Any]:
    """Undo the admin fault `action` of `region` alone and close it."""
    target = resolve(ctx.config, region, "clear_fault")
    if ctx.dry:
        return dry_run(f"PUT {target.base_url}/admin/faults {UNDO[action]}")
    with signals.deferred():
        state = change_faults(ctx.config, target, "PUT", json=UNDO[action])
        closed = close_region_faults(ctx, region, (action,))
    return {"region": region, "faults": state, "closed": [f.field("action") for f in closed]}


def clear_admin_faults(ctx: RunContext, region: str) -> dict[str, Any]:
    """Reset every admin fault of `region` and close them."""
    target = resolve(ctx.config, region, "clear_faults")
    if ctx.dry:
        return dry_run(f"DELETE {target.base_url}/admin/faults")
    with signals.deferred():
        state = change_faults(ctx.config, target, "DELETE")
        closed = close_region_faults(ctx, region, faultlog.ADMIN_ACTIONS)
    return {"region": region, "faults": state, "closed": [f.field("action") for f in closed]}


def restart_region(ctx: RunContext, region: str) -> dict[str, Any]:
    """Start the demo process of `region` again, wait until it serves, close its kill."""
    target = resolve(ctx.config, region, "start_region")
    component = local_component(target)
    if ctx.dry:
        return dry_run(f"start {component} of the local stack and wait until it is ready")
    with signals.deferred():
        started = LocalStack(ctx.config).start_component(component)
        # start_component returns at once when the process already runs (e.g. when an
        # interrupted start left it booting): wait until it serves
        wait_for(
            lambda: serving(target),
            timeout=ctx.config.stack.ready_timeout,
            what=f"{target.region} to serve again",
        )
        closed = close_region_faults(ctx, region, (faultlog.KILL,))
    return {"region": region, "component": component, "pid": started.pid, "closed": len(closed)}


def resume_probing(ctx: RunContext, region: str) -> dict[str, Any]:
    """Close the `probes_paused` fault of `region` and push a fresh pass of it (none when no
    pause was open)."""
    target = resolve(ctx.config, region)
    if ctx.dry:
        return dry_run(f"probe {target.region} again and push its results")
    with signals.deferred():
        closed = close_region_faults(ctx, region, (faultlog.PROBES_PAUSED,))
    # a rollback after the method resumed them has nothing to close, and no pass to run
    passed = probe_and_push(ctx, ctx.config, region) if closed else None
    return {"region": region, "closed": len(closed), "passed": passed}


def restore_open_faults(ctx: RunContext) -> list[str]:
    """Undo every fault of `signalcheck.chaos.actions` this run's ledger still has open; the
    regions restored.

    Tries every region even when one fails, then raises the first error.
    """
    open_faults = [f for f in faultlog.open_faults(ctx.ledger) if not faultlog.injected_by(f)]
    restored, errors = [], []
    for region in sorted({f.field("region") for f in open_faults}):
        actions = {f.field("action") for f in open_faults if f.field("region") == region}
        try:
            if faultlog.KILL in actions:
                restart_region(ctx, region)
            if actions & set(faultlog.ADMIN_ACTIONS):
                clear_admin_faults(ctx, region)
            if faultlog.PROBES_PAUSED in actions:
                resume_probing(ctx, region)
        except Exception as exc:
            errors.append(exc)
            logger.error(f"could not restore {region}: {exc}")
        else:
            restored.append(region)
    if errors:
        raise errors[0]
    return restored


def restore_run(config: Config, run_dir: Path) -> list[str]:
    """Undo every fault the ledger in `run_dir` still has open (for a game day's Ctrl-C)."""
    ledger = Ledger(run_dir / LEDGER_FILE)
    if not ledger.path.exists():
        return []
    return restore_open_faults(RunContext(config, ledger, experiment="restore", dry=False))


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
            close_region_faults(ctx, fault.region, (fault.action,))
        return " (closed: a pause has nothing else to undo)"
    undo = "start_region" if fault.action == faultlog.KILL else "clear_fault"
    target = resolve(ctx.config, fault.region, undo)
    stack = LocalStack(ctx.config)
    running = {row.name: row.running for row in stack.status()}
    if target.component is not None and not running.get(target.component, False):
        if fault.action == faultlog.KILL and any(running.values()):
            restart_region(ctx, fault.region)
            return ""
        # The faulted process is gone, and its faults (kept in memory) with it.
        with signals.deferred():
            close_region_faults(ctx, fault.region, (fault.action,))
        return f" (closed: {target.component} is not running)"
    if fault.action == faultlog.KILL:
        restart_region(ctx, fault.region)
    else:
        undo_admin_fault(ctx, fault.region, fault.action)
    return ""
