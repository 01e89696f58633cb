"""`signalcheck up | status | down`: one local stack per data dir, started and stopped whole."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import TypeAdapter

from signalcheck.config import Config
from signalcheck.stack import processes
from signalcheck.stack.binaries import find_binary
from signalcheck.stack.errors import StackError
from signalcheck.stack.processes import Started
from signalcheck.stack.render import render_alertmanager, render_prometheus

STATE_FILE = "state.json"
ADMIN_TOKEN_FILE = "demo-admin-token"
RUM_API_KEY_FILE = "rum-api-key"
RUM_APP_NAME = "demo-web"  # the app the demo page reports as; its key is in RUM_API_KEY_FILE
EXPORT_DELAY_MS = "200"  # OTel batch export delay for the demo: telemetry lands within ~0.2 s
_state_adapter = TypeAdapter(list[Started])


@dataclass(frozen=True)
class Component:
    """One process of the stack and how to tell that it is ready."""

    name: str
    argv: list[str]
    port: int
    ready_path: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    url: str
    pid: int | None
    running: bool
    healthy: bool
    log: Path


def pushgateway_command(port: int) -> list[str]:
    """A Pushgateway on loopback that keeps pushes in memory. Debian's binary defaults to
    /var/lib/prometheus/pushgateway.data, which every Pushgateway on the machine would load and
    overwrite: a check pushed slow or failing by one stack went on alerting in the next."""
    return [
        str(find_binary("pushgateway")),
        f"--web.listen-address=127.0.0.1:{port}",
        "--persistence.file=",
    ]


class LocalStack:
    def __init__(self, config: Config, on_event: Callable[[str], None] | None = None):
        self.config = config
        self.data_dir = config.stack.data_dir.resolve()
        self.state_file = self.data_dir / STATE_FILE
        self.logs_dir = self.data_dir / "logs"
        self._say = on_event or (lambda message: None)

    # ----------------------------------------------------------------- lifecycle

    def up(self) -> list[Started]:
        """Start every component and wait until all are healthy; no-op if already running."""
        running = self.running()
        if running:
            self._say(f"stack already running in {self.data_dir}")
            return running
        self._forget_stopped()
        components = self.components()
        self._check_ports_free(components)
        self._fresh_data_dir()
        started: list[Started] = []
        try:
            for component in components:
                started.append(self._start(component))
                self._save(started)
            deadline = time.monotonic() + self.config.stack.ready_timeout
            for item in started:
                self._wait_ready(item, deadline)
                self._say(f"{item.name} ready at {item.url}")
            self._wait_targets_up(deadline)
        except BaseException:
            self._stop_all(started)
            raise
        return started

    def down(self) -> list[str]:
        """Stop exactly what `up` started; returns the names that were running."""
        recorded = self._load()
        stopped = [item.name for item in recorded if processes.find(item) is not None]
        self._stop_all(recorded)
        return stopped

    def stop_component(self, name: str) -> None:
        """Stop one running component (e.g. kill a demo region); `down` still knows it."""
        processes.stop(self._recorded(name))
        self._say(f"stopped {name}")

    def start_component(self, name: str) -> Started:
        """Start one stopped component again and wait until it is ready."""
        recorded = self._load()
        item = self._recorded(name)
        if processes.find(item) is not None:
            return item
        component = next(c for c in self.components() if c.name == name)
        restarted = self._start(component)
        self._save([restarted if r.name == name else r for r in recorded])
        self._wait_ready(restarted, time.monotonic() + self.config.stack.ready_timeout)
        return restarted

    def _recorded(self, name: str) -> Started:
        for item in self._load():
            if item.name == name:
                return item
        raise StackError(f"{name}: not a component of the stack in {self.data_dir}")

    def status(self) -> list[ComponentStatus]:
        result = []
        for item in self._load():
            running = processes.find(item) is not None
            result.append(
                ComponentStatus(
                    name=item.name,
                    url=item.url,
                    pid=item.pid if running else None,
                    running=running,
                    healthy=running and _is_ready(item.url + item.ready_path),
                    log=item.log,
                )
            )
        return result

    def running(self) -> list[Started]:
        recorded = self._load()
        return recorded if any(processes.find(item) for item in recorded) else []

    @property
    def admin_token_path(self) -> Path:
        return self.data_dir / ADMIN_TOKEN_FILE

    @property
    def rum_api_key_path(self) -> Path:
        return self.data_dir / RUM_API_KEY_FILE

    def url(self, name: str) -> str:
        """The loopback URL of a running component, e.g. `url("prometheus")`."""
        return self._recorded(name).url

    # ------------------------------------------------------------------ makeup

    def components(self) -> list[Component]:
        """Every process of the stack, in start order (receivers before senders)."""
        ports = self.config.stack.ports
        data = self.data_dir
        python = sys.executable
        capture = Component(
            "capture",
            [python, "-m", "signalcheck.capture", "--host", "127.0.0.1", "--port",
             str(ports.capture), "--db", str(data / "capture.db")],
            ports.capture,
            "/health",
        )  # fmt: skip
        pushgateway = Component(
            "pushgateway",
            pushgateway_command(ports.pushgateway),
            ports.pushgateway,
            "/-/ready",
        )
        alertmanager = Component(
            "alertmanager",
            [str(find_binary("alertmanager")),
             f"--config.file={data / 'alertmanager.yml'}",
             f"--storage.path={data / 'alertmanager'}",
             f"--web.listen-address=127.0.0.1:{ports.alertmanager}",
             f"--web.external-url=http://127.0.0.1:{ports.alertmanager}",
             "--cluster.listen-address="],
            ports.alertmanager,
            "/-/ready",
        )  # fmt: skip
        prometheus = Component(
            "prometheus",
            [str(find_binary("prometheus")),
             f"--config.file={data / 'prometheus.yml'}",
             f"--storage.tsdb.path={data / 'prometheus'}",
             f"--web.listen-address=127.0.0.1:{ports.prometheus}",
             f"--web.external-url=http://127.0.0.1:{ports.prometheus}",
             "--web.enable-lifecycle",
             "--rules.alert.resend-delay=1s"],
            ports.prometheus,
            "/-/ready",
        )  # fmt: skip
        rum_ingest = Component(
            "rum-ingest",
            [python, "-m", "signalcheck", "rum", "serve", "--host", "127.0.0.1",
             "--port", str(ports.rum_ingest)],
            ports.rum_ingest,
            "/health/ready",
            env={
                "DATABASE_URL": f"sqlite:///{data / 'rum.db'}",
                "RUM_ALLOWED_ORIGINS": ",".join(
                    f"http://{region.host}:{region.port}" for region in self.config.regions.values()
                ),
            },
        )  # fmt: skip
        regions = [
            Component(
                f"demo-{name}",
                [python, "-m", "demo"],
                region.port,
                "/health",
                env={
                    "REGION": name,
                    "HOST": "127.0.0.1",
                    "PORT": str(region.port),
                    "DEMO_DB_PATH": str(data / f"demo-{name}.db"),
                    "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{ports.capture}",
                    "OTEL_BSP_SCHEDULE_DELAY": EXPORT_DELAY_MS,
                    "OTEL_BLRP_SCHEDULE_DELAY": EXPORT_DELAY_MS,
                    "DEMO_RUM_SDK_URL": f"{rum_ingest.url}/v1/sdk.js",
                },
            )
            for name, region in self.config.regions.items()
        ]
        return [capture, pushgateway, alertmanager, rum_ingest, *regions, prometheus]

    # ----------------------------------------------------------------- helpers

    def _check_ports_free(self, components: list[Component]) -> None:
        for component in components:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                # As the servers themselves bind: connections of a stack stopped a moment ago
                # (TIME_WAIT) do not hold the port; a listening process does.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", component.port))
                except OSError as exc:
                    raise StackError(
                        f"{component.name}: port {component.port} on 127.0.0.1 is already in use "
                        f"({exc.strerror}); choose another port in {self._config_name()}"
                    ) from exc

    def _config_name(self) -> str:
        return str(self.config.source or "the config")

    def _fresh_data_dir(self) -> None:
        """Start from empty state: old alerts or spans must not leak into a new run."""
        for sub in ("prometheus", "alertmanager", "logs"):
            shutil.rmtree(self.data_dir / sub, ignore_errors=True)
        for leftover in self.data_dir.glob("*.db*"):
            leftover.unlink()
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        render_prometheus(self.config, self.data_dir)
        render_alertmanager(self.config, self.data_dir)
        for secret in (self.admin_token_path, self.rum_api_key_path):
            if not secret.exists():
                secret.write_text(secrets.token_urlsafe(24))
                secret.chmod(0o600)

    def _start(self, component: Component) -> Started:
        env = {**os.environ, **component.env}
        if component.name.startswith("demo-"):
            env["DEMO_ADMIN_TOKEN"] = self.admin_token_path.read_text().strip()
            env["DEMO_RUM_API_KEY"] = self.rum_api_key_path.read_text().strip()
        if component.name == "rum-ingest":
            env["RUM_API_KEYS"] = f"{RUM_APP_NAME}={self.rum_api_key_path.read_text().strip()}"
        log = self.logs_dir / f"{component.name}.log"
        proc = processes.start(component.argv, env, log)
        self._say(f"started {component.name} (pid {proc.pid})")
        return Started(
            name=component.name,
            pid=proc.pid,
            create_time=proc.create_time(),
            url=component.url,
            ready_path=component.ready_path,
            log=log,
        )

    def _wait_ready(self, item: Started, deadline: float) -> None:
        while True:
            if processes.find(item) is None:
                raise StackError(
                    f"{item.name} exited during start-up; see {item.log}: "
                    f"{processes.last_line(item.log)}"
                )
            if _is_ready(item.url + item.ready_path):
                return
            if time.monotonic() > deadline:
                raise StackError(
                    f"{item.name} not ready at {item.url}{item.ready_path} within "
                    f"{self.config.stack.ready_timeout:g}s; see {item.log}"
                )
            time.sleep(0.1)

    def _wait_targets_up(self, deadline: float) -> None:
        """Wait until Prometheus has scraped every target successfully."""
        url = self.url("prometheus") + "/api/v1/targets?state=active"
        down: list[str] = ["(no targets yet)"]
        while time.monotonic() < deadline:
            try:
                targets = httpx.get(url, timeout=2.0).json()["data"]["activeTargets"]
            except (httpx.HTTPError, ValueError, KeyError):
                targets = []
            down = [
                f"{t['labels'].get('job')} {t['scrapeUrl']}: {t.get('lastError') or t['health']}"
                for t in targets
                if t["health"] != "up"
            ]
            if targets and not down:
                return
            time.sleep(0.2)
        raise StackError(
            f"prometheus: targets not up within {self.config.stack.ready_timeout:g}s: "
            + "; ".join(down or ["(none reported)"])
        )

    def _stop_all(self, started: list[Started]) -> None:
        for item in reversed(started):
            processes.stop(item)
            self._say(f"stopped {item.name}")
        self.state_file.unlink(missing_ok=True)

    def _forget_stopped(self) -> None:
        """Drop a state file whose processes are all gone (a crashed or rebooted stack)."""
        self._stop_all(self._load())

    def _save(self, started: list[Started]) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_bytes(_state_adapter.dump_json(started, indent=2))
        tmp.replace(self.state_file)

    def _load(self) -> list[Started]:
        try:
            return _state_adapter.validate_json(self.state_file.read_bytes())
        except FileNotFoundError:
            return []
        except ValueError as exc:
            raise StackError(f"{self.state_file}: unreadable stack state ({exc})") from exc


def _is_ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False
