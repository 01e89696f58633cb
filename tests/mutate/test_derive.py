"""Mutant derivation from the shipped config: one change each, errors for missing targets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from signalcheck.config import load_config
from signalcheck.errors import MutationError
from signalcheck.mutate.derive import (
    derive,
    drop_grouping_label,
    first_metric,
    load_sources,
    rename_metric,
    rule_mutant,
    scrape_job_mutant,
)
from signalcheck.mutate.run import select
from tests.support import REPO

KINDS = {"threshold", "for", "grouping", "metric", "receiver", "matcher", "inhibit", "scrape-job"}


@pytest.fixture(scope="module")
def sources():
    return load_sources(load_config(REPO / "signalcheck.yaml", environ={}))


def _differences(old, new, at: str = "") -> list[str]:
    """Paths where two YAML documents differ (a list whose length changed counts once)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            d
            for key in dict.fromkeys([*old, *new])
            for d in _differences(old.get(key), new.get(key), f"{at}.{key}")
        ]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            d
            for n, (a, b) in enumerate(zip(old, new, strict=True))
            for d in _differences(a, b, f"{at}[{n}]")
        ]
    return [] if old == new else [at]


def _changed_document(sources, mutant):
    if mutant.rule_files:
        ((name, text),) = mutant.rule_files.items()
        (path,) = [p for p in sources.rule_files if p.name == name]
        return sources.rule_files[path], yaml.safe_load(text)
    if mutant.alertmanager is not None:
        return sources.alertmanager, mutant.alertmanager
    return sources.prometheus, mutant.prometheus


def test_every_derived_mutant_changes_exactly_one_place(sources):
    mutants = derive(sources)
    assert {m.kind for m in mutants} == KINDS
    assert len({m.name for m in mutants}) == len(mutants), "names are unique (webhook paths)"
    for mutant in mutants:
        assert not mutant.error, mutant
        old, new = _changed_document(sources, mutant)
        changed = _differences(old, new)
        assert len(changed) == 1, (mutant.name, changed)
        if mutant.kind in ("threshold", "grouping", "metric"):
            assert changed[0].endswith(".expr"), (mutant.name, changed)
        if mutant.kind == "for":
            assert changed[0].endswith(".for"), (mutant.name, changed)


def test_rule_mutants_edit_the_promql_as_named(sources):
    (path,) = [p for p in sources.rule_files if p.name == "service-alerts.yml"]
    (rule,) = [r for p, r in sources.rules() if r["alert"] == "HighErrorRate"]

    def expr(kind: str) -> str:
        mutant = rule_mutant(sources, path, "HighErrorRate", kind)
        doc = yaml.safe_load(mutant.rule_files[path.name])
        return next(
            r for g in doc["groups"] for r in g["rules"] if r.get("alert") == "HighErrorRate"
        )["expr"]

    assert expr("threshold").endswith("and on() vector(0) > 1")
    assert "by (region)" in rule["expr"] and "by (region)" not in expr("grouping")
    assert "by ()" in expr("grouping")
    assert "http_requests_total_mutated" in expr("metric")
    assert "http_requests_total{" not in expr("metric")


def test_promql_helpers():
    expr = 'histogram_quantile(0.95, sum by (region, le) (rate(x_bucket{job="demo"}[1m]))) > 0.5'
    assert first_metric(expr) == "x_bucket"
    assert first_metric('up{job="demo"} == 0') == "up"
    assert (
        first_metric("region:errors:ratio_rate5m > (14.4 * (1 - 0.999))")
        == "region:errors:ratio_rate5m"
    )
    assert drop_grouping_label(expr, "region") == (
        'histogram_quantile(0.95, sum by (le) (rate(x_bucket{job="demo"}[1m]))) > 0.5',
        "region",
    )
    assert rename_metric("a_total + a_total_x", "a_total") == "a_total_mutated + a_total_x"
    with pytest.raises(MutationError):
        rename_metric("up == 0", "http_requests_total")
    with pytest.raises(MutationError):
        drop_grouping_label("up == 0", "region")


def test_a_mutant_whose_target_is_missing_is_an_error(sources):
    (path,) = [p for p in sources.rule_files if p.name == "service-alerts.yml"]
    missing_rule = rule_mutant(sources, path, "NoSuchAlert", "threshold")
    assert missing_rule.error and "NoSuchAlert" in missing_rule.error
    assert not missing_rule.rule_files
    missing_job = scrape_job_mutant(sources, "no-such-job")
    assert missing_job.error and missing_job.prometheus is None
    (down,) = [r for p, r in sources.rules() if r["alert"] == "ServiceDown"]
    assert "by" not in down["expr"]
    assert "no `by (...)`" in rule_mutant(sources, path, "ServiceDown", "grouping").error


def test_routes_know_which_alerts_they_carry(sources):
    by_name = {m.name: m for m in derive(sources)}
    pager = by_name["route.1-pager.receiver"]
    assert "HighErrorRate" in pager.alerts and "HighLatency" not in pager.alerts
    assert pager.change == "receiver pager -> default"
    assert (
        by_name["route.1-pager.matcher"].change == 'matcher priority="P0" -> priority="P0-mutated"'
    )
    inhibit = by_name["inhibit.1"]
    assert inhibit.inhibitors == {"ServiceDown"} and "HighErrorRate" in inhibit.alerts
    assert (
        len(inhibit.alertmanager["inhibit_rules"]) == len(sources.alertmanager["inhibit_rules"]) - 1
    )


def test_only_selects_by_glob(sources):
    names = [m.name for m in select(derive(sources), ["HighErrorRate.*", "route.1-*"])]
    assert names == [
        "HighErrorRate.threshold", "HighErrorRate.for", "HighErrorRate.grouping",
        "HighErrorRate.metric", "route.1-pager.receiver", "route.1-pager.matcher",
    ]  # fmt: skip
    assert select(derive(sources), ["nothing*"]) == []


def test_sources_are_the_files_the_stack_renders(sources):
    assert {p.name for p in sources.rule_files} == {
        p.name for p in (REPO / "compose/prometheus/rules").glob("*.yml")
    }
    assert "probes" not in sources.kept_jobs, "the local stack drops the probes job"
    assert isinstance(next(iter(sources.rule_files)), Path)
