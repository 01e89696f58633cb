"""Poll with backoff under a deadline until a look at the backend is conclusive."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from signalcheck.backends.base import within_deadline


@dataclass
class Look:
    """One observation: `done` when the evidence is complete (or conclusively wrong)."""

    done: bool
    problem: str = ""
    observed: Any = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Polled:
    look: Look
    waited: float
    polls: int
    seen_at: float
    """Wall-clock time (unix seconds) of the last look."""


def poll(
    observe: Callable[[], Look],
    budget: float,
    *,
    interval: float = 0.1,
    max_interval: float = 1.0,
) -> Polled:
    """Call `observe` until it returns a done Look or `budget` seconds have passed.

    Always looks at least once; the interval grows by half each round up to `max_interval`.
    Backend calls inside `observe` retry (429, 5xx) only until the deadline.
    """
    began = time.monotonic()
    deadline = began + budget
    polls = 0
    while True:
        with within_deadline(deadline):
            look = observe()
        polls += 1
        now = time.monotonic()
        if look.done or now >= deadline:
            return Polled(look, now - began, polls, time.time())
        time.sleep(min(interval, deadline - now))
        interval = min(interval * 1.5, max_interval)
