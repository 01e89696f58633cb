"""The heartbeat check judged from canned capture notifications and Alertmanager status.

The capture's `/api/notifications` answer has the shape of signalcheck's own capture
receiver (tested for real in tests/capture); Alertmanager's GET /api/v2/status follows its
api/v2/openapi.yaml (`alertmanagerStatus.config.original` holds the loaded YAML). The same
check runs against the real stack in the mutant suite (tests/mutants: the root route's
receiver swapped) and in every `pytest validation/` run of the shipped config.
"""

from __future__ import annotations

import time

import pytest
import yaml

from signalcheck.config import load_config
from signalcheck.evidence import Context
from signalcheck.evidence.backends import BackendSet
from signalcheck.evidence.heartbeats import check_heartbeat, silences
from signalcheck.evidence.verifications import Verification
from signalcheck.expectations import HeartbeatExpectation
from signalcheck.ledger import Entry
from signalcheck.stack.render import render_alertmanager
from tests.support import free_port
from tests.validation.documented_api import canned_server

START = time.time() - 1000  # an old ledger: every wait has passed, the check looks once
END = START + 60
WATCHDOG = HeartbeatExpectation(name="hb", alert="Watchdog", receiver="default", budget=10)
AM_CONFIG = """
route:
  receiver: default
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 5s
  routes:
    - receiver: pager
      matchers: ['priority="P0"']
      repeat_interval: 20s
"""


@pytest.mark.parametrize(
    ("beats", "found"),
    [
        ([START - 3, *(START + t for t in range(6, 60, 8)), END + 2], []),
        ([START + t for t in range(9, 61, 9)], []),  # a fresh stack: the first within budget
        ([START - 3, START + 6, START + 40, START + 50, END], [(START + 6, START + 40)]),
        ([START + 25, END], [(START, START + 25), (START + 25, END)]),
        # a silence that ended as the run began: only its part past `allowed` counts
        ([START - 15, *(START + t for t in range(3, 63, 6))], [(START - 15, START + 3)]),
        ([START - 9, *(START + t for t in range(1, 61, 6))], []),
        ([START - 3, START + 6], [(START + 6, END)]),
        ([], [(START, END)]),
    ],
    ids=[
        "steady",
        "first-after-start",
        "gap",
        "late-start-and-gap",
        "silence-into-the-run",
        "gap-across-the-start-within-budget",
        "stopped",
        "none",
    ],
)
def test_silences_longer_than_allowed_are_found(beats, found):
    assert silences(beats, START, END, 10) == found


def _note(at: float, receiver: str = "default") -> dict:
    return {"alertname": "Watchdog", "receiver": receiver, "status": "firing", "received_at": at,
            "labels": {"alertname": "Watchdog", "severity": "none"}}  # fmt: skip


def _check(tmp_path, exp: HeartbeatExpectation, notes: list[dict], status=None, stack=None):
    """The check judged on canned notifications; `status` answers /api/v2/status (default:
    AM_CONFIG), `stack` is the config's `stack:` (default: none); with `stack`, the config
    names no Alertmanager: the local stack's is the one in use."""

    def notifications(params):
        since = float(params["since"][0])
        found = [
            n
            for n in notes
            if n["alertname"] == params["alertname"][0]
            and n["status"] == params["status"][0]
            and n["received_at"] >= since
        ]
        return 200, {"notifications": found}

    routes = {
        "/health": (200, {"status": "ok"}),
        "/api/notifications": notifications,
        "/api/v2/status": status or (200, {"config": {"original": AM_CONFIG}}),
    }
    with canned_server(routes) as server:
        path = tmp_path / "signalcheck.yaml"
        backends = {"capture": {"url": server.url}}
        if stack is None:
            backends["alertmanager"] = {"url": server.url}
        regions = {"eu-west-1": {"base_url": "http://127.0.0.1:1"}}
        document = {"regions": regions, "backends": backends, "stack": stack or {}}
        path.write_text(yaml.safe_dump(document))
        config = load_config(path, environ={})
        if stack is not None:  # the local stack rendered its Alertmanager config, and stopped
            render_alertmanager(config, config.stack.data_dir)
        probe = Entry(ts=END, kind="probe", region="eu-west-1", check="health", start=START,
                      end=END, outcome="success")  # fmt: skip
        ctx = Context(config=config, entries=[probe], backends=BackendSet(config.backends))
        outcome = Verification("heartbeats:hb", exp, check_heartbeat).judge(ctx)
        return outcome, server.requests


def test_a_steady_heartbeat_passes(tmp_path):
    notes = [_note(t) for t in range(int(START) - 4, int(END) + 6, 6)]
    outcome, _ = _check(tmp_path, WATCHDOG, notes)
    assert outcome.passed, outcome.summary
    assert (
        "at most 6.0s apart (the longest silence allowed is 10s: the expectation's `budget`)"
        in (outcome.summary)
    )


@pytest.mark.parametrize(
    ("notes", "says"),
    [
        (
            [_note(t) for t in (START - 4, START + 2, START + 30, START + 36, END - 2)],
            f"no notification of Watchdog -> 'default' for 28.0s (from {START + 2:.0f}",
        ),
        (
            # it stopped reaching `default` before the run: only the beats before it are there
            [_note(START - 8), _note(START - 2)]
            + [_note(t, "chat") for t in range(int(START) + 4, int(END), 6)],
            f"no notification of Watchdog -> 'default' from the run's start ({START:.0f})",
        ),
        ([], "none since"),
    ],
    ids=["gap-in-the-run", "rerouted-before-the-run", "never"],
)
def test_a_missing_heartbeat_fails_saying_when(tmp_path, notes, says):
    outcome, _ = _check(tmp_path, WATCHDOG, notes)
    assert not outcome.passed
    assert says in outcome.summary
    assert "(the longest silence allowed is 10s: the expectation's `budget`)" in outcome.summary


def test_a_rerouted_heartbeat_names_where_it_went(tmp_path):
    notes = [_note(t, "chat") for t in range(int(START) - 4, int(END) + 6, 6)]
    outcome, _ = _check(tmp_path, WATCHDOG, notes)
    assert not outcome.passed
    assert "Watchdog reached ['chat'] instead: check the route it takes" in outcome.summary


def test_the_longest_silence_derives_from_the_alertmanager_config_in_use(tmp_path):
    """Two re-notify intervals (the tree's longest repeat_interval + group_interval: 20 + 2)
    plus the notification grace (group_interval 2 + 2 s): 48 s. Beats 40 s apart pass."""
    derived = HeartbeatExpectation(name="hb", alert="Watchdog", receiver="default")
    notes = [_note(t) for t in (START - 10, START + 30, END - 10)]
    outcome, requests = _check(tmp_path, derived, notes)
    assert outcome.passed, outcome.summary
    assert (
        "(the longest silence allowed is 48s: 2 x 22s to re-notify (repeat_interval + "
        "group_interval) + 4s notification grace, from the Alertmanager at http://127.0.0.1:"
    ) in outcome.summary
    assert "(/api/v2/status); set `budget` on the expectation to change it)" in outcome.summary
    since = [float(r.params["since"][0]) for r in requests if r.path == "/api/notifications"]
    assert since == [pytest.approx(START - 48)]


GAP_OF_28 = [_note(t) for t in (START - 4, START + 2, START + 30, START + 36, END - 2)]
"""A heartbeat that stopped for 28 s mid-run: past every tolerance below but Alertmanager's
own 4 h defaults (an 8-hour silence)."""


@pytest.mark.parametrize(
    "status",
    [(503, "unavailable"), (200, {"cluster": {}}), (200, {"config": {"original": "[]"}})],
    ids=["not-answering", "no-config", "not-a-config"],
)
def test_unreadable_timers_are_never_assumed(tmp_path, status):
    """It fell back to Alertmanager's defaults (4 h repeat) and passed a 28 s silence: the
    check cannot be judged without the timers (or a budget), and says so."""
    derived = HeartbeatExpectation(name="hb", alert="Watchdog", receiver="default")
    outcome, _ = _check(tmp_path, derived, GAP_OF_28, status=status)
    assert not outcome.passed
    assert outcome.error is not None, outcome.summary
    assert "Alertmanager's timers (group_wait, group_interval, repeat_interval) are unknown" in (
        outcome.summary
    )
    assert "set backends.alertmanager.url to the Alertmanager in use" in outcome.summary


def test_with_a_budget_unreadable_timers_do_not_matter(tmp_path):
    outcome, _ = _check(tmp_path, WATCHDOG, GAP_OF_28, status=(503, "unavailable"))
    assert not outcome.passed
    assert outcome.error is None
    assert "for 28.0s" in outcome.summary


def test_the_local_stacks_rendered_config_gives_the_timers_when_its_alertmanager_is_down(
    tmp_path,
):
    """The local stack's Alertmanager is the one in use and does not answer: its timers come
    from the alertmanager.yml the stack rendered for it (1 s wait, 2 s interval, 5 s repeat:
    18 s), so the 28 s silence fails, naming that file."""
    derived = HeartbeatExpectation(name="hb", alert="Watchdog", receiver="default")
    stack = {"data_dir": str(tmp_path / "stack"), "ports": {"alertmanager": free_port()}}
    outcome, _ = _check(tmp_path, derived, GAP_OF_28, stack=stack)
    assert not outcome.passed, outcome.summary
    assert outcome.error is None, outcome.summary
    assert "no notification of Watchdog -> 'default' for 28.0s" in outcome.summary
    rendered = tmp_path / "stack" / "alertmanager.yml"
    assert "is 18s: 2 x 7s to re-notify" in outcome.summary
    assert f"from the local stack's {rendered}" in outcome.summary
