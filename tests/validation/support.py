"""Helpers of the validation tests: real probe passes that write the run ledger, running
`pytest validation/` as a user would, and the rendered stack configs the breaks edit.

`probe_pass` is the real `signalcheck probe --once` (probes/once.py `run_once`): every check of the
shipped config in every region, its results pushed to the stack's Pushgateway and its `probe`
entries appended to the test's ledger, exactly as a user's probe pass leaves them.
"""

from __future__ import annotations

import os
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from signalcheck.config import Config, Region
from signalcheck.ledger import Ledger, new_run_dir
from signalcheck.probes.once import EXIT_PASSED, run_once
from tests.support import REPO, VALIDATION_SUITE

SUITE_TIMEOUT = 240.0
QUIET_BUDGET = 2.0
"""Seconds the quiet check waits after the run (the shipped 5 s, cut for many runs)."""
PROBE_CONCURRENCY = 8


def probe_pass(
    config: Config, ledger: Ledger, base_urls: dict[str, str] | None = None
) -> dict[str, Any]:
    """One real probe pass (`signalcheck probe --once --ledger`) of `config`'s checks in every
    region, pushed to the Pushgateway; `base_urls` points regions elsewhere (a broken demo).

    Every check must pass: the breaks these tests make are telemetry defects, invisible to
    the probes themselves, so a failing probe means the stack itself is unhealthy.
    """
    assert config.checks, f"{config.source}: no checks to probe with"
    if base_urls:
        regions = {
            name: Region(base_url=base_urls[name]) if name in base_urls else region
            for name, region in config.regions.items()
        }
        config = config.model_copy(update={"regions": regions})
    summary, code = run_once(
        config, concurrency=PROBE_CONCURRENCY, ledger_path=ledger.path, push=True
    )
    failed = [
        f"{r['check']} ({r['region']}): {r['error_class']}: {r['error']}"
        for r in summary["results"]
        if r["outcome"] != "success"
    ]
    assert code == EXIT_PASSED, f"probe pass exited {code}: {failed} push={summary['push']}"
    return summary


def new_ledger(config: Config) -> Ledger:
    from signalcheck.ledger import LEDGER_FILE

    return Ledger(new_run_dir(config.runs_dir) / LEDGER_FILE)


@dataclass
class Result:
    """One test of a `pytest validation/` run, read back from its JUnit XML."""

    outcome: str  # passed | failed | skipped
    message: str = ""
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class SuiteRun:
    returncode: int
    seconds: float
    results: dict[str, Result]
    output: str

    def failed(self) -> set[str]:
        return {name for name, r in self.results.items() if r.outcome == "failed"}


def run_suite(
    config_path: Path,
    ledger: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    junit: Path | None = None,
) -> SuiteRun:
    """`pytest validation/` in a subprocess, as CI runs it; results keyed by check id."""
    junit = junit or ledger.parent / f"junit-{time.monotonic_ns()}.xml"
    argv = [
        *VALIDATION_SUITE,
        f"--signalcheck-config={config_path}", f"--ledger={ledger}", f"--junitxml={junit}",
        *extra,
    ]  # fmt: skip
    began = time.monotonic()
    proc = subprocess.run(
        argv,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT,
    )
    seconds = time.monotonic() - began
    return SuiteRun(proc.returncode, seconds, _junit_results(junit), proc.stdout + proc.stderr)


def healthy_run(config: Config, suite_config: Path) -> SuiteRun:
    """A real probe pass into a new ledger, then `pytest validation/` judging it."""
    ledger = new_ledger(config)
    probe_pass(config, ledger)
    return run_suite(suite_config, ledger.path)


def _junit_results(path: Path) -> dict[str, Result]:
    results = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name", "")
        check = name[name.index("[") + 1 : -1] if "[" in name else name
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = "skipped" if tag == "skipped" else "failed"
                message = (node.get("message") or "") + "\n" + (node.text or "")
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        results[check] = Result(outcome, message, props)
    return results


def write_suite_config(stack_config_path: Path, budget: float = 6.0) -> Path:
    """The stack's config plus the repo's checks and expectations as shipped, rule and
    dashboard globs made absolute, and the arrival budgets of metrics, traces, logs and
    rules (and the other evidence kinds) cut to `budget` (so a deliberately broken signal fails
    fast), and the quiet check's wait cut to QUIET_BUDGET."""
    config = yaml.safe_load(stack_config_path.read_text())
    shipped = yaml.safe_load((REPO / "signalcheck.yaml").read_text())
    expectations = shipped["expectations"]
    # probes and rum keep their shipped budgets: results are pushed when the whole pass ends,
    # and the RUM SDK flushes on its own timer, both seconds after a quick check's end.
    for kind in ("metrics", "targets", "cardinality", "traces", "logs", "rules"):
        for item in expectations.get(kind, []):
            item["budget"] = min(item.get("budget", budget), budget)
    for item in expectations.get("quiet", []):
        item["budget"] = min(item.get("budget", QUIET_BUDGET), QUIET_BUDGET)
    for item in expectations.get("rules", []):
        for key in ("rule_files", "dashboards"):
            item[key] = [str(REPO / pattern) for pattern in item.get(key, [])]
    config["checks"] = shipped["checks"]
    config["expectations"] = expectations
    path = stack_config_path.with_name("suite.yaml")
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
