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

from typing import Any

from signalcheck.backends.base import BackendClient, BackendError

HISTOGRAM_HINT = (
    "a native histogram has no single value: query histogram_count(), histogram_sum(), "
    "histogram_avg() or histogram_quantile() of it"
)


INFO_PREFIX = "PromQL info:"
"""How Prometheus 2.x before the `infos` array marked an info-level annotation in `warnings`."""


class PrometheusResultError(BackendError):
    """A query answer of a type or sample kind the caller cannot read as numbers."""


class PartialAnswerError(BackendError):
    """An answer Prometheus marked with `warnings`: it may be incomplete."""


def instant_samples(promql: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The `data` of an instant query as float samples (see the module docstring)."""
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        return [{"metric": {}, "value": result}]
    if kind == "vector":
        histograms = [s for s in result or [] if "value" not in s]
        if histograms:
            raise PrometheusResultError(
                f"prometheus: {promql!r} returned {len(histograms)} native-histogram "
                f"sample(s) (e.g. {histograms[0].get('metric')}): {HISTOGRAM_HINT}"
            )
        return result or []
    if kind == "matrix":
        return [
            {**series, "value": series["values"][-1]}
            for series in range_series(promql, data)
            if series.get("values")
        ]
    raise PrometheusResultError(
        f"prometheus: {promql!r} returned result type {kind!r} ({result!r}), not numbers"
    )


def range_series(promql: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The `data` of a range query as float series (see the module docstring)."""
    if data.get("resultType") != "matrix":
        raise PrometheusResultError(
            f"prometheus: range query {promql!r} returned result type "
            f"{data.get('resultType')!r}, expected matrix"
        )
    series = data.get("result") or []
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

    def _data(self, path: str, **params: Any) -> Any:
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

    def query(self, promql: str, time: float | None = None) -> list[dict[str, Any]]:
        """Instant query: one `{"metric", "value"}` item per series (one for a scalar)."""
        return instant_samples(promql, self._data("/api/v1/query", query=promql, time=time))

    def query_range(
        self, promql: str, start: float, end: float, step: float
    ) -> list[dict[str, Any]]:
        """Range query; one item per series, each with `metric` and `values` [[t, "v"], ...]."""
        data = self._data("/api/v1/query_range", query=promql, start=start, end=end, step=step)
        return range_series(promql, data)

    def series(
        self, *matchers: str, start: float | None = None, end: float | None = None
    ) -> list[dict[str, str]]:
        """The label sets of the series matching any of `matchers`."""
        return self._data("/api/v1/series", **{"match[]": list(matchers)}, start=start, end=end)

    def metric_names(self) -> list[str]:
        """Every metric name with a series in Prometheus' retention."""
        return self._data("/api/v1/label/__name__/values")

    def targets(self) -> list[dict[str, Any]]:
        return self._data("/api/v1/targets", state="active")["activeTargets"]

    def alerts(self) -> list[dict[str, Any]]:
        return self._data("/api/v1/alerts")["alerts"]

    def rules(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Rule groups, each with `file`, `name` and `rules`; `kind` is "alert" or "record"."""
        return self._data("/api/v1/rules", type=kind)["groups"]
