"""The stack's observable state, to show that a mutant was undone cleanly: the rendered config
files, the components that serve, the targets Prometheus scrapes (and their health), the rules
it loaded, the config Alertmanager loaded and the Pushgateway's groups."""

from __future__ import annotations

import hashlib
from pathlib import Path

from signalcheck.backends.alertmanager import AlertmanagerClient
from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.backends.pushgateway import PushgatewayClient
from signalcheck.config import Config
from signalcheck.errors import WaitTimeout
from signalcheck.stack import LocalStack
from signalcheck.waiting import wait_for

RESTORE_WAIT = 45.0

State = dict[str, list[str]]


def _files(stack: LocalStack) -> list[str]:
    paths = [stack.data_dir / "prometheus.yml", stack.data_dir / "alertmanager.yml"]
    paths += sorted((stack.data_dir / "targets").glob("*.json"))
    return [f"{path.name} {hashlib.sha256(path.read_bytes()).hexdigest()}" for path in paths]


def take(stack: LocalStack, config: Config) -> State:
    """The state; equal before a mutant and after it was undone."""
    backends = config.backends
    with (
        PrometheusClient(backends.prometheus) as prometheus,
        AlertmanagerClient(backends.alertmanager) as alertmanager,
        PushgatewayClient(backends.pushgateway) as pushgateway,
    ):
        targets = sorted(
            f"{t['labels'].get('job')} {t['scrapeUrl']} {sorted(t['labels'].items())} {t['health']}"
            for t in prometheus.targets()
        )
        rules = sorted(
            f"{Path(group['file']).name} {group['name']} {rule['name']} {rule['query']}"
            for group in prometheus.rules()
            for rule in group["rules"]
        )
        routing = [alertmanager.status()["config"]["original"]]
        groups = sorted(str(sorted(group["labels"].items())) for group in pushgateway.groups())
    components = sorted(f"{s.name} healthy={s.healthy}" for s in stack.status())
    return {
        "files": _files(stack),
        "components": components,
        "targets": targets,
        "rules": rules,
        "alertmanager": routing,
        "pushgateway groups": groups,
    }


def settled(stack: LocalStack, config: Config) -> State:
    """The state once every target was scraped since it (re)appeared: a scrape pool a config
    reload or a target file rewrote keeps its targets `unknown` until their first scrape, and
    the undo of the mutant before may still be reaching Prometheus."""

    def scraped() -> State | None:
        state = take(stack, config)
        return None if any(t.endswith(" unknown") for t in state["targets"]) else state

    state, _ = wait_for(scraped, timeout=RESTORE_WAIT, what="a scrape of every target it knows")
    return state


def differences(before: State, after: State) -> dict[str, dict[str, list[str]]]:
    """Per part that changed: what is gone and what is new."""
    return {
        part: {
            "gone": sorted(set(before[part]) - set(after[part])),
            "new": sorted(set(after[part]) - set(before[part])),
        }
        for part in before
        if before[part] != after[part]
    }


def wait_restored(stack: LocalStack, config: Config, before: State) -> None:
    """Wait until the stack is back in `before` (a restarted target needs a scrape to be up)."""
    last: list[State] = []

    def same() -> bool:
        last[:] = [take(stack, config)]
        return last[0] == before

    try:
        wait_for(same, timeout=RESTORE_WAIT, what="the stack as it was before the mutant")
    except WaitTimeout:
        raise AssertionError(
            f"the mutant was not undone within {RESTORE_WAIT:g}s: {differences(before, last[0])}"
        ) from None
