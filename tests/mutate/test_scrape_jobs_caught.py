"""Every scrape job the local stack keeps has an expectation that notices its removal: with
the shipped expectations, the shadow of each scrape-job mutant fails a `targets` check (the
one of its job: a job without region) that passes on the real pipeline."""

from __future__ import annotations

import pytest

from signalcheck.mutate.derive import derive, load_sources
from signalcheck.mutate.run import judge, select
from signalcheck.mutate.shadows import ShadowFleet

pytestmark = [pytest.mark.stack, pytest.mark.slow]
JOBS = {"prometheus": "prometheus-self-scraped", "alertmanager": "alertmanager-scraped",
        "rum-ingest": "rum-ingest-scraped"}  # fmt: skip
TARGETS = frozenset({"targets"})


def test_each_removed_scrape_job_fails_its_targets_expectation(stack_config, stack, tmp_path):
    mutants = select(derive(load_sources(stack_config)), [f"scrape.{job}" for job in JOBS])
    assert sorted(m.name for m in mutants) == sorted(f"scrape.{job}" for job in JOBS)
    real = judge(stack_config, [], TARGETS)
    assert {f"targets:{name}" for name in JOBS.values()} <= set(real)
    assert all(o.passed for o in real.values()), {k: o.summary for k, o in real.items()}

    with ShadowFleet(stack_config, mutants, tmp_path / "shadows") as fleet:
        failed = {
            shadow.mutant.name: {
                cid: outcome.summary
                for cid, outcome in judge(shadow.judged_config(stack_config), [], TARGETS).items()
                if not outcome.passed
            }
            for shadow in fleet.shadows
        }

    for job, name in JOBS.items():
        assert set(failed[f"scrape.{job}"]) == {f"targets:{name}"}, failed
        assert f"no active target of job {job!r}" in failed[f"scrape.{job}"][f"targets:{name}"]
