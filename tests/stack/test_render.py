"""The local stack's rendering of compose/prometheus/prometheus.yml, without starting anything."""

from __future__ import annotations

import json

import yaml

from signalcheck.config import load_config
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
