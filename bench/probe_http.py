"""HTTP probe benchmark: signalcheck's probe runner beside Debian's blackbox_exporter.

Both probe the same local target (a Pushgateway's /-/healthy, a fast Go server), both with
a fresh connection per check. Prints, for each:
  - HTTP checks per second per core: checks done / CPU seconds used by the prober process
    (the target's and the load driver's CPU are not counted), at a concurrency of 8;
  - median total and per-phase durations (resolve, connect, tls, processing, transfer),
    measured one check at a time, and the difference of the medians.

    .venv/bin/python bench/probe_http.py [--checks 2000] [--latency-checks 300]

Every process it starts (target, exporter) it stops by PID; everything listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.processes import cpu_seconds, started
from signalcheck.config import load_config
from signalcheck.ledger import Ledger
from signalcheck.probes.client import PHASES
from signalcheck.probes.metrics import ProbeMetrics
from signalcheck.probes.runner import run_pass
from signalcheck.stack.launcher import pushgateway_command
from tests.support import free_port

BLACKBOX = "prometheus-blackbox-exporter"
CONCURRENCY = 8
CHECKS_PER_PASS = 50
_SAMPLE = re.compile(r'^(probe_duration_seconds|probe_http_duration_seconds|probe_success)'
                     r'(?:\{phase="(\w+)"\})? (\S+)$', re.M)  # fmt: skip


def parse_probe(text: str) -> tuple[bool, float, dict[str, float]]:
    success, total, phases = False, 0.0, {}
    for name, phase, value in _SAMPLE.findall(text):
        if name == "probe_success":
            success = value == "1"
        elif name == "probe_duration_seconds":
            total = float(value)
        else:
            phases[phase] = float(value)
    return success, total, phases


# --- blackbox_exporter -------------------------------------------------------------------


def blackbox_throughput(exporter: psutil.Process, probe_url: str, checks: int) -> float:
    def worker(count: int) -> int:
        ok = 0
        with httpx.Client(timeout=10) as client:
            for _ in range(count):
                ok += parse_probe(client.get(probe_url).text)[0]
        return ok

    before = cpu_seconds([exporter])
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        ok = sum(pool.map(worker, [checks // CONCURRENCY] * CONCURRENCY))
    used = cpu_seconds([exporter]) - before
    assert ok == checks // CONCURRENCY * CONCURRENCY, f"blackbox: only {ok} probes succeeded"
    return ok / used


def blackbox_latency(probe_url: str, checks: int) -> tuple[list[float], dict[str, list[float]]]:
    totals: list[float] = []
    phases: dict[str, list[float]] = {phase: [] for phase in PHASES}
    with httpx.Client(timeout=10) as client:
        for _ in range(checks):
            success, total, measured = parse_probe(client.get(probe_url).text)
            assert success, "blackbox probe failed"
            totals.append(total)
            for phase in PHASES:
                phases[phase].append(measured.get(phase, 0.0))
    return totals, phases


# --- signalcheck ------------------------------------------------------------------------


def signalcheck_config(directory: Path, target: str, checks: int) -> Path:
    path = directory / "signalcheck.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "regions": {"bench": {"base_url": target}},
                "runs_dir": str(directory / "runs"),
                "checks": [
                    {"name": f"c{n}", "type": "http", "path": "/-/healthy", "timeout": 5}
                    for n in range(checks)
                ],
            }
        )
    )
    return path


def signalcheck_run(config_path: Path, ledger: Ledger, checks: int, concurrency: int):
    """`checks` HTTP checks through the runner (ledger and metrics included); results, CPU s."""
    config = load_config(config_path, environ={})
    metrics = ProbeMetrics()
    results = []
    before = cpu_seconds([psutil.Process()])

    async def passes() -> None:
        for _ in range(checks // len(config.checks)):
            for result in await run_pass(config, ["bench"], ledger, concurrency=concurrency):
                metrics.record(result)
                results.append(result)

    asyncio.run(passes())
    used = cpu_seconds([psutil.Process()]) - before
    failed = [r.error for r in results if not r.passed]
    assert not failed, f"signalcheck: {len(failed)} checks failed, e.g. {failed[0]}"
    return results, used


# --- report -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=2000, help="checks for the throughput run")
    parser.add_argument("--latency-checks", type=int, default=300, help="sequential checks")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="probe-bench-") as tmp:
        work = Path(tmp)
        target_port, exporter_port = free_port(), free_port()
        target = f"http://127.0.0.1:{target_port}"
        (work / "blackbox.yml").write_text(
            yaml.safe_dump(
                {
                    "modules": {
                        "http_fresh": {
                            "prober": "http",
                            "timeout": "5s",
                            "http": {
                                "method": "GET",
                                "valid_status_codes": [200],
                                "preferred_ip_protocol": "ip4",
                                "ip_protocol_fallback": False,
                            },
                        }
                    }
                }
            )
        )
        probe_url = (
            f"http://127.0.0.1:{exporter_port}/probe?module=http_fresh&target={target}/-/healthy"
        )
        with (
            started(
                pushgateway_command(target_port),
                f"{target}/-/healthy",
                work / "target.log",
            ),
            started(
                [BLACKBOX, f"--config.file={work / 'blackbox.yml'}",
                 f"--web.listen-address=127.0.0.1:{exporter_port}", "--log.level=error"],
                f"http://127.0.0.1:{exporter_port}/-/healthy",
                work / "blackbox.log",
            ) as exporter,
        ):  # fmt: skip
            config = signalcheck_config(work, target, CHECKS_PER_PASS)
            ledger = Ledger(work / "ledger.jsonl")
            # warm-up, then throughput (concurrency 8), then latency (one at a time)
            blackbox_latency(probe_url, 20)
            signalcheck_run(config, ledger, CHECKS_PER_PASS, 1)
            bb_rate = blackbox_throughput(exporter, probe_url, args.checks)
            results, used = signalcheck_run(config, ledger, args.checks, CONCURRENCY)
            sc_rate = len(results) / used
            bb_totals, bb_phases = blackbox_latency(probe_url, args.latency_checks)
            sc_results, _ = signalcheck_run(config, ledger, args.latency_checks, 1)

    sc_totals = [r.duration for r in sc_results]
    sc_phases = {p: [r.phases[p] for r in sc_results] for p in PHASES}
    print(f"target: Pushgateway /-/healthy on 127.0.0.1, fresh connection per check; "
          f"{psutil.cpu_count()} cores")  # fmt: skip
    print(f"\nthroughput ({args.checks} checks each, concurrency {CONCURRENCY}), per CPU second "
          f"of the prober process:")  # fmt: skip
    print(f"  blackbox_exporter  {bb_rate:8.0f} checks/s/core")
    print(f"  signalcheck        {sc_rate:8.0f} checks/s/core")
    print(f"  ratio signalcheck/blackbox: {sc_rate / bb_rate:.2f}  (goal >= 0.5)")
    print(f"\nmedian durations ({args.latency_checks} sequential checks each), milliseconds:")
    print(f"  {'':12} {'blackbox':>10} {'signalcheck':>12} {'difference':>11}")
    worst = 0.0
    for name, bb, sc in [("total", bb_totals, sc_totals)] + [
        (p, bb_phases[p], sc_phases[p]) for p in PHASES
    ]:
        bb_ms, sc_ms = statistics.median(bb) * 1000, statistics.median(sc) * 1000
        worst = max(worst, abs(sc_ms - bb_ms))
        print(f"  {name:12} {bb_ms:10.3f} {sc_ms:12.3f} {sc_ms - bb_ms:+11.3f}")
    print(f"  largest difference of medians: {worst:.3f} ms  (goal <= 5 ms)")


if __name__ == "__main__":
    main()
