"""Chaos Toolkit control: the experiment's phases in the run ledger, a refusal of targets
outside the allowlist before anything runs, and a restore that always happens.

Declare it in an experiment as
`{"name": "signalcheck", "provider": {"type": "python", "module": "chaos.control"}}`.

Whatever ends the run — success, a failed hypothesis, SIGINT, SIGTERM, a failing rollback —
`after_experiment_control` restores every fault the run's ledger still has open, with
SIGINT and SIGTERM ignored until it is done.

Before anything runs (and never in a dry run), every fault the method will inject is written
to the ledger as `planned`: a planned fault that never happens fails the run and its alert
expectations instead of letting them skip.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import Any

from chaoslib import substitute

from chaos import faultlog, signals
from chaos.actions import restore_open_faults
from chaos.context import EXPERIMENT_ENV, RunContext, run_context
from chaos.targets import ACTIONS_MODULE, TargetRefused, check_experiment

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
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _exit_on_signal)


def _exit_on_signal(signum: int, _frame: object) -> None:
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
        check_experiment(ctx.config, context, configuration or {})
    except TargetRefused as exc:
        _record(ctx, "refused", time.time(), time.time(), reason=str(exc))
        logger.critical(f"signalcheck refused the experiment, nothing was done: {exc}")
        raise SystemExit(EXIT_WITHOUT_ROLLBACKS) from exc
    _begin(ctx, "experiment")
    if not ctx.dry:
        for action, region in planned_faults(context, configuration or {}):
            faultlog.plan_fault(ctx.ledger, action, region, ctx.experiment)


def planned_faults(
    experiment: dict[str, Any], configuration: dict[str, Any]
) -> list[tuple[str, str]]:
    """(action, region) of every fault the experiment's method injects, in order."""
    planned = []
    for activity in experiment.get("method") or []:
        provider = activity.get("provider") or {}  # none for a {"ref": ...} activity
        action = faultlog.INJECTIONS.get(provider.get("func", ""))
        if provider.get("module") == ACTIONS_MODULE and action is not None:
            arguments = substitute(provider.get("arguments") or {}, configuration, {})
            planned.append((action, str(arguments.get("region"))))
    return planned


def after_experiment_control(
    context: dict[str, Any],
    state: dict[str, Any],
    configuration: dict[str, Any] | None = None,
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
    if "experiment" in _started:
        _end(ctx, "experiment", status=state.get("status"), deviated=state.get("deviated"))


def before_hypothesis_control(configuration: dict[str, Any] | None = None, **_: Any) -> None:
    _begin(run_context(configuration), _hypothesis_phase())


def after_hypothesis_control(
    state: dict[str, Any], configuration: dict[str, Any] | None = None, **_: Any
) -> None:
    _end(
        run_context(configuration),
        _hypothesis_phase(),
        steady_state_met=(state or {}).get("steady_state_met"),
    )


def before_method_control(configuration: dict[str, Any] | None = None, **_: Any) -> None:
    _begin(run_context(configuration), "method")


def after_method_control(
    state: list[dict[str, Any]] | None, configuration: dict[str, Any] | None = None, **_: Any
) -> None:
    failed = [r["activity"].get("name") for r in state or [] if r.get("status") != "succeeded"]
    _end(run_context(configuration), "method", failed=failed)


def before_rollback_control(configuration: dict[str, Any] | None = None, **_: Any) -> None:
    _begin(run_context(configuration), "rollbacks")


def after_rollback_control(configuration: dict[str, Any] | None = None, **_: Any) -> None:
    _end(run_context(configuration), "rollbacks")


def _hypothesis_phase() -> str:
    """The first steady-state check runs before the method, the second after it."""
    return "steady-state-after" if "method" in _started else "steady-state-before"


def _begin(ctx: RunContext, phase: str) -> None:
    _started[phase] = time.time()
    _record(ctx, phase, _started[phase], None)


def _end(ctx: RunContext, phase: str, **outcome: Any) -> None:
    _record(ctx, phase, _started.get(phase, time.time()), time.time(), **outcome)


def _record(ctx: RunContext, phase: str, start: float, end: float | None, **fields: Any) -> None:
    ctx.ledger.append(
        "chaos", experiment=ctx.experiment, phase=phase, start=start, end=end, **fields
    )
