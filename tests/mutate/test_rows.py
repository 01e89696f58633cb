"""A mutant's row from its shadow's outcomes: a check that failed on evidence catches it; a
check that could not be judged (a backend unavailable) never does: with nothing else failed,
the row is an error naming it (it was `caught`)."""

from __future__ import annotations

import pytest

from signalcheck.config import load_config
from signalcheck.evidence import Outcome
from signalcheck.mutate.coverage import Exercise, Injected
from signalcheck.mutate.derive import derive, load_sources
from signalcheck.mutate.run import Exercised
from tests.support import REPO

MUTANT = "scrape.prometheus"
BASELINE = ["targets:alertmanager-scraped", "targets:demo-targets-up-with-region"]
UNAVAILABLE = Outcome.not_judged("backend prometheus (http://127.0.0.1:1) failed its check")
FAILED = Outcome(passed=False, summary="no active target of job 'alertmanager'")
PASSED = Outcome(passed=True, summary="up")


@pytest.mark.parametrize(
    ("outcomes", "status", "says"),
    [
        ([UNAVAILABLE, UNAVAILABLE], "error", "could not be judged: targets:alertmanager-scraped: "
         "backend prometheus (http://127.0.0.1:1) failed its check | targets:demo-targets"),
        ([FAILED, UNAVAILABLE], "caught", ""),
        ([PASSED, PASSED], "not caught", "no expectation reads job prometheus's series"),
    ],
    ids=["only-unjudged", "one-failed-on-evidence", "all-passed"],
)  # fmt: skip
def test_an_unjudged_check_never_catches_a_mutant(outcomes, status, says):
    config = load_config(REPO / "signalcheck.yaml", environ={})
    mutants = [m for m in derive(load_sources(config)) if m.name == MUTANT]
    exercise = Exercise.of(config.expectations, [], Injected(frozenset()))
    done = Exercised(config, exercise, [], [], {}, mutants, 0.0)
    row = done._row(mutants[0], BASELINE, dict(zip(BASELINE, outcomes, strict=True)), "")
    assert row.status == status, row
    assert says in row.why
    assert row.caught_by == (["targets:alertmanager-scraped"] if status == "caught" else [])


def test_a_shadow_with_an_exited_process_is_an_error_whatever_its_checks_say():
    config = load_config(REPO / "signalcheck.yaml", environ={})
    mutants = [m for m in derive(load_sources(config)) if m.name == MUTANT]
    exercise = Exercise.of(config.expectations, [], Injected(frozenset()))
    done = Exercised(config, exercise, [], [], {}, mutants, 0.0)
    exited = "scrape.prometheus/prometheus exited (no log line; see p.log)"
    row = done._row(mutants[0], BASELINE, dict.fromkeys(BASELINE, FAILED), exited)
    assert (row.status, row.caught_by) == ("error", [])
    assert row.why == f"its shadow could not be judged: {exited}"
