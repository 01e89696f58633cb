"""The user's own system for the "your system" test: httpbin, a Flask app from PyPI that
nobody here wrote, served by gunicorn, instrumented the way its users do it.

- Traces and logs: OpenTelemetry zero-code instrumentation (`opentelemetry-instrument
  gunicorn ...` with the OTEL_* environment), exported over OTLP/HTTP.
- Metrics: prometheus-flask-exporter's documented gunicorn set-up (`GunicornPrometheusMetrics`
  in the app, its metrics server started from gunicorn's `when_ready` hook on a port of its
  own, PROMETHEUS_MULTIPROC_DIR), counting by route template (`group_by="url_rule"`).

It is installed into a venv of its own, as a user installs a service (not signalcheck's),
cached under the repository's `.venv/` and keyed by the requirements, so reruns are fast.
Each region is one gunicorn (a master and one worker) in its own process group on its own
loopback ports, stopped by its PID.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from tests.support import REPO

REQUIREMENTS = """\
httpbin==0.10.4
flask==3.1.3
werkzeug==3.1.9
gunicorn==27.0.1
prometheus-flask-exporter==0.23.2
opentelemetry-distro==0.66b1
opentelemetry-exporter-otlp-proto-http==1.45.1
opentelemetry-instrumentation-flask==0.66b1
"""
"""What the user pip-installs for their service (pinned: CI installs it once from PyPI)."""

VENV = REPO / ".venv" / "your-system-app"
KEY_FILE = ".requirements-key"
INSTALL_TIMEOUT = 600.0

WSGI_PY = '''\
"""httpbin, with request metrics by route template (prometheus-flask-exporter, gunicorn)."""

from httpbin import app
from prometheus_flask_exporter.multiprocess import GunicornPrometheusMetrics

metrics = GunicornPrometheusMetrics(app, group_by="url_rule")
'''
"""The user's wsgi.py: the app plus the exporter, as prometheus-flask-exporter's docs say."""

GUNICORN_CONF_PY = '''\
"""gunicorn hooks of prometheus-flask-exporter's multiprocess mode: the metrics server runs in
the master, on METRICS_PORT."""

import os

from prometheus_flask_exporter.multiprocess import GunicornPrometheusMetrics


def when_ready(server):
    GunicornPrometheusMetrics.start_http_server_when_ready(
        int(os.environ["METRICS_PORT"]), host="127.0.0.1"
    )


def child_exit(server, worker):
    GunicornPrometheusMetrics.mark_process_dead_on_child_exit(worker.pid)
'''
"""The user's gunicorn.conf.py."""

SERVICE = "httpbin"
EXPORT_DELAY_MS = "200"
READY_TIMEOUT = 30.0
STOP_GRACE = 10.0


def _key() -> str:
    """The cache key: the requirements and the interpreter that runs the venv."""
    text = f"{REQUIREMENTS}\n{sys.version}\n{getattr(sys, '_base_executable', sys.executable)}"
    return hashlib.sha256(text.encode()).hexdigest()


def app_venv(venv: Path = VENV) -> Path:
    """The service's venv, built (once per requirements) with the ordinary `pip install`."""
    key = _key()
    stamp = venv / KEY_FILE
    if stamp.is_file() and stamp.read_text() == key and (venv / "bin" / "gunicorn").exists():
        return venv
    # Built in place, the key written last: an install that was interrupted has no key and
    # is built again from scratch.
    shutil.rmtree(venv, ignore_errors=True)
    # The base interpreter, not signalcheck's venv: the service's venv shares nothing with it.
    python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
    requirements = venv / "requirements.txt"
    requirements.write_text(REQUIREMENTS)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
         "--disable-pip-version-check", "-r", str(requirements)],
        check=True, timeout=INSTALL_TIMEOUT,
    )  # fmt: skip
    stamp.write_text(key)
    return venv


def write_app(folder: Path) -> Path:
    """The user's service folder: wsgi.py and gunicorn.conf.py."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "wsgi.py").write_text(WSGI_PY)
    (folder / "gunicorn.conf.py").write_text(GUNICORN_CONF_PY)
    (folder / "run").mkdir(exist_ok=True)
    return folder


@dataclass
class RegionApp:
    """One region of the service: `opentelemetry-instrument gunicorn` on its own ports."""

    venv: Path
    folder: Path
    region: str
    port: int
    metrics_port: int
    otlp_endpoint: str
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def pidfile(self) -> Path:
        return self.folder / "run" / f"{self.region}.pid"

    @property
    def log(self) -> Path:
        return self.folder / "run" / f"{self.region}.log"

    def environment(self) -> dict[str, str]:
        """The OTEL_* environment of zero-code instrumentation, and the exporter's."""
        multiproc = self.folder / "run" / f"{self.region}-metrics"
        shutil.rmtree(multiproc, ignore_errors=True)  # as the exporter's docs say: fresh
        multiproc.mkdir(parents=True)
        return {
            "PATH": f"{self.venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": os.environ.get("HOME", "/root"),
            "OTEL_SERVICE_NAME": SERVICE,
            "OTEL_RESOURCE_ATTRIBUTES": f"cloud.region={self.region}",
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp_endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "otlp",
            "OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED": "true",
            "OTEL_BSP_SCHEDULE_DELAY": EXPORT_DELAY_MS,
            "OTEL_BLRP_SCHEDULE_DELAY": EXPORT_DELAY_MS,
            "OTEL_METRIC_EXPORT_INTERVAL": "5000",
            "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
            "METRICS_PORT": str(self.metrics_port),
        }

    def argv(self) -> list[str]:
        bin_dir = self.venv / "bin"
        return [
            str(bin_dir / "opentelemetry-instrument"), str(bin_dir / "gunicorn"),
            # gunicorn.conf.py in the working folder is gunicorn's default config file; short
            # options, as opentelemetry-instrument takes `--config...` as an abbreviation of its own
            "-w", "1", "-b", f"127.0.0.1:{self.port}", "-p", str(self.pidfile),
            "--no-control-socket", "wsgi:app",
        ]  # fmt: skip

    def start(self) -> RegionApp:
        """Start the region in its own process group (its PID is the group's id) and wait
        until it answers a request and a scrape."""
        assert self.process is None or self.process.poll() is not None, "already running"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv(),
                cwd=self.folder,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                code = self.process.returncode
                raise AssertionError(f"{self.region} exited ({code}): {self.tail()}")
            try:
                app = httpx.get(f"{self.base_url}/get", timeout=2)
                metrics = httpx.get(self.metrics_url, timeout=2)
                if app.status_code == 200 and metrics.status_code == 200:
                    return
                last = f"{app.status_code}, metrics {metrics.status_code}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.2)
        raise AssertionError(
            f"{self.region} not ready within {READY_TIMEOUT:g}s ({last}): {self.tail()}"
        )

    def processes(self) -> list[psutil.Process]:
        """The gunicorn master and its worker(s)."""
        if self.process is None or self.process.poll() is not None:
            return []
        try:
            master = psutil.Process(self.process.pid)
            return [master, *master.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def pids(self) -> set[int]:
        return {proc.pid for proc in self.processes()}

    def stop(self) -> None:
        """Stop the region's processes by PID: its process group (the master's PID) gets
        SIGCONT (a fault may have frozen it) and SIGTERM; what is left after the grace, SIGKILL."""
        if self.process is None:
            return
        group = self.processes()
        if self.process.poll() is None:
            for sig in (signal.SIGCONT, signal.SIGTERM):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, sig)
        _, alive = psutil.wait_procs(group, timeout=STOP_GRACE)
        for leftover in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                leftover.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_GRACE)
        self.process = None

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
