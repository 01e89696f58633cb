"""Bounded waits: every wait has a deadline and says what it waited for when it gives up."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from signalcheck.errors import WaitTimeout

T = TypeVar("T")


def wait_for(
    check: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.2,
    max_interval: float = 2.0,
) -> tuple[T, float]:
    """Call `check` until it returns something truthy; return it and the seconds it took.

    The poll interval grows by half each round up to `max_interval`.
    """
    began = time.monotonic()
    deadline = began + timeout
    last: object = None
    while True:
        last = check()
        if last:
            return last, time.monotonic() - began
        now = time.monotonic()
        if now >= deadline:
            raise WaitTimeout(
                f"gave up after {timeout:g}s waiting for {what} (last seen: {last!r})"
            )
        time.sleep(min(interval, deadline - now))
        interval = min(interval * 1.5, max_interval)
