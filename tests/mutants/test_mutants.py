"""The mutant suite: one-change breakages of the pipeline (producer code, pipeline config,
labels, rules, routing), each applied to the running local stack and undone, each judged by
`pytest validation/` run as users run it after the exercise it needs. A mutant is killed when
the validation test naming the broken signal fails, saying why; the healthy stack passes
before the first mutant and after the last, and each mutant leaves the stack as it found it.
"""

from __future__ import annotations

import time

import pytest

from signalcheck.evidence import verifications_for
from tests.mutants import fingerprint
from tests.mutants.catalog import MUTANTS, Mutant
from tests.mutants.exercises import Stage, assert_healthy
from tests.mutants.killtable import KILLS, Kill
from tests.validation.support import SuiteRun

pytestmark = [pytest.mark.stack, pytest.mark.slow]

SHARDS = 3
"""The mutants run in this many shards, each whole in one xdist worker on its own stack
(healthy before its first mutant and after its last), so the suite's wall time is a third."""


def _shard(index: int) -> pytest.MarkDecorator:
    return pytest.mark.xdist_group(f"mutants/{index % SHARDS}")


SHARD_PARAMS = [pytest.param(i, id=f"shard{i}", marks=_shard(i)) for i in range(SHARDS)]


@pytest.mark.parametrize("shard", SHARD_PARAMS)
def test_healthy_stack_passes_before_the_mutants(shard: int, healthy_before: SuiteRun) -> None:
    kinds = {
        name.split(":")[0] for name, r in healthy_before.results.items() if r.outcome == "passed"
    }
    evidence = {"metrics", "probes", "targets", "cardinality", "rum", "traces", "logs", "rules"}
    assert evidence | {"quiet", "heartbeats"} <= kinds, healthy_before.output[-4000:]


def _message(run: SuiteRun, expectation: str) -> str:
    result = run.results.get(expectation)
    return result.message if result else ""


def _params() -> list[object]:
    return [
        pytest.param(
            m,
            id=m.name,
            marks=[_shard(index)]
            + (
                [pytest.mark.xfail(strict=True, reason=f"known survivor: {m.survives}")]
                if m.survives
                else []
            ),
        )
        for index, m in enumerate(MUTANTS)
    ]


@pytest.mark.parametrize("mutant", _params())
def test_mutant_is_killed(mutant: Mutant, stage: Stage, healthy_before: SuiteRun) -> None:
    shipped = {v.id for v in verifications_for(stage.config.expectations)}
    waiting = sorted(set(mutant.kills) - shipped)
    if waiting:
        KILLS.append(
            Kill(mutant.name, mutant.category, mutant.kills, False, frozenset(), 0.0,
                 f"not run: no expectation {', '.join(waiting)} shipped yet")
        )  # fmt: skip
        pytest.fail(f"{mutant.name} survives: signalcheck.yaml ships no {', '.join(waiting)}")
    before = fingerprint.settled(stage.stack, stage.config)
    began = time.monotonic()
    try:
        with mutant.apply(stage):
            run = mutant.exercise.run(stage)
    finally:
        fingerprint.wait_restored(stage.stack, stage.config, before)
    failed = run.failed()
    first = _message(run, mutant.kills[0])
    killed = run.returncode == 1 and set(mutant.kills) <= failed and mutant.says in first
    KILLS.append(
        Kill(mutant.name, mutant.category, mutant.kills, killed, frozenset(failed),
             time.monotonic() - began, mutant.change)
    )  # fmt: skip
    assert run.returncode == 1, (
        f"{mutant.name} survived, exit {run.returncode}:\n{run.output[-4000:]}"
    )
    assert set(mutant.kills) <= failed, (
        f"{mutant.name} survived in {sorted(set(mutant.kills) - failed)}; failed: {sorted(failed)}"
        f"\n{run.output[-4000:]}"
    )
    assert mutant.says in first, f"{mutant.kills[0]} failed without {mutant.says!r}:\n{first}"


@pytest.mark.parametrize("shard", SHARD_PARAMS)
def test_healthy_stack_passes_after_the_mutants(
    shard: int, stage: Stage, healthy_before: SuiteRun
) -> None:
    run = assert_healthy(stage)
    assert set(run.results) == set(healthy_before.results)
