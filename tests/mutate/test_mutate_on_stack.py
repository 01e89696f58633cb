"""`signalcheck mutate` on the real local stack: one exercise (error injection) with six
shadows (HighErrorRate's rule mutants and its pager route's), judged twice on the same ledger
and shadows: the shipped expectations catch all six; with high-error-rate-pages deleted,
exactly the mutants only it caught are not caught."""

from __future__ import annotations

import time

import psutil
import pytest

from signalcheck.cli.mutate import actors, experiment_paths, faults_of
from signalcheck.config import Config
from signalcheck.expectations import Expectations
from signalcheck.ledger import new_run_dir
from signalcheck.mutate.derive import derive, load_sources
from signalcheck.mutate.run import Mutation, select

pytestmark = [pytest.mark.stack, pytest.mark.slow]
ONLY = ["HighErrorRate.*", "route.1-*"]
DELETED = "high-error-rate-pages"


def without_expectation(config: Config, name: str) -> Config:
    alerts = [e for e in config.expectations.alerts if e.name != name]
    assert len(alerts) == len(config.expectations.alerts) - 1
    expectations = Expectations.model_validate(
        {**config.expectations.model_dump(), "alerts": [e.model_dump() for e in alerts]}
    )
    return config.model_copy(update={"expectations": expectations})


def test_one_exercise_catches_every_mutant_and_a_deleted_expectation_shows(stack_config, stack):
    mutants = select(derive(load_sources(stack_config)), ONLY)
    assert len(mutants) == 6
    experiments = experiment_paths(stack_config, ["error-injection"])
    mutation = Mutation(
        stack_config, mutants, experiments, faults_of(experiments), actors(),
        new_run_dir(stack_config.runs_dir), max_shadows=len(mutants),
    )  # fmt: skip
    began = time.monotonic()
    with mutation.exercised() as done:
        pids = [p.pid for s in done.shadows for p in s.processes()]
        assert len(pids) == 2 * len(mutants)
        shipped = done.coverage()
        deleted = done.coverage(without_expectation(stack_config, DELETED))
    elapsed = time.monotonic() - began

    rows = {r.mutant: r for r in shipped.rows}
    assert shipped.passed, shipped.summary()
    assert f"alerts:{DELETED}" in shipped.baseline
    assert all(f"alerts:{DELETED}" in r.caught_by for r in rows.values()), shipped.summary()
    only_by_deleted = {n for n, r in rows.items() if set(r.caught_by) == {f"alerts:{DELETED}"}}
    assert only_by_deleted, "some mutant must rest on the deleted expectation alone"
    assert only_by_deleted != set(rows), "others are caught by other expectations too"

    not_caught = {r.mutant for r in deleted.rows if r.status != "caught"}
    assert not_caught == only_by_deleted, deleted.summary()
    assert all(r.status == "not caught" and r.why for r in deleted.rows if r.mutant in not_caught)
    assert not deleted.passed and "not caught" in deleted.summary()

    assert not [pid for pid in pids if psutil.pid_exists(pid)], "every shadow stopped by PID"
    assert elapsed < 240, f"mutate took {elapsed:.0f}s"
