"""Render the shipped compose/ configs for the local stack.

Targets, URLs and intervals change; rule files are used as they are. The config's
`stack.rule_files` and `stack.alertmanager_config` replace the shipped rules and routes;
`stack.scrape` and the regions' `metrics_url` say how the regions' service is scraped.
"""

from __future__ import annotations

import json
from copy import deepcopy
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import yaml

from signalcheck.config import Config, Region
from signalcheck.errors import ConfigError
from signalcheck.shipped import COMPOSE_DIR

PROMETHEUS_YML = COMPOSE_DIR / "prometheus" / "prometheus.yml"
DEMO_JOB = "demo"
"""The shipped prometheus.yml's job for the regions (file_sd, honor_labels): the only job
whose targets are the configured regions. The local stack renders it as `stack.scrape.job`."""
ALERTMANAGER_YML = COMPOSE_DIR / "alertmanager" / "alertmanager.yml"
DEFAULT_SCHEME = "http"
DEFAULT_METRICS_PATH = "/metrics"
"""What Prometheus scrapes unless a target's `__scheme__` / `__metrics_path__` say otherwise."""


def seconds(value: float) -> str:
    """A Prometheus duration string for `value` seconds (whole milliseconds)."""
    return f"{round(value * 1000)}ms"


def local_static_targets(config: Config) -> dict[str, str]:
    """Scrape job name -> loopback address of the backend it scrapes."""
    ports = config.stack.ports
    return {
        "prometheus": f"127.0.0.1:{ports.prometheus}",
        "alertmanager": f"127.0.0.1:{ports.alertmanager}",
        "pushgateway": f"127.0.0.1:{ports.pushgateway}",
        "rum-ingest": f"127.0.0.1:{ports.rum_ingest}",
    }


def prometheus_source(config: Config) -> dict[str, Any]:
    """The shipped prometheus.yml with its regions' job (`demo`) named `stack.scrape.job`."""
    job_name = config.stack.scrape.job
    if job_name in local_static_targets(config):
        raise ConfigError(
            f"{config.source or 'the config'}: stack.scrape.job: {job_name!r} is the local "
            "stack's scrape job of its own backend; expected another name (e.g. your service's)"
        )
    source = yaml.safe_load(PROMETHEUS_YML.read_text())
    for job in source.get("scrape_configs", []):
        if job["job_name"] == DEMO_JOB:
            job["job_name"] = job_name
    return dict(source)


def region_target(config: Config, name: str, region: Region) -> dict[str, Any]:
    """The file_sd target group of one region: its metrics_url (else base_url's scheme, host
    and port with stack.scrape.metrics_path; a metrics_url without a path takes that path too),
    with `__scheme__`, `__metrics_path__` and `__param_*` labels where they differ from
    Prometheus' defaults, stack.scrape.labels, the region's own labels and `region: <name>`."""
    scrape = config.stack.scrape
    url = urlsplit(str(region.metrics_url or region.base_url))
    path = url.path if region.metrics_url is not None and url.path not in ("", "/") else None
    host = url.hostname or ""
    port = url.port or (443 if url.scheme == "https" else 80)
    labels = {**scrape.labels, **region.labels}
    if url.scheme != DEFAULT_SCHEME:
        labels["__scheme__"] = url.scheme
    if (path or scrape.metrics_path) != DEFAULT_METRICS_PATH:
        labels["__metrics_path__"] = path or scrape.metrics_path
    if region.metrics_url is not None:
        labels.update({f"__param_{key}": value for key, value in parse_qsl(url.query)})
    labels["region"] = name
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return {"targets": [address], "labels": labels}


def region_targets(config: Config, shipped_targets: Path) -> list[dict[str, Any]]:
    """The file_sd target groups of the configured regions (see `region_target`). A demo region
    also keeps the labels the shipped target file gives the demo (`service: demo-api`: those
    of its region, else those every shipped group has); any other region gets none of them."""
    shipped = [group.get("labels", {}) for group in json.loads(shipped_targets.read_text())]
    by_region = {labels["region"]: labels for labels in shipped if "region" in labels}
    first = shipped[0] if shipped else {}
    common = {k: v for k, v in first.items() if all(g.get(k) == v for g in shipped)}
    groups = []
    for name, region in config.regions.items():
        group = region_target(config, name, region)
        if region.demo:
            demo = {k: v for k, v in by_region.get(name, common).items() if k != "region"}
            group["labels"] = {**demo, **group["labels"]}
        groups.append(group)
    return groups


def shipped_rule_files(source: dict[str, Any] | None = None) -> list[Path]:
    """The rule files prometheus.yml (`source`, default the shipped one) loads, in order."""
    source = yaml.safe_load(PROMETHEUS_YML.read_text()) if source is None else source
    return [
        path
        for pattern in source.get("rule_files", [])
        for path in sorted(PROMETHEUS_YML.parent.glob(pattern))
    ]


def configured_rule_files(config: Config, source: dict[str, Any] | None = None) -> list[Path]:
    """The rule files the local stack loads: the config's `stack.rule_files` when set, else
    those prometheus.yml (`source`, default the shipped one) names."""
    if config.stack.rule_files is not None:
        return list(config.stack.rule_files)
    return shipped_rule_files(source)


def alertmanager_source(config: Config) -> dict[str, Any]:
    """The Alertmanager config the local stack renders: the config's
    `stack.alertmanager_config` when set, else the shipped alertmanager.yml."""
    path = config.stack.alertmanager_config or ALERTMANAGER_YML
    return dict(yaml.safe_load(path.read_text()))


def render_prometheus(
    config: Config,
    out_dir: Path,
    *,
    source: dict[str, Any] | None = None,
    rule_files: list[Path] | None = None,
    targets_dir: Path | None = None,
) -> Path:
    """Write prometheus.yml and its file_sd target file into `out_dir`.

    The regions' job (`stack.scrape.job`, from the shipped `demo` job) scrapes the configured
    regions (see `region_targets`); a job with a local backend (prometheus, alertmanager,
    pushgateway, rum-ingest) scrapes it; any other job (a production target, another file_sd
    job) has no local counterpart and is dropped. `source` (default: prometheus_source) and
    `rule_files` (default: configured_rule_files) let another pipeline render from an edited
    copy; with `targets_dir` the regions' job reads the target file another rendering wrote
    there (same targets, same changes) instead of writing one."""
    source = prometheus_source(config) if source is None else source
    stack = config.stack
    shared_targets = targets_dir is not None
    targets_dir = targets_dir if targets_dir is not None else out_dir / "targets"
    targets_dir.mkdir(parents=True, exist_ok=True)
    static = local_static_targets(config)

    scrape_configs = []
    for job in source.get("scrape_configs", []):
        name = job["job_name"]
        job = {k: v for k, v in job.items() if k not in ("scrape_interval", "scrape_timeout")}
        if name == stack.scrape.job and "file_sd_configs" in job:
            target_file = targets_dir / f"{name}.json"
            shipped = PROMETHEUS_YML.parent / job["file_sd_configs"][0]["files"][0]
            if not shared_targets:
                _replace(target_file, json.dumps(region_targets(config, shipped), indent=2))
            job["file_sd_configs"] = [{"files": [str(target_file)], "refresh_interval": "1s"}]
        elif name in static:
            job.pop("file_sd_configs", None)
            job["static_configs"] = [{"targets": [static[name]]}]
        else:
            continue  # a production job with no local counterpart
        scrape_configs.append(job)

    rendered = {
        **source,
        "global": {
            **source.get("global", {}),
            "scrape_interval": seconds(stack.scrape_interval),
            "scrape_timeout": seconds(stack.scrape_interval),
            "evaluation_interval": seconds(stack.evaluation_interval),
        },
        "rule_files": [
            str(path)
            for path in (
                configured_rule_files(config, source) if rule_files is None else rule_files
            )
        ],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [static["alertmanager"]]}]}]
        },
        "scrape_configs": scrape_configs,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "prometheus.yml"
    path.write_text(yaml.safe_dump(rendered, sort_keys=False))
    return path


def _replace(path: Path, text: str) -> None:
    """Write `path` whole at once: a running Prometheus watching it never reads half of it."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    partial.replace(path)


def render_alertmanager(
    config: Config,
    out_dir: Path,
    *,
    source: dict[str, Any] | None = None,
    webhook_source: str = "",
) -> Path:
    """Write alertmanager.yml with short route timings and webhooks to the local capture.

    The short `repeat_interval` re-notifies a still-firing alert every few seconds, so an
    alert that inhibition fails to mute keeps reaching its receiver where a check sees it.

    `source` (default: alertmanager_source) lets another pipeline render from an edited copy;
    `webhook_source` sends its webhooks to the capture receiver's
    `/alertmanager/webhook/{webhook_source}`, where they are kept apart from the real ones."""
    source = alertmanager_source(config) if source is None else deepcopy(source)
    timings = {
        "group_wait": seconds(config.stack.group_wait),
        "group_interval": seconds(config.stack.group_interval),
        "repeat_interval": seconds(config.stack.repeat_interval),
    }
    source["route"].update(timings)
    _shorten_child_routes(source["route"], timings)
    capture = f"127.0.0.1:{config.stack.ports.capture}"
    for receiver in source.get("receivers", []):
        for webhook in receiver.get("webhook_configs", []):
            parts = urlsplit(webhook["url"])
            path = f"{parts.path.rstrip('/')}/{webhook_source}" if webhook_source else parts.path
            webhook["url"] = urlunsplit(("http", capture, path, parts.query, ""))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "alertmanager.yml"
    path.write_text(yaml.safe_dump(source, sort_keys=False))
    return path


def _shorten_child_routes(route: dict[str, Any], timings: dict[str, str]) -> None:
    """Child routes that set their own timings get the short ones too."""
    for child in route.get("routes", []):
        child.update({key: value for key, value in timings.items() if key in child})
        _shorten_child_routes(child, timings)
