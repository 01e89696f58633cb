"""The example experiments for real chaos tooling (chaos/experiments/examples/) pass the stock
`chaos validate`, and their signalcheck marks plan each fault and restore it.

No cluster, Chaos Mesh or toxiproxy runs here: validation is all that can be checked (the
process and fault-switch examples run for real in test_your_service.py). The
pod-kill example calls chaostoolkit-kubernetes, which `chaos validate` imports: without it
installed that one test skips, saying so.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess

import pytest

from signalcheck.chaos.marks import SECTIONS, check_marks, marked
from signalcheck.chaos.planned import planned_faults
from tests.chaos.conftest import CHAOS, REGION
from tests.support import REPO

EXAMPLES = REPO / "chaos" / "experiments" / "examples"
PLANNED = {
    "pod-kill-kubernetes": [("pod_kill", REGION)],
    "chaos-mesh-network-delay": [("latency", REGION)],
    "toxiproxy-latency": [("latency", REGION)],
    "demo-latency-http": [("latency", REGION)],
    "process-stop": [("kill", REGION)],
    "http-fault-switch": [("errors", REGION)],
}
EXTENSIONS = {"pod-kill-kubernetes": "chaosk8s"}
SECRETS = {
    "K8S_TOKEN": "not-a-token",
    "SIGNALCHECK_DEMO_ADMIN_TOKEN": "not-a-token",
    "FAULT_TOKEN": "not-a-token",
}
"""`chaos validate` requires the environment variables the secrets name."""


def test_every_example_is_tested_and_documented() -> None:
    assert sorted(p.stem for p in EXAMPLES.glob("*.json")) == sorted(PLANNED)
    readme = (EXAMPLES / "README.md").read_text()
    assert all(f"`{name}.json`" in readme for name in PLANNED)


@pytest.mark.parametrize("name", sorted(PLANNED))
def test_stock_chaos_validate_accepts_the_example(name, tmp_path) -> None:
    if name in EXTENSIONS and importlib.util.find_spec(EXTENSIONS[name]) is None:
        pytest.skip(f"{EXTENSIONS[name]} is not installed (pip install chaostoolkit-kubernetes)")
    done = subprocess.run(
        [
            str(CHAOS),
            "--no-version-check",
            "--log-file",
            str(tmp_path / "chaos.log"),
            "validate",
            str(EXAMPLES / f"{name}.json"),
        ],
        env={"PATH": "/usr/bin:/bin", **SECRETS},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "experiment syntax and semantic look valid" in done.stderr


@pytest.mark.parametrize("name", sorted(PLANNED))
def test_the_marks_plan_the_fault_and_restore_it(name) -> None:
    experiment = json.loads((EXAMPLES / f"{name}.json").read_text())
    check_marks(experiment)
    assert planned_faults(experiment, {"region": REGION}) == PLANNED[name]
    method = [mark for _, mark in marked(experiment, "method")]
    restores = [mark for section in SECTIONS for _, mark in marked(experiment, section)]
    injecting = [a["name"] for a, m in marked(experiment, "method") if m.fault]
    assert [m.fault for m in method if m.fault] == [fault for fault, _ in PLANNED[name]]
    assert any(m.restores in (*injecting, *(f for f, _ in PLANNED[name])) for m in restores)
