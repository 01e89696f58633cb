"""The game day's verdict logic, without a stack: which skips may stand, and that the actors'
problems fail the report whatever the expectations say."""

from __future__ import annotations

import pytest

from signalcheck.config import load_config
from signalcheck.evidence import Context, Outcome, verifications_for
from signalcheck.evidence.backends import BackendSet
from signalcheck.expectations import AlertExpectation, Expectations, LoadExpectation
from signalcheck.gameday.verdict import skip_problem, unmatched_globs
from signalcheck.ledger import Entry
from tests.support import write_stack_config


@pytest.fixture
def config(tmp_path):
    return load_config(write_stack_config(tmp_path), environ={})


def _context(config, *entries: Entry) -> Context:
    return Context(config=config, entries=list(entries), backends=BackendSet(config.backends))


def _planned(actor: str, **fields) -> Entry:
    return Entry(ts=1.0, kind="planned", actor=actor, **fields)


def _verification(**kinds):
    (verification,) = verifications_for(Expectations(**kinds))
    return verification


ALERT = AlertExpectation(name="kill-pages", alert="ServiceDown", fault="kill", conditional=True)


def test_a_conditional_alert_whose_fault_was_not_planned_may_skip(config) -> None:
    verification = _verification(alerts=[ALERT])
    context = _context(config, _planned("fault", action="errors", region="eu-west-1"))
    outcome = verification.run(context)  # the real checker: no kill planned, none injected
    assert outcome.skipped and outcome.passed
    assert skip_problem(verification, outcome, context) is None


def test_a_skip_whose_actor_was_planned_fails_the_game_day(config) -> None:
    """Whatever a checker says, a skip cannot stand when the phase planned its actor."""
    verification = _verification(alerts=[ALERT])
    context = _context(config, _planned("fault", action="kill", region="eu-west-1"))
    problem = skip_problem(verification, Outcome.not_planned("no kill fault"), context)
    assert problem == "alerts:kill-pages skipped although this run planned its fault: no kill fault"
    assert not verification.run(context).passed, (
        "the real checker fails a planned, never injected fault"
    )


def test_a_planned_load_forbids_the_load_expectation_to_skip(config) -> None:
    verification = _verification(load=[LoadExpectation(name="counted", conditional=True)])
    skipped = Outcome.not_planned("no load run")
    assert skip_problem(verification, skipped, _context(config)) is None
    context = _context(config, _planned("load", profile="ramp", region="us-east-1"))
    assert "planned its load" in skip_problem(verification, skipped, context)


def test_only_conditional_expectations_may_skip(config) -> None:
    verification = _verification(alerts=[ALERT.model_copy(update={"conditional": False})])
    problem = skip_problem(verification, Outcome.not_planned("no kill fault"), _context(config))
    assert problem == "alerts:kill-pages skipped but is not conditional: no kill fault"


def test_an_outcome_that_did_not_skip_is_no_skip_problem(config) -> None:
    verification = _verification(alerts=[ALERT])
    failed = Outcome.nothing_to_judge("kill fault was planned but never happened")
    assert skip_problem(verification, failed, _context(config)) is None


INHIBITS = AlertExpectation(
    name="down-inhibits-burn", alert="ErrorBudgetBurnFast", fault="kill", conditional=True,
    experiment="A region pages once*", suppressed_by="ServiceDown", resolve_budget=30,
)  # fmt: skip
TITLES = {"A region that goes down pages": "region-outage.json",
          "A region pages once, for the cause": "inhibition.json"}  # fmt: skip


@pytest.mark.parametrize(
    ("titles", "planned_by", "problem"),
    [(TITLES, ["A region that goes down pages", "A region pages once, for the cause"], False),
     (TITLES, ["A region that goes down pages"], False),
     ({"A region that goes down pages": "region-outage.json", "Pages once": "inhibition.json"},
      ["A region that goes down pages", "Pages once"], True),
     ({"Pages once": "inhibition.json"}, [], False)],
    ids=["the-glob-matches-its-experiment", "its-experiment-not-in-this-run",
         "its-experiment-renamed", "no-fault-it-would-judge-planned"],
)  # fmt: skip
def test_an_experiment_glob_that_no_title_matches_fails_the_game_day(
    config, titles, planned_by, problem
) -> None:
    """Renaming inhibition.json's title turned service-down-inhibits-burn-alerts into a
    conditional skip and the game day passed: now the glob that matches no experiment's
    title (while this run planned a fault it would judge) is a problem naming both."""
    expectations = Expectations(alerts=[ALERT, INHIBITS])
    planned = [_planned("fault", action="kill", region="eu-west-1", experiment=t)
               for t in planned_by]  # fmt: skip
    problems = unmatched_globs(expectations, titles, _context(config, *planned))
    assert bool(problems) is problem, problems
    if problem:
        (message,) = problems
        assert (
            "alerts:down-inhibits-burn judges the kill faults of experiments titled "
            "'A region pages once*', and no experiment's title matches it" in message
        )
        assert "'Pages once' (inhibition.json)" in message
        assert (
            "this run's kill faults came from 'A region that goes down pages', 'Pages once'"
            in message
        )
