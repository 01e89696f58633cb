"""Chaos Toolkit control: the experiment's phases in the run ledger, a refusal of targets
outside the allowlist before anything runs, and a restore that always happens.

Declare it in an experiment as
`{"name": "signalcheck", "provider": {"type": "python", "module": "signalcheck.chaos.control"}}`.

Whatever ends the run — success, a failed hypothesis, SIGINT, SIGTERM, a failing rollback —
`after_experiment_control` restores every fault the run's ledger still has open, with
SIGINT and SIGTERM ignored until it is done.

Before anything runs (and never in a dry run), every fault the method will inject is written
to the ledger as `planned`: a planned fault that never happens fails the run and its alert
expectations instead of letting them skip.

Any action, whatever its provider, can be a fault: one marked
`"signalcheck": {"fault": "latency", "region": "eu-west-1"}` (chaos/marks.py) has its `fault`
entry written before it runs and closed by the action marked `{"restores": "latency"}` (or
the injecting action's name) once that succeeds. What such an action leaves open at the end,
the control restores with the experiment's own restore action, or names for the user.

Chaos Toolkit calls each control with the experiment (`context` or `experiment`), the outcome
of what just ran (`state`) and the experiment's `configuration`.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import Any

from chaoslib.activity import run_activity

from signalcheck.chaos import faultlog, signals
from signalcheck.chaos.context import EXPERIMENT_ENV, EXPERIMENT_FILE_ENV, RunContext, run_context
from signalcheck.chaos.marks import (
    SECTIONS,
    Mark,
    check_marks,
    failure,
    fault_params,
    mark_of,
    marked,
)
from signalcheck.chaos.planned import injections, probed_faults
from signalcheck.chaos.recording import close_recorded, record_fault
from signalcheck.chaos.restore import restore_open_faults
from signalcheck.chaos.targets import check_experiment
from signalcheck.errors import MarkError, TargetRefused
from signalcheck.ledger import Entry

__all__ = [
    "after_activity_control",
    "after_experiment_control",
    "after_hypothesis_control",
    "after_method_control",
    "after_rollback_control",
    "before_activity_control",
    "before_experiment_control",
    "before_hypothesis_control",
    "before_method_control",
    "before_rollback_control",
    "configure_control",
]

logger = logging.getLogger("chaostoolkit")

EXIT_WITHOUT_ROLLBACKS = 30
"""The exit code chaoslib ends a run with, as interrupted, without playing rollbacks."""

_started: dict[str, float] = {}
"""Phase name -> start time of each phase this run has begun."""


def configure_control(experiment: dict[str, Any], **_: Any) -> None:
    """Name the run after the experiment and make SIGINT and SIGTERM interrupt it.

    chaoslib turns SIGTERM into an exception that a Python activity reports as a mere
    failure (the method and the after-hypothesis then carry on); SystemExit instead ends
    the run at once as "interrupted", with rollbacks. SIGINT is re-armed in case the
    process was started with it ignored.
    """
    _started.clear()
    os.environ[EXPERIMENT_ENV] = experiment.get("title", "")
    signals.stopping.clear()
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _exit_on_signal)


def _interrupt(signum: int, frame: Any) -> None:
    signals.stopping.set()
    signal.default_int_handler(signum, frame)


def _exit_on_signal(signum: int, _frame: object) -> None:
    signals.stopping.set()
    raise SystemExit(128 + signum)


def before_experiment_control(
    context: dict[str, Any], configuration: dict[str, Any] | None = None, **_: Any
) -> None:
    """Refuse the experiment, before anything runs, if it targets outside the allowlist
    (or the config cannot be loaded): the run ends as interrupted, without rollbacks."""
    try:
        ctx = run_context(configuration)
    except Exception as exc:
        logger.critical(f"signalcheck cannot load its config, nothing was done: {exc}")
        raise SystemExit(EXIT_WITHOUT_ROLLBACKS) from exc
    try:
        check_marks(context)
        check_experiment(ctx.config, context, configuration or {})
    except (TargetRefused, MarkError) as exc:
        _record(ctx, "refused", time.time(), time.time(), reason=str(exc))
        logger.critical(f"signalcheck refused the experiment, nothing was done: {exc}")
        raise SystemExit(EXIT_WITHOUT_ROLLBACKS) from exc
    _begin(ctx, "experiment", experiment_file=os.environ.get(EXPERIMENT_FILE_ENV) or None)
    if not ctx.dry:
        probed = probed_faults(context, configuration or {})
        for _, action, region, alerts in injections(context, configuration or {}):
            faultlog.plan_fault(
                ctx.ledger, action, region, ctx.experiment, (action, region) in probed, alerts
            )


def after_experiment_control(
    context: dict[str, Any],
    state: dict[str, Any],
    configuration: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    """Restore every fault still open in the ledger, then record how the run ended."""
    try:
        ctx = run_context(configuration)
    except Exception as exc:
        logger.error(f"signalcheck cannot read its config, nothing to restore: {exc}")
        return
    with signals.ignored():
        began = time.time()
        try:
            restored = restore_open_faults(ctx)
        except Exception as exc:
            logger.error(f"signalcheck could not restore every fault: {exc}")
            _record(ctx, "restore", began, time.time(), error=str(exc))
        else:
            if restored:
                logger.warning(f"signalcheck restored what the run left broken: {restored}")
                _record(ctx, "restore", began, time.time(), regions=restored)
        began = time.time()
        undone, left = _restore_marked(ctx, context, configuration or {}, secrets or {})
        for what in left:
            logger.critical(f"signalcheck cannot undo the {what}: undo it yourself")
        if undone or left:
            _record(ctx, "restore", began, time.time(), restored=undone, unrestored=left)
    if "experiment" in _started:
        _end(ctx, "experiment", status=state.get("status"), deviated=state.get("deviated"))


def before_activity_control(
    context: dict[str, Any], configuration: dict[str, Any] | None = None, **_: Any
) -> None:
    """Record the fault of an action marked as one before it runs (a dry run only says so)."""
    mark = mark_of(context)
    if mark is None or mark.fault is None:
        return
    ctx = run_context(configuration)
    region = str(mark.resolved_region(configuration))
    if ctx.dry:
        logger.info(f"dry run: would inject the {mark.fault} fault in {region} ({_name(context)})")
        return
    record_fault(ctx, mark.fault, region, fault_params(context))


def after_activity_control(
    context: dict[str, Any],
    state: dict[str, Any] | None = None,
    configuration: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    """Close, with why, the fault of a marked injection that failed; close the faults a marked
    restore undid once it succeeded (a failed restore leaves them open)."""
    mark = mark_of(context)
    if mark is None or run_context(configuration).dry:
        return
    ctx, why = run_context(configuration), failure(context, state)
    with signals.deferred():
        if mark.fault is not None and why:
            mine = [
                f
                for f in faultlog.open_faults(ctx.ledger)
                if faultlog.injected_by(f) == context.get("name")
            ]
            close_recorded(ctx, mine[-1:], error=why)
            logger.error(f"the {mark.fault} fault of {_name(context)} failed: {why}")
        elif mark.restores is not None and why:
            logger.error(f"{_name(context)} did not restore {mark.restores}: {why}")
        elif mark.restores is not None:
            close_recorded(ctx, _restored_by(ctx, mark, configuration))


def _restore_marked(
    ctx: RunContext,
    experiment: dict[str, Any],
    configuration: dict[str, Any],
    secrets: dict[str, Any],
) -> tuple[list[str], list[str]]:
    """Undo each fault of a marked action still open with the experiment's actions marked to
    restore it (each tried once); (faults restored, faults left open), each described."""
    restores = [(a, m) for section in SECTIONS for a, m in marked(experiment, section)]
    undone: list[str] = []
    left: list[str] = []
    tried: set[str] = set()
    for fault in [f for f in faultlog.open_faults(ctx.ledger) if faultlog.injected_by(f)]:
        if not any(_same(fault, f) for f in faultlog.open_faults(ctx.ledger)):
            continue  # a restore run for an earlier fault undid it too
        for activity, mark in restores:
            if mark.restores_fault(fault, configuration) and _name(activity) not in tried:
                tried.add(_name(activity))
                undone += _run_restore(ctx, activity, mark, configuration, secrets)
        if any(_same(fault, f) for f in faultlog.open_faults(ctx.ledger)):
            left.append(
                f"{fault.field('action')} fault in {fault.field('region')} "
                f"(injected by {faultlog.injected_by(fault)!r})"
            )
    return undone, left


def _run_restore(
    ctx: RunContext,
    activity: dict[str, Any],
    mark: Mark,
    configuration: dict[str, Any],
    secrets: dict[str, Any],
) -> list[str]:
    """Run a marked restore the run did not complete; the faults it closed, described."""
    try:
        run = {"status": "succeeded", "output": run_activity(activity, configuration, secrets)}
    except Exception as exc:
        run = {"status": "failed", "exception": [f"{type(exc).__name__}: {exc}"]}
    why = failure(activity, run)
    if why is not None:
        logger.error(f"{_name(activity)} could not restore {mark.restores}: {why}")
        return []
    closed = close_recorded(ctx, _restored_by(ctx, mark, configuration))
    return [f"{f.field('action')} fault in {f.field('region')}" for f in closed]


def _restored_by(ctx: RunContext, mark: Mark, configuration: dict[str, Any] | None) -> list[Entry]:
    """The open faults a restore `mark` undoes."""
    return [f for f in faultlog.open_faults(ctx.ledger) if mark.restores_fault(f, configuration)]


def _same(a: Entry, b: Entry) -> bool:
    return all(a.field(k) == b.field(k) for k in ("action", "region", "start"))


def _name(activity: dict[str, Any]) -> str:
    return repr(activity.get("name"))


def before_hypothesis_control(configuration: dict[str, Any] | None = None, **_: Any) -> None:
    """Record the start of a steady-state check (before the method, or after it)."""
    _begin(run_context(configuration), _hypothesis_phase())


def after_hypothesis_control(
    state: dict[str, Any], configuration: dict[str, Any] | None = None, **_: Any
) -> None:
    """Record the end of a steady-state check and whether it was met (`state`: its outcome)."""
    _end(
        run_context(configuration),
        _hypothesis_phase(),
        steady_state_met=(state or {}).get("steady_state_met"),
    )


def before_method_control(configuration: dict[str, Any] | None = None, **_: Any) -> None:
    """Record the start of the method."""
    _begin(run_context(configuration), "method")


def after_method_control(
    state: list[dict[str, Any]] | None, configuration: dict[str, Any] | None = None, **_: Any
) -> None:
    """Record the end of the method with the activities that failed (`state`: their runs)."""
    failed = [r["activity"].get("name") for r in state or [] if r.get("status") != "succeeded"]
    _end(run_context(configuration), "method", failed=failed)


def before_rollback_control(configuration: dict[str, Any] | None = None, **_: Any) -> None:
    """Record the start of the rollbacks."""
    _begin(run_context(configuration), "rollbacks")


def after_rollback_control(configuration: dict[str, Any] | None = None, **_: Any) -> None:
    """Record the end of the rollbacks."""
    _end(run_context(configuration), "rollbacks")


def _hypothesis_phase() -> str:
    """The first steady-state check runs before the method, the second after it."""
    return "steady-state-after" if "method" in _started else "steady-state-before"


def _begin(ctx: RunContext, phase: str, **fields: Any) -> None:
    _started[phase] = time.time()
    _record(ctx, phase, _started[phase], None, **fields)


def _end(ctx: RunContext, phase: str, **outcome: Any) -> None:
    _record(ctx, phase, _started.get(phase, time.time()), time.time(), **outcome)


def _record(ctx: RunContext, phase: str, start: float, end: float | None, **fields: Any) -> None:
    ctx.ledger.append(
        "chaos", experiment=ctx.experiment, phase=phase, start=start, end=end, **fields
    )
