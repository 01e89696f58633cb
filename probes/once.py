"""`signalcheck probe --once`: one pass, pushed to the Pushgateway, summarised as JSON."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from signalcheck.config import Config
from signalcheck.errors import PushError
from signalcheck.ledger import LEDGER_FILE, Ledger, new_run_dir
from signalcheck.probes.push import push_results
from signalcheck.probes.results import CheckResult
from signalcheck.probes.runner import require_checks, run_pass, select_regions

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_PUSH_FAILED = 3


def run_once(
    config: Config,
    *,
    region: str | None = None,
    concurrency: int,
    ledger_path: Path | None = None,
    push: bool = True,
) -> tuple[dict[str, Any], int]:
    """Run one pass and push it; the JSON summary and the exit code.

    Exit 0 when every check passed, 1 when any failed, 3 when the push failed (the
    results are in the summary and the ledger all the same).
    """
    require_checks(config)
    regions = select_regions(config, region)
    ledger = Ledger(ledger_path or new_run_dir(config.runs_dir) / LEDGER_FILE)
    results = asyncio.run(run_pass(config, regions, ledger, concurrency=concurrency))
    push_error = None
    if push:
        try:
            push_results(config.backends.pushgateway, results, ledger)
        except PushError as exc:
            push_error = str(exc)
    summary = summarize(results, ledger, push=push, push_error=push_error)
    if push_error is not None:
        return summary, EXIT_PUSH_FAILED
    return summary, EXIT_PASSED if all(r.passed for r in results) else EXIT_FAILED


def summarize(
    results: list[CheckResult], ledger: Ledger, *, push: bool, push_error: str | None
) -> dict[str, Any]:
    return {
        "ledger": str(ledger.path),
        "passed": sum(r.passed for r in results),
        "failed": sum(not r.passed for r in results),
        "push": {"attempted": push, "ok": push and push_error is None, "error": push_error},
        "results": [r.model_dump(mode="json") for r in results],
    }
