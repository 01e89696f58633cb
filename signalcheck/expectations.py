"""What must arrive after an exercise: the `expectations:` section of the config.

Each expectation has a unique `name` (its test id in `pytest validation/`) and a `budget`:
the seconds the evidence may take to appear before the expectation fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Seconds = Annotated[float, Field(gt=0, description="seconds")]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
TraceBackend = Literal["capture", "tempo", "jaeger"]
LogBackend = Literal["capture", "loki"]


class _Expectation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    budget: Seconds = 30.0


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


class AlertExpectation(_Expectation):
    """For each of the ledger's faults with action `fault`: `alert` fires for the faulted
    region only within `budget`, with `labels`, reaches `receiver`, and resolves within
    `resolve_budget` after the restore. With `suppressed_by` it must be inhibited instead:
    it fires in Prometheus but no notification of it leaves Alertmanager."""

    alert: str
    fault: str
    labels: dict[str, str] = Field(default_factory=dict)
    receiver: str | None = None
    resolve_budget: Seconds = 120.0
    suppressed_by: str | None = None
    region_label: str = "region"

    @model_validator(mode="after")
    def _receiver_or_suppressed(self) -> AlertExpectation:
        if self.receiver and self.suppressed_by:
            raise ValueError("an alert is either routed to a receiver or suppressed, not both")
        return self


class QuietExpectation(_Expectation):
    """No alert fires during the ledger's window except in the regions the ledger faulted
    (and the alert names matching an `allow` glob)."""

    allow: list[str] = Field(default_factory=list)
    region_label: str = "region"


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
    traces: list[TraceExpectation] = Field(default_factory=list)
    logs: list[LogExpectation] = Field(default_factory=list)
    alerts: list[AlertExpectation] = Field(default_factory=list)
    quiet: list[QuietExpectation] = Field(default_factory=list)
    rules: list[RulesExpectation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> Expectations:
        for kind in type(self).model_fields:
            names = [item.name for item in getattr(self, kind)]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ValueError(f"{kind}: duplicate expectation names {duplicates}")
        return self
