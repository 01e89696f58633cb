"""Alertmanager's routing as signalcheck computes it equals Alertmanager's own answer
(`amtool config routes test`, the routing code of the installed Alertmanager) for every
label set tried, on the shipped routes and on a nested tree with `continue`."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from signalcheck.scaffold.routing import route_alert
from signalcheck.stack.render import ALERTMANAGER_YML

NESTED = Path(__file__).parent / "data" / "nested-routes.yml"
LABEL_VALUES = {
    "severity": [None, "critical", "warning", "info"],
    "team": [None, "payments", "search"],
    "priority": [None, "P0", "P1", "P2"],
}


def amtool_receivers(config: Path, labels: dict[str, str]) -> list[str]:
    """The receivers Alertmanager's routing picks for `labels`, as amtool prints them."""
    done = subprocess.run(
        ["amtool", "config", "routes", "test", f"--config.file={config}",
         *(f"{k}={v}" for k, v in labels.items())],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return done.stdout.strip().split(",")


def label_sets() -> list[dict[str, str]]:
    names = list(LABEL_VALUES)
    return [
        {"alertname": "A", **{n: v for n, v in zip(names, values, strict=True) if v}}
        for values in itertools.product(*LABEL_VALUES.values())
    ]


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool (prometheus-alertmanager)")
@pytest.mark.parametrize("config", [ALERTMANAGER_YML, NESTED], ids=["shipped", "nested"])
def test_routing_equals_amtool(config: Path) -> None:
    route = yaml.safe_load(config.read_text())["route"]
    differ = []
    for labels in label_sets():
        ours, theirs = route_alert(route, labels).receivers, amtool_receivers(config, labels)
        if ours != theirs:
            differ.append((labels, ours, theirs))
    assert not differ, differ[:5]


def test_continue_reaches_several_receivers_and_children_inherit() -> None:
    route = yaml.safe_load(NESTED.read_text())["route"]
    labels = {"alertname": "A", "team": "payments", "priority": "P0", "severity": "critical"}
    routing = route_alert(route, labels)
    assert routing.receivers == ["audit", "payments-pager", "payments"]
    assert routing.consulted == {"severity", "team", "priority"}
