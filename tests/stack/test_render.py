"""The local stack's rendering of compose/prometheus/prometheus.yml, without starting anything."""

from __future__ import annotations

import json

import pytest
import yaml

from signalcheck.config import load_config
from signalcheck.errors import ConfigError
from signalcheck.mutate.derive import derive, load_sources
from signalcheck.stack import render
from tests.support import write_stack_config


def _prometheus_yml_with_extra_jobs(tmp_path):
    """The shipped prometheus.yml plus a production-only file_sd job and a local backend's
    job discovered by file_sd in production."""
    source = yaml.safe_load(render.PROMETHEUS_YML.read_text())
    (tmp_path / "targets").mkdir()
    shipped_demo = render.PROMETHEUS_YML.parent / "targets" / "demo.json"
    (tmp_path / "targets" / "demo.json").write_text(shipped_demo.read_text())
    (tmp_path / "targets" / "node.json").write_text(
        json.dumps([{"targets": ["node-1:9100"], "labels": {"region": "us-east-1"}}])
    )
    source["rule_files"] = []
    source["scrape_configs"] += [
        {"job_name": "node", "file_sd_configs": [{"files": ["targets/node.json"]}]},
    ]
    for job in source["scrape_configs"]:
        if job["job_name"] == "pushgateway":
            del job["static_configs"]
            job["file_sd_configs"] = [{"files": ["targets/node.json"]}]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(source))
    return path


def test_only_the_demo_job_gets_the_demo_targets(tmp_path, monkeypatch):
    config = load_config(write_stack_config(tmp_path), environ={})
    monkeypatch.setattr(render, "PROMETHEUS_YML", _prometheus_yml_with_extra_jobs(tmp_path))
    out = tmp_path / "out"
    rendered = yaml.safe_load(render.render_prometheus(config, out).read_text())

    jobs = {job["job_name"]: job for job in rendered["scrape_configs"]}
    # production-only jobs (the probes daemon, a node exporter by file_sd) are dropped
    assert set(jobs) == {"prometheus", "alertmanager", "pushgateway", "rum-ingest", "demo"}
    assert sorted(p.name for p in (out / "targets").iterdir()) == ["demo.json"]
    # a local backend's job scrapes the local backend, whatever discovered it in production
    assert "file_sd_configs" not in jobs["pushgateway"]
    assert jobs["pushgateway"]["static_configs"] == [
        {"targets": [f"127.0.0.1:{config.stack.ports.pushgateway}"]}
    ]
    (demo_sd,) = jobs["demo"]["file_sd_configs"]
    assert demo_sd["files"] == [str(out / "targets" / "demo.json")]
    groups = json.loads((out / "targets" / "demo.json").read_text())
    assert {g["labels"]["region"]: g["targets"] for g in groups} == {
        name: [f"127.0.0.1:{region.port}"] for name, region in config.regions.items()
    }
    assert all(g["labels"]["service"] == "demo-api" for g in groups)


def _your_service_config(tmp_path, scrape, regions):
    """The stack config of write_stack_config with `stack.scrape` and `regions` replaced."""
    path = write_stack_config(tmp_path)
    raw = yaml.safe_load(path.read_text())
    raw["stack"]["scrape"] = scrape
    raw["regions"] = regions
    raw["allowlist"] = ["127.0.0.1", "shop.example"]
    path.write_text(yaml.safe_dump(raw))
    return load_config(path, environ={})


def test_the_regions_job_is_the_configured_one_with_scheme_path_and_labels(tmp_path):
    config = _your_service_config(
        tmp_path,
        {"job": "shop", "metrics_path": "/internal/metrics", "labels": {"team": "payments"}},
        {
            "us-east-1": {"base_url": "http://127.0.0.1:18001", "demo": True},
            "eu-west-1": {"base_url": "https://shop.example:8443/app"},
            "ap-south-1": {
                "base_url": "http://127.0.0.1:18003",
                "metrics_url": "http://127.0.0.1:19003/metrics?format=prometheus",
            },
            "sa-east-1": {
                "base_url": "http://127.0.0.1:18004",
                "metrics_url": "http://[::1]:19004",
                "labels": {"cluster": "sa-1", "team": "checkout"},
            },
        },
    )
    out = tmp_path / "out"
    rendered = yaml.safe_load(render.render_prometheus(config, out).read_text())

    jobs = {job["job_name"]: job for job in rendered["scrape_configs"]}
    assert set(jobs) == {"prometheus", "alertmanager", "pushgateway", "rum-ingest", "shop"}
    assert jobs["shop"]["honor_labels"] is True
    assert jobs["shop"]["file_sd_configs"][0]["files"] == [str(out / "targets" / "shop.json")]
    groups = {
        g["labels"]["region"]: g for g in json.loads((out / "targets" / "shop.json").read_text())
    }
    team, path = {"team": "payments"}, {"__metrics_path__": "/internal/metrics"}
    assert groups["us-east-1"] == {
        "targets": ["127.0.0.1:18001"],
        "labels": {"service": "demo-api", **team, **path, "region": "us-east-1"},
    }
    assert groups["eu-west-1"] == {
        "targets": ["shop.example:8443"],
        "labels": {**team, "__scheme__": "https", **path, "region": "eu-west-1"},
    }
    # metrics_url's path is the default one: no label; its query becomes __param_ labels
    assert groups["ap-south-1"] == {
        "targets": ["127.0.0.1:19003"],
        "labels": {**team, "__param_format": "prometheus", "region": "ap-south-1"},
    }
    # a metrics_url without a path takes stack.scrape.metrics_path; the region's own labels
    # add to (and override) stack.scrape.labels
    assert groups["sa-east-1"] == {
        "targets": ["[::1]:19004"],
        "labels": {"team": "checkout", "cluster": "sa-1", **path, "region": "sa-east-1"},
    }


def test_a_demo_region_of_another_name_keeps_the_demo_labels(tmp_path):
    config = _your_service_config(
        tmp_path,
        {"job": "demo"},
        {"local": {"base_url": "http://127.0.0.1:18001", "demo": True}},
    )
    render.render_prometheus(config, tmp_path / "out")
    (group,) = json.loads((tmp_path / "out" / "targets" / "demo.json").read_text())
    assert group["labels"] == {"service": "demo-api", "region": "local"}


def test_a_job_name_of_a_local_backend_is_a_config_error(tmp_path):
    config = _your_service_config(
        tmp_path, {"job": "pushgateway"}, {"r": {"base_url": "http://127.0.0.1:18001"}}
    )
    with pytest.raises(ConfigError, match=r"stack.scrape.job: 'pushgateway'"):
        render.render_prometheus(config, tmp_path / "out")


def test_the_scrape_job_mutant_follows_the_configured_job(tmp_path):
    config = _your_service_config(
        tmp_path, {"job": "shop"}, {"r": {"base_url": "http://127.0.0.1:18001"}}
    )
    sources = load_sources(config)
    assert "shop" in sources.kept_jobs and "demo" not in sources.kept_jobs
    (mutant,) = [m for m in derive(sources) if m.kind == "scrape-job" and "shop" in m.part]
    assert mutant.name == "scrape.shop" and not mutant.error
    out = tmp_path / "shadow"
    targets = tmp_path / "out" / "targets"
    render.render_prometheus(config, tmp_path / "out")
    shadow = render.render_prometheus(
        config, out, source=mutant.prometheus, rule_files=[], targets_dir=targets
    )
    jobs = [job["job_name"] for job in yaml.safe_load(shadow.read_text())["scrape_configs"]]
    assert "shop" not in jobs and "pushgateway" in jobs
