"""What an exercise reaches: the shipped experiments exercise every derived mutant (the game
day's alone, all but the five the slow-burn experiment reaches); a probe alert (`needs_probes`)
is reached only by experiments that run a probe pass after their fault, so the same latency
fault without one leaves its mutants unexercised; an expectation scoped to one experiment
(`experiment`) is reached by that experiment's faults."""

from __future__ import annotations

from signalcheck.config import load_config
from signalcheck.gameday.plan import PROFILES
from signalcheck.mutate.coverage import Exercise, Injected
from signalcheck.mutate.derive import derive, load_sources
from signalcheck.mutate.experiments import experiment_paths, faults_of
from signalcheck.mutate.run import SHADOW_KINDS, judged_kinds
from tests.support import REPO

EXAMPLE = REPO / "chaos" / "experiments" / "examples" / "demo-latency-http.json"


def _unexercised(config, injected: Injected) -> set[str]:
    exercise = Exercise.of(config.expectations, ["x"], injected)
    return {m.name for m in derive(load_sources(config)) if exercise.missing(m) is not None}


def test_the_shipped_experiments_exercise_every_derived_mutant() -> None:
    config = load_config(REPO / "signalcheck.yaml", environ={})
    paths = experiment_paths(config, [])
    # the game day's order, then the long slow-burn one: those setting off burn-rate alerts last
    assert [p.stem for p in paths] == [*PROFILES["full"].experiments, "slow-burn"]
    injected = faults_of(paths)
    assert {f.action for f in injected.faults if f.probed} == {"latency", "kill"}
    assert _unexercised(config, injected) == set()
    # without the slow-burn experiment, nothing stops the probes or holds errors for 15 minutes
    game_day = _unexercised(config, faults_of(paths[:-1]))
    assert game_day == {
        "SyntheticProbeStale.threshold", "SyntheticProbeStale.for", "SyntheticProbeStale.grouping",
        "ErrorBudgetBurnSlow.threshold", "ErrorBudgetBurnSlow.for",
    }  # fmt: skip
    # the inhibition experiment's kill while the burn-rate alert fires
    assert not {"inhibit.1", "ErrorBudgetBurnFast.threshold", "ErrorBudgetBurnFast.for"} & game_day


def test_a_latency_fault_without_a_probe_pass_does_not_reach_it() -> None:
    config = load_config(REPO / "signalcheck.yaml", environ={})
    injected = faults_of([EXAMPLE])
    assert [(f.action, f.probed) for f in injected.faults] == [("latency", False)]
    unexercised = _unexercised(config, injected)
    assert {"SyntheticHighLatency.threshold", "SyntheticHighLatency.for"} <= unexercised
    assert "HighLatency.threshold" not in unexercised


def test_a_shadow_is_judged_on_the_evidence_its_mutant_can_change() -> None:
    config = load_config(REPO / "signalcheck.yaml", environ={})
    kinds = {m.name: judged_kinds(m) for m in derive(load_sources(config))}
    assert kinds["scrape.demo"] == SHADOW_KINDS
    assert kinds["HighErrorRate.threshold"] == {"alerts", "heartbeats", "quiet", "rules", "metrics"}
    assert kinds["route.1-pager.receiver"] == kinds["inhibit.1"] == {"alerts", "heartbeats"}
    # every mutant is judged on alerts at least, and never on stores no shadow has
    assert all("alerts" in k and k <= SHADOW_KINDS for k in kinds.values())


def test_the_heartbeat_exercises_the_root_route_without_any_fault() -> None:
    """Watchdog (always firing, no priority) takes the root route in every exercise, so its
    rule's mutants and the root receiver's swap are exercised by a probe pass alone; its
    `vector(1)` selects no metric and groups by nothing: no such mutants."""
    config = load_config(REPO / "signalcheck.yaml", environ={})
    watchdog = {m.name for m in derive(load_sources(config)) if "Watchdog" in m.alerts}
    assert watchdog == {"Watchdog.threshold", "Watchdog.for", "route.root-default.receiver"}
    assert not watchdog & _unexercised(config, Injected(frozenset()))
