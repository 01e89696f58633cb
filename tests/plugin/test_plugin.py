"""`pytest --signalcheck-config FILE` in a folder with no test file collects one test per
expectation and judges them; without the option the plugin changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import yaml

from tests.plugin.conftest import EXPECTATIONS, ONLY_SIGNALCHECK
from tests.validation.documented_api import CannedServer
from tests.validation.support import _junit_results


def _pytest(
    cwd: Path, *args: str, env: dict[str, str] = ONLY_SIGNALCHECK
) -> subprocess.CompletedProcess[str]:
    """`python -m pytest` in `cwd`; with `env` at its default, signalcheck is its only
    plugin, loaded through its entry point."""
    plugins = ("-p", "signalcheck") if env == ONLY_SIGNALCHECK else ()
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *plugins, *args],
        cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_the_option_alone_collects_and_judges_every_expectation(
    workdir, config_file, ledger, prometheus: CannedServer
):
    junit = workdir / "junit.xml"
    done = _pytest(
        workdir,
        f"--signalcheck-config={config_file}",
        f"--ledger={ledger}",
        f"--junitxml={junit}",
        "-o",
        "junit_family=xunit1",
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    results = _junit_results(junit)
    assert set(results) == {f"metrics:{e['name']}" for e in EXPECTATIONS["metrics"]}
    assert results["metrics:prometheus-up"].outcome == "passed", output[-3000:]
    assert results["metrics:node-up"].outcome == "failed"
    assert "value 0 of" in results["metrics:node-up"].message
    assert "waited_s" in results["metrics:prometheus-up"].properties
    assert f"signalcheck config: {config_file}" in done.stdout
    asked = {r.params["query"][0] for r in prometheus.requests if r.path == "/api/v1/query"}
    assert {e["query"] for e in EXPECTATIONS["metrics"]} <= asked  # and their raw samples


def test_without_the_option_the_plugin_is_inert(workdir):
    """Loaded by itself (autoload, as in every pytest session of the venv), it adds nothing."""
    (workdir / "test_own.py").write_text("def test_own():\n    pass\n")
    done = _pytest(workdir, env={})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    plugins = next(line for line in done.stdout.splitlines() if line.startswith("plugins:"))
    assert "signalcheck-" in plugins
    assert "1 passed" in done.stdout
    assert "signalcheck config" not in done.stdout
    assert "test_signal" not in done.stdout


def test_a_ledger_without_a_config_is_a_usage_error_naming_the_option(workdir, ledger):
    """`--ledger` alone would otherwise be silently ignored."""
    (workdir / "test_own.py").write_text("def test_own():\n    pass\n")
    done = _pytest(workdir, f"--ledger={ledger}")
    assert done.returncode == 4, done.stdout[-3000:] + done.stderr[-3000:]
    assert "signalcheck: --ledger needs --signalcheck-config FILE" in done.stderr


def test_an_expectation_that_cannot_be_judged_is_an_error_not_a_failure(
    workdir, tmp_path, ledger, prometheus: CannedServer
):
    """A backend that is not there leaves an expectation unjudged: pytest reports an error
    (`<error>` in the JUnit XML, 'error' in the summary), apart from the real failure; the
    run still exits 1. It was a failure like any other."""
    config_file = tmp_path / "unjudged.yaml"
    config = {
        "regions": {"us-east-1": {"base_url": "http://127.0.0.1:1"}},
        "backends": {
            "prometheus": {"url": prometheus.url, "timeout": 2},
            "alertmanager": {"url": "http://127.0.0.1:1", "timeout": 2},
        },
        "expectations": {
            **EXPECTATIONS,
            "heartbeats": [{"name": "watchdog", "alert": "Watchdog", "receiver": "default"}],
        },
    }
    config_file.write_text(yaml.safe_dump(config))
    junit = workdir / "junit.xml"
    done = _pytest(
        workdir, f"--signalcheck-config={config_file}", f"--ledger={ledger}",
        f"--junitxml={junit}", "-o", "junit_family=xunit1",
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert "1 failed, 1 passed, 1 error" in done.stdout, output[-3000:]
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    unjudged = cases["test_signal[heartbeats:watchdog]"]
    assert unjudged.find("failure") is None and unjudged.find("error") is not None
    message = unjudged.find("error").text or ""
    assert "Alertmanager's timers (group_wait, group_interval, repeat_interval) are unknown" in (
        message
    )
    assert "could not be judged (an error, not a failure)" in message
    failed = cases["test_signal[metrics:node-up]"]
    assert failed.find("failure") is not None and failed.find("error") is None
