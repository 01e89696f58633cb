"""How many users each shape wants at a moment of the run (pure: no Locust import).

- smoke: `users` for the whole duration (a quick "does it work under any load").
- ramp: a linear climb from 1 to `users` over the first two thirds, then a hold.
- spike: a baseline of a fifth of `users`, the full `users` in the middle fifth, baseline again.
- soak: `users` for a long duration (its default profile runs an hour).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from signalcheck.load_profiles import ShapeName

RAMP_FRACTION = 2 / 3
SPIKE_WINDOW = (0.4, 0.6)
SPIKE_BASELINE_SHARE = 5


def steady(t: float, users: int, duration: float) -> int:
    return users


def ramp(t: float, users: int, duration: float) -> int:
    climbed = min(1.0, t / (duration * RAMP_FRACTION))
    return max(1, math.ceil(users * climbed))


def spike(t: float, users: int, duration: float) -> int:
    begin, end = (duration * edge for edge in SPIKE_WINDOW)
    return users if begin <= t < end else max(1, users // SPIKE_BASELINE_SHARE)


USERS_AT: dict[ShapeName, Callable[[float, int, float], int]] = {
    "smoke": steady,
    "ramp": ramp,
    "spike": spike,
    "soak": steady,
}
