"""Helpers of the validation tests: probe passes that write ledger entries, running
`pytest validation/` as a user would, and the rendered stack configs the breaks edit.

Until `signalcheck probe` lands, `probe_pass` stands in for it: it sends real requests with a
`traceparent` to the demo regions and writes kind="probe" entries exactly as the ledger
contract describes them.
"""

from __future__ import annotations

import copy
import os
import secrets
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from signalcheck.config import Config
from signalcheck.ledger import Ledger, new_run_dir
from tests.support import REPO

CHECK = "create-assignment"
SUITE_TIMEOUT = 240.0


def probe_pass(
    config: Config, ledger: Ledger, base_urls: dict[str, str] | None = None
) -> list[dict]:
    """One create-assignment workflow per region (token, then create), one trace id each."""
    entries = []
    with httpx.Client(timeout=5.0) as client:
        for region, settings in config.regions.items():
            base = (base_urls or {}).get(region) or str(settings.base_url).rstrip("/")
            trace_id = secrets.token_hex(16)
            start = time.time()
            outcome, error_class = "success", None
            try:
                token = client.post(
                    f"{base}/auth/token",
                    json={"client_id": "signalcheck-probe", "client_secret": "demo-secret"},
                    headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
                )
                token.raise_for_status()
                created = client.post(
                    f"{base}/v1/assignments",
                    json={"title": "probe"},
                    headers={
                        "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
                        "Authorization": f"Bearer {token.json()['access_token']}",
                    },
                )
                created.raise_for_status()
            except httpx.HTTPStatusError:
                outcome, error_class = "failure", "http_status"
            entry = ledger.append(
                "probe",
                check=CHECK,
                check_type="workflow",
                region=region,
                endpoint=f"{base}/v1/assignments",
                trace_id=trace_id,
                start=start,
                end=time.time(),
                outcome=outcome,
                error_class=error_class,
                attempts=1,
            )
            entries.append(entry)
    return entries


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
        sys.executable, "-m", "pytest", "validation/", "-p", "no:cacheprovider", "-q",
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


def without_probe_actor(expectations: dict) -> dict:
    """The expectations with the probe actor's own signals not judged: these tests and the
    benchmark stand in for `signalcheck probe` without pushing its synthetic_* results (and
    on a machine shared with other stacks, stray pushes have been seen to fire its alerts)."""
    expectations = copy.deepcopy(expectations)
    for item in expectations.get("rules", []):
        item["ignore"] = [*item.get("ignore", []), "synthetic_*"]
    for item in expectations.get("quiet", []):
        item["allow"] = [*item.get("allow", []), "Synthetic*"]
    return expectations


def write_suite_config(stack_config_path: Path, budget: float = 6.0) -> Path:
    """The stack's config plus the repo's expectations (`without_probe_actor`), rule and
    dashboard globs made absolute, and the arrival budgets of metrics, traces, logs and
    rules cut to `budget` (so a deliberately broken signal fails fast)."""
    config = yaml.safe_load(stack_config_path.read_text())
    expectations = yaml.safe_load((REPO / "signalcheck.yaml").read_text())["expectations"]
    for kind in ("metrics", "traces", "logs", "rules"):
        for item in expectations.get(kind, []):
            item["budget"] = min(item.get("budget", budget), budget)
    for item in expectations.get("rules", []):
        for key in ("rule_files", "dashboards"):
            item[key] = [str(REPO / pattern) for pattern in item.get(key, [])]
    config["expectations"] = without_probe_actor(expectations)
    path = stack_config_path.with_name("suite.yaml")
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
