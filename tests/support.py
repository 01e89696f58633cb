"""Helpers shared by signalcheck's own tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import uvicorn
import yaml

from signalcheck.capture.app import create_app
from signalcheck.capture.store import CaptureStore
from signalcheck.stack.ports import free_port

REPO = Path(__file__).resolve().parents[1]
REGIONS = ("us-east-1", "eu-west-1", "ap-south-1")
VALIDATION_SUITE = (
    sys.executable, "-m", "pytest", "validation/", "-p", "no:cacheprovider", "-q",
    # the plugins of this repository's own dev tools (load tests, fuzzing) are no part of
    # `pytest validation/` and would more than double its start-up (3.0 s against 1.25 s here)
    "-p", "no:locust", "-p", "no:schemathesis", "-p", "no:hypothesispytest",
)  # fmt: skip
"""`pytest validation/` as the tests run it, from REPO."""


def write_shipped_config(directory: Path) -> Path:
    """The shipped signalcheck.yaml (checks, expectations, load profiles) on free ports, with
    its state under `directory` and its rule/dashboard globs anchored at the repository."""
    config = yaml.safe_load((REPO / "signalcheck.yaml").read_text())
    config.update(yaml.safe_load(write_stack_config(directory).read_text()))
    for rules in config.get("expectations", {}).get("rules", []):
        for key in ("rule_files", "dashboards"):
            rules[key] = [str(REPO / pattern) for pattern in rules.get(key, [])]
    path = directory / "signalcheck.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def write_stack_config(directory: Path) -> Path:
    """A signalcheck.yaml for a local stack on free ports with its data under `directory`."""
    config = {
        "regions": {
            name: {"base_url": f"http://127.0.0.1:{free_port()}", "demo": True} for name in REGIONS
        },
        "stack": {
            "data_dir": str(directory / "stack"),
            "scrape": {"job": "demo"},
            "ports": {
                name: free_port()
                for name in ("prometheus", "alertmanager", "pushgateway", "capture", "rum_ingest")
            },
        },
        "runs_dir": str(directory / "runs"),
    }
    path = directory / "signalcheck.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def on_free_ports(config_path: Path, directory: Path) -> None:
    """Move the regions and the local stack of the config at `config_path` to free ports, with
    the stack's state and runs under `directory` (not the config's folder); the rest stays, as
    for a user whose machine already uses the default ports."""
    written = yaml.safe_load(config_path.read_text())
    directory.mkdir(parents=True, exist_ok=True)
    local = yaml.safe_load(write_stack_config(directory).read_text())
    written["regions"] = local["regions"]
    written["runs_dir"] = local["runs_dir"]
    written["stack"].update(local["stack"])
    config_path.write_text(yaml.safe_dump(written, sort_keys=False))


def launch_chromium(playwright):
    """Debian's Chromium, headless, launched the way the browser probes launch it."""
    from signalcheck.probes.browser import CHROMIUM, CHROMIUM_ARGS, CHROMIUM_ENV

    executable = os.environ.get(CHROMIUM_ENV, CHROMIUM)
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)


def stderr_until(process: subprocess.Popen[str], text: str, deadline: float) -> str:
    """stderr lines of `process` up to the one containing `text`; fails after `deadline` s."""
    assert process.stderr is not None
    seen, end = "", time.monotonic() + deadline
    for line in process.stderr:
        seen += line
        if text in line:
            return seen
        assert time.monotonic() < end, f"no {text!r} within {deadline}s: {seen}"
    raise AssertionError(f"the command ended before {text!r}: {seen}")


def alive(process: psutil.Process) -> bool:
    """Whether `process` still runs: not exited, not a zombie waiting to be reaped."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@contextmanager
def capture_receiver(store: CaptureStore, **app_kwargs: object) -> Iterator[str]:
    """The real capture app on `store`, served by uvicorn in a thread on a free port of
    127.0.0.1; yields its URL and stops it after."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(store, **app_kwargs), log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("capture app under uvicorn did not start within 10 s")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def stop(process: subprocess.Popen) -> None:
    """Terminate a process this test started (by its PID), killing it after 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
