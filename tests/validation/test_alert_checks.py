"""Alert checks judged from canned Prometheus `ALERTS` history and capture notifications:
firing for the faulted region only, labels, receiver, inhibition and resolution.

The answers follow the Prometheus HTTP API (an instant query of a range-vector selector
answers each series' raw samples as a matrix; `/api/v1/rules` gives each group's `interval`)
and the capture `/api/notifications` shape; the same checks run against the real stack in
test_suite_on_stack.py, the inhibition check in tests/chaos/test_inhibition.py (errors, then
the region made not ready), and a restarted Prometheus in test_alerts_after_restart.py.
"""

from __future__ import annotations

import re
import time
from itertools import pairwise

import pytest
import yaml

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Backend, load_config
from signalcheck.errors import UnknownTimers
from signalcheck.evidence import Context
from signalcheck.evidence.alert_series import MAX_SAMPLES, firing_series
from signalcheck.evidence.alerts import check_alert
from signalcheck.evidence.backends import BackendSet
from signalcheck.evidence.quiet import check_quiet
from signalcheck.evidence.routing import notification_grace
from signalcheck.expectations import AlertExpectation, QuietExpectation
from signalcheck.ledger import Entry
from tests.validation.documented_api import canned_server

START = time.time() - 1000  # an old ledger: every budget has passed, each check looks once
END = START + 100


def raw_alerts(history: list[tuple[dict[str, str], float, float]], every: float = 1):
    """/api/v1/query answering `ALERTS{...}[<n>ms]` at `time` with the raw samples written in
    that range, one per evaluation `every` seconds: `history` holds each series' labels and
    its first and last sample."""

    def answer(params):
        query = params["query"][0]
        at = float(params["time"][0])
        span = int(re.search(r"\[(\d+)ms\]$", query)[1]) / 1000
        named = re.search(r'alertname="([^"]+)"', query)
        states = re.search(r'alertstate=~"([^"]+)"', query)[1]
        result = []
        for labels, first, last in history:
            if named and labels["alertname"] != named[1]:
                continue
            if not re.fullmatch(states, labels["alertstate"]):
                continue
            times = (first + n * every for n in range(int((last - first) // every) + 1))
            values = [[t, "1"] for t in times if at - span < t <= at]
            if values:
                result.append({"metric": {"__name__": "ALERTS", **labels}, "values": values})
        return 200, {"status": "success", "data": {"resultType": "matrix", "result": result}}

    return answer


def rules(*alerts: str, interval: float = 1):
    """/api/v1/rules?type=alert: one group evaluated every `interval` seconds holding `alerts`."""
    group = {"name": "g", "file": "rules.yml", "interval": interval,
             "rules": [{"name": a, "type": "alerting"} for a in alerts]}  # fmt: skip
    return 200, {"status": "success", "data": {"groups": [group]}}


def _firing(firing: dict[str, dict[str, tuple[float, float]]], every: float = 1) -> dict:
    """The Prometheus routes of `firing[alertname][region] = (first, last)` (P0 alerts), their
    rules evaluated `every` seconds."""
    history = [
        ({"alertname": name, "alertstate": "firing", "region": region, "priority": "P0"}, *seen)
        for name, regions in firing.items()
        for region, seen in regions.items()
    ]
    return {
        "/api/v1/query": raw_alerts(history, every),
        "/api/v1/rules": rules(*firing, interval=every),
    }


def _notifications(notes: list[dict]):
    def answer(params):
        found = [
            n
            for n in notes
            if n["alertname"] == params["alertname"][0]
            and n["status"] == params["status"][0]
            and n["received_at"] >= float(params["since"][0])
            and f"region={n['labels']['region']}" == params["label"][0]
        ]
        return 200, {"notifications": found}

    return answer


def _note(
    alertname: str, region: str, receiver: str, status: str, at: float, priority: str = "P0"
) -> dict:
    return {"alertname": alertname, "receiver": receiver, "status": status, "received_at": at,
            "labels": {"alertname": alertname, "region": region,
                       "priority": priority}}  # fmt: skip


def _run(tmp_path, exp, fault_end, firing, notes, later: list[Entry] = (), every: float = 1):
    routes = {
        "/api/v1/status/buildinfo": (200, {"status": "success", "data": {}}),
        **_firing(firing, every),
        "/health": (200, {"status": "ok"}),
        "/api/notifications": _notifications(notes),
        # Alertmanager's GET /api/v2/status (config.original): a route with its default timers
        "/api/v2/status": (200, {"config": {"original": "route: {receiver: default}\n"}}),
    }
    with canned_server(routes) as server:
        path = tmp_path / "signalcheck.yaml"
        backends = {name: {"url": server.url} for name in ("prometheus", "capture", "alertmanager")}
        regions = {r: {"base_url": "http://127.0.0.1:1"} for r in ("eu-west-1", "us-east-1")}
        path.write_text(yaml.safe_dump({"regions": regions, "backends": backends}))
        config = load_config(path, environ={})
        fault = Entry(ts=START, kind="fault", action=exp.fault, region="eu-west-1", start=START,
                      end=fault_end, params={})  # fmt: skip
        entries = [fault, *later]
        ctx = Context(config=config, entries=entries, backends=BackendSet(config.backends))
        return check_alert(exp, ctx)


PAGES = AlertExpectation(name="p", alert="HighErrorRate", fault="errors", receiver="pager",
                         labels={"priority": "P0"}, budget=90, resolve_budget=120)  # fmt: skip


def test_fires_routes_and_resolves(tmp_path):
    firing = {"HighErrorRate": {"eu-west-1": (START + 35, END + 50)}}
    notes = [_note("HighErrorRate", "eu-west-1", "pager", "firing", START + 36),
             _note("HighErrorRate", "eu-west-1", "pager", "resolved", END + 52)]  # fmt: skip
    outcome = _run(tmp_path, PAGES, END, firing, notes)
    assert outcome.passed, outcome.summary
    assert outcome.time_to_appear == pytest.approx(35, abs=1)
    resolved_after = float(re.search(r'"time_to_resolve": ([\d.]+)', outcome.summary)[1])
    assert resolved_after == pytest.approx(50, abs=1)


@pytest.mark.parametrize(
    ("firing", "notes", "problem"),
    [
        ({"HighErrorRate": {}}, [], "HighErrorRate did not fire for eu-west-1 within 90s"),
        ({"HighErrorRate": {"eu-west-1": (START + 35, END), "us-east-1": (START + 40, END)}},
         [_note("HighErrorRate", "eu-west-1", "pager", "firing", START + 36)],
         "also fired for region(s) ['us-east-1'], where the ledger had no fault that may cause it"),
        ({"HighErrorRate": {"eu-west-1": (START + 35, END)}},
         [_note("HighErrorRate", "eu-west-1", "chat", "firing", START + 36)],
         "reached receiver(s) ['chat'], expected 'pager'"),
        ({"HighErrorRate": {"eu-west-1": (START + 35, END + 500)}},
         [_note("HighErrorRate", "eu-west-1", "pager", "firing", START + 36)],
         "still firing 120s after the restore"),
        ({"HighErrorRate": {"eu-west-1": (START - 60, END)}},
         [_note("HighErrorRate", "eu-west-1", "pager", "firing", START - 59)],
         "was already firing when the errors fault started"),
        ({"HighErrorRate": {"eu-west-1": (START + 35, END)}},
         [_note("HighErrorRate", "eu-west-1", "pager", "firing", START + 36),
          _note("HighErrorRate", "eu-west-1", "pager", "firing", START + 38, priority="P3")],
         "a matching notification has labels {'priority': 'P3'}, expected {'priority': 'P0'}"),
        ({"HighErrorRate": {"eu-west-1": (START + 35, END)}},
         [_note("HighErrorRate", "eu-west-1", "pager", "firing", START + 36)],
         "the errors fault in eu-west-1 was never restored"),
    ],
    ids=["never-fires", "other-region", "wrong-receiver", "never-resolves", "already-firing",
         "one-notification-mislabelled", "never-restored"],
)  # fmt: skip
def test_each_alert_failure_names_its_cause(tmp_path, firing, notes, problem):
    fault_end = None if "never restored" in problem else END
    outcome = _run(tmp_path, PAGES, fault_end, firing, notes)
    assert not outcome.passed
    assert problem in outcome.summary
    assert "ALERTS" in outcome.query


@pytest.mark.parametrize(
    ("since", "problem"),
    [(START + 35, ""), (START - 600, "was already firing when the errors fault started")],
    ids=["fires-after-the-fault", "firing-since-before"],
)
def test_a_sample_stands_for_its_state_until_the_next_evaluation(tmp_path, since, problem):
    """Rules evaluated every 15 s: an alert firing for long before the fault has its last
    sample before it up to 15 s back (here at START - 15, the next at START), and counts as
    already firing then; one that starts after the fault is timed from its first sample."""
    firing = {"HighErrorRate": {"eu-west-1": (since, END + 50)}}
    notes = [_note("HighErrorRate", "eu-west-1", "pager", "firing", START + 36),
             _note("HighErrorRate", "eu-west-1", "pager", "resolved", END + 52)]  # fmt: skip
    outcome = _run(tmp_path, PAGES, END, firing, notes, every=15)
    assert outcome.passed is not problem, outcome.summary
    assert problem in outcome.summary
    if not problem:
        assert outcome.time_to_appear == pytest.approx(35, abs=0.01)


@pytest.mark.parametrize(
    ("every", "queries", "first", "last"), [(1, 3, -2500, -10), (15, 1, -2510, -20)]
)
def test_a_long_window_is_read_in_chunks_of_raw_samples(every, queries, first, last):
    """A window of 2,500 s at an evaluation a second is read as 3 range vectors of at most
    MAX_SAMPLES evaluations, back to back from an evaluation interval before its start; at
    one per 15 s, as one. `first` and `last` are samples written (from START - 2,600 on, every
    `every` s): the first after the look-back, the last."""
    labels = {"alertname": "HighErrorRate", "alertstate": "firing", "region": "eu-west-1"}
    history = [(labels, START - 2600, START - 10)]
    routes = {"/api/v1/query": raw_alerts(history, every)}
    with canned_server(routes) as server, PrometheusClient(Backend(url=server.url)) as client:
        found = firing_series(client, "HighErrorRate", START - 2500, START, every)
    assert found == [{"metric": {"__name__": "ALERTS", **labels},
                      "first": pytest.approx(START + first),
                      "last": pytest.approx(START + last)}]  # fmt: skip
    reads = [(float(r.params["time"][0]), int(re.search(r"\[(\d+)ms\]", r.params["query"][0])[1]))
             for r in server.requests]  # fmt: skip
    assert len(reads) == queries
    assert all(span <= MAX_SAMPLES * every * 1000 for _, span in reads)
    assert reads[-1][0] == pytest.approx(START, abs=0.001)
    assert reads[0][0] - reads[0][1] / 1000 == pytest.approx(START - 2500 - every, abs=0.001)
    for (before, _), (after, span) in pairwise(reads):
        assert after - span / 1000 == pytest.approx(before, abs=0.001)


def test_an_alert_meant_to_outlast_its_fault_is_not_judged_on_resolving(tmp_path):
    """resolve_budget null (a slow burn-rate alert): still firing long after the restore
    passes, but the fault must still have been restored."""
    outlasts = PAGES.model_copy(update={"resolve_budget": None})
    firing = {"HighErrorRate": {"eu-west-1": (START + 35, END + 500)}}
    notes = [_note("HighErrorRate", "eu-west-1", "pager", "firing", START + 36)]
    outcome = _run(tmp_path, outlasts, END, firing, notes)
    assert outcome.passed, outcome.summary
    assert "time_to_resolve" not in outcome.summary
    assert not _run(tmp_path, PAGES, END, firing, notes).passed  # the same with a budget
    unrestored = _run(tmp_path, outlasts, None, firing, notes)
    assert "the errors fault in eu-west-1 was never restored" in unrestored.summary


def test_an_inhibition_needs_a_resolve_budget():
    with pytest.raises(ValueError, match="suppressed_by 'ServiceNotReady' needs a resolve_budget"):
        AlertExpectation(name="i", alert="HighErrorRate", fault="not_ready",
                         suppressed_by="ServiceNotReady", resolve_budget=None)  # fmt: skip


INHIBITED = AlertExpectation(name="i", alert="HighErrorRate", fault="not_ready",
                             suppressed_by="ServiceNotReady", receiver="pager", budget=90,
                             resolve_budget=30)  # fmt: skip
RESTORED = START + 60
"""The not_ready fault (START to RESTORED) follows an errors fault that began 40 s before."""
INHIBITING = {"HighErrorRate": {"eu-west-1": (START - 7, END + 60)},
              "ServiceNotReady": {"eu-west-1": (START + 31, RESTORED)}}  # fmt: skip
PAGED = [_note("HighErrorRate", "eu-west-1", "pager", "firing", START - 6),
         _note("ServiceNotReady", "eu-west-1", "pager", "firing", START + 32)]  # fmt: skip
SHORT_REPEATS = "route: {receiver: pager, group_interval: 2s, repeat_interval: 5s}"


def _run_inhibition(tmp_path, firing, notes, fault_end=RESTORED, am_config=SHORT_REPEATS):
    """check_alert of INHIBITED on a ledger with the errors fault, then the not_ready fault;
    Alertmanager's GET /api/v2/status (api/v2/openapi.yaml: config.original) serves
    `am_config`."""
    routes = {
        "/api/v1/status/buildinfo": (200, {"status": "success", "data": {}}),
        **_firing(firing),
        "/health": (200, {"status": "ok"}),
        "/api/notifications": _notifications(notes),
        "/-/healthy": (200, "OK"),
        "/api/v2/status": (200, {"config": {"original": am_config}}),
    }
    with canned_server(routes) as server:
        path = tmp_path / "signalcheck.yaml"
        backends = {name: {"url": server.url} for name in ("prometheus", "capture", "alertmanager")}
        regions = {r: {"base_url": "http://127.0.0.1:1"} for r in ("eu-west-1", "us-east-1")}
        path.write_text(yaml.safe_dump({"regions": regions, "backends": backends}))
        config = load_config(path, environ={})
        entries = [
            Entry(ts=START - 40, kind="fault", action="errors", region="eu-west-1",
                  start=START - 40, end=RESTORED + 5, params={}),
            Entry(ts=START, kind="fault", action="not_ready", region="eu-west-1", start=START,
                  end=fault_end, params={}),
        ]  # fmt: skip
        ctx = Context(config=config, entries=entries, backends=BackendSet(config.backends))
        return check_alert(INHIBITED, ctx)


def test_inhibited_alert_notified_before_and_not_while_the_inhibitor_fired(tmp_path):
    """Re-notified once the inhibitor stopped (after RESTORED) is no leak."""
    late = _note("HighErrorRate", "eu-west-1", "pager", "firing", RESTORED + 2)
    outcome = _run_inhibition(tmp_path, INHIBITING, [*PAGED, late])
    assert outcome.passed, outcome.summary
    assert outcome.time_to_appear == pytest.approx(31, abs=1)
    assert '"inhibited_for": 28' in outcome.summary


@pytest.mark.parametrize(
    ("firing", "notes", "kwargs", "problem"),
    [
        (INHIBITING, [*PAGED, _note("HighErrorRate", "eu-west-1", "pager", "firing", START + 38),
                      _note("HighErrorRate", "eu-west-1", "pager", "firing", START + 44)], {},
         "HighErrorRate for eu-west-1 reached a receiver 2 time(s) while ServiceNotReady fired "
         "(28.0s from its first notification at"),
        (INHIBITING, [*PAGED, _note("HighErrorRate", "eu-west-1", "chat", "resolved", START + 50)],
         {}, "resolved to 'chat' at +18.0s"),
        (INHIBITING, PAGED[1:], {},
         "HighErrorRate for eu-west-1 reached no receiver before ServiceNotReady fired"),
        (INHIBITING, [_note("HighErrorRate", "eu-west-1", "chat", "firing", START - 6), PAGED[1]],
         {}, "reached receiver(s) ['chat'] before ServiceNotReady fired, expected 'pager'"),
        ({**INHIBITING, "HighErrorRate": {"eu-west-1": (START - 7, START + 40)}}, PAGED, {},
         "HighErrorRate for eu-west-1 was not firing throughout ServiceNotReady's window"),
        (INHIBITING, PAGED,
         {"am_config": "route: {receiver: pager, group_interval: 2s, repeat_interval: 1m}"},
         "less than Alertmanager takes to re-notify a firing alert (62s"),
        (INHIBITING, PAGED[:1], {},
         "ServiceNotReady (the inhibiting alert) for eu-west-1 never notified"),
        ({**INHIBITING, "ServiceNotReady": {}}, PAGED, {},
         "ServiceNotReady (the inhibiting alert) did not fire for eu-west-1 within 90s"),
        ({**INHIBITING, "ServiceNotReady": {"eu-west-1": (START - 5, RESTORED)}}, PAGED, {},
         "ServiceNotReady for eu-west-1 was already firing when the not_ready fault started"),
        ({**INHIBITING, "ServiceNotReady": {"eu-west-1": (START + 31, END + 200)}}, PAGED, {},
         "ServiceNotReady for eu-west-1 still firing 30s after the restore"),
        (INHIBITING, PAGED, {"fault_end": None},
         "the not_ready fault in eu-west-1 was never restored"),
    ],
    ids=["leaked-firing", "leaked-resolved", "never-notified-before", "notified-elsewhere-before",
         "not-firing-throughout", "window-shorter-than-a-repeat", "inhibitor-never-notified",
         "inhibitor-never-fired", "inhibitor-already-firing", "inhibitor-never-resolves",
         "never-restored"],
)  # fmt: skip
def test_each_inhibition_failure_names_its_cause(tmp_path, firing, notes, kwargs, problem):
    outcome = _run_inhibition(tmp_path, firing, notes, **kwargs)
    assert not outcome.passed
    assert problem in outcome.summary


AM_CONFIG = """
route:
  receiver: default
  group_wait: 1s
  group_interval: 2s
  routes:
    - receiver: pager
      matchers: ['priority="P0"']
    - receiver: chat
      group_interval: 1m30s
"""


@pytest.mark.parametrize(
    ("status", "grace"),
    [
        ((200, {"config": {"original": AM_CONFIG}}), 90 + 2),
        ((200, {"config": {"original": "route: {receiver: x}"}}), 300 + 2),
        ((200, {"config": {"original": "route: {receiver: x, group_wait: soon}"}}), None),
    ],
    ids=["longest-of-the-tree", "alertmanager-defaults", "unreadable-is-unknown"],
)
def test_notification_waits_derive_from_the_alertmanager_config_in_use(tmp_path, status, grace):
    """The body follows Alertmanager's GET /api/v2/status (api/v2/openapi.yaml:
    alertmanagerStatus.config.original holds the loaded YAML). A config that cannot be read
    is never replaced by Alertmanager's defaults (None: UnknownTimers, saying why)."""
    with canned_server({"/api/v2/status": status}) as server:
        path = tmp_path / "signalcheck.yaml"
        regions = {"eu-west-1": {"base_url": "http://127.0.0.1:1"}}
        backends = {"alertmanager": {"url": server.url}}
        path.write_text(yaml.safe_dump({"regions": regions, "backends": backends}))
        config = load_config(path, environ={})
        ctx = Context(config=config, entries=[], backends=BackendSet(config.backends))
        if grace is None:
            with pytest.raises(UnknownTimers, match="not a duration: 'soon'"):
                notification_grace(ctx)
        else:
            assert notification_grace(ctx) == grace


@pytest.mark.parametrize(
    ("state", "region", "seen", "passed"),
    [("pending", "us-east-1", (50, 51), False), ("firing", "us-east-1", (50, 51), False),
     ("pending", "eu-west-1", (50, 51), False),
     ("pending", "us-east-1", (-40, -25), True), ("firing", "us-east-1", (-40, 10), False),
     ("pending", "us-east-1", (-400, -35), True)],
    ids=["pending-stray", "firing-stray", "in-the-faulted-region-not-caused-by-its-fault",
         "found-at-the-start-and-gone-before-the-fault", "found-at-the-start-and-going-on",
         "gone-before-the-start"],
)  # fmt: skip
def test_quiet_sees_pending_and_firing_strays_over_the_window(
    tmp_path, state, region, seen, passed
):
    """A stray alert that is only pending (held by `for`) fails the quiet check too, also in
    the faulted region when no expectation says its fault may cause it; one the run found
    active (its window opens with a probe pass 30 s before the fault) counts only if it goes
    on past the fault's start; one whose last sample was written before the window (and its
    evaluation interval) is not seen at all."""
    labels = {"alertname": "SyntheticProbeStale", "alertstate": state, "region": region}
    history = [(labels, START + seen[0], START + seen[1])]
    routes = {"/api/v1/status/buildinfo": (200, {"status": "success", "data": {}}),
              "/api/v1/query": raw_alerts(history),
              "/api/v1/rules": rules("SyntheticProbeStale")}  # fmt: skip
    with canned_server(routes) as server:
        path = tmp_path / "signalcheck.yaml"
        regions = {r: {"base_url": "http://127.0.0.1:1"} for r in ("eu-west-1", "us-east-1")}
        path.write_text(
            yaml.safe_dump({"regions": regions, "backends": {"prometheus": {"url": server.url}}})
        )
        config = load_config(path, environ={})
        planned = Entry(ts=START - 30, kind="planned", actor="probe", passes=1)
        fault = Entry(ts=START, kind="fault", action="errors", region="eu-west-1", start=START,
                      end=END, params={})  # fmt: skip
        ctx = Context(config=config, entries=[planned, fault],
                      backends=BackendSet(config.backends))  # fmt: skip
        outcome = check_quiet(QuietExpectation(name="q", budget=5), ctx)
    assert outcome.passed is passed, outcome.summary
    asked = [r.params["query"][0] for r in server.requests if r.path == "/api/v1/query"]
    assert 'alertstate=~"pending|firing"' in asked[0]
    if not passed:
        assert f"SyntheticProbeStale ({region}) {state}" in outcome.summary


def test_a_later_fault_in_the_region_ends_the_resolution_window(tmp_path):
    """A game day faults the same region again (inhibition, then error injection): the alert
    the second fault causes is not the first one still firing."""
    second = START + 160
    later = Entry(ts=second, kind="fault", action="latency", region="eu-west-1", start=second,
                  end=second + 60, params={})  # fmt: skip
    firing = {"HighErrorRate": {"eu-west-1": (START + 35, END + 20)}}
    notes = [_note("HighErrorRate", "eu-west-1", "pager", "firing", START + 36),
             _note("HighErrorRate", "eu-west-1", "pager", "resolved", END + 22)]  # fmt: skip
    outcome = _run(tmp_path, PAGES, END, firing, notes, later=[later])
    assert outcome.passed, outcome.summary
    firing = {"HighErrorRate": {"eu-west-1": (START + 35, second + 5)}}
    outcome = _run(tmp_path, PAGES, END, firing, notes, later=[later])
    assert "still firing 60s after the restore" in outcome.summary
    assert "(when the next fault there began)" in outcome.summary


LATENCY = {"name": "slow", "alert": "HighLatency", "fault": "latency", "resolve_budget": 60}
PAGES_OUT_OF_ROTATION = {"name": "nr", "alert": "HighErrorRate", "fault": "not_ready",
                         "suppressed_by": "ServiceNotReady", "resolve_budget": 30}  # fmt: skip


@pytest.mark.parametrize(
    ("alert", "region", "seen", "problem"),
    [("HighLatency", "eu-west-1", (40, 90), None),
     ("HighLatency", "eu-west-1", (END - START + 50, END - START + 70), None),
     ("ErrorBudgetBurnFast", "eu-west-1", (30, 200), None),
     ("ServiceNotReady", "eu-west-1", (300, 340), None),
     ("HighErrorRate", "eu-west-1", (310, 330), None),
     ("DependencyDown", "eu-west-1", (40, 90),
      "DependencyDown (eu-west-1) firing from {clock} ({first}) during the latency fault "
      "{fault}: not an alert that fault may cause"),
     ("HighLatency", "eu-west-1", (-10, 20), "before any fault in eu-west-1"),
     ("HighLatency", "eu-west-1", (END - START + 70, END - START + 80),
      "outside every fault in eu-west-1"),
     ("HighLatency", "us-east-1", (40, 90), "and this run had no fault in us-east-1"),
     ("HighErrorRate", "eu-west-1", (40, 90), "during the latency fault")],
    ids=["caused-by-its-fault", "resolving-within-its-resolve-budget",
         "declared-by-the-experiment", "the-inhibitor-of-an-inhibition",
         "inhibited-by-it", "not-caused-by-the-fault-it-overlapped", "before-any-fault",
         "after-the-resolve-budget", "in-a-region-never-faulted",
         "caused-by-a-later-fault-not-this-one"],
)  # fmt: skip
def test_quiet_accepts_in_a_faulted_region_only_what_its_fault_may_cause(
    tmp_path, alert, region, seen, problem
):
    """While a fault is open in a region (and its alerts' resolve_budget after the restore),
    only the alerts its expectations (inhibitors included) and its experiment (the planned
    fault's `alerts`, from a mark) name may start there; any other is a stray, named with the
    fault it overlapped, and so is one before any fault or after the resolve budget."""
    labels = {"alertname": alert, "alertstate": "firing", "region": region}
    history = [(labels, START + seen[0], START + seen[1])]
    later = START + 300
    routes = {"/api/v1/status/buildinfo": (200, {"status": "success", "data": {}}),
              "/api/v1/query": raw_alerts(history), "/api/v1/rules": rules(alert)}  # fmt: skip
    with canned_server(routes) as server:
        path = tmp_path / "signalcheck.yaml"
        regions = {r: {"base_url": "http://127.0.0.1:1"} for r in ("eu-west-1", "us-east-1")}
        expectations = {"alerts": [LATENCY, PAGES_OUT_OF_ROTATION]}
        path.write_text(
            yaml.safe_dump(
                {
                    "regions": regions,
                    "expectations": expectations,
                    "backends": {"prometheus": {"url": server.url}},
                }
            )
        )
        config = load_config(path, environ={})
        entries = [
            Entry(ts=START - 30, kind="planned", actor="probe", passes=1),
            Entry(ts=START, kind="planned", actor="fault", action="latency", region="eu-west-1",
                  experiment="slow", alerts=["ErrorBudgetBurnFast"]),
            Entry(ts=START, kind="fault", action="latency", region="eu-west-1", start=START,
                  end=END, params={}, experiment="slow"),
            Entry(ts=later, kind="fault", action="not_ready", region="eu-west-1", start=later,
                  end=later + 40, params={}, experiment="out of rotation"),
        ]  # fmt: skip
        ctx = Context(config=config, entries=entries, backends=BackendSet(config.backends))
        outcome = check_quiet(QuietExpectation(name="q", budget=5), ctx)
    assert outcome.passed is (problem is None), outcome.summary
    if problem is not None:
        first = START + seen[0]
        clock = time.strftime("%H:%M:%S", time.localtime(first))
        fault = (time.strftime("%H:%M:%S", time.localtime(START)) + ".."
                 + time.strftime("%H:%M:%S", time.localtime(END)))  # fmt: skip
        assert problem.format(clock=clock, first=f"{first:.0f}", fault=fault) in outcome.summary


@pytest.mark.parametrize(
    ("heartbeats", "passed"),
    [([{"name": "hb", "alert": "Watchdog", "receiver": "default"}], True), ([], False)],
    ids=["a-heartbeat-expectation-names-it", "no-heartbeat-expectation"],
)
def test_quiet_allows_the_alerts_of_heartbeat_expectations(tmp_path, heartbeats, passed):
    """Watchdog fires throughout (no region): not a stray when a `heartbeats` expectation
    names it, a stray otherwise."""
    labels = {"alertname": "Watchdog", "alertstate": "firing", "severity": "none"}
    routes = {"/api/v1/status/buildinfo": (200, {"status": "success", "data": {}}),
              "/api/v1/query": raw_alerts([(labels, START - 60, START + 120)]),
              "/api/v1/rules": rules("Watchdog")}  # fmt: skip
    with canned_server(routes) as server:
        path = tmp_path / "signalcheck.yaml"
        path.write_text(
            yaml.safe_dump(
                {
                    "regions": {"eu-west-1": {"base_url": "http://127.0.0.1:1"}},
                    "backends": {"prometheus": {"url": server.url}},
                    "expectations": {"heartbeats": heartbeats},
                }
            )
        )
        config = load_config(path, environ={})
        probe = Entry(ts=END, kind="probe", region="eu-west-1", check="health", start=START,
                      end=END, outcome="success")  # fmt: skip
        ctx = Context(config=config, entries=[probe], backends=BackendSet(config.backends))
        outcome = check_quiet(QuietExpectation(name="q", budget=5), ctx)
    assert outcome.passed is passed, outcome.summary
    if not passed:
        assert "Watchdog (no region) firing" in outcome.summary
