"""Which alerts count as firing for the expected labels, and which are strays (another region,
another receiver) — the judgement behind alert_fires' "for the faulted region only"."""

from __future__ import annotations

from signalcheck.chaos.probes import _firing, _notified, _strays


class FakePrometheus:
    def __init__(self, alerts):
        self._alerts = alerts

    def alerts(self):
        return self._alerts


class FakeCapture:
    def __init__(self, sent):
        self.sent = sent

    def notifications(self, alertname=None, receiver=None, status=None, since=None):
        return [
            n
            for n in self.sent
            if n["alertname"] == alertname
            and receiver in (None, n["receiver"])
            and status in (None, n["status"])
            and n["received_at"] >= since
        ]


def alert(name, region, state="firing"):
    return {"labels": {"alertname": name, "region": region}, "state": state}


def sent(name, region, receiver, status="firing", at=100.0):
    labels = {"alertname": name, "region": region}
    return {"alertname": name, "labels": labels, "receiver": receiver, "status": status,
            "received_at": at}  # fmt: skip


def test_firing_matches_name_labels_and_state() -> None:
    prometheus = FakePrometheus(
        [alert("X", "eu"), alert("X", "us", "pending"), alert("Y", "eu"), alert("X", "ap")]
    )
    assert _firing(prometheus, "X", {"region": "eu"}) == [alert("X", "eu")]
    assert _firing(prometheus, "X", {"region": "us"}) == []


def test_notified_needs_the_receiver_the_status_and_a_time_after_the_fault() -> None:
    capture = FakeCapture([sent("X", "eu", "chat"), sent("X", "eu", "pager", at=50.0)])
    assert _notified(capture, "X", {"region": "eu"}, "pager", "firing", since=90.0) == []
    assert len(_notified(capture, "X", {"region": "eu"}, "chat", "firing", since=90.0)) == 1


def test_no_strays_when_only_the_faulted_region_fires_at_its_receiver() -> None:
    prometheus = FakePrometheus([alert("X", "eu"), alert("X", "us", "pending")])
    capture = FakeCapture([sent("X", "eu", "pager"), sent("X", "us", "pager", at=10.0)])
    assert _strays(prometheus, capture, "X", "eu", "pager", since=90.0) == []


def test_other_regions_and_other_receivers_are_strays() -> None:
    prometheus = FakePrometheus([alert("X", "eu"), alert("X", "ap")])
    capture = FakeCapture([sent("X", "eu", "pager"), sent("X", "eu", "chat")])
    assert _strays(prometheus, capture, "X", "eu", "pager", since=90.0) == [
        "firing in Prometheus for region 'ap'",
        "notified to 'chat' for region 'eu'",
    ]
