"""`signalcheck validate`: the shipped suite with JUnit XML for CI, exit codes as documented."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from signalcheck.ledger import ACTOR_KINDS
from tests.plugin.conftest import EXPECTATIONS, ONLY_SIGNALCHECK
from tests.validation.support import _junit_results


def _validate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command in `cwd`; its pytest loads signalcheck by name, no other plugin."""
    return subprocess.run(
        [sys.executable, "-m", "signalcheck", "validate", *args],
        cwd=cwd, env={**os.environ, **ONLY_SIGNALCHECK, "NO_COLOR": "1"}, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip


def test_an_empty_ledger_is_one_line_and_exit_2(workdir, config_file, ledger):
    ledger.write_text("")
    done = _validate(workdir, "-c", str(config_file), "--ledger", str(ledger))
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stderr.splitlines() == [
        f"signalcheck: {ledger}: no actor touched the system in this run (no "
        f"{', '.join(sorted(ACTOR_KINDS))} entry): run the probes (or load, or a chaos "
        "experiment that is not --dry) first"
    ]
    assert done.stdout == ""


def test_a_judged_run_writes_junit_xml_and_exits_with_the_verdict(workdir, config_file, ledger):
    """The newest ledger under runs_dir, judged; the JUnit XML next to it by default, with
    the time waited as a property (xunit1); exit 1 since one expectation failed."""
    done = _validate(workdir, "-c", str(config_file))
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    junit = ledger.parent / "validation-junit.xml"
    assert f"JUnit XML: {junit}" in done.stdout
    results = _junit_results(junit)
    assert {name: r.outcome for name, r in results.items()} == {
        "metrics:prometheus-up": "passed",
        "metrics:node-up": "failed",
    }
    assert all("waited_s" in r.properties for r in results.values())


def test_extra_pytest_arguments_pass_through_and_a_given_junit_path_is_used(
    workdir, config_file, ledger
):
    junit = workdir / "ci" / "validation.xml"
    done = _validate(
        workdir, "-c", str(config_file), "--ledger", str(ledger), "--junit-xml", str(junit),
        "--", "-k", "prometheus",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert {name: r.outcome for name, r in _junit_results(junit).items()} == {
        "metrics:prometheus-up": "passed"
    }
    assert len(EXPECTATIONS["metrics"]) == 2  # the other one was deselected, not absent


def test_a_bad_config_is_one_line_and_exit_2(workdir):
    missing = workdir / "nope.yaml"
    done = _validate(workdir, "-c", str(missing))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"signalcheck: {missing}: cannot read config file (No such file or directory)"
    ]
