"""A user-written experiment with stock providers only
(chaos/experiments/examples/demo-latency-http.json: the demo's latency through its admin API
with plain `http` actions), run by the stock `chaos run` on the real local stack.

Marked for signalcheck, its fault lands in the ledger and the shipped `high-latency-chats`
expectation passes (HighLatency fires for the region, reaches chat, resolves). With the marks
removed the same actions really slow the region down, and the expectation, made
non-conditional as a game day that expects this alert declares it, fails: nothing to judge.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Config
from signalcheck.stack import LocalStack
from signalcheck.waiting import wait_for
from tests.chaos.conftest import REGION, journal, judge, ledger, run_chaos, shipped, tail
from tests.support import REPO

EXPERIMENT = REPO / "chaos" / "experiments" / "examples" / "demo-latency-http.json"
EXPECTATION = "high-latency-chats"
QUIET_TIMEOUT = 150.0
"""Seconds to wait for an earlier test's HighLatency to resolve (its 1-minute window)."""


UNMARKED_REGION = "us-east-1"
"""The unmarked run slows this region, not REGION: the marked run need not wait for the
HighLatency it may cause to resolve."""


def env(config: Config, region: str = REGION) -> dict[str, str]:
    """What the experiment reads from the environment: the region, its URL, the admin token."""
    return {
        "SIGNALCHECK_CHAOS_REGION": region,
        "DEMO_URL": str(config.regions[region].base_url).rstrip("/"),
        "SIGNALCHECK_DEMO_ADMIN_TOKEN": LocalStack(config).admin_token_path.read_text().strip(),
    }


def unmarked(tmp_path: Path) -> Path:
    """The experiment without its signalcheck marks, and without the hold."""
    experiment = json.loads(EXPERIMENT.read_text())
    for activity in [*experiment["method"], *experiment["rollbacks"]]:
        activity.pop("signalcheck", None)
        activity.pop("pauses", None)
    path = tmp_path / "unmarked.json"
    path.write_text(json.dumps(experiment))
    return path


def wait_latency_quiet(config: Config) -> None:
    """Until no HighLatency is pending or firing for the region (another test's may be)."""
    assert config.backends.prometheus is not None
    query = f'count(ALERTS{{alertname="HighLatency", region="{REGION}"}}) or vector(0)'
    with PrometheusClient(config.backends.prometheus) as prometheus:
        wait_for(
            lambda: float(prometheus.query(query)[0]["value"][1]) == 0,
            timeout=QUIET_TIMEOUT,
            what=f"HighLatency of {REGION} to resolve before the experiment",
        )


@pytest.mark.stack
def test_unmarked_the_fault_happens_but_the_expectation_fails_with_nothing_to_judge(
    stack, stack_config, traffic, tmp_path
) -> None:
    done = run_chaos(
        unmarked(tmp_path), stack_config, tmp_path / "run", **env(stack_config, UNMARKED_REGION)
    )

    assert done.returncode == 0, tail(done.stderr)
    (inject, restore) = journal(tmp_path / "run")["run"]
    assert inject["output"]["status"] == 200, inject
    assert inject["output"]["body"]["latency_ms"] == 800, "the demo was really slowed down"
    assert restore["output"]["body"]["latency_ms"] == 0
    assert not [e for e in ledger(tmp_path / "run") if e.kind in ("fault", "planned")]

    expectation = shipped(EXPECTATION).model_copy(update={"conditional": False})
    outcome = judge(stack_config, tmp_path / "run", expectation)
    assert not outcome.passed and outcome.skipped is None, outcome
    assert outcome.summary.startswith("nothing to judge: no latency fault in this run (")


@pytest.mark.stack
@pytest.mark.slow
def test_marked_the_fault_lands_in_the_ledger_and_the_latency_alert_expectation_passes(
    stack, stack_config, traffic, tmp_path
) -> None:
    wait_latency_quiet(stack_config)
    done = run_chaos(EXPERIMENT, stack_config, tmp_path / "run", **env(stack_config))

    assert done.returncode == 0, tail(done.stderr)
    assert journal(tmp_path / "run")["status"] == "completed"
    entries = ledger(tmp_path / "run")
    planned = [e for e in entries if e.kind == "planned"]
    assert [(p.field("action"), p.field("region")) for p in planned] == [("latency", REGION)]
    faults = [e for e in entries if e.kind == "fault"]
    assert [(f.field("action"), f.field("region")) for f in faults] == [("latency", REGION)] * 2
    opened, closed = faults
    assert opened.field("end") is None
    assert closed.field("params") == {"activity": "slow-down-region", "provider": "http"}
    assert 30 <= closed.field("end") - closed.field("start") < 35, "held 30 s, then restored"

    expectation = shipped(EXPECTATION).model_copy(update={"conditional": False})
    outcome = judge(stack_config, tmp_path / "run", expectation)
    print("high-latency-chats (stock http fault):", outcome.summary)
    assert outcome.passed, outcome.report(EXPECTATION)
    assert outcome.time_to_appear is not None and outcome.time_to_appear <= expectation.budget
