"""Shadow pipelines: one Prometheus + Alertmanager pair per mutant, on free loopback ports
(within `stack.port_range` when the config sets one), beside the real pipeline. Each scrapes
the real targets (the regions' job reads the real stack's file_sd targets, so a killed region
vanishes for the shadows too) and notifies the real capture receiver under
`/alertmanager/webhook/<mutant>`. Stopped by PID, also on errors."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from signalcheck import processes
from signalcheck.config import Backend, CaptureBackend, Config
from signalcheck.errors import StackError
from signalcheck.mutate.derive import Mutant
from signalcheck.processes import Started
from signalcheck.stack.launcher import (
    Component,
    alertmanager_command,
    prometheus_command,
    start_component,
    wait_ready,
    wait_targets_up,
)
from signalcheck.stack.ports import free_port
from signalcheck.stack.render import configured_rule_files, render_alertmanager, render_prometheus


@dataclass(frozen=True)
class Shadow:
    mutant: Mutant
    prometheus: Started
    alertmanager: Started

    def judged_config(self, config: Config) -> Config:
        """`config` reading this shadow: its Prometheus and Alertmanager, and the capture
        receiver's notifications of its source only."""
        backends = config.backends
        capture = backends.capture or CaptureBackend(url="http://127.0.0.1:1")
        update = {
            "prometheus": _pointed(backends.prometheus, self.prometheus.url),
            "alertmanager": _pointed(backends.alertmanager, self.alertmanager.url),
            "capture": CaptureBackend(
                **{**capture.model_dump(exclude={"source"}), "source": self.mutant.name}
            ),
        }
        return config.model_copy(update={"backends": backends.model_copy(update=update)})

    def processes(self) -> list[Started]:
        return [self.prometheus, self.alertmanager]

    def exited(self) -> str:
        """What of this shadow is no longer running ('' when all of it is): a pipeline that
        died while it was exercised or judged has no verdict, whatever its checks say."""
        return "; ".join(
            f"{p.name} exited ({processes.last_line(p.log) or 'no log line'}; see {p.log})"
            for p in self.processes()
            if processes.find(p) is None
        )


def _pointed(backend: Backend | None, url: str) -> Backend:
    if backend is None:
        return Backend(url=url)
    return Backend(**{**backend.model_dump(), "url": url})


class ShadowFleet:
    """Start the shadows of `mutants` (`with` block), stop every one of them after."""

    def __init__(self, config: Config, mutants: list[Mutant], root: Path):
        self.config = config
        self.mutants = mutants
        self.root = root
        self.targets_dir = config.stack.data_dir.resolve() / "targets"
        self.shadows: list[Shadow] = []
        self._started: list[Started] = []
        self._picked: list[int] = []

    def __enter__(self) -> ShadowFleet:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        if not self.targets_dir.is_dir():
            raise StackError(
                f"no local stack targets in {self.targets_dir}: start it with `signalcheck up`"
            )
        timeout = self.config.stack.ready_timeout
        for mutant in self.mutants:
            self.shadows.append(self._start(mutant))
        deadline = time.monotonic() + timeout + len(self.mutants)
        for item in self._started:
            wait_ready(item, deadline, timeout)
        for shadow in self.shadows:
            wait_targets_up(shadow.prometheus.url, deadline, timeout)

    def _start(self, mutant: Mutant) -> Shadow:
        directory = self.root / mutant.name
        ports = self.config.stack.ports.model_copy(
            update={"prometheus": self._free_port(), "alertmanager": self._free_port()}
        )
        own = self.config.model_copy(
            update={"stack": self.config.stack.model_copy(update={"ports": ports})}
        )
        rules_dir = directory / "rules"
        rules_dir.mkdir(parents=True, exist_ok=True)
        rule_files = []
        for path in configured_rule_files(own, mutant.prometheus):
            if path.name in mutant.rule_files:
                path = rules_dir / path.name
                path.write_text(mutant.rule_files[path.name])
            rule_files.append(path)
        prometheus_yml = render_prometheus(
            own, directory, source=mutant.prometheus, rule_files=rule_files,
            targets_dir=self.targets_dir,
        )  # fmt: skip
        alertmanager_yml = render_alertmanager(
            own, directory, source=mutant.alertmanager, webhook_source=mutant.name
        )
        logs = directory / "logs"
        alertmanager = start_component(
            Component(
                f"{mutant.name}/alertmanager",
                alertmanager_command(
                    alertmanager_yml, directory / "alertmanager", ports.alertmanager
                ),
                ports.alertmanager,
                "/-/ready",
            ),
            logs / "alertmanager.log",
        )
        self._started.append(alertmanager)
        prometheus = start_component(
            Component(
                f"{mutant.name}/prometheus",
                prometheus_command(prometheus_yml, directory / "prometheus", ports.prometheus),
                ports.prometheus,
                "/-/ready",
            ),
            logs / "prometheus.log",
        )
        self._started.append(prometheus)
        return Shadow(mutant, prometheus, alertmanager)

    def _free_port(self) -> int:
        """A free port in the config's range that no shadow of this fleet was given yet."""
        port = free_port(self.config.stack.port_range, self._picked)
        self._picked.append(port)
        return port

    def stop(self) -> None:
        """Stop every process started, by PID (each only if it is still the one started)."""
        while self._started:
            processes.stop(self._started.pop())
