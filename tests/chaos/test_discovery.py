"""`chaos discover signalcheck` lists every action, probe and control signalcheck exports, with
its arguments and docstring, and `chaos init` builds a valid experiment from that discovery."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from signalcheck.extension import ACTIONS_MODULE, CONTROL_MODULE, PROBES_MODULE
from tests.chaos.conftest import CHAOS, REGION

TIMEOUT = 120
KINDS = {ACTIONS_MODULE: "action", PROBES_MODULE: "probe", CONTROL_MODULE: "control"}
PROMPTED = (ACTIONS_MODULE, PROBES_MODULE)
"""The modules whose activities `chaos init` offers for the user to fill in."""
FILLED_BY_CHAOS = {"configuration", "secrets"}
"""Arguments Chaos Toolkit passes itself: `chaos init` does not ask for them."""


def chaos(directory: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The stock `chaos` CLI in `directory` (where it writes its log), with no user settings."""
    return subprocess.run(
        [str(CHAOS), "--no-version-check", "--settings", str(directory / "settings.yaml"), *args],
        cwd=directory,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "PAGER": "cat"},
    )


@pytest.fixture(scope="module")
def discovery_path(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("discovery")
    path = directory / "discovery.json"
    done = chaos(
        directory, "discover", "signalcheck", "--no-install", "--discovery-path", str(path)
    )
    assert done.returncode == 0 and path.exists(), done.stdout + done.stderr
    return path


@pytest.fixture(scope="module")
def activities(discovery_path) -> list[dict[str, Any]]:
    return json.loads(discovery_path.read_text())["activities"]


def exported(module: str) -> list[tuple[str, Any]]:
    mod = importlib.import_module(module)
    return [(name, getattr(mod, name)) for name in mod.__all__]


def test_every_exported_activity_is_discovered_with_its_arguments_and_doc(activities) -> None:
    found = {(a["mod"], a["name"]): a for a in activities}
    wanted = [(module, name, func) for module in KINDS for name, func in exported(module)]
    assert sorted(found) == sorted((module, name) for module, name, _ in wanted)
    for module, name, func in wanted:
        activity = found[module, name]
        assert activity["type"] == KINDS[module], name
        assert activity["doc"] == inspect.getdoc(func), name
        parameters = [
            p
            for p in inspect.signature(func).parameters.values()
            if p.kind not in (p.KEYWORD_ONLY, p.VAR_KEYWORD)
        ]
        assert [a["name"] for a in activity["arguments"]] == [p.name for p in parameters], name
        for argument, parameter in zip(activity["arguments"], parameters, strict=True):
            assert argument["type"] != "object", f"{name}({parameter.name}) has no portable type"
            if parameter.default is not parameter.empty:
                assert argument["default"] == parameter.default, f"{name}({parameter.name})"


@pytest.mark.parametrize("module", PROMPTED)
def test_each_activity_doc_says_what_its_arguments_mean(module) -> None:
    for name, func in exported(module):
        doc = inspect.getdoc(func) or ""
        assert len(doc) > 40, f"{name}: say what it does"
        for argument in inspect.signature(func).parameters:
            if argument not in FILLED_BY_CHAOS:
                assert f"`{argument}`" in doc, f"{name}: what is `{argument}`?"


def test_only_activities_are_exported() -> None:
    """The chaos modules' helpers live in modules of their own (chaos/restore.py, ...)."""
    for module in KINDS:
        mod = importlib.import_module(module)
        public = {
            name
            for name, func in inspect.getmembers(mod, inspect.isfunction)
            if func.__module__ == module and not name.startswith("_")
        }
        assert public == set(mod.__all__), module


def test_chaos_init_builds_a_valid_experiment_from_the_discovery(
    discovery_path, activities, tmp_path
) -> None:
    probes = [a["name"] for a in activities if a["type"] == "probe"]
    actions = [a["name"] for a in activities if a["type"] == "action"]
    every = [a["name"] for a in activities]
    answers = [
        "Region outage is detected",
        "y",  # a steady-state hypothesis
        "Nothing is down",
        str(probes.index("query_value") + 1),
        "y",  # use this probe
        "0",  # its tolerance
        'sum(ALERTS{alertname="ServiceDown"})',  # promql
        "n",  # no other probe
        "y",  # a method
        str(every.index("kill_region") + 1),
        "y",  # use this action
        REGION,  # region
        "n",  # no other activity
        "y",  # rollbacks
        str(actions.index("start_region") + 1),
        "y",  # use this action
        REGION,  # region
        "n",  # no other rollback
    ]
    experiment_path = tmp_path / "experiment.json"
    done = chaos(
        tmp_path,
        "init",
        "--discovery-path",
        str(discovery_path),
        "--experiment-path",
        str(experiment_path),
        stdin="\n".join(answers) + "\n",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    experiment = json.loads(experiment_path.read_text())
    [probe] = experiment["steady-state-hypothesis"]["probes"]
    assert probe["provider"] == {
        "type": "python",
        "module": PROBES_MODULE,
        "func": "query_value",
        "arguments": {"promql": 'sum(ALERTS{alertname="ServiceDown"})'},
    }
    assert [a["provider"]["func"] for a in experiment["method"]] == ["kill_region"]
    assert [a["provider"]["func"] for a in experiment["rollbacks"]] == ["start_region"]
    assert experiment["method"][0]["provider"]["arguments"] == {"region": REGION}
    validated = chaos(tmp_path, "validate", str(experiment_path))
    assert validated.returncode == 0, validated.stdout + validated.stderr
