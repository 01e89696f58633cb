"""What must arrive after an exercise: the `expectations:` section of the config.

Each expectation has a unique `name` (its test id in `pytest validation/`) and a `budget`:
the seconds the evidence may take to appear before the expectation fails.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Seconds = Annotated[float, Field(gt=0, description="seconds")]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
TraceBackend = Literal["capture", "tempo", "jaeger"]
LogBackend = Literal["capture", "loki"]


class _Named(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name


class _Expectation(_Named):
    budget: Seconds = 30.0


class _Conditional(_Expectation):
    """An expectation that judges one actor's entries (a fault, a load run) and may skip, saying
    so, when `conditional` and this run planned no such actor; a planned actor that left no
    entry always fails."""

    conditional: bool = Field(
        False, description="skip (and say so) when this run planned no such actor"
    )


class MetricExpectation(_Expectation):
    """A PromQL selector that must return series.

    With `every_region` every configured region has a series (label `region_label`); every
    series carries the `labels`; with `min`/`max` every value is within bounds; with
    `increase_equals` the increase of the (counter) query per region over the ledger's
    window equals what the ledger counts, within `tolerance`: for `probes`, the successful
    probe runs (of `check`: a workflow run that passed made each of its steps once); for
    `load_requests`, the requests the load entries sent.
    """

    query: str
    every_region: bool = False
    region_label: str = "region"
    labels: list[str] = Field(default_factory=list)
    min: float | None = None
    max: float | None = None
    increase_equals: Literal["probes", "load_requests"] | None = None
    check: str | None = Field(None, description="count only probe entries of this check")
    tolerance: float = Field(0.0, ge=0)


class TraceExpectation(_Expectation):
    """Every trace the ledger's probes started exists, complete, in the trace backend."""

    services: list[str] = Field(min_length=1)
    operations: list[str] = Field(default_factory=list)
    cross_boundary: bool = True
    check: str | None = Field(None, description="only the probes of this check")
    backend: TraceBackend | None = None
    region_attribute: str | None = Field(
        "cloud.region", description="resource attribute every span must carry = probe's region"
    )
    settle: Seconds = Field(
        0.5, description="a trace is complete once its span count has not grown for this long"
    )


class LogExpectation(_Expectation):
    """`carry_trace_ids`: records carrying each probe's trace id exist, each with `fields`.
    `no_errors`: no record at `min_severity` or above outside the ledger's fault windows."""

    evidence: Literal["carry_trace_ids", "no_errors"]
    fields: list[str] = Field(default_factory=list)
    check: str | None = None
    min_severity: int = Field(17, ge=1, le=24, description="OTel severity number; 17 = ERROR")
    logql: str | None = Field(
        None, description="Loki only: LogQL with {trace_id} where the trace id goes"
    )
    backend: LogBackend | None = None
    settle: Seconds = Field(1.0, description="export delay to wait out after the window")
    region_attribute: str | None = Field(
        "cloud.region",
        description="resource or record attribute every record must carry = the probe's "
        "region (from Loki also its label form, e.g. cloud_region); None: no check",
    )
    region_label: str = Field(
        "region",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Loki only: the stream label or structured metadata naming the region, "
        "looked up after region_attribute and before cloud_region (Loki's OTLP name)",
    )


class AlertExpectation(_Conditional):
    """For each of the ledger's faults with action `fault`: `alert` fires for the faulted
    region only within `budget`, with `labels`, reaches `receiver`, and resolves within
    `resolve_budget` after the restore. With `suppressed_by` the fault (e.g. `not_ready`)
    sets off that inhibiting alert instead, which must fire for the region, notify and stop
    within `resolve_budget` of the restore; meanwhile `alert` keeps firing and reaches no
    receiver (no firing nor resolved notification) from the inhibitor's first notification
    until it stops, though it reached `receiver` (any receiver without one) before."""

    alert: str
    fault: str
    labels: dict[str, str] = Field(default_factory=dict)
    receiver: str | None = None
    resolve_budget: Seconds | None = Field(
        120.0,
        description="seconds after the restore for the alert to stop firing; null: its "
        "resolution is not judged (an alert whose window is meant to outlast the fault, e.g. "
        "a slow burn-rate alert), though the fault must still have been restored",
    )
    suppressed_by: str | None = None
    region_label: str = "region"
    needs_probes: bool = Field(
        False,
        description="the alert reads the probes' own results (a synthetic-check alert): only "
        "faults with a probe run of their region during them are judged; without one, the "
        "run counts as one that planned no such fault",
    )
    experiment: str | None = Field(
        None,
        description="only the faults injected by experiments whose title matches this glob "
        "(e.g. 'A region out of rotation*': a fault sequence that one experiment stages); "
        "default: every experiment's",
    )

    @model_validator(mode="after")
    def _inhibitor_resolves(self) -> AlertExpectation:
        if self.suppressed_by is not None and self.resolve_budget is None:
            raise ValueError(
                f"suppressed_by {self.suppressed_by!r} needs a resolve_budget (seconds): the "
                "inhibition is judged until the inhibiting alert stops"
            )
        return self

    def judges(self, experiment: str | None) -> bool:
        """Whether faults injected by the experiment titled `experiment` are this one's."""
        return self.experiment is None or fnmatch.fnmatchcase(experiment or "", self.experiment)


class ProbeResultsExpectation(_Expectation):
    """The ledger's probe results reached Prometheus (pushed or scraped): for every (check,
    region) of its probe entries, `success_metric` equals the outcome of the latest run and
    `last_run_metric` its end time, so the series judged are this run's, not a stale push."""

    check: str | None = Field(None, description="only the probes of this check")
    success_metric: str = "synthetic_check_success"
    last_run_metric: str = "synthetic_check_last_run_timestamp_seconds"
    check_label: str = "check"
    region_label: str = "region"


Instrumentation = Literal[
    "demo", "otel", "prometheus-flask-exporter", "prometheus-fastapi-instrumentator"
]


@dataclass(frozen=True)
class RequestCounter:
    """How an instrumentation counts requests: the counter and its route and status labels."""

    counter: str
    route_label: str
    status_label: str


REQUEST_COUNTERS: dict[str, RequestCounter] = {
    # signalcheck's demo service
    "demo": RequestCounter('http_requests_total{job="demo"}', "route", "status"),
    # OpenTelemetry HTTP semantic conventions (stable, `http.server.request.duration`), as
    # Prometheus names them (its OTLP receiver, the OTel Collector or the Prometheus exporter)
    "otel": RequestCounter(
        "http_server_request_duration_seconds_count", "http_route", "http_response_status_code"
    ),
    # prometheus-flask-exporter with group_by="url_rule" (the route template)
    "prometheus-flask-exporter": RequestCounter(
        "flask_http_request_duration_seconds_count", "url_rule", "status"
    ),
    # prometheus-fastapi-instrumentator's defaults (status codes grouped as 2xx, 4xx, ...)
    "prometheus-fastapi-instrumentator": RequestCounter("http_requests_total", "handler", "status"),
}
"""The request counter of each `instrumentation` preset of a load expectation."""


class LoadExpectation(_Conditional):
    """For each of the ledger's load runs: the service's `counter` rose, per route and status
    class, by exactly the requests the load got an answer for (routes the service does not
    count left out), within `tolerance` (a share). Locust's request names must be the
    service's route label values (name requests by their route template)."""

    instrumentation: Instrumentation = Field(
        "demo",
        description="the preset for counter, route_label and status_label: demo, otel (HTTP "
        "semantic conventions), prometheus-flask-exporter (group_by='url_rule'), "
        "prometheus-fastapi-instrumentator",
    )
    counter: str = Field(
        "",
        description="PromQL selector of the service's request counter; default: the preset's",
    )
    route_label: str = Field(
        "", description="the counter's route template label; default: the preset's"
    )
    status_label: str = Field(
        "",
        description="the counter's status label, a code (200) or a class (2xx): its first digit "
        "makes the class; default: the preset's",
    )
    uncounted_routes: list[str] = Field(
        default_factory=lambda: ["/health", "/health/ready", "/metrics"]
    )
    tolerance: float = Field(0.0, ge=0)
    region_label: str = "region"
    settle: Seconds = Field(2.0, description="seconds after the run for the last scrape")

    @model_validator(mode="after")
    def _preset(self) -> LoadExpectation:
        """Counter and labels not given are the instrumentation preset's."""
        preset = REQUEST_COUNTERS[self.instrumentation]
        for key in ("counter", "route_label", "status_label"):
            if not getattr(self, key):
                object.__setattr__(self, key, getattr(preset, key))
        return self


class RumExpectation(_Expectation):
    """Each browser probe's RUM session (its ledger entry's `rum_session_id`) is in the RUM
    store with the `events` kinds and the `vitals`, and each of its api_calls carrying a trace
    id (at least one) has that trace's SERVER span in the trace backend; every `metrics`
    selector (summed) rose between the first browser probe and the check."""

    check: str | None = Field(None, description="only the browser probes of this check")
    events: list[str] = Field(
        default_factory=lambda: ["page_load", "web_vital", "api_call"], min_length=1
    )
    vitals: list[Literal["LCP", "INP", "CLS", "FCP", "TTFB"]] = Field(
        default_factory=lambda: ["TTFB", "FCP"],
        description="sent while the page is open (LCP, CLS and INP only when it is hidden)",
    )
    metrics: list[str] = Field(
        default_factory=lambda: ["rum_events_total"], description="PromQL selectors"
    )
    trace_backend: TraceBackend | None = None


class TargetsExpectation(_Expectation):
    """Every scrape target of `job` is up (one per configured region with `every_region`),
    and every series of the job carries the `identity_labels` the rules group by."""

    job: str
    every_region: bool = True
    identity_labels: list[str] = Field(default_factory=lambda: ["region"])
    region_label: str = "region"


class LabelLimit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_values: int | None = Field(None, ge=1)
    pattern: str | None = Field(None, description="a regex every value must match in full")


class CardinalityExpectation(_Expectation):
    """`selector` returns at most `max_series` series, and each label in `labels` has at most
    `max_values` values, every one matching its `pattern` (route templates, not raw paths)."""

    selector: str
    max_series: int | None = Field(None, ge=1)
    labels: dict[str, LabelLimit] = Field(default_factory=dict)


class QuietExpectation(_Expectation):
    """No alert fires during the ledger's window except in the regions the ledger faulted
    (and the alert names matching an `allow` glob, and the `heartbeats` expectations' alerts)."""

    allow: list[str] = Field(default_factory=list)
    region_label: str = "region"


class HeartbeatExpectation(_Named):
    """An always-firing alert (a Watchdog) reached `receiver` throughout the ledger's window:
    no stretch of it longer than `budget` without a firing notification. It proves the
    alerting pipeline works on every run, with or without a fault."""

    alert: str
    receiver: str
    budget: Seconds | None = Field(
        None,
        description="the longest silence allowed between two notifications; default: the "
        "longest repeat_interval + group_interval of the Alertmanager config in use, plus "
        "its longest group_wait or group_interval and 2 s",
    )


class RulesExpectation(_Expectation):
    """Every metric name the rules loaded in Prometheus (plus `rule_files`) and the Grafana
    dashboards use exists in Prometheus; recording-rule outputs count as existing."""

    rule_files: list[Path] = Field(default_factory=list, description="globs, relative to config")
    dashboards: list[Path] = Field(default_factory=list, description="globs of dashboard JSON")
    ignore: list[str] = Field(
        default_factory=list, description="metric name globs not to require, e.g. rum_*"
    )


class Expectations(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    metrics: list[MetricExpectation] = Field(default_factory=list)
    probes: list[ProbeResultsExpectation] = Field(default_factory=list)
    targets: list[TargetsExpectation] = Field(default_factory=list)
    cardinality: list[CardinalityExpectation] = Field(default_factory=list)
    load: list[LoadExpectation] = Field(default_factory=list)
    rum: list[RumExpectation] = Field(default_factory=list)
    traces: list[TraceExpectation] = Field(default_factory=list)
    logs: list[LogExpectation] = Field(default_factory=list)
    alerts: list[AlertExpectation] = Field(default_factory=list)
    quiet: list[QuietExpectation] = Field(default_factory=list)
    heartbeats: list[HeartbeatExpectation] = Field(default_factory=list)
    rules: list[RulesExpectation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> Expectations:
        for kind in type(self).model_fields:
            names = [item.name for item in getattr(self, kind)]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ValueError(f"{kind}: duplicate expectation names {duplicates}")
        return self
