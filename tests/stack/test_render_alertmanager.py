"""The local stack's rendering of compose/alertmanager/alertmanager.yml: the short timings,
`stack.repeat_interval` among them, on every route that sets its own, and a config the real
`amtool` accepts. Compose's own file keeps its production timings."""

from __future__ import annotations

import subprocess

import yaml

from signalcheck.config import load_config
from signalcheck.stack import render
from signalcheck.stack.binaries import find_binary
from tests.support import write_stack_config


def _routes(route: dict) -> list[dict]:
    return [route, *(r for child in route.get("routes", []) for r in _routes(child))]


def test_repeat_interval_comes_from_the_stack_config(tmp_path):
    path = write_stack_config(tmp_path)
    raw = yaml.safe_load(path.read_text())
    raw.setdefault("stack", {})["repeat_interval"] = 3.5
    path.write_text(yaml.safe_dump(raw))
    config = load_config(path, environ={})
    source = yaml.safe_load(render.ALERTMANAGER_YML.read_text())
    source["route"]["routes"][0]["repeat_interval"] = "1h"  # a child with its own timer

    rendered_path = render.render_alertmanager(config, tmp_path / "out", source=source)
    rendered = yaml.safe_load(rendered_path.read_text())

    assert rendered["route"]["repeat_interval"] == "3500ms"
    assert rendered["route"]["routes"][0]["repeat_interval"] == "3500ms"
    assert all(r.get("repeat_interval") in (None, "3500ms") for r in _routes(rendered["route"]))
    assert rendered["inhibit_rules"] == source["inhibit_rules"]
    checked = subprocess.run(
        [str(find_binary("amtool")), "check-config", str(rendered_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert yaml.safe_load(render.ALERTMANAGER_YML.read_text())["route"]["repeat_interval"] == "4h"


def test_the_default_repeat_interval_is_a_few_seconds(tmp_path):
    config = load_config(write_stack_config(tmp_path), environ={})
    rendered = yaml.safe_load(render.render_alertmanager(config, tmp_path / "out").read_text())
    assert rendered["route"]["repeat_interval"] == render.seconds(config.stack.repeat_interval)
    assert 0 < config.stack.repeat_interval <= 10
