"""Steady background traffic while faults are in force (the game day's chaos phase, mutate's
exercise), so rates and ratios have requests to count; what it sends comes from the config's
`traffic:` section.

A demo region (`demo: true`) gets the demo's token request, the only place the demo's route
and client secret are ever sent; every other region gets, each round, the request of each
selected `http` check, built and sent as the probes send it (`${ENV}` substitution, headers,
body, the check's timeout) but never following a redirect, and with nothing judged. A region
with no http check to send gets nothing, and `traffic.enabled: false` sends nothing at all.
When the traffic stops, a `traffic` entry in the ledger says what each region got.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping
from typing import Any, Literal

from signalcheck.checks import HttpCheck, Request
from signalcheck.config import Config
from signalcheck.ledger import Ledger
from signalcheck.probes.errors import ProbeFailure
from signalcheck.probes.http import send
from signalcheck.probes.tracecontext import TraceContext

DEMO_TOKEN = Request(
    method="POST",
    path="/auth/token",
    json={"client_id": "signalcheck-traffic", "client_secret": "demo-secret"},
    timeout=2.0,
    follow_redirects=False,
)
"""The demo's token request (its default client secret): sent to demo regions only."""
DEMO_TOKEN_NAME = "POST /auth/token"
TRAFFIC_HEADER = "background-traffic"
"""The `X-Signalcheck-Check` value of every background request (a probe's names its check)."""

Sends = Literal["demo-token", "checks", "none"]
Counts = dict[str, dict[str, int]]
"""request name (a check's, or the demo's token route) -> status class or error type -> n."""


def region_requests(config: Config) -> dict[str, dict[str, Request]]:
    """What one round sends to each region: request name -> request (empty: nothing)."""
    if not config.traffic.enabled:
        return {name: {} for name in config.regions}
    selected = config.traffic.checks
    checks = {
        check.name: check.model_copy(update={"follow_redirects": False})
        for check in config.checks
        if isinstance(check, HttpCheck) and (selected is None or check.name in selected)
    }
    return {
        name: {DEMO_TOKEN_NAME: DEMO_TOKEN} if region.demo else dict(checks)
        for name, region in config.regions.items()
    }


def sends(config: Config, requests: Mapping[str, Request]) -> tuple[Sends, str]:
    """What a region's share of the traffic is, and why when it is nothing."""
    if not config.traffic.enabled:
        return "none", "traffic.enabled is false"
    if DEMO_TOKEN_NAME in requests:
        return "demo-token", ""
    if requests:
        return "checks", ""
    which = "traffic.checks" if config.traffic.checks is not None else "the config's checks"
    return "none", f"no http check in {which}"


class BackgroundTraffic:
    """Rounds of requests, `traffic.per_second` rounds a second, in a daemon thread.

    Bounded: stops when the `with` block ends or after `max_seconds`, whichever is first. The
    default hour outlasts every shipped exercise (the full game day's experiments and then the
    17-minute slow-burn one): traffic that stopped mid-fault would end the errors' ratio, and
    so the error alert, while the fault still holds. With a `ledger`, the `traffic` entry is
    written there when the traffic stops.
    """

    def __init__(
        self,
        config: Config,
        per_second: float | None = None,
        max_seconds: float = 3600.0,
        ledger: Ledger | None = None,
    ):
        self.config = config
        self.per_second = per_second or config.traffic.per_second
        self.max_seconds = max_seconds
        self.ledger = ledger
        self.requests = region_requests(config)
        self.counts: dict[str, Counts] = {name: {} for name in config.regions}
        self.start: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drive, name="background-traffic", daemon=True)

    def __enter__(self) -> BackgroundTraffic:
        self.start = time.time()
        if any(self.requests.values()):
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        if self.ledger is not None:
            self.ledger.append("traffic", **self.entry())

    def entry(self) -> dict[str, Any]:
        """The `traffic` ledger entry: per region what it was sent and the requests counted."""
        regions = {}
        for name, requests in self.requests.items():
            kind, why = sends(self.config, requests)
            regions[name] = {
                "sends": kind,
                "checks": sorted(requests) if kind == "checks" else [],
                "why": why,
                "requests": self.counts[name],
            }
        return {
            "start": self.start,
            "end": time.time(),
            "enabled": self.config.traffic.enabled,
            "per_second": self.per_second,
            "regions": regions,
        }

    def _drive(self) -> None:
        pause = 1.0 / self.per_second
        began = time.monotonic()
        loop = asyncio.new_event_loop()
        try:
            for n in range(1, int(self.max_seconds * self.per_second) + 1):
                loop.run_until_complete(self._round())
                if self._stop.wait(max(0.0, began + n * pause - time.monotonic())):
                    return
        finally:
            loop.close()

    async def _round(self) -> None:
        """Every region's requests at once, each under its own timeout; counted, not judged."""

        async def one(region: str, name: str, request: Request) -> None:
            base_url = str(self.config.regions[region].base_url)
            try:
                response = await send(request, base_url, TraceContext.fresh(TRAFFIC_HEADER), {})
                outcome = f"{response.status // 100}xx"
            except ProbeFailure as failure:
                outcome = str(failure.error_type)
            by_outcome = self.counts[region].setdefault(name, {})
            by_outcome[outcome] = by_outcome.get(outcome, 0) + 1

        await asyncio.gather(
            *(
                one(region, name, request)
                for region, requests in self.requests.items()
                for name, request in requests.items()
            )
        )
