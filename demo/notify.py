"""Notifications to assignees (written to the log, the demo has no mail server)."""

from __future__ import annotations

import logging

from opentelemetry.trace import SpanKind, Tracer

logger = logging.getLogger("demo.notify")


class Notifier:
    """Tells the assignee (or, for unassigned work, the team queue) about new assignments."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer

    def assignment_created(self, assignment_id: str, assignee: str | None) -> None:
        attributes = {
            "assignment.id": assignment_id,
            "notification.channel": "log",
            "notification.recipient": "assignee" if assignee else "team_queue",
        }
        with self._tracer.start_as_current_span(
            "notify.assignment_created", kind=SpanKind.INTERNAL, attributes=attributes
        ):
            logger.info("assignment notification sent", extra={"assignment_id": assignment_id})
