"""A token bucket per API key: `rate` batches per second on average, bursts up to `burst`."""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # app -> (tokens, last refill)

    def acquire(self, app: str) -> float:
        """0 when a batch may pass now, else the seconds until one may."""
        now = self._clock()
        tokens, last = self._buckets.get(app, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[app] = (tokens - 1.0, now)
            return 0.0
        self._buckets[app] = (tokens, now)
        return (1.0 - tokens) / self.rate
