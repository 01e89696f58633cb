"""What must arrive after an exercise: the `expectations:` section of the config.

Each expectation has a unique `name` (its test id in `pytest validation/`) and a `budget`:
the seconds the evidence may take to appear before the expectation fails.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import promql_parser as pp
from pydantic import BaseModel, ConfigDict, Field, model_validator

Seconds = Annotated[float, Field(gt=0, description="seconds")]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
TraceBackend = Literal["capture", "tempo", "jaeger"]
LogBackend = Literal["capture", "loki"]


class _Named(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name = Field(
        description="unique among the expectations of its kind: its test id in `pytest "
        "validation/` (letters, digits, _, . and -)",
    )


class _Expectation(_Named):
    budget: Seconds = Field(
        30.0,
        description="seconds the evidence may take to appear before the expectation fails",
    )


class _Conditional(_Expectation):
    """An expectation that judges one actor's entries (a fault, a load run) and may skip, saying
    so, when `conditional` and this run planned no such actor; a planned actor that left no
    entry always fails."""

    conditional: bool = Field(
        False, description="skip (and say so) when this run planned no such actor"
    )


class MetricExpectation(_Expectation):
    """A PromQL selector that must return series of this run.

    Only the series `series` says are this run's count (by default: a counter's series that
    moved since the run's start, any other selector's series that Prometheus scraped since
    then; a series an earlier run left is no evidence). With `every_region` every configured
    region has such a series (label `region_label`); every one carries the `labels`; with
    `min`/`max` every value is a number within bounds; with `increase_equals` the increase of
    the counter selector per region over the ledger's window (counted from its raw samples,
    resets included, as Prometheus' `increase()` counts them) equals what the ledger counts,
    within `tolerance`: for `probes`, the successful probe runs (of `check`: a workflow run
    that passed made each of its steps once), plus at most the failed attempts that may have
    reached the service; for `load_requests`, the requests the load entries sent.
    """

    query: str = Field(description="a PromQL selector (or query) that must return series")
    every_region: bool = Field(
        False,
        description="every configured region has a series (label region_label)",
    )
    region_label: str = Field("region", description="the label naming a series' region")
    labels: list[str] = Field(default_factory=list, description="labels every series must carry")
    min: float | None = Field(
        None,
        description="every value is at least this; null: no lower bound",
    )
    max: float | None = Field(None, description="every value is at most this; null: no upper bound")
    increase_equals: Literal["probes", "load_requests"] | None = Field(
        None,
        description="the counter's increase per region over the ledger's window (resets "
        "counted as Prometheus' increase() counts them) equals the ledger's count: probes, the "
        "successful probe runs (of check), plus at most the failed attempts that may have "
        "reached the service; load_requests, the requests the load entries sent; null: not "
        "compared",
    )
    check: str | None = Field(None, description="count only probe entries of this check")
    tolerance: float = Field(
        0.0,
        ge=0,
        description="how far the increase may be from the ledger's count (an absolute number)",
    )
    series: Literal["auto", "moved", "scraped", "exists_now"] = Field(
        "auto",
        description="which series are this run's evidence: moved, its value changed (or it "
        "first appeared) after the run's start; scraped, Prometheus took a sample of it after "
        "the run's start (needs a series selector); auto, moved for a counter (a name ending "
        "_total, _count, _sum or _bucket) or an expression, scraped for any other selector; "
        "exists_now, any series the query returns now, whatever run left it (Prometheus' "
        "5-minute lookback, a long-lived counter, a Pushgateway group). Pushed series are "
        "scraped afresh whatever their age: judge them with moved (or the probes expectation). "
        "Not used with increase_equals, which counts this run's window",
    )

    @property
    def reads_selector(self) -> bool:
        """Whether `query` is a plain series selector (no function, operator or modifier),
        whose raw samples a range query returns."""
        try:
            parsed = pp.parse(self.query)
        except (ValueError, TypeError):
            return False
        return isinstance(parsed, pp.VectorSelector) and parsed.offset is None and parsed.at is None

    @model_validator(mode="after")
    def _selector_when_raw_samples_are_read(self) -> MetricExpectation:
        needs = "increase_equals" if self.increase_equals else "series: scraped"
        if (self.increase_equals or self.series == "scraped") and not self.reads_selector:
            raise ValueError(
                f"{needs} reads the raw samples of query: it must be a series selector such "
                f'as name{{job="x"}} (no function, operator, offset or @), not {self.query!r}'
            )
        return self


class TraceExpectation(_Expectation):
    """Every trace the ledger's probes started exists, complete, in the trace backend. A probe
    that failed during a fault is held to what it did: its later steps never ran, so its trace
    needs no service or operation of theirs, only one span tree (continuing the probe's
    traceparent) per request the service answered up to the failed step."""

    services: list[str] = Field(
        min_length=1,
        description="service names (service.name) each trace must have spans of",
    )
    operations: list[str] = Field(
        default_factory=list,
        description="span names each trace must contain",
    )
    cross_boundary: bool = Field(
        True,
        description="a span of an expected service continues a caller's context (its parent is "
        "another service's span, or the probe's traceparent)",
    )
    check: str | None = Field(None, description="only the probes of this check")
    backend: TraceBackend | None = Field(
        None,
        description="where the traces are read; default: tempo if configured, else jaeger if "
        "configured, else capture",
    )
    region_attribute: str | None = Field(
        "cloud.region", description="resource attribute every span must carry = probe's region"
    )
    settle: Seconds = Field(
        0.5, description="a trace is complete once its span count has not grown for this long"
    )


class LogExpectation(_Expectation):
    """`carry_trace_ids`: records carrying each probe's trace id exist, each with `fields`.
    `no_errors`: no record at `min_severity` or above outside the ledger's fault windows."""

    evidence: Literal["carry_trace_ids", "no_errors"] = Field(
        description="carry_trace_ids: records carrying each probe's trace id exist, with fields; "
        "no_errors: no record at min_severity or above outside the ledger's fault "
        "windows",
    )
    fields: list[str] = Field(
        default_factory=list,
        description="fields (attributes) every record found must carry",
    )
    check: str | None = Field(None, description="only the probes of this check")
    min_severity: int = Field(17, ge=1, le=24, description="OTel severity number; 17 = ERROR")
    logql: str | None = Field(
        None, description="Loki only: LogQL with {trace_id} where the trace id goes"
    )
    backend: LogBackend | None = Field(
        None,
        description="where the records are read; default: loki if configured, else capture",
    )
    settle: Seconds = Field(
        2.0,
        description="no_errors: seconds after the window's end by which the log pipeline has "
        "delivered every record emitted up to it (the exporters' batch delay, OTel's default "
        "1 s, plus margin); the check looks then, at the latest at the end of its budget",
    )
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
    region only (another region's counts only where a fault there may cause it: see
    `quiet`) within `budget`, with `labels`, reaches `receiver`, and resolves within
    `resolve_budget` after the restore. With `suppressed_by` the fault (e.g. `not_ready`)
    sets off that inhibiting alert instead, which must fire for the region, notify and stop
    within `resolve_budget` of the restore; meanwhile `alert` keeps firing and reaches no
    receiver (no firing nor resolved notification) from the inhibitor's first notification
    until it stops, though it reached `receiver` (any receiver without one) before."""

    alert: str = Field(description="the alert name (alertname) the fault must set off")
    fault: str = Field(
        description="the ledger's fault action that must set the alert off (e.g. kill_region)",
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="labels and values the firing alert must carry",
    )
    receiver: str | None = Field(
        None,
        description="the Alertmanager receiver the alert must reach; null: any receiver",
    )
    resolve_budget: Seconds | None = Field(
        120.0,
        description="seconds after the restore for the alert to stop firing; null: its "
        "resolution is not judged (an alert whose window is meant to outlast the fault, e.g. "
        "a slow burn-rate alert), though the fault must still have been restored",
    )
    suppressed_by: str | None = Field(
        None,
        description="an inhibiting alert the fault sets off instead, which must fire, notify and "
        "stop while `alert` reaches no receiver; null: no inhibition",
    )
    region_label: str = Field("region", description="the alert's label naming the region")
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
        "default: every experiment's. When the run planned a fault of its kind and the glob "
        "matches no title known (the shipped experiments', the run's and those beside them in "
        "their folder), the expectation fails instead of skipping: a renamed experiment",
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
    success_metric: str = Field(
        "synthetic_check_success",
        description="the gauge a probe sets to 1 when its run passed, else 0",
    )
    last_run_metric: str = Field(
        "synthetic_check_last_run_timestamp_seconds",
        description="the gauge holding the end time of a probe's latest run (Unix seconds)",
    )
    check_label: str = Field("check", description="the label naming the check")
    region_label: str = Field("region", description="the label naming the region")


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
    # Prometheus names them (its OTLP receiver, the OTel Collector or the Prometheus exporter).
    # OTel Python's instrumentations emit it only with OTEL_SEMCONV_STABILITY_OPT_IN=http (or
    # http/dup); by default they emit the old `http.server.duration` (ms), without http.route
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
        default_factory=lambda: ["/health", "/health/ready", "/metrics"],
        description="routes the service's counter does not count, left out of the comparison",
    )
    tolerance: float = Field(
        0.0,
        ge=0,
        description="the share by which a route's and status class's increase may differ from the "
        "load's answered requests (0.01: 1%)",
    )
    region_label: str = Field("region", description="the counter's label naming the region")
    settle: Seconds = Field(
        2.0,
        description="seconds after the load's end before the counter is first looked at; it "
        "is read at its first scrape after the end, however late the check runs",
    )

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
        default_factory=lambda: ["page_load", "web_vital", "api_call"],
        min_length=1,
        description="the event kinds each session must have",
    )
    vitals: list[Literal["LCP", "INP", "CLS", "FCP", "TTFB"]] = Field(
        default_factory=lambda: ["TTFB", "FCP"],
        description="sent while the page is open (LCP, CLS and INP only when it is hidden)",
    )
    metrics: list[str] = Field(
        default_factory=lambda: ["rum_events_total"], description="PromQL selectors"
    )
    trace_backend: TraceBackend | None = Field(
        None,
        description="where api_calls' traces are read; default: tempo if configured, else jaeger "
        "if configured, else capture",
    )


class TargetsExpectation(_Expectation):
    """Every scrape target of `job` is up (one per configured region with `every_region`),
    and every series of the job carries the `identity_labels` the rules group by."""

    job: str = Field(description="the scrape job whose targets must be up")
    every_region: bool = Field(True, description="one up target per configured region")
    identity_labels: list[str] = Field(
        default_factory=lambda: ["region"],
        description="labels every series of the job must carry (those the rules group by)",
    )
    region_label: str = Field("region", description="the target label naming the region")


class LabelLimit(BaseModel):
    """The values one label may take."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_values: int | None = Field(
        None,
        ge=1,
        description="the most distinct values allowed; null: no limit",
    )
    pattern: str | None = Field(None, description="a regex every value must match in full")


class CardinalityExpectation(_Expectation):
    """`selector` returns at most `max_series` series, and each label in `labels` has at most
    `max_values` values, every one matching its `pattern` (route templates, not raw paths)."""

    selector: str = Field(description="the PromQL selector whose series are counted")
    max_series: int | None = Field(
        None,
        ge=1,
        description="the most series allowed; null: no limit",
    )
    labels: dict[str, LabelLimit] = Field(
        default_factory=dict,
        description="label name → the limit on its values",
    )


class QuietExpectation(_Expectation):
    """No alert is pending or firing during the ledger's window that no fault caused: in a
    region, an alert may start only while a fault there is open (and for its alerts'
    `resolve_budget` after the restore), and only one that fault may cause (the alerts and
    inhibiting alerts of the alert expectations judging it, and those its experiment's mark
    declares); any other, before any fault included, is a stray named with the fault it
    overlapped. The alert names matching an `allow` glob, and the `heartbeats` expectations'
    alerts, may fire anywhere."""

    allow: list[str] = Field(
        default_factory=list,
        description="globs of alert names that may fire anywhere",
    )
    region_label: str = Field("region", description="the alerts' label naming the region")


class HeartbeatExpectation(_Named):
    """An always-firing alert (a Watchdog) reached `receiver` throughout the ledger's window:
    no stretch of it longer than `budget` without a firing notification. It proves the
    alerting pipeline works on every run, with or without a fault."""

    alert: str = Field(description="the always-firing alert (e.g. the shipped Watchdog)")
    receiver: str = Field(description="the Alertmanager receiver it must keep reaching")
    budget: Seconds | None = Field(
        None,
        description="the longest silence allowed between two notifications; default: twice "
        "the longest repeat_interval + group_interval of the Alertmanager config in use, plus "
        "its longest group_wait or group_interval and 2 s (18 s on the local stack). That "
        "config is read from the Alertmanager's /api/v2/status, else from the local stack's "
        "rendered alertmanager.yml; when neither can be read the check is an error unless "
        "`budget` is set. Every verdict says the tolerance used and where it came from",
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
    """The `expectations:` section: a list per kind; names are unique within a kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metrics: list[MetricExpectation] = Field(
        default_factory=list,
        description="PromQL selectors that must return series",
    )
    probes: list[ProbeResultsExpectation] = Field(
        default_factory=list,
        description="the probes' results reached Prometheus",
    )
    targets: list[TargetsExpectation] = Field(
        default_factory=list,
        description="scrape targets up, series with identity labels",
    )
    cardinality: list[CardinalityExpectation] = Field(
        default_factory=list,
        description="limits on series and label values",
    )
    load: list[LoadExpectation] = Field(
        default_factory=list,
        description="the service counted exactly the load's requests",
    )
    rum: list[RumExpectation] = Field(
        default_factory=list,
        description="browser probes' RUM sessions arrived",
    )
    traces: list[TraceExpectation] = Field(
        default_factory=list,
        description="the probes' traces arrived complete",
    )
    logs: list[LogExpectation] = Field(
        default_factory=list,
        description="log records carry the probes' trace ids; no errors",
    )
    alerts: list[AlertExpectation] = Field(
        default_factory=list,
        description="each fault sets off its alert, which resolves",
    )
    quiet: list[QuietExpectation] = Field(
        default_factory=list,
        description="no alert fires outside the faulted regions",
    )
    heartbeats: list[HeartbeatExpectation] = Field(
        default_factory=list,
        description="an always-firing alert kept notifying",
    )
    rules: list[RulesExpectation] = Field(
        default_factory=list,
        description="every metric the rules and dashboards use exists",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> Expectations:
        for kind in type(self).model_fields:
            names = [item.name for item in getattr(self, kind)]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ValueError(f"{kind}: duplicate expectation names {duplicates}")
        return self
