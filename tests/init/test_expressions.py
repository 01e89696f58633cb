"""The fault kind, grouping labels and region-keeping of rule expressions, parsed."""

from __future__ import annotations

import pytest

from signalcheck.scaffold.expressions import fault_of, grouping_labels, keeps_label

RECORDED = {
    "cluster:errors:ratio": 'sum by (cluster) (rate(r{status=~"5.."}[1m])) '
    "/ sum by (cluster) (rate(r[1m]))"
}


@pytest.mark.parametrize(
    ("expr", "kind"),
    [
        ('up{job="api"} == 0', "kill"),
        ('sum by (cluster) (up{job="edge"}) < 1', "kill"),
        ("cluster:errors:ratio > 0.05", "errors"),
        ('sum(rate(x{code=~"5.."}[5m])) / sum(rate(x[5m])) > 0.1', "errors"),
        ("histogram_quantile(0.9, sum by (le) (rate(req_duration_seconds_bucket[1m]))) > 1",
         "latency"),
        ("time() - max by (region) (synthetic_check_last_run_timestamp_seconds) > 600",
         "probes_paused"),
        ("min by (region) (synthetic_check_success) == 0", None),
        ("demo_ready == 0", None),
        ("vector(1)", None),
        ("cluster:errors:ratio > 0.1 and "
         "histogram_quantile(0.9, rate(req_duration_seconds_bucket[1m])) > 1", None),  # two
    ],
)  # fmt: skip
def test_fault_kind(expr: str, kind: str | None) -> None:
    fault, why = fault_of(expr, RECORDED)
    assert (fault.kind if fault else None) == kind, why
    assert bool(why) == (kind is None)


def test_synthetic_latency_needs_probes() -> None:
    fault, _ = fault_of(
        "histogram_quantile(0.95, sum by (le) (rate(synthetic_request_duration_seconds_bucket"
        "[1m]))) > 2",
        {},
    )
    assert fault is not None and fault.kind == "latency" and fault.needs_probes


def test_grouping_and_kept_labels() -> None:
    expr = 'sum by (cluster, le) (rate(x{a="b"}[1m])) / on (cluster) group_left sum(y)'
    assert grouping_labels(expr) == {"cluster", "le"}
    assert keeps_label(expr, "cluster")
    assert not keeps_label("sum(rate(x[1m])) > 1", "cluster")
    assert not keeps_label("vector(1)", "cluster")
    assert keeps_label('up{job="api"} == 0', "cluster")
    assert not keeps_label("x / on (job) y", "cluster")
