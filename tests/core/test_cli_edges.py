"""Errors at the edges a user meets, each in one line: a backend refusing connections (its
cause chain folded into the message, in the client and in `pytest validation/`), and an
interrupted command (exit 130, no traceback)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import yaml

from signalcheck.backends.base import cause_chain
from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Backend
from signalcheck.errors import BackendError
from signalcheck.ledger import Ledger
from tests.support import REPO, VALIDATION_SUITE, free_port, stderr_until

REFUSED = "ConnectError: [Errno 111] Connection refused"


@pytest.fixture
def refusing() -> str:
    """The URL of a loopback port where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


def test_a_refusing_backend_is_one_line_with_its_cause_and_no_chain(refusing):
    with PrometheusClient(Backend(url=refusing, timeout=2), retries=0) as client:
        with pytest.raises(BackendError) as raised:
            client.check_reachable()
        assert str(raised.value) == f"prometheus at {refusing} is unreachable: {REFUSED}"
        assert raised.value.__cause__ is None and raised.value.__suppress_context__
        with pytest.raises(BackendError) as raised:
            client.get_json("/api/v1/query", query="up")
    assert str(raised.value) == f"prometheus: GET {refusing}/api/v1/query: {REFUSED}"


def test_a_cause_chain_folds_into_one_line_without_repeats():
    try:
        try:
            try:
                raise ConnectionRefusedError(111, "Connection refused")
            except OSError as exc:
                raise RuntimeError("[Errno 111] Connection refused") from exc
        except RuntimeError as exc:
            raise ValueError("handshake\nfailed") from exc
    except ValueError as exc:
        assert cause_chain(exc) == "ValueError: handshake failed <- [Errno 111] Connection refused"


def test_validation_reports_a_refusing_backend_in_one_line(tmp_path, refusing):
    """It printed the message, then four chained-exception blocks."""
    config = tmp_path / "signalcheck.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "regions": {"us-east-1": {"base_url": "http://127.0.0.1:1"}},
                "backends": {"prometheus": {"url": refusing, "timeout": 2}},
                "expectations": {"metrics": [{"name": "m", "query": "up", "check": "x"}]},
            }
        )
    )
    ledger = Ledger(tmp_path / "ledger.jsonl")
    ledger.append("probe", check="x", region="us-east-1", outcome="success", start=1, end=2)
    done = subprocess.run(
        [*VALIDATION_SUITE,
         "-n", "0", f"--signalcheck-config={config}", f"--ledger={ledger.path}"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert (
        f"backend:     backend prometheus ({refusing}) failed its check: prometheus at "
        f"{refusing} is unreachable: {REFUSED}\n"
    ) in done.stdout
    for chained in ("direct cause", "During handling", "Traceback"):
        assert chained not in done.stdout + done.stderr, done.stdout


def test_an_interrupted_command_exits_130_with_one_line(tmp_path):
    """`probe --serve` stopped with Ctrl-C: it was click's "Aborted!" and exit 1."""
    config = tmp_path / "signalcheck.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "regions": {"us-east-1": {"base_url": f"http://127.0.0.1:{free_port()}"}},
                "checks": [{"name": "health", "type": "http", "path": "/", "timeout": 1}],
                "runs_dir": str(tmp_path / "runs"),
            }
        )
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "signalcheck", "probe", "--serve", "--interval", "60s",
         "--port", str(free_port()), "-c", str(config)],
        cwd=REPO, env={**os.environ, "NO_COLOR": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        # as from a terminal: a worker that ran a restore (which holds SIGINT) may pass on an
        # ignored SIGINT, and Python keeps an inherited SIG_IGN
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        first = stderr_until(process, "pass:", deadline=60)
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode == 130, first + rest
    # A pass may still report before the signal lands; the interrupt itself is one line.
    lines = rest.splitlines()
    assert lines[-1:] == ["signalcheck: interrupted"], rest
    assert all(line.startswith("pass:") for line in lines[:-1]), rest


def test_a_command_given_a_run_s_ledger_adds_to_that_run(tmp_path):
    from signalcheck.cli.common import run_dir_for

    run = tmp_path / "runs" / "20261207T000000Z"
    run.mkdir(parents=True)
    assert run_dir_for(run / "ledger.jsonl", tmp_path / "runs") == run
    fresh = run_dir_for(None, tmp_path / "runs")
    assert fresh.parent == tmp_path / "runs" and fresh != run and fresh.is_dir()
