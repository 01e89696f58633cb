"""The `load` expectation: the service counted exactly the requests Locust got an answer for,
per route and status class. Without a stack: what it says when there is nothing to judge.
On the real stack: a real `signalcheck load` run passes; the same ledger entry with one
count tampered fails naming the route and status class."""

from __future__ import annotations

import time

import pytest

from signalcheck.config import Config
from signalcheck.evidence import Context, Outcome
from signalcheck.evidence.backends import BackendSet
from signalcheck.evidence.load import check_load
from signalcheck.expectations import LoadExpectation
from signalcheck.ledger import Entry
from tests.load.conftest import REGION, finish, load_entries, signalcheck_load

EXP = LoadExpectation(name="load-counted", budget=15, conditional=True)
COUNTED = {"/v1/assignments": {"2xx": 12, "none": 1}, "/health": {"2xx": 3}}


def load(requests: dict, start: float = 100.0, end: float = 120.0) -> Entry:
    return Entry(ts=end, kind="load", region=REGION, start=start, end=end, requests=requests)


def judged(config: Config, entries: list[Entry], exp: LoadExpectation = EXP) -> Outcome:
    backends = BackendSet(config.backends)
    try:
        return check_load(exp, Context(config=config, entries=entries, backends=backends))
    finally:
        backends.close()


def test_no_load_skips_only_when_conditional_and_unplanned(stack_config):
    skipped = judged(stack_config, [])
    assert skipped.passed and skipped.skipped == "conditional: this run planned no load run"
    failed = judged(stack_config, [], EXP.model_copy(update={"conditional": False}))
    assert not failed.passed and failed.summary.startswith(
        "nothing to judge: no load run in this run ("
    )
    planned = Entry(ts=1.0, kind="planned", actor="load")
    missing = judged(stack_config, [planned])
    assert not missing.passed and missing.skipped is None
    assert "load run was planned" in missing.summary and "never happened" in missing.summary


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        (
            [load(COUNTED),
             Entry(ts=1.0, kind="fault", action="kill", region=REGION, start=110.0, end=115.0)],
            f"load on {REGION} 100.000..120.000 not judged: the region was killed during",
        ),
        (
            [load({"/health": {"2xx": 3}, "/v1/assignments": {"none": 4}})],
            "not judged: no answered request to a counted route",
        ),
    ],
)  # fmt: skip
def test_a_load_that_cannot_be_judged_is_a_failure_saying_why(stack_config, entries, reason):
    outcome = judged(stack_config, entries)
    assert not outcome.passed and outcome.skipped is None
    assert outcome.summary.startswith("nothing to judge: ") and reason in outcome.summary


@pytest.mark.stack
@pytest.mark.slow
def test_a_real_load_run_is_counted_and_a_tampered_count_fails(stack, stack_config):
    process = signalcheck_load(
        stack_config.source, "--profile", "api-ramp", "--region", REGION, "--duration", "6s"
    )
    code, output = finish(process, timeout=90)
    assert code == 0, output
    entry = load_entries(stack_config)[-1]
    exp = EXP.model_copy(update={"settle": 2 * stack_config.stack.scrape_interval})
    outcome = judged(stack_config, [entry], exp)
    assert outcome.passed, outcome.report("load")
    assert outcome.time_to_appear is not None and 0 <= outcome.time_to_appear <= exp.budget
    assert "✗ " not in outcome.observed and "/v1/assignments 2xx: sent" in outcome.observed

    requests = entry.field("requests")
    sent = requests["/v1/assignments"]["2xx"]
    tampered = {**requests, "/v1/assignments": {**requests["/v1/assignments"], "2xx": sent + 1}}
    lying = Entry(**{**entry.model_dump(), "requests": tampered})
    began = time.monotonic()
    outcome = judged(stack_config, [lying], exp.model_copy(update={"budget": 3}))
    assert not outcome.passed
    assert f"{REGION}: /v1/assignments 2xx: sent {sent + 1}, counted {sent}" in outcome.summary
    assert time.monotonic() - began < 10
