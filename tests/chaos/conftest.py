"""Chaos tests: experiments run by the stock `chaos run` in a subprocess, with the documented
environment, against one local stack shared (in sequence) by the whole package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from signalcheck.config import Config, load_config
from signalcheck.evidence import Context
from signalcheck.evidence.alerts import check_alert
from signalcheck.evidence.backends import BackendSet
from signalcheck.evidence.outcome import Outcome
from signalcheck.expectations import AlertExpectation
from signalcheck.ledger import LEDGER_FILE, Entry, read_entries
from signalcheck.probes.traffic import BackgroundTraffic
from tests.stack.conftest import stack  # noqa: F401 - the package's stack, on stack_config
from tests.support import REPO, write_stack_config

EXPERIMENTS = REPO / "chaos" / "experiments"
CHAOS = Path(sys.executable).parent / "chaos"
REGION = "eu-west-1"
"""The region the shipped experiments fault by default."""


@pytest.fixture(scope="package")
def stack_config(tmp_path_factory) -> Config:
    """The stack's config with two synthetic checks: readiness, for the steady state, and the
    shipped API workflow, whose four requests a latency fault makes slow (SyntheticHighLatency)."""
    path = write_stack_config(tmp_path_factory.mktemp("chaos"))
    raw = yaml.safe_load(path.read_text())
    shipped = yaml.safe_load((REPO / "signalcheck.yaml").read_text())["checks"]
    workflow = next(c for c in shipped if c["name"] == "assignment-lifecycle")
    raw["checks"] = [
        {"name": "ready", "type": "http", "path": "/health/ready", "timeout": 5},
        workflow,
    ]
    path.write_text(yaml.safe_dump(raw))
    return load_config(path, environ={})


@pytest.fixture(scope="package")
def traffic(stack, stack_config) -> Iterator[BackgroundTraffic]:  # noqa: F811
    """Steady API traffic to every region for the whole package: rates need requests."""
    with BackgroundTraffic(stack_config, per_second=5) as running:
        yield running


def chaos_env(config: Config, run_dir: Path, **extra: str) -> dict[str, str]:
    """The environment the experiments document."""
    return {
        **os.environ,
        "SIGNALCHECK_CONFIG": str(config.source),
        "SIGNALCHECK_RUN_DIR": str(run_dir),
        **extra,
    }


def chaos_argv(experiment: Path, run_dir: Path) -> list[str]:
    return [
        str(CHAOS), "--no-version-check", "--log-file", str(run_dir / "chaostoolkit.log"),
        "run", "--journal-path", str(run_dir / "journal.json"), str(experiment),
    ]  # fmt: skip


def run_chaos(
    experiment: Path, config: Config, run_dir: Path, timeout: float = 240, **env: str
) -> subprocess.CompletedProcess:
    """`chaos run experiment` to the end, its output captured."""
    run_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        chaos_argv(experiment, run_dir),
        env=chaos_env(config, run_dir, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def journal(run_dir: Path) -> dict:
    return json.loads((run_dir / "journal.json").read_text())


def ledger(run_dir: Path) -> list[Entry]:
    path = run_dir / LEDGER_FILE
    return list(read_entries(path)) if path.exists() else []


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def shipped(name: str) -> AlertExpectation:
    """An alert expectation of the shipped signalcheck.yaml, by name."""
    config = load_config(REPO / "signalcheck.yaml", environ={})
    (found,) = [a for a in config.expectations.alerts if a.name == name]
    return found


def judge(config: Config, run_dir: Path, expectation: AlertExpectation) -> Outcome:
    """The alert expectation judged against the run's ledger on the stack's backends."""
    backends = BackendSet(config.backends)
    try:
        ctx = Context(config=config, entries=ledger(run_dir), backends=backends)
        return check_alert(expectation, ctx)
    finally:
        backends.close()
