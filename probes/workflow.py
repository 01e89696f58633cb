"""The `workflow` check: ordered requests with captured values, then guaranteed cleanup."""

from __future__ import annotations

import os
import time
from typing import Any

from signalcheck.checks import WorkflowCheck, WorkflowStep
from signalcheck.probes.assertions import check_response, json_path
from signalcheck.probes.errors import ProbeFailure
from signalcheck.probes.http import send
from signalcheck.probes.tracecontext import TraceContext


async def attempt_workflow(
    check: WorkflowCheck, base_url: str, trace: TraceContext, evidence: dict[str, Any]
) -> None:
    """Run the steps in order; run the cleanup steps whatever happened (also on the deadline).

    A failing step raises a ProbeFailure naming it. A failing cleanup step fails a workflow
    that otherwise passed (it leaked what it created).
    """
    variables: dict[str, Any] = {}
    steps: list[dict[str, Any]] = evidence.setdefault("steps", [])
    try:
        for step in check.steps:
            evidence["step"] = step.name
            await _run_step(step, base_url, trace, variables, steps)
        evidence.pop("step")
    finally:
        cleanup_failure = await _clean_up(check, base_url, trace, variables, steps)
    if cleanup_failure is not None:
        raise cleanup_failure


async def _run_step(
    step: WorkflowStep,
    base_url: str,
    trace: TraceContext,
    variables: dict[str, Any],
    steps: list[dict[str, Any]],
) -> None:
    began = time.perf_counter()
    record: dict[str, Any] = {"name": step.name, "status": None, "outcome": "failure"}
    steps.append(record)
    try:
        response = await send(step, base_url, trace, variables)
        record["status"] = response.status
        check_response(response, step.expect, variables)
        if step.capture:
            document = response.json()
            for name, path in step.capture.items():
                variables[name] = json_path(document, path)
        record["outcome"] = "success"
    except ProbeFailure as failure:
        failure.step = step.name
        record["error_class"] = failure.error_type.value
        raise
    finally:
        record["duration"] = time.perf_counter() - began


async def _clean_up(
    check: WorkflowCheck,
    base_url: str,
    trace: TraceContext,
    variables: dict[str, Any],
    steps: list[dict[str, Any]],
) -> ProbeFailure | None:
    """Run each cleanup step whose variables were captured; the first failure, if any."""
    first: ProbeFailure | None = None
    for step in check.cleanup:
        missing = {name for name in step.variables() if name not in variables}
        if missing - os.environ.keys():
            steps.append({"name": step.name, "outcome": "skipped", "missing": sorted(missing)})
            continue
        try:
            await _run_step(step, base_url, trace, variables, steps)
        except ProbeFailure as failure:
            first = first or failure
    return first
