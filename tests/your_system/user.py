"""What the user of the "your system" test writes, exactly, beside `signalcheck init`'s
starter: the config edits, alerting rules and routes, a locustfile, a Chaos Toolkit
experiment with stock actions marked for signalcheck, and a game-day plan.

Placeholders `@name@` are this machine's ports and paths (the user writes their own).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

CONFIG_EDITS = """\
# YOUR SERVICE: httpbin, one gunicorn per region on this machine, its Prometheus metrics on a
# port of their own (prometheus-flask-exporter's gunicorn metrics server).
regions:
  us-east-1: {base_url: "http://127.0.0.1:@us-east-1@", metrics_url: "http://127.0.0.1:@us-east-1-metrics@/metrics"}
  eu-west-1: {base_url: "http://127.0.0.1:@eu-west-1@", metrics_url: "http://127.0.0.1:@eu-west-1-metrics@/metrics"}
  ap-south-1: {base_url: "http://127.0.0.1:@ap-south-1@", metrics_url: "http://127.0.0.1:@ap-south-1-metrics@/metrics"}

stack:
  scrape: {job: httpbin}
  rule_files: [rules/*.yml]
  alertmanager_config: alertmanager.yml

# Background traffic while a fault holds (game day, chaos runs): the `get` check's request.
traffic: {checks: [get], per_second: 5}

checks:
  - name: get
    type: http
    path: /get
    timeout: 5
    expect: {status: [200], body_contains: '"origin"'}
  - name: post-then-status
    type: workflow
    timeout: 15
    steps:
      - name: post
        method: POST
        path: /post
        json: {title: synthetic probe}
        expect: {status: [200], json: {$.json.title: synthetic probe}}
      - name: status
        path: /status/200
        expect: {status: [200]}

expectations:
  probes:
    - {name: probe-results-in-prometheus, budget: 15}
  targets:
    - {name: httpbin-targets-up-with-region, job: httpbin, identity_labels: [region], budget: 15}
  metrics:
    - name: httpbin-requests-every-region
      query: 'flask_http_request_duration_seconds_count{job="httpbin"}'
      every_region: true
      labels: [method, url_rule, status]
      budget: 15
    # Each successful post-then-status run posted once.
    - name: posts-counted-per-probe
      query: 'flask_http_request_duration_seconds_count{job="httpbin", url_rule="/post"}'
      increase_equals: probes
      check: post-then-status
      budget: 15
  cardinality:
    - name: httpbin-cardinality
      selector: 'flask_http_request_duration_seconds_count{job="httpbin"}'
      max_series: 200
      labels:
        url_rule: {max_values: 30, pattern: '(/|(/([A-Za-z0-9_.-]+|<([a-z]+:)?[a-z_]+>))+)'}
        status: {max_values: 20, pattern: '[1-5][0-9][0-9]'}
      budget: 5
  traces:
    - name: get-traces-complete
      check: get
      services: [httpbin]
      operations: ["GET /get"]
      region_attribute: cloud.region
      budget: 10
    - name: workflow-traces-complete
      check: post-then-status
      services: [httpbin]
      operations: ["POST /post", "GET /status/<codes>"]
      region_attribute: cloud.region
      budget: 10
  logs:
    - {name: no-error-logs-outside-faults, evidence: no_errors, budget: 5}
  load:
    - name: load-counted-by-service
      conditional: true
      instrumentation: prometheus-flask-exporter
      budget: 15
  alerts:
    - name: frozen-region-pages
      conditional: true
      alert: HttpbinDown
      fault: freeze
      labels: {severity: critical, priority: P0}
      receiver: pager
      budget: 60
      resolve_budget: 60
  quiet:
    - {name: no-unexpected-alerts, budget: 5}
  rules:
    - {name: rule-metrics-exist, rule_files: [rules/*.yml], budget: 15}

load:
  profiles:
    httpbin:
      shape: smoke
      users: 4
      spawn_rate: 4
      duration: 10
      region: eu-west-1
      locustfile: locustfile.py
      thresholds: {error_rate: 0.01, p95_ms: 1000}
"""
"""The user's edits of the starter config: these top-level keys replace the starter's, the
`stack` keys are added to its `stack`."""

RULES = """\
groups:
  - name: httpbin
    rules:
      - alert: HttpbinDown
        expr: up{job="httpbin"} == 0
        for: 5s
        labels: {severity: critical, priority: P0}
        annotations:
          summary: "httpbin in {{ $labels.region }} does not answer its scrape"
"""
"""rules/httpbin.yml."""

RULES_EDIT = (
    "        for: 5s\n",
    "        for: 4s\n",
    """\
      - alert: HttpbinServerErrors
        expr: >-
          sum by (region)
          (rate(flask_http_request_duration_seconds_count{job="httpbin", status=~"5.."}[1m])) > 0
        for: 10s
        labels: {severity: warning, priority: P1}
        annotations:
          summary: "httpbin in {{ $labels.region }} answers 5xx"
""",
)
"""The rule edit before `signalcheck reload`: HttpbinDown's `for` (old, new), and a rule added."""

ALERTMANAGER = """\
route:
  receiver: default
  group_by: [alertname, region]
  routes:
    - receiver: pager
      matchers: ['priority="P0"']
receivers:
  - name: pager
    webhook_configs:
      - {url: "http://127.0.0.1:14318/alertmanager/webhook", send_resolved: true}
  - name: default
    webhook_configs:
      - {url: "http://127.0.0.1:14318/alertmanager/webhook", send_resolved: true}
"""
"""alertmanager.yml: P0 pages, the rest to default (the local stack sends every webhook to its
capture receiver)."""

LOCUSTFILE = """\
from locust import HttpUser, constant_throughput, task


class HttpbinUser(HttpUser):
    wait_time = constant_throughput(5)

    @task(3)
    def get(self):
        self.client.get("/get")

    @task(2)
    def post(self):
        self.client.post("/post", json={"title": "load"})

    @task(1)
    def teapot(self):
        # named by its route template, as the service counts it; a 418 is what we asked for
        with self.client.get(
            "/status/418", name="/status/<codes>", catch_response=True
        ) as response:
            if response.status_code == 418:
                response.success()
"""
"""locustfile.py: request names are the service's route templates (url_rule)."""

FROZEN_REGION = "eu-west-1"

EXPERIMENT = """\
{
  "version": "1.0.0",
  "title": "A frozen httpbin region pages",
  "description": "SIGSTOP of a region's gunicorn (process group) until it pages, then SIGCONT.",
  "configuration": {"region": "@region@", "pidfile": "@pidfile@", "url": "@url@"},
  "controls": [
    {"name": "signalcheck", "provider": {"type": "python", "module": "signalcheck.chaos.control"}}
  ],
  "runtime": {"rollbacks": {"strategy": "always"}},
  "steady-state-hypothesis": {
    "title": "the region answers",
    "probes": [
      {"type": "probe", "name": "region-answers", "tolerance": 200,
       "provider": {"type": "http", "url": "${url}/get", "timeout": 5}}
    ]
  },
  "method": [
    {"type": "action", "name": "freeze-region",
     "provider": {"type": "process", "path": "sh",
                  "arguments": ["-c", "kill -STOP -$(cat ${pidfile})"]},
     "signalcheck": {"fault": "freeze", "region": "${region}"}},
    {"type": "probe", "name": "httpbin-down-pages",
     "provider": {"type": "python", "module": "signalcheck.chaos.probes", "func": "alert_fires",
                  "arguments": {"name": "HttpbinDown", "labels": {"region": "${region}"},
                                "receiver": "pager", "fault": "freeze", "within": 60}}},
    {"type": "action", "name": "thaw-region",
     "provider": {"type": "process", "path": "sh",
                  "arguments": ["-c", "kill -CONT -$(cat ${pidfile})"]},
     "signalcheck": {"restores": "freeze-region"}},
    {"type": "probe", "name": "httpbin-down-resolves",
     "provider": {"type": "python", "module": "signalcheck.chaos.probes",
                  "func": "alert_resolves",
                  "arguments": {"name": "HttpbinDown", "labels": {"region": "${region}"},
                                "within": 60}}}
  ],
  "rollbacks": [
    {"type": "action", "name": "thaw-region-again",
     "provider": {"type": "process", "path": "sh",
                  "arguments": ["-c", "kill -CONT -$(cat ${pidfile})"]},
     "signalcheck": {"restores": "freeze", "region": "${region}"}}
  ]
}
"""
"""freeze-region.json: stock `process` actions marked as a `freeze` fault of the region, held
until signalcheck's `alert_fires` probe saw the user's alert page (its time to detect), then
undone, and `alert_resolves` (its time to resolve)."""

PLAN = """\
name: httpbin-freeze
phases: [baseline, chaos]
experiments: [freeze-region.json]
"""
"""plan.yaml for `signalcheck gameday --plan`."""


def fill(text: str, values: dict[str, object]) -> str:
    for name, value in values.items():
        text = text.replace(f"@{name}@", str(value))
    assert not re.search(r"@[a-z0-9-]+@", text), f"unfilled placeholder in: {text}"
    return text


def edit_config(path: Path, edits: str, stack_ports: dict[str, int]) -> dict[str, Any]:
    """Apply the user's edits to the starter config at `path`. The stack's ports are this
    machine's free ones (a user keeps the defaults, or picks free ones the same way)."""
    config = yaml.safe_load(path.read_text())
    for key, value in yaml.safe_load(edits).items():
        if key == "stack":
            config["stack"].update(value)
        else:
            config[key] = value
    config["stack"]["ports"] = stack_ports
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return config
