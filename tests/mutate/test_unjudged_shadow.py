"""A shadow that could not be judged is an error, never a catch: one exercise (two probe
passes) with the shadows of two scrape-job mutants, judged on the `targets` expectations
without the one of the prometheus job, so a healthy scrape.prometheus shadow would be *not
caught*. Its Prometheus is killed between the passes: its checks then find no backend (they
counted as failures, and the mutant as caught) and its row says which process exited; the
other shadow, alive, is still judged and caught."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from signalcheck.actors import mutate_actors
from signalcheck.config import Config
from signalcheck.expectations import Expectations
from signalcheck.ledger import new_run_dir
from signalcheck.mutate.coverage import Injected
from signalcheck.mutate.derive import derive, load_sources
from signalcheck.mutate.run import Actors, Mutation, select

pytestmark = [pytest.mark.stack, pytest.mark.slow, pytest.mark.timeout(300)]
KILLED = "scrape.prometheus"
ALIVE = "scrape.alertmanager"
UNCHECKED = "prometheus-self-scraped"


def targets_only(config: Config) -> Config:
    """The shipped `targets` expectations but the one of the prometheus job."""
    kept = [t for t in config.expectations.targets if t.name != UNCHECKED]
    assert len(kept) == len(config.expectations.targets) - 1
    expectations = Expectations(targets=kept)
    return config.model_copy(update={"expectations": expectations})


def kill_after_first_pass(shadow_dir: Path, killed: list[int]) -> Actors:
    """The CLI's actors; after the first probe pass, the Prometheus started for `shadow_dir`
    (a child of this process) is killed by its PID."""
    real = mutate_actors()

    def probe_pass(config: Config, ledger: Path) -> list[str]:
        failures = real.probe_pass(config, ledger)
        if not killed:
            storage = f"--storage.tsdb.path={shadow_dir / 'prometheus'}"
            (proc,) = [p for p in psutil.Process().children() if storage in p.cmdline()]
            proc.kill()
            proc.wait(timeout=10)
            killed.append(proc.pid)
        return failures

    return Actors(probe_pass, real.experiment, real.restore, real.traffic)


def test_a_shadow_whose_prometheus_died_mid_run_is_an_error_not_caught(stack_config, stack):
    config = targets_only(stack_config)
    mutants = select(derive(load_sources(config)), [KILLED, ALIVE])
    assert sorted(m.name for m in mutants) == sorted([KILLED, ALIVE])
    run_dir = new_run_dir(config.runs_dir)
    killed: list[int] = []
    acting = kill_after_first_pass(run_dir / "shadows" / KILLED, killed)
    mutation = Mutation(config, mutants, [], Injected(frozenset()), acting, run_dir, max_shadows=2)
    with mutation.exercised() as done:
        report = done.coverage()
    assert killed, "the shadow's Prometheus was killed during the exercise"

    rows = {r.mutant: r for r in report.rows}
    assert rows[KILLED].status == "error", rows[KILLED]
    assert rows[KILLED].caught_by == []
    assert f"its shadow could not be judged: {KILLED}/prometheus exited" in rows[KILLED].why
    assert rows[ALIVE].status == "caught", rows[ALIVE]
    assert rows[ALIVE].caught_by == ["targets:alertmanager-scraped"]
    assert not report.passed
    assert f"{KILLED} (error: its shadow could not be judged" in report.summary()
