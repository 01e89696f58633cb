"""One pass: every check against every selected region, concurrently with a bound.

Each attempt runs under the check's deadline; failed attempts are retried with the check's
backoff, and only the last attempt decides the outcome. Nothing a check does can crash the
pass: every error becomes a classified failure. Each result is appended to the ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import Any

from signalcheck.checks import Check, HttpCheck, WorkflowCheck, unset_variables
from signalcheck.config import Config
from signalcheck.errors import ConfigError
from signalcheck.ledger import Ledger
from signalcheck.probes.browser import Browsers, attempt_browser
from signalcheck.probes.errors import ErrorType, ProbeFailure
from signalcheck.probes.http import attempt_http
from signalcheck.probes.results import CheckResult
from signalcheck.probes.tracecontext import TraceContext
from signalcheck.probes.workflow import attempt_workflow

DEFAULT_CONCURRENCY = 8


def select_regions(config: Config, region: str | None) -> list[str]:
    """All configured regions, or the one asked for (a ConfigError if it is unknown)."""
    if region is None:
        return list(config.regions)
    if region not in config.regions:
        raise ConfigError(
            f"{config.source or 'config'}: regions: no region {region!r} "
            f"(configured: {', '.join(config.regions)})"
        )
    return [region]


def require_checks(config: Config) -> None:
    """A pass needs at least one check, and every `${variable}` its checks use set; a
    ConfigError, before any request, otherwise."""
    if not config.checks:
        raise ConfigError(f"{config.source or 'config'}: checks: no checks configured")
    unset = unset_variables(config.checks, os.environ)
    if unset:
        raise ConfigError(
            f"{config.source or 'config'}: checks: {'; '.join(unset)} not set (no earlier step "
            "captures it and the environment has no such variable): set it, or give a default "
            "as ${name:-default}"
        )


async def run_pass(
    config: Config,
    regions: list[str],
    ledger: Ledger,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> list[CheckResult]:
    """Run every check in every region of `regions`; results in config order."""
    slots = asyncio.Semaphore(concurrency)
    browsers = Browsers()
    artifacts = ledger.path.parent / "artifacts"
    script_base = config.source.resolve().parent if config.source else Path.cwd()

    async def one(check: Check, region: str) -> CheckResult:
        async with slots:
            base_url = str(config.regions[region].base_url).rstrip("/")
            result = await run_check(
                check, region, base_url, browsers=browsers, artifacts=artifacts,
                script_base=script_base,
            )  # fmt: skip
        ledger.append("probe", **result.ledger_fields())
        return result

    try:
        if any(check.type == "browser" for check in config.checks):
            # Launch Chromium before the clocks start; a launch failure fails each browser check.
            with contextlib.suppress(ProbeFailure):
                await browsers.get()
        return list(
            await asyncio.gather(
                *(one(check, region) for region in regions for check in config.checks)
            )
        )
    finally:
        await browsers.close()


async def run_check(
    check: Check,
    region: str,
    base_url: str,
    *,
    browsers: Browsers,
    artifacts: Path,
    script_base: Path,
) -> CheckResult:
    """Run one check in one region with its retries; never raises for a failing check."""
    trace = TraceContext.fresh(check.name)
    start = time.time()
    for attempt in range(1, check.retries.attempts + 1):
        evidence: dict[str, Any] = {}
        began = time.perf_counter()
        failure = await _attempt(check, base_url, trace, evidence, browsers, artifacts, script_base)
        duration = time.perf_counter() - began
        if failure is None or attempt == check.retries.attempts:
            break
        await asyncio.sleep(check.retries.delay_after(attempt))
    evidence.pop("step", None)
    return CheckResult(
        check=check.name,
        check_type=check.type,
        region=region,
        endpoint=check.name,
        trace_id=trace.trace_id,
        start=start,
        end=time.time(),
        duration=duration,
        outcome="success" if failure is None else "failure",
        error_class=None if failure is None else failure.error_type.value,
        error=None if failure is None else failure.message,
        attempts=attempt,
        failed_step=None if failure is None else failure.step,
        **evidence,
    )


async def _attempt(
    check: Check,
    base_url: str,
    trace: TraceContext,
    evidence: dict[str, Any],
    browsers: Browsers,
    artifacts: Path,
    script_base: Path,
) -> ProbeFailure | None:
    """One attempt under the check's deadline: None if it passed, else why it failed."""
    try:
        async with asyncio.timeout(check.timeout):
            if isinstance(check, HttpCheck):
                await attempt_http(check, base_url, trace, evidence)
            elif isinstance(check, WorkflowCheck):
                await attempt_workflow(check, base_url, trace, evidence)
            else:
                script = script_base / check.script if check.script else None
                await attempt_browser(
                    check, base_url, trace, evidence,
                    browsers=browsers, artifacts=artifacts, script=script,
                )  # fmt: skip
    except ProbeFailure as failure:
        failure.step = failure.step or evidence.get("step")
        return failure
    except TimeoutError:
        return ProbeFailure(
            ErrorType.TIMEOUT,
            f"{check.name} did not finish within its {check.timeout:g}s deadline",
            step=evidence.get("step"),
        )
    except Exception as exc:  # a bug or an unexpected library error must not end the pass
        return ProbeFailure(
            ErrorType.OTHER, f"{type(exc).__name__}: {exc}", step=evidence.get("step")
        )
    return None
