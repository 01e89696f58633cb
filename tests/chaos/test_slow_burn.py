"""The slow-burn experiment (chaos/experiments/slow-burn.json), run by the stock `chaos run` on
the chaos package's stack with the two long thresholds of the shipped rules shortened, so that
it takes two minutes instead of seventeen: SyntheticProbeStale fires on results 30 s old (not
600) and ErrorBudgetBurnSlow after 20 s (not 15 m). The rules are otherwise the shipped ones,
loaded from edited copies and put back after.

It faults us-east-1, not the other experiments' eu-west-1: the burn-rate alerts it sets off
outlast it, and would be already firing in a later experiment there. For the same reason the
shortened ErrorBudgetBurnSlow selects us-east-1 alone: the errors of the package's earlier
experiments stay in eu-west-1's 6 h and 30 m windows, and with a 20 s `for` they fired it there
too when this test ran after them (a stray of the stack's history, not of this run).

The run must leave the paused region out of every probe pass until it resumes while the other
regions go on being probed, bring both alerts to chat for that region alone, and pass the
shipped `stale-probes-chat` and `slow-burn-chats` expectations on its ledger. Its full length,
with the shipped rules, is what `signalcheck mutate` runs (the README's coverage figures).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml

from signalcheck.chaos import faultlog, signals
from signalcheck.chaos.context import RunContext
from signalcheck.chaos.probes import keep_probing
from signalcheck.chaos.probing import probe_and_push
from signalcheck.config import load_config
from signalcheck.ledger import LEDGER_FILE, Ledger
from signalcheck.stack import LocalStack
from tests.chaos.conftest import EXPERIMENTS, journal, judge, ledger, run_chaos, shipped, tail
from tests.mutants.edits import replace_once, rule_file_copy
from tests.support import write_stack_config

EXPERIMENT = EXPERIMENTS / "slow-burn.json"
SLOW_REGION = "us-east-1"
SHORTENED = {
    "probes.yml": {"SyntheticProbeStale": {"for": "5s", "expr": (") > 600", ") > 30")}},
    "slo.yml": {
        "ErrorBudgetBurnSlow": {
            "for": "20s",
            "expr": ("ratio_rate6h >", f'ratio_rate6h{{region="{SLOW_REGION}"}} >'),
        }
    },
}
ENV = {
    "SIGNALCHECK_CHAOS_REGION": SLOW_REGION,
    "SIGNALCHECK_CHAOS_STALE_WITHIN": "120",
    "SIGNALCHECK_CHAOS_BURN_WITHIN": "150",
    "SIGNALCHECK_CHAOS_PROBE_SECONDS": "100",
    "SIGNALCHECK_CHAOS_PROBE_EVERY": "5",
}


def shortened(changes: dict[str, dict]) -> Callable[[str], str]:
    """A rule file's text with the named alerts' `for` (and one expression fragment) replaced."""

    def change(text: str) -> str:
        document = yaml.safe_load(text)
        rules = {r.get("alert"): r for g in document["groups"] for r in g["rules"]}
        for alert, edit in changes.items():
            rule = rules[alert]
            rule["for"] = edit["for"]
            if "expr" in edit:
                rule["expr"] = replace_once(rule["expr"], *edit["expr"])
        return yaml.safe_dump(document, sort_keys=False)

    return change


def test_a_paused_region_is_left_out_of_probe_passes_until_it_resumes(tmp_path: Path) -> None:
    """The probes_paused fault in a ledger is what the probe passes read (no stack needed: a
    pass with every region paused runs nothing, pushes nothing and fails nothing)."""
    config = load_config(write_stack_config(tmp_path), environ={})
    ctx = RunContext(config, Ledger(tmp_path / LEDGER_FILE), "test", dry=False)
    for region in config.regions:
        faultlog.open_fault(ctx.ledger, faultlog.PROBES_PAUSED, region, {})
    assert faultlog.paused_regions(ctx.ledger) == set(config.regions)
    assert probe_and_push(ctx, config, None) is True
    assert ctx.ledger.entries("probe") == []
    faultlog.close_faults(ctx.ledger, SLOW_REGION, (faultlog.PROBES_PAUSED,))
    assert SLOW_REGION not in faultlog.paused_regions(ctx.ledger)


def test_keep_probing_is_bounded_and_ends_when_the_run_is_interrupted(tmp_path, monkeypatch):
    """Each pass fails at once here (no region serves: connection refused); the loop runs
    until its `seconds`, or stops at its next step once an interrupt set `stopping`."""
    path = write_stack_config(tmp_path)
    raw = yaml.safe_load(path.read_text())
    raw["checks"] = [{"name": "ready", "type": "http", "path": "/health/ready", "timeout": 1}]
    path.write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("SIGNALCHECK_RUN_DIR", str(tmp_path / "run"))
    configuration = {"signalcheck_config": str(path)}
    signals.stopping.clear()
    began = time.monotonic()
    assert keep_probing(seconds=0.5, every=0.3, configuration=configuration) == 1  # one pass
    assert time.monotonic() - began < 10
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(keep_probing, seconds=600, every=0.3, configuration=configuration)
        time.sleep(1.0)
        signals.stopping.set()
        try:
            assert running.result(timeout=10) >= 1
        finally:
            signals.stopping.clear()
    regions = {e.field("region") for e in Ledger(tmp_path / "run" / LEDGER_FILE).entries("probe")}
    assert regions == set(raw["regions"])


@pytest.mark.stack
@pytest.mark.slow
def test_the_slow_burn_experiment_fires_both_alerts_for_its_region_at_chat(
    stack, stack_config, traffic, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    with ExitStack() as edits:
        for name, changes in SHORTENED.items():
            edits.enter_context(
                rule_file_copy(LocalStack(stack_config), stack_config, name, shortened(changes))
            )
        ran = run_chaos(EXPERIMENT, stack_config, run_dir, timeout=400, **ENV)
        assert ran.returncode == 0, tail(ran.stderr)
        run = journal(run_dir)
        assert run["status"] == "completed", tail(ran.stderr)
        assert run["steady_states"]["after"]["steady_state_met"] is True

        entries = ledger(run_dir)
        faults = faultlog.faults(Ledger(run_dir / LEDGER_FILE))
        assert {(f.field("action"), f.field("region")) for f in faults} == {
            (faultlog.PROBES_PAUSED, SLOW_REGION),
            ("errors", SLOW_REGION),
        }
        assert all(f.field("end") is not None for f in faults), faults
        (pause,) = [f for f in faults if f.field("action") == faultlog.PROBES_PAUSED]
        during = [
            e
            for e in entries
            if e.kind == "probe" and pause.field("start") <= e.field("start") < pause.field("end")
        ]
        probed = {e.field("region") for e in during}
        assert probed == set(stack_config.regions) - {SLOW_REGION}, probed
        after = [e for e in entries if e.kind == "probe" and e.field("start") >= pause.field("end")]
        assert SLOW_REGION in {e.field("region") for e in after}

        detections = {e.field("alert"): e for e in entries if e.kind == "detection"}
        assert set(detections) == {"SyntheticProbeStale", "ErrorBudgetBurnSlow"}
        for detection in detections.values():
            assert detection.field("region") == SLOW_REGION
            assert detection.field("receiver") == "chat" and detection.field("strays") == []

        for name in ("stale-probes-chat", "slow-burn-chats"):
            outcome = judge(stack_config, run_dir, shipped(name))
            assert outcome.passed, outcome.report(name)
