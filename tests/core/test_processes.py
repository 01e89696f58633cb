"""The stack finds the processes it started again by PID and start time after boot: also
after the wall clock was stepped (NTP, a resumed VM), which moves psutil's create_time."""

from __future__ import annotations

import os

import psutil

from signalcheck import processes
from signalcheck.processes import Started


def test_a_started_process_is_found_and_stopped_after_the_wall_clock_steps(
    monkeypatch, tmp_path
) -> None:
    log = tmp_path / "sleep.log"
    proc = processes.start(["sleep", "60"], dict(os.environ), log)
    started = Started(
        name="sleep", pid=proc.pid, since_boot=processes.since_boot(proc), url="", ready_path="",
        log=log,
    )  # fmt: skip
    before = psutil.Process(proc.pid).create_time()
    try:
        stepped = psutil.boot_time() + 10.0
        monkeypatch.setattr(psutil._psplatform, "boot_time", lambda: stepped)  # clock +10 s
        assert psutil.Process(proc.pid).create_time() - before == 10.0, "create_time moved"
        assert processes.find(started) is not None
        reused = started.model_copy(update={"since_boot": started.since_boot - 1.0})
        assert processes.find(reused) is None, "a PID reused by a later process is not ours"
        processes.stop(started)
        assert processes.find(started) is None
    finally:
        processes.stop(started)
        monkeypatch.undo()
    assert not psutil.pid_exists(proc.pid) or psutil.Process(proc.pid).status() == "zombie"
