"""Time-to-detect and time-to-resolve of each chaos experiment's alert, beside the floor the
configuration implies.

    python bench/chaos_detection.py [--config FILE]      # run every shipped experiment
    python bench/chaos_detection.py --from RUN_DIR ...   # summarise ledgers already written

Running the experiments needs the configured local stack (`signalcheck up`); steady traffic
goes to every region meanwhile. Error injection runs last: the burn-rate alerts it sets off
outlast it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from signalcheck.chaos.runner import run_experiment
from signalcheck.config import load_config
from signalcheck.ledger import LEDGER_FILE, Entry, read_entries
from signalcheck.probes.traffic import BackgroundTraffic

EXPERIMENTS = Path(__file__).resolve().parents[1] / "chaos" / "experiments"
ORDER = ["region-outage", "dependency-outage", "latency-injection", "error-injection", "inhibition"]
TRAFFIC_PER_SECOND = 5.0


def run_all(config_path: Path | None) -> list[Path]:
    """Run the shipped experiments in order; their run directories."""
    config = load_config(config_path)
    run_dirs = []
    with BackgroundTraffic(config, per_second=TRAFFIC_PER_SECOND, max_seconds=1200):
        for name in ORDER:
            outcome = run_experiment(config, EXPERIMENTS / f"{name}.json")
            verdict = "ok" if not outcome.problems else "; ".join(outcome.problems)
            print(f"{name}: {verdict} ({outcome.run_dir})", file=sys.stderr)
            run_dirs.append(outcome.run_dir)
    return run_dirs


def table(run_dirs: list[Path]) -> str:
    """A Markdown table: one row per detection in the runs' ledgers."""
    rows = [
        "| experiment | alert -> receiver | detect s | detect floor-bound s | budget s "
        "| resolve s | resolve bound s | resolve budget s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run_dir in run_dirs:
        entries = list(read_entries(run_dir / LEDGER_FILE))
        recoveries = {(e.field("alert"), e.field("fault_start")): e for e in entries
                      if e.kind == "recovery"}  # fmt: skip
        for detection in (e for e in entries if e.kind == "detection"):
            recovery = recoveries.get((detection.field("alert"), detection.field("fault_start")))
            rows.append(_row(detection, recovery))
    return "\n".join(rows)


def _row(detection: Entry, recovery: Entry | None) -> str:
    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    cells = [
        detection.field("experiment"),
        f"{detection.field('alert')} ({detection.field('region')}) -> "
        f"{detection.field('receiver')}",
        seconds(detection.field("time_to_detect")),
        f"{detection.field('floor_seconds'):g}-{detection.field('bound_seconds'):g}",
        f"{detection.field('budget'):g}",
        seconds(recovery.field("time_to_resolve") if recovery else None),
        f"{recovery.field('bound_seconds'):g}" if recovery else "-",
        f"{recovery.field('budget'):g}" if recovery else "-",
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="signalcheck config (default as the CLI)")
    parser.add_argument("--from", dest="run_dirs", type=Path, nargs="+", help="run directories")
    args = parser.parse_args()
    print(table(args.run_dirs or run_all(args.config)))


if __name__ == "__main__":
    main()
