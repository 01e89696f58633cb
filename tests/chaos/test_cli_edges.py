"""`signalcheck chaos run` and `gameday` at the command line, as a user runs them: one line per
error, exit 2 for bad input and refused targets (nothing started, no path of a file never
written), 130 when interrupted, and no colour codes where the output is not a terminal.

No stack runs here: the regions point at free ports, and the outside target is a TEST-NET
address that nothing may ever be sent to.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.chaos.conftest import EXPERIMENTS
from tests.support import REPO, stderr_until, write_stack_config

OUTSIDE = "http://203.0.113.7:8000"
ESC = "\x1b"
METHOD_STARTED = "Playing your experiment's method now"


@pytest.fixture
def config(tmp_path) -> Path:
    return write_stack_config(tmp_path)


def signalcheck(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "signalcheck", *args],
        cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def experiment_file(tmp_path: Path, command: str, seconds: str) -> Path:
    """An experiment whose method runs one process (`sleep 30`, `true`)."""
    path = tmp_path / f"{command}.json"
    path.write_text(
        '{"title": "t", "description": "d", "method": [{"type": "action", "name": "run", '
        f'"provider": {{"type": "process", "path": "{command}", "arguments": "{seconds}"}}}}]}}'
    )
    return path


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"title": "x",\n', "not valid JSON at line 2, column 1: Expecting property name"),
        ("[1, 2]", "expected an experiment (an object), got list"),
    ],
    ids=["invalid-json", "not-an-object"],
)
def test_an_invalid_experiment_file_is_one_line_and_exit_2(tmp_path, config, content, why):
    """It was a Chaos Toolkit traceback, then `journal:` / `ledger:` paths never written."""
    experiment = tmp_path / "broken.json"
    experiment.write_text(content)
    done = signalcheck("chaos", "run", str(experiment), "-c", str(config))
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"signalcheck: {experiment}: {why}"), lines
    assert done.stdout == ""
    assert not (tmp_path / "runs").exists(), "a run was started"


def test_an_outside_target_is_refused_with_exit_2_and_one_line(tmp_path, config):
    """It was the refusal, then chaos's "Received the exit signal: 30", and exit 1."""
    done = signalcheck(
        "chaos", "run", str(EXPERIMENTS / "error-injection.json"), "-c", str(config),
        SIGNALCHECK_CHAOS_REGION=OUTSIDE,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.splitlines() == [
        "signalcheck: refused the experiment, nothing was done: chaos target "
        f"'{OUTSIDE}': host '203.0.113.7' is not in the allowlist ['127.0.0.1', 'localhost']"
    ]
    assert done.stdout == ""
    assert not (tmp_path / "runs").exists(), "a run was started"


def test_a_game_day_with_an_outside_target_is_refused_before_it_starts(tmp_path, config):
    done = signalcheck("gameday", "-c", str(config), SIGNALCHECK_CHAOS_REGION=OUTSIDE)
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("signalcheck: refused experiment region-outage, nothing was")
    assert not (tmp_path / "runs").exists(), "the game day started"


def test_an_interrupted_experiment_exits_130(tmp_path, config):
    process = subprocess.Popen(
        [sys.executable, "-m", "signalcheck", "chaos", "run",
         str(experiment_file(tmp_path, "sleep", "30")), "-c", str(config)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        seen = stderr_until(process, METHOD_STARTED, deadline=60)
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode == 130, seen + rest
    assert "Traceback" not in seen + rest


def test_redirected_output_has_no_colour_codes(tmp_path, config):
    """chaoslib colours its log lines even into a file; what reaches the user's file is plain."""
    done = signalcheck(
        "chaos", "run", str(experiment_file(tmp_path, "true", "")), "-c", str(config)
    )
    assert "Running experiment: t" in done.stderr, done.stderr
    assert ESC not in done.stdout + done.stderr


@pytest.mark.parametrize(("no_color", "coloured"), [("", True), ("1", False)])
def test_a_terminal_gets_colour_unless_no_color_is_set(tmp_path, config, no_color, coloured):
    """On a terminal (a pty here) chaos's colours pass; `NO_COLOR` turns them off."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "signalcheck", "chaos", "run",
         str(experiment_file(tmp_path, "true", "")), "-c", str(config)],
        cwd=REPO, env={**os.environ, "NO_COLOR": no_color, "TERM": "xterm-256color"},
        stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary,
    )  # fmt: skip
    os.close(secondary)
    try:
        output = _drain(primary, deadline=120)
        process.wait(timeout=10)
    finally:
        os.close(primary)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    text = output.decode(errors="replace")
    assert "Running experiment: t" in text, text
    assert (ESC in text) is coloured, text


def _drain(fd: int, deadline: float) -> bytes:
    """Everything written to a pty until every writer closed it; fails after `deadline` s."""
    chunks, end = [], time.monotonic() + deadline
    while time.monotonic() < end:
        readable, _, _ = select.select([fd], [], [], 1.0)
        if not readable:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: every writer closed its end
            return b"".join(chunks)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
    raise AssertionError(f"the command still wrote after {deadline}s: {b''.join(chunks)[-500:]}")
