"""Realistic RUM event batches, as the browser SDK sends them to `POST /v1/events`.

One batch is what one page view reports: the page load with its navigation timings, a few
resources, the Web Vitals, the API calls the page made (with their trace ids), a click, and
now and then a JavaScript error. Pure (no Locust import), seeded for repeatable tests.
"""

from __future__ import annotations

import random
import time
from typing import Any

PAGES = ("/", "/assignments", "/assignments/new", "/settings")
RESOURCES = (("/static/app.js", "script"), ("/static/app.css", "css"), ("/static/logo.svg", "img"))
API_CALLS = (("GET", "/v1/assignments/{id}"), ("POST", "/v1/assignments"), ("POST", "/auth/token"))
VIEWPORTS = ((1920, 1080), (1440, 900), (390, 844), (768, 1024))
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) signalcheck-load"
ERROR_SHARE = 0.05
VITAL_NAMES = ("TTFB", "FCP", "LCP", "CLS", "INP")
VITAL_LIMITS = {"LCP": (2500, 4000), "INP": (200, 500), "CLS": (0.1, 0.25), "FCP": (1800, 3000)}


def rating(name: str, value: float) -> str:
    good, poor = VITAL_LIMITS.get(name, (800, 1800))
    return "good" if value <= good else ("needs-improvement" if value <= poor else "poor")


class RumSession:
    """One browser session on `site` (the page origin), reporting for region `region`."""

    def __init__(self, site: str, region: str, rng: random.Random | None = None):
        self.site = site.rstrip("/")
        self.region = region
        self.rng = rng or random.Random()
        self.session_id = f"load-{self.rng.getrandbits(64):016x}"
        self.viewport = dict(zip(("width", "height"), self.rng.choice(VIEWPORTS), strict=True))

    def batch(self) -> dict[str, Any]:
        """The events of one page view: {"events": [...], "app": {...}}."""
        rng = self.rng
        page = {"url": self.site + rng.choice(PAGES), "referrer": self.site + "/"}
        now = int(time.time() * 1000)
        ttfb = rng.uniform(20, 300)
        total = ttfb + rng.uniform(200, 2500)
        events = [
            self._event("page_load", now, page, metrics=self._navigation(ttfb, total)),
            *(
                self._event("resource_load", now, page, resource=self._resource(name, kind))
                for name, kind in RESOURCES
            ),
            *(
                self._event("web_vital", now, page, vital=self._vital(n, ttfb, total))
                for n in VITAL_NAMES
            ),
            self._event("api_call", now, page, api=self._api_call()),
            self._event(
                "user_interaction",
                now,
                page,
                interaction={
                    "action": "click",
                    "target": "button#save",
                    "duration": rng.uniform(5, 120),
                },
            ),
        ]
        if rng.random() < ERROR_SHARE:
            error = {
                "message": "TypeError: x is undefined",
                "kind": "TypeError",
                "stack": "at app.js:1:2",
            }
            events.append(self._event("error", now, page, error=error))
        return {"events": events, "app": {"version": "load", "region": self.region}}

    def _event(self, kind: str, now: int, page: dict[str, str], **body: Any) -> dict[str, Any]:
        return {
            "type": kind,
            "session_id": self.session_id,
            "timestamp": now,
            "page": page,
            "user_agent": USER_AGENT,
            "viewport": self.viewport,
            **body,
        }

    def _navigation(self, ttfb: float, total: float) -> dict[str, float]:
        dns, tcp = self.rng.uniform(0, 20), self.rng.uniform(1, 30)
        return {
            "total": round(total, 1),
            "dns_lookup": round(dns, 1),
            "tcp_connection": round(tcp, 1),
            "ttfb": round(ttfb, 1),
            "content_download": round(self.rng.uniform(5, 100), 1),
            "dom_processing": round((total - ttfb) * 0.6, 1),
            "dom_complete": round(total * 0.95, 1),
            "onload": round(total, 1),
        }

    def _resource(self, name: str, kind: str) -> dict[str, Any]:
        size = self.rng.randint(2_000, 400_000)
        return {
            "name": self.site + name,
            "type": kind,
            "duration": round(self.rng.uniform(5, 400), 1),
            "size": size,
        }

    def _vital(self, name: str, ttfb: float, total: float) -> dict[str, Any]:
        value = {
            "TTFB": ttfb,
            "FCP": ttfb + (total - ttfb) * 0.4,
            "LCP": total * self.rng.uniform(0.8, 1.3),
            "CLS": self.rng.choice((0.0, 0.02, 0.08, 0.3)),
            "INP": self.rng.uniform(16, 600),
        }[name]
        value = round(value, 3)
        return {"name": name, "value": value, "rating": rating(name, value)}

    def _api_call(self) -> dict[str, Any]:
        method, route = self.rng.choice(API_CALLS)
        path = route.replace("{id}", f"{self.rng.getrandbits(32):08x}")
        status = self.rng.choices((200, 201, 404, 500), weights=(80, 15, 4, 1))[0]
        return {
            "method": method,
            "endpoint": self.site + path,
            "duration": round(self.rng.uniform(10, 800), 1),
            "status": status,
            "trace_id": f"{self.rng.getrandbits(128):032x}",
        }
