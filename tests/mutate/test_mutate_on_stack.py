"""`signalcheck mutate` on the real local stack: one exercise (latency injection, with its probe
pass of the slow region) with ten shadows (HighLatency's rule mutants, its chat route's and
SyntheticHighLatency's rule mutants), judged twice on the same ledger and shadows: the shipped
expectations catch all ten (the probe latency alert's through `slow-probes-chat`); with
high-latency-chats deleted, exactly the mutants only it caught are not caught."""

from __future__ import annotations

import psutil
import pytest

from signalcheck.actors import mutate_actors
from signalcheck.config import Config
from signalcheck.expectations import Expectations
from signalcheck.ledger import new_run_dir
from signalcheck.mutate.derive import derive, load_sources
from signalcheck.mutate.experiments import experiment_paths, faults_of
from signalcheck.mutate.run import Mutation, select

pytestmark = [pytest.mark.stack, pytest.mark.slow, pytest.mark.timeout(600)]
ONLY = ["HighLatency.*", "route.2-*", "SyntheticHighLatency.*"]
DELETED = "high-latency-chats"
SLOW_PROBES = "slow-probes-chat"


def without_expectation(config: Config, name: str) -> Config:
    """`config` without the alert expectation `name`; its alert is still one quiet allows
    (the fault may still cause it: only its detection is no longer judged)."""
    [deleted] = [e for e in config.expectations.alerts if e.name == name]
    alerts = [e.model_dump() for e in config.expectations.alerts if e.name != name]
    quiet = [
        {**q.model_dump(), "allow": [*q.allow, deleted.alert]} for q in config.expectations.quiet
    ]
    expectations = Expectations.model_validate(
        {**config.expectations.model_dump(), "alerts": alerts, "quiet": quiet}
    )
    return config.model_copy(update={"expectations": expectations})


def test_one_exercise_catches_every_mutant_and_a_deleted_expectation_shows(stack_config, stack):
    mutants = select(derive(load_sources(stack_config)), ONLY)
    assert len(mutants) == 10
    experiments = experiment_paths(stack_config, ["latency-injection"])
    mutation = Mutation(
        stack_config, mutants, experiments, faults_of(experiments), mutate_actors(),
        new_run_dir(stack_config.runs_dir), max_shadows=len(mutants),
    )  # fmt: skip
    with mutation.exercised() as done:
        pids = [p.pid for s in done.shadows for p in s.processes()]
        assert len(pids) == 2 * len(mutants)
        shipped = done.coverage()
        deleted = done.coverage(without_expectation(stack_config, DELETED))

    rows = {r.mutant: r for r in shipped.rows}
    assert shipped.passed, shipped.summary()
    assert {f"alerts:{DELETED}", f"alerts:{SLOW_PROBES}"} <= set(shipped.baseline)
    for name, row in rows.items():
        if name.startswith("SyntheticHighLatency."):
            # a renamed metric is the rules check's to catch; the others, the alert's
            wanted = "rules:" if name.endswith(".metric") else f"alerts:{SLOW_PROBES}"
        else:
            wanted = f"alerts:{DELETED}"
        assert any(c.startswith(wanted) for c in row.caught_by), (name, row.caught_by)
    only_by_deleted = {n for n, r in rows.items() if set(r.caught_by) == {f"alerts:{DELETED}"}}
    assert only_by_deleted, "some mutant must rest on the deleted expectation alone"
    assert only_by_deleted != set(rows), "others are caught by other expectations too"

    # without the expectation, quiet allows its alert (see without_expectation): what only the
    # two of them caught is no longer caught, and nothing else
    quiet = {f"quiet:{q.name}" for q in stack_config.expectations.quiet}
    only_by_it_and_quiet = {
        n for n, r in rows.items() if set(r.caught_by) <= {f"alerts:{DELETED}", *quiet}
    }
    not_caught = {r.mutant for r in deleted.rows if r.status != "caught"}
    assert not_caught == only_by_it_and_quiet, deleted.summary()
    assert only_by_deleted <= not_caught
    assert all(r.status == "not caught" and r.why for r in deleted.rows if r.mutant in not_caught)
    assert not deleted.passed and "not caught" in deleted.summary()

    assert not [pid for pid in pids if psutil.pid_exists(pid)], "every shadow stopped by PID"
