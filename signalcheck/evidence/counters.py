"""A counter's increase over a window, read from its raw samples as Prometheus' `increase()`
reads them (without extrapolating): the sum of the rises from one sample to the next, where a
fall is a reset (the process restarted and counted again from 0) and adds the new value.

The value at the window's start is the last raw sample before it. Raw samples are what a range
selector returns, stale markers left out: a series marked stale just before the window (its
scrapes failed while the service was stopped) still has its last value, where an instant query
would find nothing and read 0. A series with no sample before the start, within the lookback
the caller read, began in the window and is counted from 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Increase:
    """What one region's series added over the window."""

    total: float = 0.0
    series: int = 0
    new: int = 0
    """Series with no sample before the window's start: counted from 0."""
    rises: list[tuple[float, float]] = field(default_factory=list)
    """(time, amount) of every sample in the window that added to `total`."""

    def add(self, values: Iterable[tuple[float | str, float | str]], start: float) -> None:
        """Add one series' raw samples `[[t, "v"], ...]`."""
        samples = [(float(t), float(v)) for t, v in values if not math.isnan(float(v))]
        before = [v for t, v in samples if t < start]
        previous = before[-1] if before else 0.0
        self.series += 1
        self.new += not before
        for t, v in samples:
            if t < start:
                continue
            rise = v - previous if v >= previous else v
            if rise:
                self.rises.append((t, rise))
                self.total += rise
            previous = v

    def reached(self, target: float) -> float | None:
        """The time of the sample at which the increase reached `target` (None: never)."""
        total = 0.0
        for t, rise in sorted(self.rises):
            total += rise
            if total >= target:
                return t
        return None
