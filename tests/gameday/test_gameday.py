"""`signalcheck gameday` end to end against a real local stack: outputs, and Ctrl-C safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import psutil
import pytest

from signalcheck.config import Config
from signalcheck.ledger import LEDGER_FILE, read_entries
from signalcheck.waiting import wait_for
from tests.support import REPO, alive

pytestmark = [pytest.mark.stack, pytest.mark.slow]


def gameday(config: Config) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "signalcheck", "gameday", "--config", str(config.source),
         "--profile", "quick"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=_terminal_signals,
    )  # fmt: skip


def _terminal_signals() -> None:
    """SIGINT as a terminal delivers it, even when pytest runs with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_dirs(config: Config) -> set[Path]:
    return set(config.runs_dir.glob("*")) if config.runs_dir.exists() else set()


@pytest.mark.timeout(600)  # the quick game day: two and a half minutes
def test_quick_game_day_writes_every_output_and_detects_the_outage(config, stack):
    before = run_dirs(config)
    process = gameday(config)
    output, _ = process.communicate(timeout=600)
    (run_dir,) = run_dirs(config) - before
    assert process.returncode == 0, output

    report = (run_dir / "report.html").read_text()
    assert 'class="timeline"' in report and 'class="detection"' in report
    suite = ET.parse(run_dir / "junit.xml").getroot()
    assert suite.get("failures") == "0"
    assert int(suite.get("tests")) > 10
    assert (run_dir / "chaos-region-outage" / "journal.json").exists()
    assert list((run_dir / "load").glob("*.html")), "Locust's HTML report"

    entries = list(read_entries(run_dir / LEDGER_FILE))
    phases = [e.field("name") for e in entries if e.kind == "phase"]
    assert phases == ["stack", "baseline", "load: ramp", "chaos: region-outage", "validation"]
    (detection,) = [e for e in entries if e.kind == "detection"]
    assert (detection.field("alert"), detection.field("region")) == ("ServiceDown", "eu-west-1")
    # the experiment's file is recorded: validation then knows its folder's titles
    started = [e for e in entries if e.kind == "chaos" and e.field("experiment_file")]
    assert [Path(e.field("experiment_file")).name for e in started] == ["region-outage.json"]
    assert started[0].field("phase") == "experiment"
    assert detection.field("bound_seconds") <= detection.field("time_to_detect") + 2
    assert "ServiceDown" in output and "game day PASSED" in output
    assert all(row.healthy for row in stack.status()), "the game day stops only what it started"


@pytest.mark.xdist_group("gameday/interrupt")  # its own worker and stack: two minutes
def test_interrupting_during_chaos_restores_the_region_and_leaves_no_process(config, stack):
    before = run_dirs(config)
    process = gameday(config)
    try:

        def killed_region() -> Path | None:
            for run_dir in run_dirs(config) - before:
                ledger = run_dir / "chaos-region-outage" / LEDGER_FILE
                if ledger.exists() and any(e.kind == "fault" for e in read_entries(ledger)):
                    return run_dir
            return None

        wait_for(killed_region, timeout=300, what="the game day to kill a region")
        time.sleep(2)  # mid-method: the region is down, detection is being awaited
        children = psutil.Process(process.pid).children(recursive=True)
        os.kill(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, output
    assert "faults restored" in output

    base = str(config.regions["eu-west-1"].base_url).rstrip("/")
    assert httpx.get(f"{base}/health/ready", timeout=5).status_code == 200
    token = stack.admin_token_path.read_text().strip()
    for region in config.regions.values():
        faults = httpx.get(
            f"{str(region.base_url).rstrip('/')}/admin/faults",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).json()
        assert faults == {"latency_ms": 0, "error_rate": 0.0, "ready": True,
                          "dependency_down": False}  # fmt: skip
    left = [c for c in children if alive(c)]
    assert not left, f"processes left running: {[c.cmdline() for c in left]}"
