"""How much load one machine sends to one demo region, what it costs Locust, and how exactly
the service counts it.

Starts a local stack of its own on free loopback ports, runs a flat-out smoke profile with
FastHttpUser (browse mix, no think time) against one region, once in one Locust process and
once with two local workers, samples the CPU of the Locust processes and of the demo region
with psutil, and compares the ledger with Prometheus. Bounded: two runs of `--duration`
seconds each plus start-up and draining.

    .venv/bin/python bench/load_capacity.py [--duration 20] [--users 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.processes import cpu_seconds
from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Config, load_config
from signalcheck.evidence.load import load_accuracy
from signalcheck.expectations import LoadExpectation
from signalcheck.ledger import Entry, new_run_dir
from signalcheck.load_profiles import plan_for
from signalcheck.loadtests.runner import Distribution, LoadOutcome, run_plan
from signalcheck.stack import LocalStack
from tests.support import write_stack_config

REGION = "eu-west-1"
FLAT_OUT = 1000.0  # tasks per second per user: no think time worth the name


def bench_config(directory: Path, duration: float, users: int) -> Config:
    path = write_stack_config(directory)
    raw = yaml.safe_load(path.read_text())
    raw["load"] = {
        "stop_timeout": 5,
        "profiles": {
            "capacity": {
                "shape": "smoke",
                "users": users,
                "spawn_rate": users,
                "pace": FLAT_OUT,
                "duration": duration,
                "user_mix": {"browse": 1},
                "thresholds": {},
            }
        },
    }
    path.write_text(yaml.safe_dump(raw))
    return load_config(path, environ={})


def locust_processes() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "locust" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:  # exited (or a zombie) since it was listed
            continue
    return found


def measure(config: Config, stack: LocalStack, workers: int) -> None:
    plan = plan_for(config, "capacity", region=REGION)
    demo = psutil.Process(next(s.pid for s in stack.status() if s.name == f"demo-{REGION}"))
    outcome: list[LoadOutcome] = []
    runner = threading.Thread(
        target=lambda: outcome.append(
            run_plan(plan, new_run_dir(config.runs_dir), Distribution(local=workers))
        )
    )
    demo_before = cpu_seconds([demo])
    began = time.monotonic()
    runner.start()
    seen: dict[int, psutil.Process] = {}
    last_cpu: dict[int, float] = {}
    while runner.is_alive() and time.monotonic() - began < plan.duration + 120:
        for process in locust_processes():
            seen.setdefault(process.pid, process)
            last_cpu[process.pid] = cpu_seconds([process])
        runner.join(timeout=0.5)
    runner.join(timeout=30)
    wall = time.monotonic() - began
    demo_cpu = cpu_seconds([demo]) - demo_before
    entry = Entry(ts=time.time(), kind="load", **outcome[0].entry)
    window = entry.field("end") - entry.field("start")
    with PrometheusClient(config.backends.prometheus) as prometheus:
        settings = LoadExpectation(
            name="capacity", settle=2 * config.stack.scrape_interval, tolerance=0.01
        )
        accuracy = load_accuracy(prometheus, entry, settings)
    cores = psutil.cpu_count()
    locust_cpu = sum(last_cpu.values())
    mode = "1 process" if not workers else f"master + {workers} workers"
    print(f"\n== FastHttpUser, {plan.users} users flat out, {mode}, region {REGION}")
    print(f"requests          {entry.field('total_requests')} in {window:.1f}s window")
    print(f"requests/second   {entry.field('total_requests') / window:.0f}")
    print(
        f"p95               {entry.field('p95_ms')} ms, error rate {entry.field('error_rate'):.2%}"
    )
    print(
        f"Locust CPU        {locust_cpu:.1f} s over {wall:.1f} s wall = "
        f"{locust_cpu / wall:.0%} of one core, {locust_cpu / (wall * cores):.0%} of {cores} cores"
    )
    print(f"demo region CPU   {demo_cpu:.1f} s = {demo_cpu / wall:.0%} of one core")
    load_1m = psutil.getloadavg()[0]
    print(f"machine           load average {load_1m:.1f} on {cores} cores (shared with others)")
    verdict = "pass" if accuracy.passed else "FAIL"
    print(f"accuracy          worst gap {accuracy.worst_gap:.3%} ({verdict})")
    for row in accuracy.rows:
        print(f"  {row.route:34} {row.status_class}  sent {row.sent:6}  counted {row.counted:8.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per run (max 120)")
    parser.add_argument("--users", type=int, default=20, help="concurrent users (max 200)")
    args = parser.parse_args()
    duration, users = min(args.duration, 120.0), min(args.users, 200)
    with tempfile.TemporaryDirectory(prefix="load-capacity-") as directory:
        config = bench_config(Path(directory), duration, users)
        stack = LocalStack(config)
        stack.up()
        try:
            for workers in (0, 2):
                measure(config, stack, workers)
        finally:
            stack.down()


if __name__ == "__main__":
    main()
