"""The runner's verdict on a journal: stock `chaos run` exits 0 when the steady state was not
met before the method; `signalcheck chaos run` must not."""

from __future__ import annotations

from signalcheck.chaos.runner import journal_problems


def _journal(status="completed", before=True, after=True, method=("succeeded",)) -> dict:
    def state(met):
        if met is None:
            return None
        probe = {"activity": {"name": "every-region-ready"}, "output": met, "tolerance_met": met}
        return {"steady_state_met": met, "probes": [probe]}

    return {
        "status": status,
        "steady_states": {"before": state(before), "after": state(after)},
        "run": [{"activity": {"name": f"step-{i}"}, "status": s} for i, s in enumerate(method)],
    }


def test_a_completed_run_with_both_steady_states_met_passes() -> None:
    assert journal_problems(_journal()) == []


def test_steady_state_not_met_before_fails_although_chaos_says_completed() -> None:
    problems = journal_problems(_journal(before=False, after=None, method=()))
    assert problems == [
        "steady state not met before the method: every-region-ready = False",
        "steady state not met after the method (not checked)",
    ]


def test_steady_state_not_met_after_fails() -> None:
    assert journal_problems(_journal(after=False)) == [
        "steady state not met after the method: every-region-ready = False"
    ]


def test_interrupted_or_failed_method_fails() -> None:
    problems = journal_problems(_journal(status="interrupted", after=None, method=("failed",)))
    assert problems[0] == "experiment status is 'interrupted', not 'completed'"
    assert problems[-1] == "method activities failed: step-0"


def test_an_experiment_without_a_hypothesis_has_no_steady_state_to_miss() -> None:
    """chaoslib runs such an experiment "just exploring": both steady states are null."""
    exploring = {**_journal(before=None, after=None), "experiment": {"title": "no hypothesis"}}
    assert journal_problems(exploring) == []
    declared = {**exploring, "experiment": {"steady-state-hypothesis": {"title": "t"}}}
    assert journal_problems(declared) == [
        "steady state not met before the method (not checked)",
        "steady state not met after the method (not checked)",
    ]
