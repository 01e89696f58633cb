"""A game day's lanes: each lane's experiments one after another in its region, the lanes at
the same time, each `chaos run` given its lane's region. Plain process actions, no stack."""

from __future__ import annotations

import json
from pathlib import Path

from signalcheck.chaos.runner import ChaosRun, Planned, run_lanes
from signalcheck.config import load_config
from tests.support import write_stack_config


def experiment(tmp_path: Path, name: str, log: Path) -> Path:
    """An experiment that logs its region (`$SIGNALCHECK_CHAOS_REGION`) as it starts and
    ends, 2 s apart."""
    stamp = f"echo {name} ${{region}} $(date +%s.%N) >> {log}"
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({
        "title": name, "description": "d",
        "configuration": {"region": {"type": "env", "key": "SIGNALCHECK_CHAOS_REGION",
                                     "default": "nowhere"}},
        "method": [{"type": "action", "name": "run", "provider": {
            "type": "process", "path": "sh", "arguments": f"-c '{stamp}; sleep 2; {stamp}'"}}],
    }))  # fmt: skip
    return path


def test_lanes_run_at_once_each_in_its_region_and_in_order_within(tmp_path) -> None:
    config = load_config(write_stack_config(tmp_path), environ={})
    log = tmp_path / "log"
    lanes = [
        [Planned(experiment(tmp_path, "a", log), tmp_path / "a", "eu-west-1")],
        [Planned(experiment(tmp_path, "b", log), tmp_path / "b", "us-east-1"),
         Planned(experiment(tmp_path, "c", log), tmp_path / "c", "us-east-1")],
    ]  # fmt: skip
    done: list[tuple[str, ChaosRun]] = []
    interrupted = run_lanes(config, lanes, lambda p, run: done.append((p.run_dir.name, run)))
    assert not interrupted
    assert sorted(name for name, _ in done) == ["a", "b", "c"]
    assert all(run.returncode == 0 and run.started < run.ended for _, run in done), done
    seen: dict[str, list[float]] = {}
    regions = {}
    for line in log.read_text().splitlines():
        name, region, at = line.split()
        seen.setdefault(name, []).append(float(at))
        regions[name] = region
    assert regions == {"a": "eu-west-1", "b": "us-east-1", "c": "us-east-1"}
    (a0, a1), (b0, b1), c0 = seen["a"], seen["b"], seen["c"][0]
    assert a0 < b1 and b0 < a1, "the lanes ran at the same time"
    assert b1 < c0, "a lane's experiments ran one after another"
