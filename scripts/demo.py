"""`make demo` until the game day exists: start the local stack, show it, fire one live alert.

Injects errors into eu-west-1 under steady traffic, times HighErrorRate from injection to
Prometheus, Alertmanager and the webhook next to the floor the configuration implies,
resets the fault, waits for the resolved notification, and stops the stack.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
import yaml
from rich.console import Console
from rich.table import Table

from signalcheck.backends.alertmanager import AlertmanagerClient
from signalcheck.backends.capture import CaptureClient
from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.cli import print_status
from signalcheck.config import load_config
from signalcheck.stack import LocalStack
from signalcheck.stack.render import COMPOSE_DIR
from signalcheck.stack.traffic import BackgroundTraffic
from signalcheck.waiting import wait_for

REGION = "eu-west-1"
ALERT = "HighErrorRate"
console = Console()


def parse_duration(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    raise ValueError(f"not a duration: {text}")


def rule_for(alert: str) -> float:
    for path in (COMPOSE_DIR / "prometheus" / "rules").glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") == alert:
                    return parse_duration(rule.get("for", "0s"))
    raise SystemExit(f"alert {alert} not found in the shipped rules")


def main() -> int:
    config = load_config(Path(__file__).resolve().parents[1] / "signalcheck.yaml")
    stack = LocalStack(config, on_event=lambda line: console.print(f"  {line}"))
    console.rule("signalcheck up")
    began = time.monotonic()
    stack.up()
    console.print(f"stack healthy in [bold]{time.monotonic() - began:.1f}s")
    try:
        print_status(stack)
        with BackgroundTraffic(config):
            live_alert(config, stack)
    finally:
        console.rule("signalcheck down")
        stack.down()
    return 0


def live_alert(config, stack: LocalStack) -> None:
    console.rule(f"live alert: errors injected into {REGION}")
    token = stack.admin_token_path.read_text().strip()
    admin = f"{str(config.regions[REGION].base_url).rstrip('/')}/admin/faults"
    headers = {"Authorization": f"Bearer {token}"}
    backends = config.backends
    prometheus = PrometheusClient(backends.prometheus)
    alertmanager = AlertmanagerClient(backends.alertmanager)
    capture = CaptureClient(backends.capture)

    def named(alerts):
        return [a for a in alerts if a["labels"].get("alertname") == ALERT]

    time.sleep(3)  # a few seconds of healthy traffic in the rate window
    httpx.put(admin, json={"error_rate": 1.0}, headers=headers, timeout=5).raise_for_status()
    injected = time.time()
    try:
        _, t_prom = wait_for(
            lambda: [a for a in named(prometheus.alerts()) if a["state"] == "firing"],
            timeout=120,
            what=f"{ALERT} firing in Prometheus",
            interval=0.1,
            max_interval=0.2,
        )
        _, t_am = wait_for(
            lambda: named(alertmanager.alerts()),
            timeout=30,
            what=f"{ALERT} in Alertmanager",
            interval=0.1,
            max_interval=0.2,
        )
        notes, t_hook = wait_for(
            lambda: capture.notifications(alertname=ALERT, status="firing", since=injected),
            timeout=30,
            what=f"{ALERT} notification at the webhook",
            interval=0.1,
            max_interval=0.2,
        )
        t_am, t_hook = t_prom + t_am, t_prom + t_am + t_hook
    finally:
        httpx.delete(admin, headers=headers, timeout=5).raise_for_status()
    cleared = time.time()
    _, t_resolved = wait_for(
        lambda: capture.notifications(alertname=ALERT, status="resolved", since=injected),
        timeout=180,
        what=f"{ALERT} resolved notification at the webhook",
    )

    stack_cfg = config.stack
    floor = (
        stack_cfg.scrape_interval
        + stack_cfg.evaluation_interval
        + rule_for(ALERT)
        + stack_cfg.group_wait
    )
    table = Table("signal", "seconds after injection", "floor (scrape + eval + for + group_wait)")
    table.add_row("firing in Prometheus", f"{t_prom:.1f}", "")
    table.add_row("active in Alertmanager", f"{t_am:.1f}", "")
    table.add_row("notification at webhook", f"{t_hook:.1f}", f"{floor:.1f}")
    table.add_row("resolved at webhook (after reset)", f"{t_resolved:.1f}", "")
    console.print(table)
    note = notes[0]
    console.print(
        f"notification: receiver=[bold]{note['receiver']}[/] region={note['labels']['region']} "
        f"priority={note['labels']['priority']} summary={note['annotations'].get('summary')!r}"
    )
    console.print(f"fault cleared at +{cleared - injected:.1f}s")
    for client in (prometheus, alertmanager, capture):
        client.close()


if __name__ == "__main__":
    sys.exit(main())
