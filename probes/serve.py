"""`signalcheck probe --serve`: a pass every interval, counters that keep counting on /metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from prometheus_client import start_http_server

from signalcheck.config import Config
from signalcheck.ledger import LEDGER_FILE, Ledger, new_run_dir
from signalcheck.probes.metrics import ProbeMetrics
from signalcheck.probes.runner import require_checks, run_pass, select_regions


def serve(
    config: Config,
    *,
    region: str | None,
    interval: float,
    host: str,
    port: int,
    concurrency: int,
    on_pass: Callable[[str], None] = print,
) -> None:
    """Expose /metrics on host:port and run a pass every `interval` seconds, until stopped."""
    require_checks(config)
    regions = select_regions(config, region)
    metrics = ProbeMetrics()
    ledger = Ledger(new_run_dir(config.runs_dir) / LEDGER_FILE)
    start_http_server(port, addr=host, registry=metrics.registry)
    on_pass(f"serving /metrics on http://{host}:{port}/metrics; ledger {ledger.path}")
    while True:
        began = time.monotonic()
        results = asyncio.run(run_pass(config, regions, ledger, concurrency=concurrency))
        for result in results:
            metrics.record(result)
        failed = [f"{r.check}@{r.region}: {r.error_class}" for r in results if not r.passed]
        on_pass(f"pass: {len(results) - len(failed)} passed, {len(failed)} failed {failed or ''}")
        time.sleep(max(0.0, interval - (time.monotonic() - began)))
