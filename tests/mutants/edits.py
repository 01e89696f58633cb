"""How a mutant changes the running local stack, each change undone when its block ends:
a component redeployed with one defect on its own port, a rendered config file edited (and the
backend reloaded), a shipped rule file replaced by an edited copy, a Pushgateway group deleted.

The repository's files are never touched: the stack runs from rendered copies in its data
dir, and the defective builds are tests/mutants/broken_*.py wrapping the real entry points.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

from signalcheck import processes
from signalcheck.backends.capture import CaptureClient
from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.backends.pushgateway import PushgatewayClient
from signalcheck.config import Config
from signalcheck.probes.push import group_path
from signalcheck.processes import Started
from signalcheck.stack import LocalStack
from signalcheck.waiting import wait_for
from tests.support import REPO

WAIT = 30.0
"""Seconds any one step of applying or undoing a mutant may take."""

Document = Any
"""A parsed YAML or JSON config file, changed in place by a mutant's edit."""


def replace_once(text: str, old: str, new: str) -> str:
    """`text` with its one `old` replaced: a mutant is one change, and fails loudly when the
    shipped file no longer holds the text it changes."""
    count = text.count(old)
    assert count == 1, f"expected {old!r} exactly once, found it {count} time(s)"
    return text.replace(old, new)


# ------------------------------------------------------------------------- components


@contextmanager
def redeployed(
    stack: LocalStack, config: Config, component: str, module: str, env: dict[str, str]
) -> Iterator[str]:
    """`component` replaced on its own port by `python -m module` with the same arguments and
    environment plus `env` (the same build with one defect), until the block ends; then the
    stack's own component is started again. Yields the log of the defective process."""
    spec = next(c for c in stack.components() if c.name == component)
    running = next(s for s in stack.status() if s.name == component and s.pid is not None)
    original = psutil.Process(running.pid)
    argv, environ = original.cmdline(), original.environ()
    assert argv[1] == "-m", f"{component} does not run as `python -m`: {argv}"
    stack.stop_component(component)
    log = stack.logs_dir / f"{component}-{env.get('MUTANT', 'mutant')}.log"
    environ = {**environ, **env, "PYTHONPATH": str(REPO)}
    try:
        proc = processes.start([argv[0], "-m", module, *argv[3:]], environ, log)
        mutant = Started(
            name=f"{component} ({module})",
            pid=proc.pid,
            since_boot=processes.since_boot(proc),
            url=spec.url,
            ready_path=spec.ready_path,
            log=log,
        )
        try:
            _wait_serving(mutant)
            wait_scraped(config, spec.port, after=proc.create_time())
            yield str(log)
        finally:
            processes.stop(mutant)
    finally:
        stack.start_component(component)


def _wait_serving(started: Started) -> None:
    def serving() -> bool:
        if processes.find(started) is None:
            raise AssertionError(
                f"{started.name} exited: {processes.last_line(started.log)} (see {started.log})"
            )
        try:
            return httpx.get(started.url + started.ready_path, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(serving, timeout=WAIT, what=f"{started.name} to serve at {started.url}")


def wait_scraped(config: Config, port: int, *, after: float) -> None:
    """Wait until Prometheus has scraped the target on `port` successfully after `after`."""
    promql = f'timestamp(up{{instance="127.0.0.1:{port}"}} == 1) > {after:.3f}'
    with PrometheusClient(config.backends.prometheus) as prometheus:
        wait_for(
            lambda: prometheus.query(promql),
            timeout=WAIT,
            what=f"a successful scrape of 127.0.0.1:{port} after {after:.3f} ({promql})",
        )


# ------------------------------------------------------------------------------ files


@contextmanager
def edited(path: Path, change: Callable[[Document], None]) -> Iterator[None]:
    """The YAML or JSON file `path` changed by `change`, restored byte for byte afterwards."""
    original = path.read_text()
    document = yaml.safe_load(original)
    change(document)
    path.write_text(
        json.dumps(document, indent=2)
        if path.suffix == ".json"
        else yaml.safe_dump(document, sort_keys=False)
    )
    try:
        yield
    finally:
        path.write_text(original)


def reload(url: str) -> None:
    """POST /-/reload (Prometheus, Alertmanager): 200 only when the new config was applied."""
    response = httpx.post(f"{url}/-/reload", timeout=10)
    assert response.status_code == 200, f"{url}/-/reload: {response.status_code} {response.text}"


@contextmanager
def reloaded(path: Path, change: Callable[[Document], None], url: str) -> Iterator[None]:
    """`path` edited and the backend at `url` reloaded with it; reloaded again at the end."""
    try:
        with edited(path, change):
            reload(url)
            yield
    finally:
        reload(url)


def prometheus_yml(stack: LocalStack) -> Path:
    return stack.data_dir / "prometheus.yml"


def scrape_job(document: Document, name: str) -> dict[str, Any]:
    return next(job for job in document["scrape_configs"] if job["job_name"] == name)


@contextmanager
def rule_file_copy(
    stack: LocalStack, config: Config, shipped: str, change: Callable[[str], str]
) -> Iterator[None]:
    """The rendered prometheus.yml loads an edited copy of the shipped rule file `shipped`
    (e.g. "slo.yml") in its place; Prometheus reloaded."""
    document = yaml.safe_load(prometheus_yml(stack).read_text())
    original = next(Path(p) for p in document["rule_files"] if Path(p).name == shipped)
    copy = stack.data_dir / "mutant-rules" / shipped
    copy.parent.mkdir(exist_ok=True)
    copy.write_text(change(original.read_text()))

    def load_copy(rendered: Document) -> None:
        files = rendered["rule_files"]
        files[files.index(str(original))] = str(copy)

    try:
        with reloaded(prometheus_yml(stack), load_copy, config.backends.prometheus.base_url):
            yield
    finally:
        copy.unlink()


# ------------------------------------------------------------------------ Pushgateway


def delete_group(config: Config, job: str, **grouping_key: str) -> None:
    """Delete one Pushgateway group: DELETE on the path the probes push it to."""
    path = group_path(job, **grouping_key)
    with PushgatewayClient(config.backends.pushgateway) as client:
        response = client.request("DELETE", path)
        assert response.status_code == 202, f"DELETE {path}: {response.status_code}"


# ------------------------------------------------------------------ stopped mid-run


@contextmanager
def stopped_after_notification(
    stack: LocalStack, config: Config, component: str, alert: str, after: float = 3.0
) -> Iterator[None]:
    """`component` stopped, in the background, at the first notification of `alert` (an
    always-firing heartbeat) that reaches the capture receiver `after` seconds or more into
    the block (so the run the block holds has begun and has a heartbeat of its own); started
    again when the block ends, which then waits for `alert` to notify again."""
    began = time.time()
    failed: list[BaseException] = []

    def stop_at_the_next_beat() -> None:
        try:
            with CaptureClient(config.backends.capture) as capture:
                wait_for(
                    lambda: capture.notifications(alertname=alert, since=began + after),
                    timeout=WAIT,
                    what=f"a {alert} notification to stop {component} at",
                )
            stack.stop_component(component)
        except BaseException as exc:  # re-raised in the block's thread
            failed.append(exc)

    stopper = threading.Thread(target=stop_at_the_next_beat, name=f"stop {component}")
    stopper.start()
    try:
        yield
    finally:
        stopper.join(timeout=WAIT + 10)
        restarted = time.time()
        stack.start_component(component)
        with CaptureClient(config.backends.capture) as capture:
            wait_for(
                lambda: capture.notifications(alertname=alert, since=restarted),
                timeout=WAIT,
                what=f"a {alert} notification after {component} started again",
            )
    if failed:
        raise AssertionError(f"{component} was not stopped: {failed[0]}")
