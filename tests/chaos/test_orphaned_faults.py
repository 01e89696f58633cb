"""A fault outlives no run: SIGKILL `signalcheck chaos run` and its `chaos` child mid-method,
and the next command restores the region and closes the fault in the dead run's ledger.

Each case faults a region of its own (the experiment's `region` from SIGNALCHECK_CHAOS_REGION),
so it need not wait for the HighLatency an earlier case caused elsewhere to resolve: the
experiment's steady state asks for a quiet region, not a quiet stack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from signalcheck.chaos.openfaults import OpenFault, OpenFaults
from signalcheck.waiting import wait_for
from tests.chaos.conftest import EXPERIMENTS, ledger, tail
from tests.chaos.test_interrupt import admin_faults
from tests.support import REPO

pytestmark = [pytest.mark.stack, pytest.mark.slow]

EXPERIMENT = EXPERIMENTS / "latency-injection.json"
INJECTED_MS = 800
"""The latency the experiment injects."""


def signalcheck(*args: str, config) -> list[str]:
    return [sys.executable, "-m", "signalcheck", *args, "--config", str(config.source)]


@pytest.fixture
def restored(stack, stack_config) -> Iterator[None]:
    """After the test: no fault open, even when the test failed with the fault in place."""
    yield
    open_faults = OpenFaults(stack_config.stack.data_dir)
    if open_faults.all():
        subprocess.run(signalcheck("chaos", "restore", config=stack_config), timeout=60, cwd=REPO)
    assert not open_faults.all()


def kill_mid_method(stack, config, region: str, tmp_path: Path) -> OpenFault:
    """Start `signalcheck chaos run` of the latency experiment in `region`; once the latency is
    in force, SIGKILL the CLI and then the `chaos` process that injected it. The fault as
    recorded."""
    with (tmp_path / "cli.log").open("w") as out:
        cli = subprocess.Popen(
            signalcheck("chaos", "run", str(EXPERIMENT), config=config),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env={**os.environ, "SIGNALCHECK_CHAOS_REGION": region},
        )
    try:
        (fault,), _ = wait_for(
            lambda: [
                f
                for f in OpenFaults(config.stack.data_dir).all()
                if (f.action, f.region) == ("latency", region)
                and admin_faults(stack, config, region)["latency_ms"] == INJECTED_MS
            ],
            timeout=120,
            what=f"the experiment's latency in force in {region} and in the open faults",
        )
    finally:
        cli.kill()
        cli.wait(timeout=10)
    assert fault.pid != cli.pid, "the fault must be recorded by the chaos process"
    os.kill(fault.pid, signal.SIGKILL)
    psutil.wait_procs([psutil.Process(fault.pid)], timeout=10)
    return fault


@pytest.mark.parametrize(
    ("next_command", "region"),
    [
        (("chaos", "restore"), "us-east-1"),
        (("up",), "eu-west-1"),
        (("chaos", "run", "--dry", str(EXPERIMENT)), "ap-south-1"),
    ],
    ids=["chaos-restore", "up", "chaos-run-dry"],
)
def test_the_next_command_restores_a_fault_whose_run_was_killed(
    stack, stack_config, tmp_path, restored, next_command, region
) -> None:
    fault = kill_mid_method(stack, stack_config, region, tmp_path)
    injected = admin_faults(stack, stack_config, region)["latency_ms"]
    assert injected == INJECTED_MS, "nothing to restore"
    (opened,) = [e for e in ledger(fault.run_dir) if e.kind == "fault"]
    assert opened.field("end") is None

    result = subprocess.run(
        signalcheck(*next_command, config=stack_config),
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO,
    )

    restored = [line for line in result.stdout.splitlines() if line.startswith("restored ")]
    assert restored == [
        f"restored the latency fault in {region} (run {fault.run_dir}), left open by a run "
        "that died"
    ], tail(result.stdout + result.stderr)
    assert result.returncode == 0, tail(result.stdout + result.stderr)
    assert admin_faults(stack, stack_config, region)["latency_ms"] == 0
    closed = [e for e in ledger(fault.run_dir) if e.kind == "fault"][-1]
    assert (closed.field("start"), closed.field("end") is not None) == (fault.start, True)
    assert OpenFaults(stack_config.stack.data_dir).all() == []


def test_chaos_restore_with_nothing_open_says_so(stack, stack_config) -> None:
    result = subprocess.run(
        signalcheck("chaos", "restore", config=stack_config),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "no open fault"), result.stderr
