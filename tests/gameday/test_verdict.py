"""The game day's verdict logic, without a stack: which skips may stand, and that the actors'
problems fail the report whatever the expectations say."""

from __future__ import annotations

import pytest

from signalcheck.config import load_config
from signalcheck.evidence import Context, Outcome, plan
from signalcheck.evidence.backends import BackendSet
from signalcheck.expectations import AlertExpectation, Expectations, LoadExpectation
from signalcheck.gameday.verdict import skip_problem
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
    (verification,) = plan(Expectations(**kinds))
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
