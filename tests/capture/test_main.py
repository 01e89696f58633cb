"""`python -m signalcheck.capture` runs the receiver as its own process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from signalcheck.capture.store import CaptureStore
from signalcheck.stack.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_module_entry_point_serves_and_stores(tmp_path: Path) -> None:
    db = tmp_path / "run" / "capture.db"
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "signalcheck.capture",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--db",
            str(db),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, proc.communicate()[0].decode()
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "capture process did not answer /health in 20 s"
            time.sleep(0.1)
        payload = {
            "version": "4",
            "status": "firing",
            "receiver": "chat",
            "alerts": [{"status": "firing", "labels": {"alertname": "HighLatency"}}],
        }
        r = httpx.post(f"{url}/alertmanager/webhook", json=payload, timeout=5)
        assert r.status_code == 200, r.text
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    # uvicorn shuts down gracefully, then re-raises SIGTERM: killed-by-TERM or 0 are both clean
    assert proc.returncode in (0, -signal.SIGTERM), proc.communicate()[0].decode()
    with CaptureStore(db) as store:
        (n,) = store.find_notifications()
        assert (n.receiver, n.alertname) == ("chat", "HighLatency")


def test_unopenable_database_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "signalcheck.capture",
            "--port",
            str(free_port()),
            "--db",
            str(blocker / "capture.db"),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("capture: cannot open database")
    assert len(proc.stderr.strip().splitlines()) == 1
