"""Steady background traffic to the demo regions, so rates and ratios have something to count."""

from __future__ import annotations

import contextlib
import threading

import httpx

from signalcheck.config import Config

TOKEN_BODY = {"client_id": "signalcheck-traffic", "client_secret": "demo-secret"}


class BackgroundTraffic:
    """About `per_second` token requests per second to every region, in a daemon thread.

    Bounded: stops when the `with` block ends or after `max_seconds`, whichever is first. The
    default hour outlasts every shipped exercise (the full game day's experiments and then the
    17-minute slow-burn one): traffic that stopped mid-fault would end the errors' ratio, and
    so the error alert, while the fault still holds.
    """

    def __init__(self, config: Config, per_second: float = 10.0, max_seconds: float = 3600.0):
        self.urls = [f"{str(r.base_url).rstrip('/')}/auth/token" for r in config.regions.values()]
        self.pause = 1.0 / per_second
        self.rounds = int(max_seconds * per_second)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drive, name="background-traffic", daemon=True)

    def __enter__(self) -> BackgroundTraffic:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _drive(self) -> None:
        with httpx.Client(timeout=2.0) as client:
            for _ in range(self.rounds):
                for url in self.urls:
                    with contextlib.suppress(httpx.HTTPError):
                        client.post(url, json=TOKEN_BODY)
                if self._stop.wait(self.pause):
                    return
