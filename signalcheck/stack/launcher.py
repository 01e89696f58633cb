"""`signalcheck up | status | down | reload`: one local stack per data dir, started and
stopped whole, its configs re-rendered and reloaded in place. It runs the demo only for the
regions that say `demo: true`; at any other region the user's service is already there."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import TypeAdapter

from signalcheck import processes
from signalcheck.config import Config
from signalcheck.errors import StackError
from signalcheck.private import write_private
from signalcheck.processes import Started
from signalcheck.rum_keys import RUM_API_KEY_FILE, RUM_READ_KEY_FILE
from signalcheck.stack.binaries import find_binary
from signalcheck.stack.render import render_alertmanager, render_prometheus

STATE_FILE = "state.json"
ADMIN_TOKEN_FILE = "demo-admin-token"
RUM_APP_NAME = "demo-web"  # the app the demo page reports as; its key is in RUM_API_KEY_FILE
EXPORT_DELAY_MS = "200"  # OTel batch export delay for the demo: telemetry lands within ~0.2 s
RELOAD_TIMEOUT = 30.0
"""Seconds a reload (config and rule files loaded) may take before it counts as failed."""
_state_adapter = TypeAdapter(list[Started])


@dataclass(frozen=True)
class Component:
    """One process of the stack and how to tell that it is ready."""

    name: str
    argv: list[str]
    port: int
    ready_path: str
    env: dict[str, str] = field(default_factory=dict)
    region: str | None = None
    """The region whose demo this is (None: a backend)."""

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


def alertmanager_command(config_file: Path, storage: Path, port: int) -> list[str]:
    """An Alertmanager on loopback, alone (no cluster), with its own storage."""
    return [
        str(find_binary("alertmanager")),
        f"--config.file={config_file}",
        f"--storage.path={storage}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--web.external-url=http://127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]


def prometheus_command(config_file: Path, storage: Path, port: int) -> list[str]:
    """A Prometheus on loopback that resends firing alerts every second."""
    return [
        str(find_binary("prometheus")),
        f"--config.file={config_file}",
        f"--storage.tsdb.path={storage}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--web.external-url=http://127.0.0.1:{port}",
        "--web.enable-lifecycle",
        "--rules.alert.resend-delay=1s",
    ]


def start_component(component: Component, log: Path, env: dict[str, str] | None = None) -> Started:
    """Start `component` (output to `log`) and record how to find and stop it again."""
    proc = processes.start(component.argv, {**os.environ, **component.env, **(env or {})}, log)
    return Started(
        name=component.name,
        pid=proc.pid,
        since_boot=processes.since_boot(proc),
        url=component.url,
        ready_path=component.ready_path,
        log=log,
    )


def wait_ready(item: Started, deadline: float, timeout: float) -> None:
    """Wait until `item` answers its ready path; a StackError when it exits or `deadline`
    (monotonic; `timeout` seconds after the start) passes."""
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
                f"{item.name} not ready at {item.url}{item.ready_path} within {timeout:g}s; "
                f"see {item.log}"
            )
        time.sleep(0.1)


def wait_targets_up(
    prometheus_url: str,
    deadline: float,
    timeout: float,
    hint: str = "",
    regions: tuple[str, Collection[str]] | None = None,
) -> None:
    """Wait until the Prometheus at `prometheus_url` has scraped every target successfully
    (with `regions` = (job, names): and has a target of that job for each of those regions);
    a StackError naming the targets still down or missing (job, region, URL, error), then
    `hint`, when `deadline` (monotonic) passes."""
    url = prometheus_url + "/api/v1/targets?state=active"
    down: list[str] = ["(no targets yet)"]
    while time.monotonic() < deadline:
        try:
            targets = httpx.get(url, timeout=2.0).json()["data"]["activeTargets"]
        except (httpx.HTTPError, ValueError, KeyError):
            targets = []
        down = [_target_down(target) for target in targets if target["health"] != "up"]
        if regions is not None:
            job, names = regions
            found = {t["labels"].get("region") for t in targets if t["labels"].get("job") == job}
            missing = sorted(set(names) - found)
            down += [f"job {job} region {name}: no target yet" for name in missing]
        if targets and not down:
            return
        time.sleep(0.2)
    raise StackError(
        f"prometheus at {prometheus_url}: targets not up within {timeout:g}s: "
        + "; ".join(down or ["(none reported)"])
        + (f" ({hint})" if hint else "")
    )


def _target_down(target: dict[str, Any]) -> str:
    labels = target["labels"]
    region = f" region {labels['region']}" if labels.get("region") else ""
    error = target.get("lastError") or target["health"]
    return f"job {labels.get('job')}{region} at {target['scrapeUrl']}: {error}"


class LocalStack:
    def __init__(self, config: Config, on_event: Callable[[str], None] | None = None):
        self.config = config
        self.data_dir = config.stack.data_dir.resolve()
        self.state_file = self.data_dir / STATE_FILE
        self.logs_dir = self.data_dir / "logs"
        self._say = on_event or (lambda message: None)

    # ----------------------------------------------------------------- lifecycle

    def up(self, fresh: bool = False) -> list[Started]:
        """Start every component and wait until all are healthy. Stored data (databases,
        Prometheus and Alertmanager storage, logs) is kept unless `fresh`; a running stack is
        updated instead (see `update`), and refuses `fresh`."""
        if self.running():
            if fresh:
                raise StackError(
                    f"the stack in {self.data_dir} is running: stop it with "
                    "`signalcheck down` before starting it fresh"
                )
            self.update()
            return self._load()
        self._forget_stopped()
        components = self.components()
        self._check_ports_free(components)
        self._prepare_data_dir(fresh)
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

    def update(self) -> tuple[list[str], list[str]]:
        """`up` on a running stack: render the configs from the current config, heal (see
        `heal`), then reload Prometheus and Alertmanager in place (see `reload`) and wait until
        every target is up; (the components restarted, what each reloaded said)."""
        self._render()
        restarted = self.heal()
        reloaded = self._reload_running()
        deadline = time.monotonic() + self.config.stack.ready_timeout
        self._wait_targets_up(deadline)
        return restarted, reloaded

    def heal(self) -> list[str]:
        """Restart the components of a running stack whose process died and wait until they
        are ready, keep the others; stop a recorded demo whose region no longer says
        `demo: true` (its port is then the user's); the names restarted (empty when every
        component was alive)."""
        recorded = {item.name: item for item in self._load()}
        wanted = self.components()
        for name in sorted(set(recorded) - {component.name for component in wanted}):
            processes.stop(recorded.pop(name))
            self._save(list(recorded.values()))
            self._say(f"stopped {name}: not a component of {self._config_name()} any more")
        dead = [
            component
            for component in wanted
            if component.name not in recorded or processes.find(recorded[component.name]) is None
        ]
        if not dead:
            self._say(f"stack already running in {self.data_dir}")
            return []
        self._check_ports_free(dead)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        restarted: list[Started] = []
        try:
            for component in dead:
                restarted.append(self._start(component))
                recorded[component.name] = restarted[-1]
                self._save(list(recorded.values()))
            deadline = time.monotonic() + self.config.stack.ready_timeout
            for item in restarted:
                self._wait_ready(item, deadline)
                self._say(f"{item.name} restarted, ready at {item.url}")
        except BaseException:
            for item in reversed(restarted):
                processes.stop(item)
            raise
        return [item.name for item in restarted]

    def down(self) -> list[str]:
        """Stop exactly what `up` started; returns the names that were running."""
        recorded = self._load()
        stopped = [item.name for item in recorded if processes.find(item) is not None]
        self._stop_all(recorded)
        return stopped

    def reload(self) -> list[str]:
        """Render prometheus.yml, its scrape targets and alertmanager.yml from the current
        config and have the running Prometheus and Alertmanager load them: no restart, no data
        lost. What each reloaded, e.g. "prometheus: prometheus.yml, 4 rule files, ..."; a
        StackError naming the component, the rendered file and its log line when one did not
        take the new config (it keeps running the old one)."""
        if not self.running():
            raise StackError(f"no stack running in {self.data_dir}: start it with `signalcheck up`")
        self._render()
        return self._reload_running()

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
        """The demo app's ingest key: send only, the demo page embeds it."""
        return self.data_dir / RUM_API_KEY_FILE

    @property
    def rum_read_key_path(self) -> Path:
        """The demo app's read key: analytics and sessions only, never in a page."""
        return self.data_dir / RUM_READ_KEY_FILE

    def url(self, name: str) -> str:
        """The loopback URL of a running component, e.g. `url("prometheus")`."""
        return self._recorded(name).url

    # ------------------------------------------------------------------ makeup

    def components(self) -> list[Component]:
        """Every process of the stack, in start order (receivers before senders): a demo only
        for the regions with `demo: true`."""
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
            alertmanager_command(
                data / "alertmanager.yml", data / "alertmanager", ports.alertmanager
            ),
            ports.alertmanager,
            "/-/ready",
        )
        prometheus = Component(
            "prometheus",
            prometheus_command(data / "prometheus.yml", data / "prometheus", ports.prometheus),
            ports.prometheus,
            "/-/ready",
        )
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
        demos = [
            Component(
                f"demo-{name}",
                [python, "-m", "signalcheck.demo"],
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
                region=name,
            )
            for name, region in self.config.demo_regions().items()
        ]
        return [capture, pushgateway, alertmanager, rum_ingest, *demos, prometheus]

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
                    if component.region is None:
                        advice = f"choose another port in {self._config_name()}"
                    else:
                        advice = (
                            "if your service runs there, drop `demo: true` from "
                            f"regions.{component.region} in {self._config_name()}; else choose "
                            "another port in its base_url"
                        )
                    raise StackError(
                        f"{component.name}: port {component.port} on 127.0.0.1 is already in use "
                        f"({exc.strerror}); {advice}"
                    ) from exc

    def _config_name(self) -> str:
        return str(self.config.source or "the config")

    def _prepare_data_dir(self, fresh: bool) -> None:
        """Render the configs and create missing secrets; with `fresh`, first delete the
        stored data (old alerts, spans or RUM events then cannot leak into a new run), saying
        what was deleted. Secrets and the open faults are kept."""
        if fresh:
            doomed = [self.data_dir / sub for sub in ("prometheus", "alertmanager", "logs")]
            for path in [*doomed, *sorted(self.data_dir.glob("*.db*"))]:
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
                else:
                    continue
                self._say(f"deleted {path}")
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self._render()
        for secret in (self.admin_token_path, self.rum_api_key_path, self.rum_read_key_path):
            if not secret.exists():
                write_private(secret, secrets.token_urlsafe(24))

    def _render(self) -> None:
        render_prometheus(self.config, self.data_dir)
        render_alertmanager(self.config, self.data_dir)

    def _reload_running(self) -> list[str]:
        """Have the running Prometheus and Alertmanager load their rendered configs."""
        return [self._reload_prometheus(), self._reload_alertmanager()]

    def _reload_prometheus(self) -> str:
        reload = _Reload(self._running("prometheus"), self.data_dir / "prometheus.yml")
        reload.run("prometheus_config")
        document = yaml.safe_load(reload.rendered.read_text())
        job = self.config.stack.scrape.job
        return (
            f"prometheus: {reload.rendered.name}, {len(document['rule_files'])} rule file(s), "
            f"targets/{job}.json (job {job}: {', '.join(self.config.regions)})"
        )

    def _reload_alertmanager(self) -> str:
        reload = _Reload(self._running("alertmanager"), self.data_dir / "alertmanager.yml")
        reload.run("alertmanager_config")
        try:
            status = httpx.get(f"{reload.item.url}/api/v2/status", timeout=5.0)
            loaded = yaml.safe_load(status.json()["config"]["original"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise reload.failed(f"no config in its /api/v2/status ({exc})") from exc
        rendered = yaml.safe_load(reload.rendered.read_text())
        if _receivers(loaded) != _receivers(rendered):
            raise reload.failed("the receivers it runs are not the rendered ones")
        return f"alertmanager: {reload.rendered.name}"

    def _running(self, name: str) -> Started:
        item = self._recorded(name)
        if processes.find(item) is None:
            raise StackError(
                f"{name} of the stack in {self.data_dir} is not running: "
                "`signalcheck up` restarts it"
            )
        return item

    def _start(self, component: Component) -> Started:
        env: dict[str, str] = {}
        if component.name.startswith("demo-"):
            env["DEMO_ADMIN_TOKEN"] = self.admin_token_path.read_text().strip()
            env["DEMO_RUM_API_KEY"] = self.rum_api_key_path.read_text().strip()
        if component.name == "rum-ingest":
            env["RUM_API_KEYS"] = f"{RUM_APP_NAME}={self.rum_api_key_path.read_text().strip()}"
            env["RUM_READ_KEYS"] = f"{RUM_APP_NAME}={self.rum_read_key_path.read_text().strip()}"
        started = start_component(component, self.logs_dir / f"{component.name}.log", env)
        self._say(f"started {component.name} (pid {started.pid})")
        return started

    def _wait_ready(self, item: Started, deadline: float) -> None:
        wait_ready(item, deadline, self.config.stack.ready_timeout)

    def _wait_targets_up(self, deadline: float) -> None:
        yours = [name for name, region in self.config.regions.items() if not region.demo]
        hint = (
            f"regions {', '.join(yours)} are your service's (no `demo: true`): it must answer "
            f"at their metrics URL; see regions.<name>.metrics_url and stack.scrape in "
            f"{self._config_name()}"
            if yours
            else ""
        )
        wait_targets_up(
            self.url("prometheus"),
            deadline,
            self.config.stack.ready_timeout,
            hint=hint,
            regions=(self.config.stack.scrape.job, list(self.config.regions)),
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


class _Reload:
    """One reload of a running component from its rendered config file."""

    def __init__(self, item: Started, rendered: Path):
        self.item = item
        self.rendered = rendered
        self._log_offset = item.log.stat().st_size if item.log.exists() else 0

    def run(self, metrics_prefix: str) -> None:
        """POST /-/reload (Prometheus and Alertmanager answer once the reload is done, 200
        when it took), then check the component's own `<prefix>_last_reload_successful` and
        its success time."""
        began = time.time()
        try:
            response = httpx.post(f"{self.item.url}/-/reload", timeout=RELOAD_TIMEOUT)
        except httpx.HTTPError as exc:
            raise self.failed(f"POST /-/reload: {exc}") from exc
        if response.status_code != 200:
            answer = " ".join(response.text.split())[:300]
            raise self.failed(f"POST /-/reload: {response.status_code} {answer}")
        metrics = self.own_metrics()
        succeeded = metrics.get(f"{metrics_prefix}_last_reload_success_timestamp_seconds", 0.0)
        if metrics.get(f"{metrics_prefix}_last_reload_successful") != 1.0 or succeeded < began - 1:
            raise self.failed(f"{metrics_prefix}_last_reload_successful says it did not take")

    def own_metrics(self) -> dict[str, float]:
        """The unlabelled samples of the component's own /metrics."""
        try:
            text = httpx.get(f"{self.item.url}/metrics", timeout=5.0).text
        except httpx.HTTPError as exc:
            raise self.failed(f"GET /metrics: {exc}") from exc
        samples = {}
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if line and not line.startswith("#") and "{" not in name:
                samples[name] = float(value.split()[0])
        return samples

    def failed(self, why: str) -> StackError:
        return StackError(
            f"{self.item.name} did not load {self.rendered}: {why}; it keeps its previous "
            f"config; see {self.item.log}: {self._log_line()}"
        )

    def _log_line(self) -> str:
        """The first line the component logged since the reload began that reports an error
        (the cause; later ones sum up), from its message on; else its last line."""
        try:
            with self.item.log.open("rb") as log:
                log.seek(self._log_offset)
                lines = log.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        errors = [line for line in lines if "level=error" in line.lower() or " err=" in line]
        if errors:
            return errors[0][max(errors[0].find("msg="), 0) :][:400]
        return ([line for line in lines if line.strip()] or [""])[-1][-300:]


def _receivers(document: dict[str, Any]) -> list[str]:
    return sorted(str(receiver.get("name")) for receiver in document.get("receivers") or [])


def _is_ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False
