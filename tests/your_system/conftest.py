"""The user's own system (httpbin, three regions on loopback) and the empty folder the user
works in with the `signalcheck` command, as docs/your-system.md says."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from signalcheck.config import load_config
from signalcheck.stack import LocalStack
from signalcheck.stack.ports import free_port
from tests.support import REGIONS
from tests.your_system.app import RegionApp, app_venv, write_app

BIN = Path(sys.executable).parent
SIGNALCHECK = BIN / "signalcheck"
STACK_PORTS = ("prometheus", "alertmanager", "pushgateway", "capture", "rum_ingest")
OUTPUT_SHOWN = 6000


def cli_env() -> dict[str, str]:
    """A user's shell: signalcheck's venv on PATH, no signalcheck or pytest settings of ours."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SIGNALCHECK_", "PYTEST_")) and key != "COV_CORE_SOURCE"
    }
    env["PATH"] = f"{BIN}:{env.get('PATH', '/usr/bin:/bin')}"
    return env


def junit_results(path: Path) -> dict[str, tuple[str, str]]:
    """`signalcheck validate`'s JUnit XML: expectation name -> (passed|failed|skipped, message)."""
    results: dict[str, tuple[str, str]] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name", "")
        expectation = name.split(":", 1)[-1].rstrip("]") if "[" in name else name
        status, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            found = case.find(kind)
            if found is not None:
                status = "skipped" if kind == "skipped" else "failed"
                message = f"{found.get('message', '')}\n{found.text or ''}".strip()
                break
        results[expectation] = (status, message)
    return results


@dataclass
class YourSystem:
    root: Path
    folder: Path
    """The user's folder: empty until `signalcheck init`."""
    service: Path
    """The service's folder: wsgi.py, gunicorn.conf.py, run/ (pidfiles, logs)."""
    apps: dict[str, RegionApp]
    stack_ports: dict[str, int]
    validations: int = 0
    timings: list[tuple[str, float]] = field(default_factory=list)

    def signalcheck(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        """`signalcheck ARGS` in the user's folder; its output is printed (shown on failure)."""
        began = time.monotonic()
        done = subprocess.run(
            [str(SIGNALCHECK), *args],
            cwd=self.folder,
            env=cli_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        took = time.monotonic() - began
        self.timings.append((" ".join(args), took))
        print(f"\n$ signalcheck {' '.join(args)}   # exit {done.returncode}, {took:.1f}s")
        print(done.stdout[-OUTPUT_SHOWN:])
        if done.stderr.strip():
            print(f"[stderr]\n{done.stderr[-OUTPUT_SHOWN:]}")
        return done

    def validate(
        self, *pytest_args: str
    ) -> tuple[subprocess.CompletedProcess[str], dict[str, tuple[str, str]]]:
        """`signalcheck validate` of the newest run; its outcome per expectation."""
        self.validations += 1
        junit = self.root / f"validation-{self.validations}.xml"
        args = ["validate", "--junit-xml", str(junit)]
        done = self.signalcheck(*args, *(["--", *pytest_args] if pytest_args else []))
        return done, junit_results(junit) if junit.exists() else {}

    @property
    def config_path(self) -> Path:
        return self.folder / "signalcheck.yaml"

    @property
    def data_dir(self) -> Path:
        return self.folder / ".signalcheck" / "stack"

    def newest_run(self) -> Path:
        runs = sorted(p for p in (self.folder / "runs").iterdir() if p.is_dir())
        assert runs, "no run directory"
        return runs[-1]

    def down(self) -> None:
        """`signalcheck down`; then, whatever it did, every process the stack recorded is
        stopped by its PID."""
        if not self.config_path.exists():
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.signalcheck("down", timeout=120)
        with contextlib.suppress(Exception):
            LocalStack(load_config(self.config_path, environ={})).down()


@pytest.fixture(scope="session")
def app_venv_dir() -> Path:
    """httpbin and its instrumentation, pip-installed into a venv of their own (cached)."""
    return app_venv()


@pytest.fixture(scope="module")
def your_system(app_venv_dir, tmp_path_factory) -> Iterator[YourSystem]:
    """Three regions of httpbin on loopback, already running (as the user's service is),
    exporting OTLP to where the local stack's capture receiver will listen; an empty folder.
    At the end: `signalcheck down` and every region stopped by its PID, also on failure."""
    root = tmp_path_factory.mktemp("your-system")
    stack_ports = {name: free_port() for name in STACK_PORTS}
    service = write_app(root / "httpbin")
    otlp = f"http://127.0.0.1:{stack_ports['capture']}"
    apps = {
        region: RegionApp(app_venv_dir, service, region, free_port(), free_port(), otlp)
        for region in REGIONS
    }
    folder = root / "my-checks"
    folder.mkdir()
    system = YourSystem(root, folder, service, apps, stack_ports)
    try:
        for app in apps.values():
            app.start()
        yield system
    finally:
        try:
            system.down()
        finally:
            for app in apps.values():
                app.stop()
            print("\ntimings:", ", ".join(f"{what}: {took:.1f}s" for what, took in system.timings))
