"""What the judgements of one alert expectation for one fault share: the fault, what they
read (`ALERTS` series, stored notifications) and what they found."""

from __future__ import annotations

import time

from signalcheck.backends.capture import Notification
from signalcheck.evidence.alert_series import AlertSeries, evaluation_interval, firing_series
from signalcheck.evidence.context import Context
from signalcheck.evidence.polling import Look, poll
from signalcheck.evidence.routing import notification_grace
from signalcheck.expectations import AlertExpectation
from signalcheck.ledger import Entry


def wait_until(deadline: float) -> float:
    """Budget left until a wall-clock deadline (0 when it passed: look once)."""
    return max(0.0, deadline - time.time())


class AlertCheck:
    """The checks of one alert expectation for one fault entry; collects problems, what was
    asked and seen, and the times measured."""

    def __init__(self, exp: AlertExpectation, ctx: Context, fault: Entry):
        self.exp = exp
        self.ctx = ctx
        self.fault = fault
        self.region: str | None = fault.field("region")
        self.start: float = fault.field("start")
        self.prometheus = ctx.backends.prometheus()
        self.grace = notification_grace(ctx)
        self.queries: list[str] = []
        self.observed: dict[str, object] = {}
        self.problems: list[str] = []
        self.times: dict[str, float] = {}
        self.last_capture_request = ""
        self.intervals: dict[str, float] = {}

    def interval(self, alert: str) -> float:
        """evaluation_interval of `alert`, asked once per check."""
        if alert not in self.intervals:
            self.intervals[alert] = evaluation_interval(self.prometheus, alert)
        return self.intervals[alert]

    def series(self, alert: str, start: float, end: float) -> list[AlertSeries]:
        """The firing series of `alert` between start and end (of every region)."""
        return firing_series(self.prometheus, alert, start, end, self.interval(alert))

    def region_of(self, labels: dict[str, str]) -> str | None:
        return labels.get(self.exp.region_label)

    def labels_match(self, label_sets: list[dict[str, str]], what: str) -> None:
        """Every one of the matching alerts (or notifications) carries the expected labels."""
        for labels in label_sets:
            wrong = {k: labels.get(k) for k, v in self.exp.labels.items() if labels.get(k) != v}
            if wrong:
                expected = {k: self.exp.labels[k] for k in wrong}
                self.problems.append(
                    f"{self.exp.alert} for {self.region}: a matching {what} has labels {wrong}, "
                    f"expected {expected}"
                )
                return

    def notifications(self, alert: str, status: str, since: float) -> list[Notification]:
        """Notifications of `alert` for the faulted region since `since`, as stored by the
        capture receiver (Alertmanager's webhook target)."""
        capture = self.ctx.backends.capture()
        label = f"{self.exp.region_label}={self.region}"
        found = capture.notifications(alertname=alert, status=status, since=since, label=label)
        self.last_capture_request = capture.last_request
        return found

    def await_notifications(
        self, alert: str, status: str, since: float, deadline: float
    ) -> list[Notification]:
        """`notifications`, polled until one arrived or the wall-clock deadline passed."""

        def observe() -> Look:
            found = self.notifications(alert, status, since)
            return Look(done=bool(found), observed=found)

        notes: list[Notification] = poll(observe, wait_until(deadline)).look.observed
        self.queries.append(self.last_capture_request)
        return notes
