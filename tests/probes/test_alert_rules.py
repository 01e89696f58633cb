"""The promtool tests of the probe alerts (compose/prometheus/tests/probes_test.yml) have
teeth: a copy of rules/probes.yml with one deliberate bug fails them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from signalcheck.stack.binaries import find_binary
from tests.support import REPO

PROMETHEUS_DIR = REPO / "compose" / "prometheus"
RULES = "probes.yml"
TESTS = "probes_test.yml"

MUTATIONS = {
    "failing check drops the check label": ("min by (region, check)", "min by (region)"),
    "failing check waits 5m": (
        "== 0\n        for: 30s",
        "== 0\n        for: 5m",
    ),
    "latency threshold 3s": (") > 2\n", ") > 3\n"),
    "latency reads the pushed histogram": ('{job!="synthetic-probes", ', "{"),
    "latency counts browser checks": (
        'synthetic_check_duration_seconds{job="synthetic-probes", check_type!="browser"}',
        'synthetic_check_duration_seconds{job="synthetic-probes"}',
    ),
    "latency p50": ("0.95,\n", "0.5,\n"),
    "stale after 20m": ("> 600", "> 1200"),
    "stale forgets a dead daemon": (
        "last_over_time(synthetic_check_last_run_timestamp_seconds[1h])",
        "synthetic_check_last_run_timestamp_seconds",
    ),
}


def promtool_test(directory: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(find_binary("promtool")), "test", "rules", str(directory / "tests" / TESTS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def copy_rules(tmp_path: Path) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests").mkdir()
    shutil.copy(PROMETHEUS_DIR / "rules" / RULES, tmp_path / "rules" / RULES)
    shutil.copy(PROMETHEUS_DIR / "tests" / TESTS, tmp_path / "tests" / TESTS)
    return tmp_path / "rules" / RULES


def test_the_shipped_rules_pass(tmp_path) -> None:
    copy_rules(tmp_path)
    done = promtool_test(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_a_broken_rule_fails_the_tests(tmp_path, mutation) -> None:
    old, new = MUTATIONS[mutation]
    rules = copy_rules(tmp_path)
    text = rules.read_text()
    assert old in text, f"mutation {mutation!r}: {old!r} no longer appears in {RULES}"
    rules.write_text(text.replace(old, new))
    done = promtool_test(tmp_path)
    assert done.returncode != 0, f"the rule tests did not notice: {mutation}\n{done.stdout}"
    assert "FAILED" in done.stdout + done.stderr
