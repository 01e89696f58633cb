"""Probe metrics, named as in the reference design's alert rules.

Labels are bounded: region and check names come from the config, `error_type` from
ErrorType, `phase` from the five HTTP phases; never a URL or a trace id.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from signalcheck.probes.results import CheckResult

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
WEB_VITALS = {
    "lcp": ("synthetic_web_vital_lcp_seconds", "Largest Contentful Paint"),
    "fcp": ("synthetic_web_vital_fcp_seconds", "First Contentful Paint"),
    "ttfb": ("synthetic_web_vital_ttfb_seconds", "Time to First Byte"),
    "cls": ("synthetic_web_vital_cls", "Cumulative Layout Shift (unitless)"),
}


class ProbeMetrics:
    """The metrics of one registry: per region for a push, or the daemon's for /metrics."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.request_duration = Histogram(
            "synthetic_request_duration_seconds", "Duration of a synthetic check run.",
            ["region", "endpoint", "check_type"], buckets=DURATION_BUCKETS, registry=r,
        )  # fmt: skip
        self.successes = Counter(
            "synthetic_request_success", "Synthetic check runs that passed.",
            ["region", "endpoint"], registry=r,
        )  # fmt: skip
        self.failures = Counter(
            "synthetic_request_failure", "Synthetic check runs that failed, by error type.",
            ["region", "endpoint", "error_type"], registry=r,
        )  # fmt: skip
        self.attempts = Counter(
            "synthetic_check_attempts", "Attempts made, retries included.",
            ["region", "check"], registry=r,
        )  # fmt: skip
        self.check_success = Gauge(
            "synthetic_check_success", "1 if the last run of the check passed, else 0.",
            ["region", "check", "check_type"], registry=r,
        )  # fmt: skip
        self.check_duration = Gauge(
            "synthetic_check_duration_seconds", "Duration of the last run of the check.",
            ["region", "check", "check_type"], registry=r,
        )  # fmt: skip
        self.last_run = Gauge(
            "synthetic_check_last_run_timestamp_seconds", "When the check last ran (unix time).",
            ["region", "check"], registry=r,
        )  # fmt: skip
        self.phase_duration = Gauge(
            "synthetic_http_phase_duration_seconds", "HTTP phase durations of the last run.",
            ["region", "check", "phase"], registry=r,
        )  # fmt: skip
        self.cert_expiry = Gauge(
            "synthetic_tls_cert_expiry_timestamp_seconds", "When the server certificate expires.",
            ["region", "check"], registry=r,
        )  # fmt: skip
        self.web_vitals = {
            vital: Gauge(name, f"{doc} of the last browser check run.", ["region", "check"],
                         registry=r)
            for vital, (name, doc) in WEB_VITALS.items()
        }  # fmt: skip

    def record(self, result: CheckResult) -> None:
        region, check = result.region, result.check
        self.request_duration.labels(region, result.endpoint, result.check_type).observe(
            result.duration
        )
        if result.passed:
            self.successes.labels(region, result.endpoint).inc()
        else:
            self.failures.labels(region, result.endpoint, result.error_class or "other").inc()
        self.attempts.labels(region, check).inc(result.attempts)
        self.check_success.labels(region, check, result.check_type).set(int(result.passed))
        self.check_duration.labels(region, check, result.check_type).set(result.duration)
        self.last_run.labels(region, check).set(result.end)
        for phase, seconds in result.phases.items():
            self.phase_duration.labels(region, check, phase).set(seconds)
        if result.cert_expiry is not None:
            self.cert_expiry.labels(region, check).set(result.cert_expiry)
        for vital, value in result.web_vitals.items():
            if value is not None and vital in self.web_vitals:
                self.web_vitals[vital].labels(region, check).set(value)
