"""Static checks of the Docker Compose stack (compose/docker-compose.yml) and its configs.

Nothing here starts a container: this machine has no Docker daemon. What can be checked
without one is checked:
- `docker-compose config` (Debian's `docker-compose` package, an optional extra of
  scripts/install-os-deps.sh) validates the file against Compose's own schema; where that
  client is not installed the test is skipped and says so, and the schema-level sanity
  checks below (keys, references, pinned images, ports, healthchecks) still run;
- every file and directory the stack mounts from the host exists, and the Prometheus and
  Alertmanager containers mount the very compose/prometheus/ and compose/alertmanager/
  files that `promtool` and `amtool` check in test_prometheus_rules.py and
  test_alertmanager_config.py (not copies);
- the collector, Tempo, Loki and Grafana provisioning files parse, with the keys those
  programs need, and point at services and ports that exist in the Compose file;
- the dashboards are valid JSON with unique uids, every panel queries a provisioned data
  source, and every PromQL expression uses only metric names that the demo, the probes
  or the RUM ingest export (read from their prometheus_client registries, not from a list
  kept here), that a recording rule in compose/prometheus/rules defines, or that
  Prometheus writes itself.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from prometheus_client import CollectorRegistry

from signalcheck.config import load_config
from signalcheck.evidence.promql import metric_names

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
DOCKERFILE = COMPOSE_DIR / "Dockerfile"
DASHBOARD_DIR = COMPOSE_DIR / "grafana" / "dashboards"
DASHBOARDS = sorted(DASHBOARD_DIR.glob("*.json"))
DATASOURCES_YML = COMPOSE_DIR / "grafana" / "provisioning" / "datasources" / "datasources.yaml"
DASHBOARD_PROVIDERS_YML = (
    COMPOSE_DIR / "grafana" / "provisioning" / "dashboards" / "dashboards.yaml"
)
COLLECTOR_YML = COMPOSE_DIR / "otel-collector" / "config.yaml"
TEMPO_YML = COMPOSE_DIR / "tempo" / "tempo.yaml"
LOKI_YML = COMPOSE_DIR / "loki" / "loki.yaml"
PROMETHEUS_YML = COMPOSE_DIR / "prometheus" / "prometheus.yml"
ALERTMANAGER_YML = COMPOSE_DIR / "alertmanager" / "alertmanager.yml"
COMPOSE_CONFIG = COMPOSE_DIR / "signalcheck.compose.yaml"
PROBES_CONFIG = COMPOSE_DIR / "signalcheck.probes.yaml"
LOCAL_CONFIG = ROOT / "signalcheck.yaml"

REGIONS = ("us-east-1", "eu-west-1", "ap-south-1")
SERVICES = {
    *(f"demo-{region}" for region in REGIONS),
    "postgres",
    "rum-ingest",
    "probes",
    "prometheus",
    "alertmanager",
    "pushgateway",
    "capture",
    "otel-collector",
    "tempo",
    "loki",
    "grafana",
}
SIGNALCHECK_IMAGE_SERVICES = {*(f"demo-{r}" for r in REGIONS), "capture", "rum-ingest", "probes"}
DATASOURCE_UIDS = {"prometheus", "loki", "tempo"}
# Grafana's own pseudo data sources (annotations, dashboard queries, mixed panels).
GRAFANA_BUILT_IN_UIDS = {"-- Grafana --", "grafana", "-- Dashboard --", "-- Mixed --"}
# Series Prometheus (and the Pushgateway) write themselves.
PROMETHEUS_GENERATED = {
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
    "ALERTS",
    "ALERTS_FOR_STATE",
    "push_time_seconds",
    "push_failure_time_seconds",
}

# Top-level and per-service keys of the Compose specification that this file may use.
TOP_LEVEL_KEYS = {"services", "volumes", "secrets", "networks", "configs", "name"}
SERVICE_KEYS = {
    "image", "build", "command", "entrypoint", "environment", "env_file", "ports", "expose",
    "volumes", "depends_on", "healthcheck", "restart", "secrets", "user", "working_dir",
    "networks", "labels", "init", "stop_grace_period", "tmpfs", "ulimits", "shm_size",
}  # fmt: skip
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "disable"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE_FILE)


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else [str(part) for part in command]


def _container_ports(service: dict[str, Any]) -> set[int]:
    """The container side of each `ports:` entry ("127.0.0.1:8001:8000" -> 8000)."""
    return {int(str(entry).split(":")[-1].split("/")[0]) for entry in service.get("ports", [])}


def _listens_on(name: str) -> set[int]:
    """Ports a service listens on inside the network: published container ports and `expose`."""
    service = services()[name]
    return _container_ports(service) | {int(port) for port in service.get("expose", [])}


def _host_port(name: str, container_port: int) -> int:
    for entry in services()[name].get("ports", []):
        parts = str(entry).split(":")
        if int(parts[-1].split("/")[0]) == container_port:
            return int(parts[-2])
    raise AssertionError(f"{name}: container port {container_port} is not published")


def _assert_service_address(address: str, where: str) -> None:
    """`host:port` is a Compose service listening on that port (or Prometheus itself)."""
    host, _, port = address.rpartition(":")
    if host == "localhost":
        return
    assert host in services(), f"{where}: {address} names no Compose service"
    assert int(port) in _listens_on(host), (
        f"{where}: {address}, but {host} listens on {sorted(_listens_on(host))}"
    )


def _url_address(url: str) -> str:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    return f"{parts.hostname}:{parts.port}"


# --- docker-compose config -------------------------------------------------------------


def _compose_client() -> list[str] | None:
    found = shutil.which("docker-compose")
    return [found] if found else None


def test_docker_compose_config_accepts_the_file(run) -> None:
    """Compose's own schema check; skipped (with the reason) where no client is installed."""
    client = _compose_client()
    if client is None:
        pytest.skip(
            "docker-compose is not installed (optional extra of scripts/install-os-deps.sh); "
            "the schema-level sanity checks in this file still ran"
        )
    result = run(*client, "--file", COMPOSE_FILE, "config", cwd=COMPOSE_DIR)
    assert result.returncode == 0, result
    resolved = yaml.safe_load(result.stdout)
    assert set(resolved["services"]) == SERVICES, result
    # Relative bind mounts resolve into compose/, where the shared configs are.
    prometheus = resolved["services"]["prometheus"]
    sources = [
        volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
        for volume in prometheus["volumes"]
    ]
    assert str(COMPOSE_DIR / "prometheus") in sources, result


def test_docker_compose_config_rejects_a_broken_file(run, tmp_path: Path) -> None:
    """The client really validates: a dependency on a missing service is refused."""
    client = _compose_client()
    if client is None:
        pytest.skip("docker-compose is not installed (optional extra of install-os-deps.sh)")
    broken = compose()
    broken["services"]["grafana"]["depends_on"]["no-such-service"] = {
        "condition": "service_started"
    }
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    result = run(*client, "--file", path, "config", cwd=tmp_path)
    assert result.returncode != 0, result
    assert "no-such-service" in result.stdout + result.stderr, result


# --- schema-level sanity of docker-compose.yml -------------------------------------------


def test_compose_has_the_whole_stack() -> None:
    assert set(services()) == SERVICES


def test_compose_keys_are_known() -> None:
    document = compose()
    unknown = {key for key in document if key not in TOP_LEVEL_KEYS and not key.startswith("x-")}
    assert not unknown, f"unknown top-level keys {sorted(unknown)}"
    assert "version" not in document, "`version` is obsolete in the Compose specification"
    for name, service in services().items():
        assert set(service) <= SERVICE_KEYS, f"{name}: unknown keys {set(service) - SERVICE_KEYS}"
        assert "image" in service or "build" in service, f"{name}: neither image nor build"
        if "healthcheck" in service:
            keys = set(service["healthcheck"])
            assert keys <= HEALTHCHECK_KEYS, f"{name}: healthcheck keys {keys}"
            assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name


def test_images_are_pinned() -> None:
    for name, service in services().items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag, f"{name}: image {image!r} has no tag"
        assert tag != "latest", f"{name}: image {image!r} is not pinned"
        if name in SIGNALCHECK_IMAGE_SERVICES:
            assert image == "signalcheck:local", name
            assert service["build"] == {"context": "..", "dockerfile": "compose/Dockerfile"}, name
        else:
            assert re.fullmatch(r"v?\d+\.\d+(\.\d+)?(-[\w.]+)?", tag), f"{name}: tag {tag!r}"


def test_depends_on_names_services_with_valid_conditions() -> None:
    for name, service in services().items():
        for dependency, spec in (service.get("depends_on") or {}).items():
            assert dependency in services(), f"{name} depends on unknown service {dependency}"
            condition = spec["condition"]
            assert condition in CONDITIONS, f"{name} -> {dependency}: {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in services()[dependency], (
                    f"{name} waits for {dependency} to be healthy, which has no healthcheck"
                )


def test_ports_are_published_on_loopback_only_and_do_not_clash() -> None:
    seen: dict[int, str] = {}
    for name, service in services().items():
        for entry in service.get("ports", []):
            address, host_port, _ = str(entry).split(":")
            assert address == "127.0.0.1", f"{name}: {entry} is published beyond loopback"
            assert int(host_port) not in seen, f"{name} and {seen[int(host_port)]}: {host_port}"
            seen[int(host_port)] = name


def test_named_volumes_and_secrets_are_declared() -> None:
    document = compose()
    declared_volumes = set(document.get("volumes") or {})
    declared_secrets = set(document.get("secrets") or {})
    used_volumes: set[str] = set()
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared_volumes, f"{name}: volume {source} not declared"
                used_volumes.add(source)
        for secret in service.get("secrets", []):
            assert secret in declared_secrets, f"{name}: secret {secret} not declared"
    assert used_volumes == declared_volumes, "declared but unused volumes"


# --- what the stack mounts from the host --------------------------------------------------


def _bind_mounts() -> Iterator[tuple[str, Path, str]]:
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source, target, *_ = volume.split(":")
            if source.startswith((".", "/")):
                yield name, (COMPOSE_DIR / source).resolve(), target


def test_every_mounted_host_path_exists() -> None:
    mounts = list(_bind_mounts())
    assert mounts, "no bind mounts found"
    for name, source, target in mounts:
        assert source.exists(), f"{name} mounts {source} at {target}, which does not exist"
        assert COMPOSE_DIR in source.parents, f"{name}: {source} is outside compose/"


def test_secrets_are_files_generated_per_machine_and_never_committed() -> None:
    for name, secret in compose()["secrets"].items():
        path = (COMPOSE_DIR / secret["file"]).resolve()
        assert path.parent.is_dir(), f"secret {name}: directory {path.parent} missing"
        ignore = (path.parent / ".gitignore").read_text().split()
        assert "*" in ignore, f"secret {name}: {path.parent} does not git-ignore its files"
        assert f"compose/secrets/{path.name}" in COMPOSE_FILE.read_text(), (
            f"secret {name}: docker-compose.yml does not say how to create {path.name}"
        )
    for name, service in services().items():
        environment = service.get("environment") or {}
        for key in ("DEMO_ADMIN_TOKEN", "POSTGRES_PASSWORD", "DATABASE_URL"):
            assert key not in environment, f"{name}: {key} given in clear, not from a secret"


def test_prometheus_and_alertmanager_mount_the_shared_configs_unchanged() -> None:
    """The same files promtool and amtool check in this folder, mounted read-only."""
    mounts = {(name, target): source for name, source, target in _bind_mounts()}
    assert mounts[("prometheus", "/etc/prometheus")] == PROMETHEUS_YML.parent
    assert "--config.file=/etc/prometheus/prometheus.yml" in _command(services()["prometheus"])
    assert mounts[("alertmanager", "/etc/alertmanager")] == ALERTMANAGER_YML.parent
    command = _command(services()["alertmanager"])
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in command
    for service in ("prometheus", "alertmanager"):
        volume = next(v for v in services()[service]["volumes"] if v.startswith("./"))
        assert volume.endswith(":ro"), f"{service}: {volume} is writable"


def test_prometheus_targets_are_compose_services() -> None:
    config = load_yaml(PROMETHEUS_YML)
    for job in config["scrape_configs"]:
        for group in job.get("static_configs", []):
            for target in group["targets"]:
                _assert_service_address(target, f"scrape job {job['job_name']}")
        for sd in job.get("file_sd_configs", []):
            for pattern in sd["files"]:
                for path in PROMETHEUS_YML.parent.glob(pattern):
                    for group in json.loads(path.read_text()):
                        for target in group["targets"]:
                            _assert_service_address(target, f"{path.name}")
    for alertmanagers in config["alerting"]["alertmanagers"]:
        for group in alertmanagers["static_configs"]:
            for target in group["targets"]:
                _assert_service_address(target, "alerting")


def test_every_alertmanager_webhook_reaches_the_capture_service() -> None:
    receivers = load_yaml(ALERTMANAGER_YML)["receivers"]
    urls = [hook["url"] for r in receivers for hook in r.get("webhook_configs", [])]
    assert urls
    for url in urls:
        assert urlsplit(url).hostname == "capture", url
        _assert_service_address(_url_address(url), f"webhook {url}")
    assert "--port=4318" in _command(services()["capture"])


def test_dockerfile_copies_existing_sources_and_pins_its_base() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    base = next(line.split()[1] for line in lines if line.startswith("FROM "))
    assert re.fullmatch(r"python:\d+\.\d+-slim-\w+", base), base
    copies = [line.split()[1:-1] for line in lines if line.startswith("COPY ")]
    assert copies
    for sources in copies:
        for source in sources:
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {"signalcheck", *setuptools["package-dir"].values()}
    copied = {source for sources in copies for source in sources}
    assert folders <= copied, f"Dockerfile does not copy {folders - copied}"
    ignored = (ROOT / "compose" / "Dockerfile.dockerignore").read_text().split()
    assert not folders & set(ignored), "the build context leaves out a package folder"


# --- the services built from the signalcheck image ---------------------------------------


def _environment(name: str) -> dict[str, str]:
    return {key: str(value) for key, value in (services()[name].get("environment") or {}).items()}


@pytest.mark.parametrize("region", REGIONS)
def test_demo_region_service(region: str) -> None:
    from signalcheck.demo.settings import Settings

    name = f"demo-{region}"
    service = services()[name]
    environment = _environment(name)
    # The demo accepts the environment (the token comes from the secret at start).
    settings = Settings.from_env({**environment, "DEMO_ADMIN_TOKEN": "from-the-secret"})
    assert settings.region == region
    assert settings.host == "0.0.0.0", f"{name} would only listen inside its container"
    assert settings.port in _listens_on(name)
    assert "demo_admin_token" in service["secrets"]
    assert "/run/secrets/demo_admin_token" in " ".join(_command(service))
    assert _url_address(settings.otlp_endpoint) == "otel-collector:4318"
    _assert_service_address(_url_address(settings.otlp_endpoint), f"{name} OTLP endpoint")
    _assert_service_address(_url_address(settings.rum_sdk_url), f"{name} RUM SDK URL")
    assert service["healthcheck"]


def test_rum_ingest_service_uses_postgres_and_a_key_the_demo_page_sends() -> None:
    from signalcheck.rum_ingest.settings import Settings

    service = services()["rum-ingest"]
    command = " ".join(_command(service))
    assert "signalcheck rum serve" in command
    assert "postgresql://rum:" in command and "@postgres:5432/rum" in command
    _assert_service_address("postgres:5432", "rum-ingest DATABASE_URL")
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    port = int(re.search(r"--port (\d+)", command).group(1))
    assert port in _listens_on("rum-ingest")
    environment = _environment("rum-ingest")
    settings = Settings.from_env(
        {**environment, "DATABASE_URL": "postgresql://rum:x@postgres:5432/rum"}
    )
    demo_key = _environment("demo-us-east-1")["DEMO_RUM_API_KEY"]
    assert any(pair.split("=", 1)[1] == demo_key for pair in environment["RUM_API_KEYS"].split(","))
    for region in REGIONS:
        assert f"http://demo-{region}:8000" in settings.allowed_origins, region


def test_probes_service_serves_metrics_with_the_in_network_config() -> None:
    service = services()["probes"]
    command = _command(service)
    assert command[:3] == ["signalcheck", "probe", "--serve"]
    options = dict(part.split("=", 1) for part in command[3:])
    assert int(options["--port"]) in _listens_on("probes")
    assert options["--host"] == "0.0.0.0"
    mounts = {target: source for name, source, target in _bind_mounts() if name == "probes"}
    assert mounts[options["--config"]] == PROBES_CONFIG
    for region in REGIONS:
        assert service["depends_on"][f"demo-{region}"]["condition"] == "service_healthy"


def test_capture_service_keeps_its_store_on_a_volume() -> None:
    command = _command(services()["capture"])
    assert command[:3] == ["python", "-m", "signalcheck.capture"]
    assert "--host=0.0.0.0" in command
    db = next(part.split("=", 1)[1] for part in command if part.startswith("--db="))
    targets = [v.split(":")[1] for v in services()["capture"]["volumes"]]
    assert any(db.startswith(target + "/") for target in targets), db


# --- signalcheck configs for the stack -----------------------------------------------------


def test_compose_config_points_the_validators_at_the_published_backends() -> None:
    config = load_config(COMPOSE_CONFIG)
    published = {
        "prometheus": ("prometheus", 9090),
        "alertmanager": ("alertmanager", 9093),
        "pushgateway": ("pushgateway", 9091),
        "capture": ("capture", 4318),
        "loki": ("loki", 3100),
        "tempo": ("tempo", 3200),
    }
    for backend, (service, container_port) in published.items():
        url = getattr(config.backends, backend).base_url
        assert url == f"http://127.0.0.1:{_host_port(service, container_port)}", backend
    assert set(config.regions) == set(REGIONS)
    for region, settings in config.regions.items():
        assert settings.host == "127.0.0.1"
        assert settings.port == _host_port(f"demo-{region}", 8000), region
    traces = config.expectations.traces
    logs = config.expectations.logs
    assert traces and all(t.backend == "tempo" for t in traces)
    assert logs and all(log.backend == "loki" and log.logql for log in logs)


def test_probes_config_reaches_the_demo_containers() -> None:
    config = load_config(PROBES_CONFIG)
    assert set(config.regions) == set(REGIONS)
    for region, settings in config.regions.items():
        _assert_service_address(f"{settings.host}:{settings.port}", f"probes region {region}")
        assert settings.host == f"demo-{region}"
    for backend in ("prometheus", "alertmanager", "pushgateway", "capture", "loki", "tempo"):
        url = getattr(config.backends, backend).base_url
        _assert_service_address(_url_address(url), f"probes backend {backend}")
    assert config.runs_dir.is_absolute() and str(config.runs_dir).startswith("/data")


@pytest.mark.parametrize("path", [PROBES_CONFIG, COMPOSE_CONFIG], ids=lambda p: p.name)
def test_compose_configs_run_the_checks_of_the_local_config(path: Path) -> None:
    local = [check.model_dump() for check in load_config(LOCAL_CONFIG).checks]
    assert [check.model_dump() for check in load_config(path).checks] == local


# --- collector, Tempo, Loki -----------------------------------------------------------------


def test_collector_config_fans_traces_to_tempo_and_logs_to_loki() -> None:
    config = load_yaml(COLLECTOR_YML)
    assert {"receivers", "processors", "exporters", "service"} <= set(config)
    protocols = config["receivers"]["otlp"]["protocols"]
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert {4317, 4318} <= _listens_on("otel-collector")
    exporters = config["exporters"]
    # The contrib `loki` exporter is deprecated: Loki 3 takes OTLP natively on /otlp.
    assert not [name for name in exporters if name.split("/")[0] == "loki"], exporters
    pipelines = config["service"]["pipelines"]
    assert set(pipelines) >= {"traces", "logs"}
    for pipeline_name, pipeline in pipelines.items():
        for kind in ("receivers", "processors", "exporters"):
            for component in pipeline.get(kind, []):
                assert component in config[kind], f"{pipeline_name}: {component} not defined"
        for exporter in pipeline["exporters"]:
            _assert_service_address(
                _url_address(exporters[exporter]["endpoint"]), f"exporter {exporter}"
            )
    (traces_to,) = pipelines["traces"]["exporters"]
    assert traces_to.split("/")[0] == "otlp"
    assert _url_address(exporters[traces_to]["endpoint"]).startswith("tempo:")
    (logs_to,) = pipelines["logs"]["exporters"]
    assert logs_to.split("/")[0] == "otlphttp"
    assert exporters[logs_to]["endpoint"] == "http://loki:3100/otlp"
    for extension in config["service"].get("extensions", []):
        assert extension in config["extensions"], extension


def test_tempo_config() -> None:
    config = load_yaml(TEMPO_YML)
    assert {"server", "distributor", "ingester", "compactor", "storage"} <= set(config)
    assert config["server"]["http_listen_port"] == 3200
    assert 3200 in _listens_on("tempo")
    otlp = config["distributor"]["receivers"]["otlp"]["protocols"]
    assert otlp["grpc"]["endpoint"].endswith(":4317")
    assert config["storage"]["trace"]["backend"] == "local"


def test_loki_config_accepts_otlp() -> None:
    config = load_yaml(LOKI_YML)
    assert {"auth_enabled", "server", "common", "schema_config", "limits_config"} <= set(config)
    assert config["auth_enabled"] is False
    assert config["server"]["http_listen_port"] == 3100
    assert 3100 in _listens_on("loki")
    # OTLP ingestion needs the TSDB store with schema v13 and structured metadata.
    newest = config["schema_config"]["configs"][-1]
    assert (newest["store"], newest["schema"]) == ("tsdb", "v13")
    assert config["limits_config"]["allow_structured_metadata"] is True


@pytest.mark.parametrize(
    ("service", "path", "target"),
    [
        ("otel-collector", COLLECTOR_YML, "/etc/otelcol-contrib/config.yaml"),
        ("tempo", TEMPO_YML, "/etc/tempo/tempo.yaml"),
        ("loki", LOKI_YML, "/etc/loki/loki.yaml"),
    ],
)
def test_backend_reads_the_mounted_config(service: str, path: Path, target: str) -> None:
    mounts = {t: source for name, source, t in _bind_mounts() if name == service}
    assert mounts[target] == path
    assert any(part.endswith(f"={target}") for part in _command(services()[service]))


# --- Grafana provisioning ------------------------------------------------------------------


def datasources() -> dict[str, dict[str, Any]]:
    return {source["uid"]: source for source in load_yaml(DATASOURCES_YML)["datasources"]}


def test_datasources_are_provisioned_with_fixed_uids_and_compose_urls() -> None:
    sources = datasources()
    assert set(sources) == DATASOURCE_UIDS
    for uid, source in sources.items():
        assert source["type"] == uid
        _assert_service_address(_url_address(source["url"]), f"data source {uid}")
    assert sum(bool(source.get("isDefault")) for source in sources.values()) == 1


def test_traces_link_to_logs_and_logs_to_traces() -> None:
    sources = datasources()
    to_logs = sources["tempo"]["jsonData"]["tracesToLogsV2"]
    assert to_logs["datasourceUid"] == "loki"
    # OTLP logs in Loki: service.name becomes the label service_name, trace_id metadata.
    assert {"key": "service.name", "value": "service_name"} in to_logs["tags"]
    assert "$${__trace.traceId}" in to_logs["query"], "`$` must be escaped as `$$`"
    (derived,) = sources["loki"]["jsonData"]["derivedFields"]
    assert derived["datasourceUid"] == "tempo"
    assert (derived["matcherType"], derived["matcherRegex"]) == ("label", "trace_id")
    assert derived["url"] == "$${__value.raw}"


def test_dashboard_provider_reads_the_mounted_dashboards() -> None:
    (provider,) = load_yaml(DASHBOARD_PROVIDERS_YML)["providers"]
    mounts = {target: source for name, source, target in _bind_mounts() if name == "grafana"}
    assert mounts[provider["options"]["path"]] == DASHBOARD_DIR
    assert mounts["/etc/grafana/provisioning"] == DATASOURCES_YML.parents[1]
    home = _environment("grafana")["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (DASHBOARD_DIR / Path(home).relative_to(provider["options"]["path"])).is_file()


# --- dashboards -----------------------------------------------------------------------------


def load_dashboards() -> dict[Path, dict[str, Any]]:
    return {path: json.loads(path.read_text()) for path in DASHBOARDS}


def _panels(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in node.get("panels", []):
        yield panel
        yield from _panels(panel)


def _uid(datasource: Any) -> str | None:
    if isinstance(datasource, dict):
        return datasource.get("uid")
    return datasource  # a name or a variable; checked as a uid below


def test_dashboards_are_valid_json_with_unique_uids() -> None:
    assert len(DASHBOARDS) >= 4, DASHBOARDS
    dashboards = load_dashboards()
    uids = [d["uid"] for d in dashboards.values()]
    titles = [d["title"] for d in dashboards.values()]
    assert all(uids) and len(uids) == len(set(uids)), uids
    assert len(titles) == len(set(titles)), titles
    assert {
        "signalcheck-synthetic",
        "signalcheck-rum",
        "signalcheck-slo",
        "signalcheck-gameday",
    } <= set(uids)
    for path, dashboard in dashboards.items():
        ids = [panel["id"] for panel in _panels(dashboard)]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        assert "id" not in dashboard or dashboard["id"] is None, f"{path.name}: fixed id"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_panel_queries_a_provisioned_datasource(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    allowed = DATASOURCE_UIDS | GRAFANA_BUILT_IN_UIDS
    queried = 0
    for panel in _panels(dashboard):
        if panel["type"] == "row":
            continue
        assert _uid(panel.get("datasource")) in DATASOURCE_UIDS, (
            f"{path.name}: panel {panel['title']!r} uses data source {panel.get('datasource')}"
        )
        assert panel["targets"], f"{path.name}: panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            assert _uid(target.get("datasource")) in DATASOURCE_UIDS, (
                f"{path.name}: panel {panel['title']!r} query {target.get('refId')}"
            )
            queried += 1
    for variable in dashboard["templating"]["list"]:
        if "datasource" in variable:
            assert _uid(variable["datasource"]) in DATASOURCE_UIDS, variable["name"]
    for annotation in dashboard["annotations"]["list"]:
        assert _uid(annotation["datasource"]) in allowed, annotation["name"]
    assert queried, f"{path.name}: no queries"


def test_game_day_dashboard_annotates_alerts_and_game_day_events() -> None:
    gameday = next(d for d in load_dashboards().values() if d["uid"] == "signalcheck-gameday")
    annotations = {a["name"]: a for a in gameday["annotations"]["list"]}
    assert any(
        "ALERTS" in metric_names(a.get("expr", "")) and _uid(a["datasource"]) == "prometheus"
        for a in annotations.values()
    ), "no annotation of alerts firing"
    assert any(a.get("target", {}).get("tags") == ["gameday"] for a in annotations.values()), (
        "no annotation of the game day's own events (tag `gameday`)"
    )


# --- every PromQL expression uses exported metric names -------------------------------------


def registry_names(registry: CollectorRegistry) -> set[str]:
    """The series names a registry exposes, from each family's type (labelled metrics have
    no samples before their first use): a counter is name_total, a histogram only its
    _bucket/_sum/_count series — the bare family name of either is not a series."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
        "summary": ("", "_sum", "_count", "_created"),
        "info": ("_info",),
    }
    names: set[str] = set()
    for family in registry.collect():
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


def recorded_names() -> set[str]:
    names = set()
    for path in sorted((COMPOSE_DIR / "prometheus" / "rules").glob("*.yml")):
        for group in load_yaml(path)["groups"]:
            names.update(rule["record"] for rule in group["rules"] if "record" in rule)
    return names


def exported_names() -> set[str]:
    """What the stack's Prometheus can hold, read from the exporters' own code."""
    from signalcheck.demo.metrics import DemoMetrics
    from signalcheck.probes.metrics import ProbeMetrics
    from signalcheck.rum_ingest.metrics import RumMetrics

    names = registry_names(DemoMetrics("us-east-1", "0.0.0", "test").registry)
    names |= registry_names(ProbeMetrics().registry)
    names |= registry_names(RumMetrics(label_cap=10).registry)
    return names | recorded_names() | PROMETHEUS_GENERATED


_LABEL_VALUES = re.compile(r"^\s*label_values\((?P<selector>.*),\s*[a-zA-Z_]\w*\s*\)\s*$")


def promql_uses(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every Prometheus query: panel targets, variables, annotations."""
    for panel in _panels(dashboard):
        for target in panel.get("targets", []):
            source = target.get("datasource") or panel.get("datasource")
            if _uid(source) == "prometheus" and target.get("expr"):
                yield f"panel {panel['title']!r} query {target['refId']}", target["expr"]
    for variable in dashboard["templating"]["list"]:
        if _uid(variable.get("datasource")) == "prometheus":
            query = variable["query"]
            query = query["query"] if isinstance(query, dict) else query
            match = _LABEL_VALUES.match(query)
            yield f"variable {variable['name']}", match["selector"] if match else query
    for annotation in dashboard["annotations"]["list"]:
        if _uid(annotation.get("datasource")) == "prometheus":
            yield f"annotation {annotation['name']!r}", annotation["expr"]


def unknown_metric_names(dashboard: dict[str, Any], exported: set[str]) -> list[str]:
    problems = []
    for where, expr in promql_uses(dashboard):
        names = metric_names(expr)
        if not names:
            # vector(14.4) and friends read no series; anything else is a parse failure.
            assert re.fullmatch(r"vector\([\d.]+\)", expr.strip()), f"{where}: {expr}"
        for name in sorted(names - exported):
            problems.append(f"{dashboard['title']}: {where} uses {name}, which nothing exports")
    return problems


def test_exported_names_come_from_the_exporters() -> None:
    exported = exported_names()
    for name in (
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "demo_assignments_created_total",
        "synthetic_check_success",
        "synthetic_request_success_total",
        "rum_web_vitals_lcp_seconds_bucket",
        "region:http_request_errors:ratio_rate5m",
    ):
        assert name in exported, name
    # A histogram or counter family name is not a series.
    for name in ("http_request_duration_seconds", "rum_page_load_seconds", "http_requests"):
        assert name not in exported, name


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_promql_uses_only_exported_metrics(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    uses = list(promql_uses(dashboard))
    assert uses, f"{path.name}: no PromQL found"
    problems = unknown_metric_names(dashboard, exported_names())
    assert not problems, "\n".join(problems)


def test_a_misspelled_or_bare_histogram_metric_is_reported() -> None:
    """The check has teeth: a typo, a family name without _bucket, and a name hidden in a
    variable or an annotation are each found; strings, label matchers, Grafana variables
    and functions are not mistaken for metrics."""
    dashboard = copy.deepcopy(next(iter(load_dashboards().values())))
    exported = exported_names()
    assert not unknown_metric_names(dashboard, exported)
    panel = next(p for p in _panels(dashboard) if p["type"] != "row")
    panel["targets"][0]["expr"] = (
        "histogram_quantile(0.95, sum by (le, region) (rate(http_request_duration_seconds{"
        'region=~"$region", route!="synthetic_check_success"}[$__rate_interval])))'
        " / on (region) group_left sum by (region) (rate(http_requets_total[5m] offset 1h))"
    )
    dashboard["templating"]["list"].append(
        {"name": "x", "datasource": {"uid": "prometheus"}, "query": "label_values(nope, region)"}
    )
    dashboard["annotations"]["list"].append(
        {"name": "y", "datasource": {"uid": "prometheus"}, "expr": 'ALERTZ{alertstate="firing"}'}
    )
    problems = "\n".join(unknown_metric_names(dashboard, exported))
    for name in ("http_request_duration_seconds", "http_requets_total", "nope", "ALERTZ"):
        assert f"uses {name}, which" in problems, problems
    for not_a_metric in ("region", "le", "synthetic_check_success", "rate", "offset"):
        assert f"uses {not_a_metric}," not in problems, problems
