"""RUM batches the load sends are ones the ingest accepts."""

from __future__ import annotations

import random

from signalcheck.loadtests.rum_events import RumSession
from signalcheck.rum_ingest.models import BATCH, MAX_EVENTS_PER_BATCH


def test_batches_are_valid_for_the_ingest_and_carry_one_session():
    session = RumSession("http://127.0.0.1:18002/", "eu-west-1", random.Random(7))
    kinds = set()
    for _ in range(100):
        batch = BATCH.validate_python(session.batch())
        assert len(batch["events"]) <= MAX_EVENTS_PER_BATCH
        assert {event["session_id"] for event in batch["events"]} == {session.session_id}
        assert batch["app"]["region"] == "eu-west-1"
        kinds |= {event["type"] for event in batch["events"]}
    assert kinds == {
        "page_load", "resource_load", "web_vital", "api_call", "user_interaction", "error"
    }  # fmt: skip
