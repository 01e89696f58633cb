"""The shipped Prometheus config, rules and rule unit tests (compose/prometheus/).

Runs the real `promtool` against the files; also checks, by reading them, the contract
the rest of signalcheck relies on: alert names, routing labels, annotations, `region`.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "compose" / "prometheus"
PROMETHEUS_YML = PROMETHEUS_DIR / "prometheus.yml"
RULE_FILES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
TEST_FILES = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))
REGIONS = ("us-east-1", "eu-west-1", "ap-south-1")

# The alerts of the foundation contract: name -> (severity, priority).
CONTRACT_ALERTS = {
    "ServiceDown": ("critical", "P0"),
    "HighErrorRate": ("critical", "P0"),
    "HighLatency": ("warning", "P1"),
    "ErrorBudgetBurnFast": ("critical", "P0"),
    "ErrorBudgetBurnSlow": ("warning", "P1"),
}
PRIORITIES = {"P0", "P1", "P2", "P3"}
SEVERITIES = {"critical", "warning", "info"}
HEARTBEAT = "none"
"""The severity of a heartbeat (Watchdog): always firing, unrouted (the root route), no region."""
REGION_TEMPLATE = re.compile(r"\{\{\s*\$labels\.region\s*\}\}")


def load_rules() -> list[dict]:
    rules = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            rules.extend(group["rules"])
    return rules


def alert_rules() -> list[dict]:
    return [rule for rule in load_rules() if "alert" in rule]


def rule_ids() -> list[str]:
    return [rule["alert"] for rule in alert_rules()]


def is_heartbeat(rule: dict) -> bool:
    return rule.get("labels", {}).get("severity") == HEARTBEAT


def regional_rules() -> list[dict]:
    """The alerts about the service, one per region (all but the heartbeat)."""
    return [rule for rule in alert_rules() if not is_heartbeat(rule)]


def test_the_heartbeat_always_fires_and_takes_the_root_route() -> None:
    (heartbeat,) = [rule for rule in alert_rules() if is_heartbeat(rule)]
    assert heartbeat["expr"].strip() == "vector(1)", heartbeat
    assert "for" not in heartbeat and "priority" not in heartbeat["labels"], heartbeat


# --- promtool -------------------------------------------------------------------------


def test_there_are_rule_files_and_rule_tests() -> None:
    assert RULE_FILES, f"no rule files in {PROMETHEUS_DIR / 'rules'}"
    assert TEST_FILES, f"no promtool test files in {PROMETHEUS_DIR / 'tests'}"


def test_promtool_check_config(promtool, run) -> None:
    result = run(promtool, "check", "config", "--lint-fatal", PROMETHEUS_YML)
    assert result.returncode == 0, result
    assert "is valid prometheus config file syntax" in result.stdout, result
    assert f"SUCCESS: {len(RULE_FILES)} rule files found" in result.stdout, result
    # A missing file_sd file is only a WARNING for promtool; for us it is a broken stack.
    assert "WARNING" not in result.stdout + result.stderr, result
    assert "FAILED" not in result.stdout + result.stderr, result


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda path: path.name)
def test_promtool_check_rules(promtool, run, rule_file: Path) -> None:
    result = run(promtool, "check", "rules", "--lint-fatal", rule_file)
    assert result.returncode == 0, result
    assert re.search(r"SUCCESS: [1-9]\d* rules found", result.stdout), result


@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda path: path.name)
def test_promtool_test_rules(promtool, run, test_file: Path) -> None:
    result = run(promtool, "test", "rules", test_file)
    assert result.returncode == 0, result
    assert "SUCCESS" in result.stdout, result
    assert "FAILED" not in result.stdout + result.stderr, result


# Each mutation breaks one property of the rules that the unit tests must catch.
MUTATIONS = {
    "error-rate threshold raised": ("service-alerts.yml", ") > 0.05", ") > 0.15"),
    "error-rate threshold lowered": ("service-alerts.yml", ") > 0.05", ") > 0.03"),
    "latency threshold raised": ("service-alerts.yml", ") > 0.5", ") > 1"),
    "latency quantile p50": ("service-alerts.yml", "0.95,", "0.5,"),
    "ServiceDown for 1m": (
        "service-alerts.yml",
        'up{job="demo"} == 0\n        for: 30s',
        'up{job="demo"} == 0\n        for: 1m',
    ),
    "ServiceNotReady on another job": (
        "service-alerts.yml",
        'demo_ready{job="demo"} == 0',
        "demo_ready == 0",
    ),
    "ServiceNotReady for 1m": (
        "service-alerts.yml",
        'demo_ready{job="demo"} == 0\n        for: 30s',
        'demo_ready{job="demo"} == 0\n        for: 1m',
    ),
    "region dropped": (
        "service-alerts.yml",
        'sum by (region) (rate(http_requests_total{job="demo", status',
        'sum (rate(http_requests_total{job="demo", status',
    ),
    "fast burn without 5m window": ("slo.yml", "ratio_rate5m > (14.4", "ratio_rate1h > (14.4"),
    "fast burn without 1h window": ("slo.yml", "ratio_rate1h > (14.4", "ratio_rate5m > (14.4"),
    "slow burn without 30m window": ("slo.yml", "ratio_rate30m > (6", "ratio_rate6h > (6"),
    "slow burn without 6h window": ("slo.yml", "ratio_rate6h > (6", "ratio_rate30m > (6"),
    "fast burn factor 6": ("slo.yml", "(14.4 * (1 - 0.999))", "(6 * (1 - 0.999))"),
    "no zero ratio": ("slo.yml", "or\n              0 *", "or\n              1 *"),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_rule_unit_tests_catch_a_broken_rule(promtool, run, tmp_path: Path, mutation) -> None:
    """The promtool tests have teeth: a copy of the rules with one deliberate bug fails them."""
    rule_name, old, new = MUTATIONS[mutation]
    shutil.copytree(PROMETHEUS_DIR / "rules", tmp_path / "rules")
    shutil.copytree(PROMETHEUS_DIR / "tests", tmp_path / "tests")
    rule_file = tmp_path / "rules" / rule_name
    text = rule_file.read_text()
    assert old in text, f"mutation {mutation!r}: {old!r} no longer appears in {rule_name}"
    rule_file.write_text(text.replace(old, new))

    result = run(promtool, "test", "rules", *sorted((tmp_path / "tests").glob("*.yml")))
    assert result.returncode != 0, f"the rule tests did not notice: {mutation}\n{result}"
    assert "FAILED" in result.stdout + result.stderr, result


# --- the contract, read from the files ---------------------------------------------------


def test_contract_alerts_exist_with_their_severity_and_priority() -> None:
    found = {rule["alert"]: rule for rule in alert_rules()}
    missing = sorted(set(CONTRACT_ALERTS) - set(found))
    assert not missing, f"alerts of the contract missing from {PROMETHEUS_DIR / 'rules'}: {missing}"
    for name, (severity, priority) in CONTRACT_ALERTS.items():
        labels = found[name].get("labels", {})
        assert (labels.get("severity"), labels.get("priority")) == (severity, priority), name


def test_alert_names_are_unique() -> None:
    names = rule_ids()
    assert len(names) == len(set(names)), sorted(names)


@pytest.mark.parametrize("rule", regional_rules(), ids=lambda r: r["alert"])
def test_alert_has_routing_labels_and_annotations(rule: dict) -> None:
    name = rule["alert"]
    labels = rule.get("labels", {})
    annotations = rule.get("annotations", {})
    assert labels.get("severity") in SEVERITIES, f"{name}: severity {labels.get('severity')!r}"
    assert labels.get("priority") in PRIORITIES, f"{name}: priority {labels.get('priority')!r}"
    for key in ("summary", "description", "runbook_url"):
        assert str(annotations.get(key, "")).strip(), f"{name}: annotation {key} missing"
    assert REGION_TEMPLATE.search(annotations["summary"]), (
        f"{name}: summary {annotations['summary']!r} does not name {{{{ $labels.region }}}}"
    )
    assert annotations["runbook_url"] == f"https://runbooks.example.com/demo-api/{name}", name
    assert "for" in rule, f"{name}: no `for`; a single bad scrape would page"


@pytest.mark.parametrize("rule", load_rules(), ids=lambda r: r.get("alert") or r["record"])
def test_aggregations_keep_region(rule: dict) -> None:
    """Routing groups by region and inhibition needs equal region: no rule may drop it."""
    expr = rule["expr"]
    for keyword, labels in re.findall(r"\b(by|without)\s*\(([^)]*)\)", expr):
        names = {label.strip() for label in labels.split(",")}
        if keyword == "by":
            assert "region" in names, f"{expr}\n`by ({labels})` drops region"
        else:
            assert "region" not in names, f"{expr}\n`without ({labels})` drops region"
    aggregations = re.findall(r"\b(sum|avg|min|max|count)\s*\(", expr)
    assert not aggregations, f"{expr}\naggregation without `by (...)` drops region"


def test_every_alert_is_unit_tested_firing_and_quiet() -> None:
    firing: dict[str, list[dict]] = {}
    quiet: set[str] = set()
    for path in TEST_FILES:
        for group in yaml.safe_load(path.read_text())["tests"]:
            for case in group.get("alert_rule_test", []):
                if case.get("exp_alerts"):
                    firing.setdefault(case["alertname"], []).extend(case["exp_alerts"])
                else:
                    quiet.add(case["alertname"])
    for name in rule_ids():
        assert name in firing, f"no promtool test expects {name} to fire"
    for name in (rule["alert"] for rule in regional_rules()):
        assert name in quiet, f"no promtool test expects {name} to stay quiet"
        for alert in firing[name]:
            assert alert["exp_labels"].get("region") in REGIONS, f"{name}: {alert}"


# --- prometheus.yml and its targets ----------------------------------------------------


def load_prometheus_yml() -> dict:
    return yaml.safe_load(PROMETHEUS_YML.read_text())


def test_prometheus_yml_has_production_intervals_and_wiring() -> None:
    config = load_prometheus_yml()
    assert config["global"]["scrape_interval"] == "15s"
    assert config["global"]["evaluation_interval"] == "15s"
    assert config["rule_files"] == ["rules/*.yml"]
    alertmanagers = config["alerting"]["alertmanagers"]
    assert [c["static_configs"][0]["targets"] for c in alertmanagers] == [["alertmanager:9093"]]


def test_prometheus_yml_scrape_jobs() -> None:
    jobs = {job["job_name"]: job for job in load_prometheus_yml()["scrape_configs"]}
    assert set(jobs) == {
        "prometheus",
        "alertmanager",
        "pushgateway",
        "rum-ingest",
        "probes",
        "demo",
    }
    assert jobs["pushgateway"].get("honor_labels") is True
    assert jobs["demo"].get("honor_labels") is True
    # The local stack renders its own targets file from the first file_sd file.
    files = jobs["demo"]["file_sd_configs"][0]["files"]
    assert files == ["targets/demo.json"]
    assert (PROMETHEUS_DIR / files[0]).is_file()


def test_demo_targets_cover_every_region() -> None:
    groups = json.loads((PROMETHEUS_DIR / "targets" / "demo.json").read_text())
    by_region = {group["labels"]["region"]: group for group in groups}
    assert sorted(by_region) == sorted(REGIONS)
    for region, group in by_region.items():
        assert group["targets"] == [f"demo-{region}:8000"]
        assert group["labels"] == {"region": region, "service": "demo-api"}
