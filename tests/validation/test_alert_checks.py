"""Alert checks judged from canned Prometheus `ALERTS` history and capture notifications:
firing for the faulted region only, labels, receiver, inhibition and resolution.

The answers follow the Prometheus `query_range` and capture `/api/notifications` shapes; the
same checks run against the real stack in test_suite_on_stack.py (which cannot trigger an
inhibition with the demo: a killed region reports no error rate to inhibit).
"""

from __future__ import annotations

import re
import time

import pytest
import yaml

from signalcheck.config import load_config
from signalcheck.evidence import Context
from signalcheck.evidence.alerts import check_alert, notification_grace
from signalcheck.evidence.backends import BackendSet
from signalcheck.expectations import AlertExpectation
from signalcheck.ledger import Entry
from tests.validation.documented_api import canned_server

START = time.time() - 1000  # an old ledger: every budget has passed, each check looks once
END = START + 100


def _alerts_range(firing: dict[str, dict[str, tuple[float, float]]]):
    """query_range answering ALERTS{alertname=...}: firing[alertname][region] = (first, last)."""

    def answer(params):
        query = params["query"][0]
        start, end, step = (float(params[k][0]) for k in ("start", "end", "step"))
        result = []
        for name, regions in firing.items():
            if f'alertname="{name}"' not in query:
                continue
            for region, (first, last) in regions.items():
                # one point per step while firing, as Prometheus answers a range query
                steps = range(int((end - start) // step) + 1)
                points = [
                    [start + n * step, "1"] for n in steps if first <= start + n * step <= last
                ]
                if points:
                    labels = {"__name__": "ALERTS", "alertname": name, "alertstate": "firing",
                              "region": region, "priority": "P0"}  # fmt: skip
                    result.append({"metric": labels, "values": points})
        return 200, {"status": "success", "data": {"resultType": "matrix", "result": result}}

    return answer


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


def _run(tmp_path, exp, fault_end, firing, notes):
    routes = {
        "/api/v1/status/buildinfo": (200, {"status": "success", "data": {}}),
        "/api/v1/query_range": _alerts_range(firing),
        "/health": (200, {"status": "ok"}),
        "/api/notifications": _notifications(notes),
    }
    with canned_server(routes) as server:
        path = tmp_path / "signalcheck.yaml"
        backends = {"prometheus": {"url": server.url}, "capture": {"url": server.url}}
        regions = {r: {"base_url": "http://127.0.0.1:1"} for r in ("eu-west-1", "us-east-1")}
        path.write_text(yaml.safe_dump({"regions": regions, "backends": backends}))
        config = load_config(path, environ={})
        fault = Entry(ts=START, kind="fault", action=exp.fault, region="eu-west-1", start=START,
                      end=fault_end, params={})  # fmt: skip
        ctx = Context(config=config, entries=[fault], backends=BackendSet(config.backends))
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
         "also fired for region(s) ['us-east-1'], which the ledger did not fault"),
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


INHIBITED = AlertExpectation(name="i", alert="HighErrorRate", fault="kill",
                             suppressed_by="ServiceDown", budget=90)  # fmt: skip


@pytest.mark.parametrize(
    ("leaked", "passed"), [(False, True), (True, False)], ids=["inhibited", "leaked"]
)
def test_inhibited_alert_fires_but_does_not_notify(tmp_path, leaked, passed):
    firing = {"HighErrorRate": {"eu-west-1": (START + 35, START + 90)}}
    notes = [_note("ServiceDown", "eu-west-1", "pager", "firing", START + 32)]
    if leaked:
        notes.append(_note("HighErrorRate", "eu-west-1", "pager", "firing", START + 36))
    outcome = _run(tmp_path, INHIBITED, START + 60, firing, notes)
    assert outcome.passed is passed, outcome.summary
    if leaked:
        assert "delivered to 'pager' though ServiceDown should inhibit it" in outcome.summary


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
        ((200, {"config": {"original": "route: {receiver: x, group_wait: soon}"}}), 300 + 2),
    ],
    ids=["longest-of-the-tree", "alertmanager-defaults", "unreadable-falls-back"],
)
def test_notification_waits_derive_from_the_alertmanager_config_in_use(tmp_path, status, grace):
    """The body follows Alertmanager's GET /api/v2/status (api/v2/openapi.yaml:
    alertmanagerStatus.config.original holds the loaded YAML)."""
    with canned_server({"/api/v2/status": status}) as server:
        path = tmp_path / "signalcheck.yaml"
        regions = {"eu-west-1": {"base_url": "http://127.0.0.1:1"}}
        backends = {"alertmanager": {"url": server.url}}
        path.write_text(yaml.safe_dump({"regions": regions, "backends": backends}))
        config = load_config(path, environ={})
        ctx = Context(config=config, entries=[], backends=BackendSet(config.backends))
        assert notification_grace(ctx) == grace
