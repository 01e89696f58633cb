"""Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics).

Query results come back in one shape whatever the result type: an instant query as a list of
`{"metric": {...}, "value": [t, "v"]}` (a scalar as one such item with no labels; a range
vector as its series with their `values` and, as `value`, the latest of them), a range query
as `{"metric": {...}, "values": [[t, "v"], ...]}`. A result without numbers (a string,
native-histogram samples) is a `PrometheusResultError` saying what to query instead, never a
KeyError further on.

An answer with `warnings` (errors that did not stop the query: a Thanos store or Mimir
ingester that did not answer, a failed remote read, a PromQL warning) may be missing data, so
no check may read it as evidence either way (no series read as "nothing fired"): it is a
`PartialAnswerError` quoting the warnings. `infos` (and the "PromQL info:" annotations older
versions send as warnings) are possible issues that may be false positives, such as rate() of
a name without a counter suffix: they change no answer.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from signalcheck.backends.base import BackendClient, JsonObject, QueryValue
from signalcheck.errors import BackendError, PartialAnswerError, PrometheusResultError

Labels = dict[str, str]
SamplePair = tuple[float, str]
"""`[unix seconds, "value"]` (a JSON array): the value a string, "NaN" and "+Inf" included."""


class Sample(TypedDict):
    """One series of an instant query's answer (see the module docstring)."""

    metric: Labels
    value: SamplePair
    """The sample; absent from a native-histogram sample, which the client refuses."""
    values: NotRequired[list[SamplePair]]
    """A range vector's raw samples (`value` is the latest of them)."""
    histogram: NotRequired[tuple[float, JsonObject]]


class Series(TypedDict):
    """One series of a range query's answer."""

    metric: Labels
    values: list[SamplePair]
    """Absent from a series of native histograms only, which the client refuses."""
    histograms: NotRequired[list[tuple[float, JsonObject]]]


class VectorData(TypedDict):
    resultType: Literal["vector"]
    result: list[Sample]


class MatrixData(TypedDict):
    resultType: Literal["matrix"]
    result: list[Series]


class ScalarData(TypedDict):
    resultType: Literal["scalar", "string"]
    result: SamplePair


QueryData = VectorData | MatrixData | ScalarData
"""The `data` of `/api/v1/query` and `/api/v1/query_range`, by `resultType`."""


class Target(TypedDict):
    """An active target of `/api/v1/targets`."""

    discoveredLabels: Labels
    labels: Labels
    scrapePool: str
    scrapeUrl: str
    globalUrl: str
    lastError: str
    lastScrape: str
    lastScrapeDuration: float
    health: Literal["up", "down", "unknown"]
    scrapeInterval: str
    scrapeTimeout: str


class TargetsData(TypedDict):
    activeTargets: list[Target]


class Alert(TypedDict):
    """A pending or firing alert of `/api/v1/alerts` (and of an alerting rule's `alerts`)."""

    labels: Labels
    annotations: Labels
    state: Literal["pending", "firing"]
    activeAt: str
    """RFC 3339, when the alert became pending."""
    keepFiringSince: NotRequired[str]
    value: str


class AlertsData(TypedDict):
    alerts: list[Alert]


class AlertingRule(TypedDict):
    type: Literal["alerting"]
    name: str
    query: str
    duration: float
    keepFiringFor: NotRequired[float]
    labels: Labels
    annotations: Labels
    alerts: list[Alert]
    state: Literal["inactive", "pending", "firing"]
    health: str
    lastError: NotRequired[str]
    evaluationTime: float
    lastEvaluation: str


class RecordingRule(TypedDict):
    type: Literal["recording"]
    name: str
    query: str
    labels: NotRequired[Labels]
    health: str
    lastError: NotRequired[str]
    evaluationTime: float
    lastEvaluation: str


Rule = AlertingRule | RecordingRule


class RuleGroup(TypedDict):
    """A rule group of `/api/v1/rules`."""

    name: str
    file: str
    rules: list[Rule]
    interval: float
    limit: NotRequired[int]
    evaluationTime: float
    lastEvaluation: str


class RulesData(TypedDict):
    groups: list[RuleGroup]


HISTOGRAM_HINT = (
    "a native histogram has no single value: query histogram_count(), histogram_sum(), "
    "histogram_avg() or histogram_quantile() of it"
)


INFO_PREFIX = "PromQL info:"
"""How Prometheus 2.x before the `infos` array marked an info-level annotation in `warnings`."""


def instant_samples(promql: str, data: QueryData) -> list[Sample]:
    """The `data` of an instant query as float samples (see the module docstring)."""
    if data["resultType"] == "vector":
        histograms = [s for s in data["result"] or [] if "value" not in s]
        if histograms:
            raise PrometheusResultError(
                f"prometheus: {promql!r} returned {len(histograms)} native-histogram "
                f"sample(s) (e.g. {histograms[0].get('metric')}): {HISTOGRAM_HINT}"
            )
        return data["result"] or []
    if data["resultType"] == "matrix":
        return [
            {"metric": series["metric"], "values": series["values"], "value": series["values"][-1]}
            for series in range_series(promql, data)
            if series.get("values")
        ]
    if data["resultType"] == "scalar":
        return [{"metric": {}, "value": data["result"]}]
    raise PrometheusResultError(
        f"prometheus: {promql!r} returned result type {data['resultType']!r} "
        f"({data['result']!r}), not numbers"
    )


def range_series(promql: str, data: QueryData) -> list[Series]:
    """The `data` of a range query as float series (see the module docstring)."""
    if data["resultType"] != "matrix":
        raise PrometheusResultError(
            f"prometheus: range query {promql!r} returned result type "
            f"{data['resultType']!r}, expected matrix"
        )
    series = data["result"] or []
    histograms = [s for s in series if s.get("histograms")]
    if histograms:
        raise PrometheusResultError(
            f"prometheus: {promql!r} returned native-histogram samples in "
            f"{len(histograms)} series (e.g. {histograms[0].get('metric')}): {HISTOGRAM_HINT}"
        )
    return series


class PrometheusClient(BackendClient):
    name = "prometheus"
    health_path = "/api/v1/status/buildinfo"

    def _data(self, path: str, **params: QueryValue) -> Any:
        """The `data` of a successful answer, in the shape the caller types it with."""
        body = self.get_json(path, **params)
        if not isinstance(body, dict) or body.get("status") != "success":
            detail = body.get("error", body) if isinstance(body, dict) else body
            raise BackendError(f"prometheus: {path} answered {detail}")
        warnings = [w for w in body.get("warnings") or [] if not str(w).startswith(INFO_PREFIX)]
        if warnings:
            asked = f" {params['query']!r}" if params.get("query") else ""
            raise PartialAnswerError(
                f"prometheus: {path}{asked} answered with warnings, so its answer may be "
                f"incomplete and is no evidence either way: {'; '.join(map(str, warnings))}"
            )
        return body["data"]

    def query(self, promql: str, time: float | None = None) -> list[Sample]:
        """Instant query: one `{"metric", "value"}` item per series (one for a scalar)."""
        data: QueryData = self._data("/api/v1/query", query=promql, time=time)
        return instant_samples(promql, data)

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Series]:
        """Range query; one item per series, each with `metric` and `values` [[t, "v"], ...]."""
        data: QueryData = self._data(
            "/api/v1/query_range", query=promql, start=start, end=end, step=step
        )
        return range_series(promql, data)

    def series(
        self, *matchers: str, start: float | None = None, end: float | None = None
    ) -> list[Labels]:
        """The label sets of the series matching any of `matchers`."""
        label_sets: list[Labels] = self._data(
            "/api/v1/series", **{"match[]": list(matchers)}, start=start, end=end
        )
        return label_sets

    def metric_names(self) -> list[str]:
        """Every metric name with a series in Prometheus' retention."""
        names: list[str] = self._data("/api/v1/label/__name__/values")
        return names

    def targets(self) -> list[Target]:
        data: TargetsData = self._data("/api/v1/targets", state="active")
        return data["activeTargets"]

    def alerts(self) -> list[Alert]:
        data: AlertsData = self._data("/api/v1/alerts")
        return data["alerts"]

    def rules(self, kind: Literal["alert", "record"] | None = None) -> list[RuleGroup]:
        """Rule groups, each with `file`, `name` and `rules`; `kind` is "alert" or "record"."""
        data: RulesData = self._data("/api/v1/rules", type=kind)
        return data["groups"]
