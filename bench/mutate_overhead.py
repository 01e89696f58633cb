"""What shadow pipelines cost `signalcheck mutate`: wall time, memory, detection drift.

For each shadow count of a bounded sweep (default 0, 4, 8, 16, 24), runs the mutate exercise
(`signalcheck.mutate.run.Mutation`: a probe pass, the error-injection experiment with
background traffic, a probe pass) with that many shadow Prometheus + Alertmanager pairs up,
then judges it (`Exercised.coverage`). The shadows are numbered copies of the exercised mutants
in which HighErrorRate still fires and notifies (its grouping mutant, the pager route's,
scrape jobs other than demo, metric renames of other rules), so every shadow gives a
detection time. Prints per count, all measured in this one run:
- wall time of shadow start-up, of the exercise, of judging, and in all; the ratio of the
  whole (start-up + exercise + judging) to the 0-shadow run's (goal of issue 17: <= 1.3),
- RSS of each shadow pair (Prometheus + Alertmanager) at the end of the exercise,
- detection time of HighErrorRate: the capture receiver's receive time of its first firing
  notification for the faulted region minus the fault's start (ledger), on the real pipeline
  and on each shadow; drift = detection minus the 0-shadow real pipeline's,
and the largest count whose worst drift (real pipeline or any shadow) stays within 1 s.

Starts its own local stack on free loopback ports (the shipped config) and stops it at the
end; every shadow is stopped by PID when its exercise ends.
Run: .venv/bin/python bench/mutate_overhead.py [--counts 0 4 8 16 24]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from itertools import cycle
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from signalcheck.actors import mutate_actors  # noqa: E402
from signalcheck.config import Config, load_config  # noqa: E402
from signalcheck.errors import BaselineUnhealthy  # noqa: E402
from signalcheck.ledger import Entry, new_run_dir  # noqa: E402
from signalcheck.mutate.coverage import Exercise, Injected  # noqa: E402
from signalcheck.mutate.derive import Mutant, derive, load_sources  # noqa: E402
from signalcheck.mutate.experiments import experiment_paths, faults_of  # noqa: E402
from signalcheck.mutate.run import Mutation  # noqa: E402
from signalcheck.mutate.shadows import Shadow  # noqa: E402
from signalcheck.stack import LocalStack  # noqa: E402
from tests.support import write_shipped_config  # noqa: E402

EXPERIMENT = "error-injection"
ALERT = "HighErrorRate"
SILENCING_KINDS = frozenset({"threshold", "for", "metric", "grouping"})
"""Rule mutants that stop ALERT firing for its region (no detection time to measure)."""
DRIFT_LIMIT = 1.0
MiB = 1024 * 1024


@dataclass
class Round:
    count: int
    startup: float
    exercise: float
    judging: float
    verdict: str
    real: float | None
    shadows: list[float | None]
    rss_mib: list[float]
    load: float
    """The machine's 5-minute load average when the exercise ended (other work shows here)."""

    @property
    def total(self) -> float:
        return self.startup + self.exercise + self.judging


def firing_mutants(config: Config, count: int, faults: Injected) -> list[Mutant]:
    """`count` shadows' mutants: numbered copies of the mutants the exercise reaches (so each
    gets a shadow) in which ALERT still fires for its region and the demo is still scraped."""
    exercise = Exercise.of(config.expectations, [EXPERIMENT], faults)
    pool = [
        m
        for m in derive(load_sources(config))
        if not m.error
        and exercise.missing(m) is None
        and m.name != "scrape.demo"
        and not (ALERT in m.alerts and m.kind in SILENCING_KINDS)
    ]
    return [replace(m, name=f"{m.name}-{n}") for n, m in zip(range(count), cycle(pool))]


def fault_start(entries: list[Entry]) -> tuple[float, str]:
    """Start and region of the exercise's error injection (its ledger entry)."""
    faults = [e for e in entries if e.kind == "fault" and e.field("action") == "errors"]
    if not faults:
        raise RuntimeError("the exercise's ledger has no errors fault")
    return float(faults[0].field("start")), str(faults[0].field("region"))


def detection(capture_url: str, source: str, start: float, region: str) -> float | None:
    """Seconds from `start` to the first firing ALERT notification of `region` from `source`."""
    response = httpx.get(
        f"{capture_url}/api/notifications",
        params={"alertname": ALERT, "status": "firing", "since": start,
                "label": f"region={region}", "source": source},
        timeout=10,
    )  # fmt: skip
    response.raise_for_status()
    received = [n["received_at"] for n in response.json()["notifications"]]
    return min(received) - start if received else None


def pair_rss_mib(shadow: Shadow) -> float:
    """RSS of the shadow's Prometheus and Alertmanager (both must still run)."""
    return sum(psutil.Process(p.pid).memory_info().rss for p in shadow.processes()) / MiB


def one_round(config: Config, count: int) -> Round:
    marks: dict[str, float] = {}

    def say(line: str) -> None:
        marks.setdefault(line.split(" ", 1)[0], time.monotonic())

    experiments = experiment_paths(config, [EXPERIMENT])
    faults = faults_of(experiments)
    mutation = Mutation(
        config, firing_mutants(config, count, faults), experiments, faults, mutate_actors(),
        new_run_dir(config.runs_dir), max_shadows=max(count, 1), say=say,
    )  # fmt: skip
    began = time.monotonic()
    with mutation.exercised() as done:
        exercised = time.monotonic()
        load = os.getloadavg()[1]
        rss = [pair_rss_mib(s) for s in done.shadows]
        start, region = fault_start(done.entries)
        capture = str(config.backends.capture.url).rstrip("/") if config.backends.capture else ""
        real = detection(capture, "", start, region)
        shadows = [detection(capture, s.mutant.name, start, region) for s in done.shadows]
        judged = time.monotonic()
        try:
            report = done.coverage()
            verdict = report.summary() if report.rows else "real pipeline green"
        except BaselineUnhealthy as exc:
            verdict = f"baseline unhealthy: {exc}"[:300]
        judging = time.monotonic() - judged
    startup = marks["probe"] - marks.get("starting", began)
    return Round(
        count, startup, exercised - marks["probe"], judging, verdict, real, shadows, rss, load
    )


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def report(rounds: list[Round]) -> None:
    base = rounds[0]
    print(f"\nmutate exercise ({EXPERIMENT}) with N shadow pairs; detection = first firing "
          f"{ALERT} notification - fault start\n")  # fmt: skip
    print("| shadows | start-up s | exercise s | judging s | total s | x 0-shadow total "
          "| RSS/pair MiB (mean, max) | detect real s | detect shadows s (median, max) "
          "| worst drift s | missing | load avg 5m |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: |")
    holds = None
    for r in rounds:
        found = [s for s in r.shadows if s is not None]
        drifts = [d - base.real for d in [r.real, *found] if d is not None and base.real]
        worst = max(drifts, default=None)
        if worst is not None and worst <= DRIFT_LIMIT and len(found) == len(r.shadows):
            holds = r.count
        rss = f"{statistics.mean(r.rss_mib):.0f}, {max(r.rss_mib):.0f}" if r.rss_mib else "-"
        shadow = f"{statistics.median(found):.1f}, {max(found):.1f}" if found else "-"
        print(f"| {r.count} | {r.startup:.1f} | {r.exercise:.1f} | {r.judging:.1f} "
              f"| {r.total:.1f} | {r.total / base.total:.2f} | {rss} | {seconds(r.real)} "
              f"| {shadow} | {seconds(worst)} | {len(r.shadows) - len(found)} "
              f"| {r.load:.1f} |")  # fmt: skip
    print()
    for r in rounds:
        print(f"{r.count} shadows: {r.verdict}")
    print(f"\nlargest count with every detection within {DRIFT_LIMIT:g} s of the 0-shadow "
          f"real pipeline's: {holds if holds is not None else 'none'}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[0, 4, 8, 16, 24])
    args = parser.parse_args()
    counts = sorted(set(args.counts))
    if counts[0] != 0 or counts[-1] > 48:
        parser.error("--counts must start at 0 (the reference) and stay at most 48")
    with tempfile.TemporaryDirectory(prefix="mutate-bench-") as tmp:
        config = load_config(write_shipped_config(Path(tmp)), environ={})
        stack = LocalStack(config)
        stack.up()
        rounds = []
        try:
            for count in counts:
                print(f"round: {count} shadows", file=sys.stderr, flush=True)
                try:
                    rounds.append(one_round(config, count))
                except BaselineUnhealthy as exc:
                    print(f"  {count} shadows: exercise failed: {exc}", flush=True)
                    continue
                print(f"  {rounds[-1]}", file=sys.stderr, flush=True)
        finally:
            stack.down()
    if not rounds or rounds[0].count != 0:
        print("no 0-shadow reference round: nothing to compare", file=sys.stderr)
        return 1
    report(rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
