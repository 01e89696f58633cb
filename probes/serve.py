"""`signalcheck probe --serve`: a pass every interval, counters that keep counting on /metrics."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

from prometheus_client import start_http_server

from probes.metrics import ProbeMetrics
from probes.runner import require_checks, run_pass, select_regions
from signalcheck.config import Config, ConfigError
from signalcheck.ledger import LEDGER_FILE, Ledger, new_run_dir

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_interval(text: str) -> float:
    """'30s', '2m', '500ms', '1h' or plain seconds -> seconds (a ConfigError otherwise)."""
    match = _DURATION.match(text.strip())
    seconds = float(match[1]) * _UNIT_SECONDS[match[2] or "s"] if match else 0.0
    if seconds <= 0:
        raise ConfigError(f"--interval: {text!r} is not a positive duration like 30s, 2m or 500ms")
    return seconds


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
