"""Prometheus metrics of the demo service, in a registry of its own."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class DemoMetrics:
    """The series named in the foundation contract; every one carries `region`."""

    def __init__(self, region: str, version: str, revision: str) -> None:
        self.region = region
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP API requests handled, by route template and status code.",
            ["method", "route", "status", "region"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to handle an HTTP API request, by route template.",
            ["method", "route", "region"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.assignments_created = Counter(
            "demo_assignments_created",
            "Assignments stored.",
            ["region"],
            registry=self.registry,
        )
        self.assignments_created.labels(region=region)  # export 0 before the first one
        self.dependency_up = Gauge(
            "demo_dependency_up",
            "1 when the dependency answers, else 0 (checked at scrape time).",
            ["dependency", "region"],
            registry=self.registry,
        )
        self.ready = Gauge(
            "demo_ready",
            "1 when the service takes traffic, 0 when it has taken itself out of rotation "
            "(its dependencies are demo_dependency_up; checked at scrape time).",
            ["region"],
            registry=self.registry,
        )
        build_info = Gauge(
            "demo_build_info",
            "Build of the running service; always 1.",
            ["version", "revision", "region"],
            registry=self.registry,
        )
        build_info.labels(version=version, revision=revision, region=region).set(1)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = {"method": method, "route": route, "region": self.region}
        self.requests.labels(status=str(status), **labels).inc()
        self.duration.labels(**labels).observe(seconds)

    def count_assignment_created(self) -> None:
        self.assignments_created.labels(region=self.region).inc()

    def watch_dependency(self, name: str, is_up: Callable[[], bool]) -> None:
        """Report `is_up()` as demo_dependency_up{dependency=name} at every scrape."""
        gauge = self.dependency_up.labels(dependency=name, region=self.region)
        gauge.set_function(lambda: 1.0 if is_up() else 0.0)

    def watch_readiness(self, is_ready: Callable[[], bool]) -> None:
        """Report `is_ready()` as demo_ready at every scrape."""
        self.ready.labels(region=self.region).set_function(lambda: 1.0 if is_ready() else 0.0)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
