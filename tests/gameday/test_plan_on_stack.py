"""A game day from a plan file whose experiment is user-written (stock http actions marked for
signalcheck: chaos/experiments/examples/demo-latency-http.json) passes on the real local stack,
its latency fault judged by the shipped `high-latency-chats` expectation.

The config is the package's stack cut as in test_verdict_on_stack.py (fast checks, `quiet`,
`heartbeats` and `alerts` expectations); the plan runs the chaos phase only.
"""

from __future__ import annotations

import pytest
import yaml
from rich.console import Console

from signalcheck.actors import gameday_actors
from signalcheck.cli.gameday import publish
from signalcheck.gameday import Gameday
from signalcheck.gameday.planfile import read_plan
from signalcheck.stack import LocalStack
from tests.gameday.test_verdict_on_stack import short_config
from tests.support import REPO

pytestmark = [pytest.mark.stack, pytest.mark.slow]

EXAMPLE = REPO / "chaos" / "experiments" / "examples" / "demo-latency-http.json"
REGION = "eu-west-1"


def test_a_plan_of_user_written_experiments_passes(config, tmp_path, monkeypatch) -> None:
    cut = short_config(config, tmp_path)
    monkeypatch.setenv("SIGNALCHECK_CHAOS_REGION", REGION)
    monkeypatch.setenv("DEMO_URL", str(cut.regions[REGION].base_url).rstrip("/"))
    token = LocalStack(cut).admin_token_path.read_text().strip()
    monkeypatch.setenv("SIGNALCHECK_DEMO_ADMIN_TOKEN", token)
    path = tmp_path / "plan.yaml"
    path.write_text(
        yaml.safe_dump({"name": "user-latency", "phases": ["chaos"], "experiments": [str(EXAMPLE)]})
    )

    console = Console(record=True, width=300)
    run = Gameday(cut, read_plan(path, cut), gameday_actors(), console)
    report = run.run()
    publish(report, run.run_dir, console)
    text = console.export_text()

    assert report.passed, text
    judged = [o for o in report.expectations if o.name == "chaos / alerts:high-latency-chats"]
    assert [(o.passed, o.skipped) for o in judged] == [(True, None)], judged
    assert (run.run_dir / "chaos-demo-latency-http" / "journal.json").exists()
