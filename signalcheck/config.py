"""One YAML file -> typed models.

Errors name the file, the key and the expected form, so a user can fix the file
without reading this module.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from signalcheck.checks import Check, unique_check_names
from signalcheck.errors import ConfigError
from signalcheck.expectations import Expectations
from signalcheck.load_profiles import LoadSettings

DEFAULT_CONFIG_PATH = Path("signalcheck.yaml")
CONFIG_ENV = "SIGNALCHECK_CONFIG"
BASE_DIR = "base_dir"
"""Validation context key: the directory relative paths are taken from (the config file's)."""

Duration = Annotated[float, Field(gt=0, description="seconds")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(_Model):
    """One region of the service under test."""

    base_url: AnyHttpUrl = Field(description="where the service of that region answers")
    demo: bool = Field(
        False,
        description="the local stack runs signalcheck's demo service here (`signalcheck up` "
        "starts it on base_url's port, the demo's own chaos actions act on it); false (the "
        "default): your service already answers at base_url, and signalcheck never starts, "
        "binds, stops or faults anything there",
    )
    metrics_url: AnyHttpUrl | None = Field(
        None,
        description="where the local stack's Prometheus scrapes this region (scheme, host, port "
        "and path; e.g. a separate metrics port); default: base_url's scheme, host and port "
        "with stack.scrape.metrics_path",
    )
    labels: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], str] = Field(
        default_factory=dict,
        description="extra target labels on this region's series in the local stack (e.g. "
        "`{cluster: eu-1}` when your rules group by another label than `region`); `region` "
        "itself is always the region's name",
    )

    @property
    def host(self) -> str:
        return urlsplit(str(self.base_url)).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(str(self.base_url))
        return parts.port or (443 if parts.scheme == "https" else 80)


class Backend(_Model):
    """How to reach one observability backend."""

    url: AnyHttpUrl = Field(
        description="the backend's base URL; a local-stack backend (prometheus, alertmanager, "
        "pushgateway, capture, rum_ingest) not configured is 127.0.0.1 at its "
        "stack.ports port; $SIGNALCHECK_<NAME>_URL overrides it",
    )
    timeout: Duration = Field(
        5.0,
        description="seconds one request may take; every client retries 429 and 5xx answers with "
        "backoff (honouring Retry-After) until the expectation's budget runs out",
    )
    tenant: str | None = Field(
        None,
        description="the tenant sent as X-Scope-OrgID (multi-tenant Loki, Tempo, Mimir, Cortex); "
        "null: no such header",
    )
    bearer_token_env: str | None = Field(
        None,
        description="the environment variable holding a bearer token for the Authorization header; "
        "null: no token",
    )
    username: str | None = Field(
        None,
        description="basic-auth user name, with the password from password_env; null: no "
        "basic auth",
    )
    password_env: str | None = Field(
        None,
        description="the environment variable holding the basic-auth password of username",
    )
    verify_tls: bool = Field(
        True,
        description="verify the backend's TLS certificate; false accepts any (e.g. self-signed)",
    )

    @property
    def base_url(self) -> str:
        return str(self.url).rstrip("/")


class CaptureBackend(Backend):
    """The capture receiver; `source` picks whose Alertmanager notifications are read: ''
    (the default) the pipeline's own, a name those a shadow pipeline (`signalcheck mutate`)
    posted to `/alertmanager/webhook/{source}`."""

    source: str = Field(
        "",
        pattern=r"^$|^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
        description='whose Alertmanager notifications are read: "" (the default) the '
        "pipeline's own; a name, those a shadow pipeline of `signalcheck mutate` posted to "
        "/alertmanager/webhook/{source}",
    )


class TempoBackend(Backend):
    """Grafana Tempo; `api_version` picks the trace-by-id endpoint."""

    api_version: Literal["auto", "v1", "v2"] = Field(
        "auto",
        description="trace by id: v2 is /api/v2/traces/{id} (Tempo 2.6+), v1 /api/traces/{id}; "
        "auto asks v2 and falls back to v1 once v2 answers 404 as a missing endpoint",
    )


class JaegerBackend(Backend):
    """Jaeger query; `api_version` picks the trace-by-id endpoint."""

    api_version: Literal["auto", "v3", "v1"] = Field(
        "auto",
        description="trace by id: v3 is /api/v3/traces/{id} (OTLP JSON), v1 the classic JSON "
        "/api/traces/{id}; auto asks v3 and falls back to v1 once v3 is missing",
    )


class Backends(_Model):
    """The observability backends signalcheck reads and writes. Those the local stack runs
    (prometheus, alertmanager, pushgateway, capture, rum_ingest) default to it, on 127.0.0.1
    at their `stack.ports` port; loki, tempo and jaeger are used only when configured."""

    prometheus: Backend | None = Field(
        None,
        description="Prometheus (or a Prometheus-compatible API): series, alerts and scrape "
        "targets the expectations judge; default: the local stack's",
    )
    alertmanager: Backend | None = Field(
        None,
        description="the Alertmanager the alerts go through; default: the local stack's",
    )
    pushgateway: Backend | None = Field(
        None,
        description="where probes push their results; default: the local stack's",
    )
    capture: CaptureBackend | None = Field(
        None,
        description="the capture receiver: OTLP traces and logs, and the Alertmanager webhook "
        "notifications; default: the local stack's",
    )
    rum_ingest: Backend | None = Field(
        None,
        description="the RUM ingest that browser sessions and load's RUM users post to; default: "
        "the local stack's",
    )
    loki: Backend | None = Field(
        None,
        description="Grafana Loki, read by log expectations (first choice when set); default: none",
    )
    tempo: TempoBackend | None = Field(
        None,
        description="Grafana Tempo, read by trace expectations (first choice when set); default: "
        "none",
    )
    jaeger: JaegerBackend | None = Field(
        None,
        description="Jaeger query, read by trace expectations (when set and tempo is not); "
        "default: none",
    )


class StackPorts(_Model):
    """The local stack's ports on 127.0.0.1; the demo regions listen on the ports of their
    `regions.<name>.base_url`."""

    prometheus: int = Field(19090, ge=1, le=65535, description="port of the local Prometheus")
    alertmanager: int = Field(19093, ge=1, le=65535, description="port of the local Alertmanager")
    pushgateway: int = Field(19091, ge=1, le=65535, description="port of the local Pushgateway")
    capture: int = Field(
        14318,
        ge=1,
        le=65535,
        description="port of the capture receiver (OTLP/HTTP and Alertmanager webhooks)",
    )
    rum_ingest: int = Field(14319, ge=1, le=65535, description="port of the RUM ingest")


class Scrape(_Model):
    """How the local stack's Prometheus scrapes the regions' service (one target per region)."""

    job: str = Field(
        "service",
        pattern=r"^[A-Za-z_][A-Za-z0-9_:.-]*$",
        description="the scrape job name of the regions' targets (the `job` label your rules "
        'select, e.g. `up{job="myapp"}`)',
    )
    metrics_path: str = Field(
        "/metrics",
        pattern=r"^/",
        description="the path scraped on each region, unless its metrics_url says otherwise",
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="extra target labels on every region's series (`region` is always set to "
        "the region's name)",
    )


class PortRange(_Model):
    """Loopback ports signalcheck may pick for what it starts on free ports (mutate's shadow
    pipelines, Locust's master)."""

    first: int = Field(ge=1024, le=65535, description="the lowest port picked")
    last: int = Field(ge=1024, le=65535, description="the highest port picked")

    @model_validator(mode="after")
    def _ordered(self) -> PortRange:
        if self.last - self.first < 16:
            raise ValueError(
                f"{self.first}..{self.last}: expected first < last with room for 16 ports or more"
            )
        return self


class Stack(_Model):
    """The local stack: real backends on loopback, around the demo regions or your service."""

    data_dir: Path = Field(
        Path(".signalcheck/stack"),
        description="where the local stack keeps its state: data, rendered configs, logs (relative "
        "to the config file)",
    )
    ports: StackPorts = Field(
        StackPorts(),
        description="the local stack's fixed ports on 127.0.0.1",
    )
    port_range: PortRange | None = Field(
        None,
        description="where free ports are picked (e.g. {first: 20000, last: 20999}); default: "
        "10000 up to the kernel's ephemeral range",
    )
    scrape: Scrape = Field(
        Scrape(),
        description="how the local Prometheus scrapes the regions' service",
    )
    scrape_interval: Duration = Field(
        1.0,
        description="seconds between two scrapes of the local Prometheus",
    )
    evaluation_interval: Duration = Field(
        1.0,
        description="seconds between two rule evaluations of the local Prometheus",
    )
    group_wait: Duration = Field(
        1.0,
        description="seconds the local Alertmanager waits before it first notifies a new alert "
        "group",
    )
    group_interval: Duration = Field(
        2.0,
        description="seconds the local Alertmanager waits before it notifies changes to an alert "
        "group",
    )
    repeat_interval: Duration = Field(
        5.0,
        description="seconds after which the local Alertmanager re-notifies a still-firing "
        "alert (Compose keeps 4h): an alert that inhibition fails to mute keeps reaching its "
        "receiver, so a leak shows within a game day",
    )
    ready_timeout: Duration = Field(
        30.0,
        description="seconds each process of the local stack (and of mutate's shadow "
        "pipelines) may take to answer as ready",
    )
    rule_files: list[Path] | None = Field(
        None,
        description="Prometheus rule files (paths or globs, relative to the config file) the "
        "stack loads and `signalcheck mutate` mutates instead of the shipped ones; each must "
        "match a file with a `groups` list, file names distinct",
    )
    alertmanager_config: Path | None = Field(
        None,
        description="an Alertmanager config (relative to the config file) the stack renders "
        "(short timings, webhooks to the capture receiver) and `signalcheck mutate` mutates "
        "instead of the shipped one",
    )

    @field_validator("rule_files")
    @classmethod
    def _rule_files_exist(
        cls, patterns: list[Path] | None, info: ValidationInfo
    ) -> list[Path] | None:
        """Each pattern matches at least one rule file; the result is the files, absolute."""
        if patterns is None:
            return None
        base = _base_dir(info)
        found: dict[Path, None] = {}
        for pattern in patterns:
            matches = sorted(glob.glob(str(pattern), root_dir=base, recursive=True))
            files = [base / match for match in matches if (base / match).is_file()]
            if not files:
                raise ValueError(
                    f"{pattern} matches no file (expected paths or globs of Prometheus rule "
                    f"files, relative to {base})"
                )
            for path in files:
                _require_yaml_key(path, "groups", list, "a Prometheus rule file")
            found.update(dict.fromkeys(files))
        names = [path.name for path in found]
        if twice := sorted({name for name in names if names.count(name) > 1}):
            raise ValueError(f"two rule files named {twice[0]} (expected distinct file names)")
        return list(found)

    @field_validator("alertmanager_config")
    @classmethod
    def _alertmanager_config_exists(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        if path is None:
            return None
        path = _base_dir(info) / path
        _require_yaml_key(path, "route", dict, "an Alertmanager config")
        return path


def _base_dir(info: ValidationInfo) -> Path:
    """Where relative paths start: the config file's directory (load_config passes it as
    validation context), else the working directory."""
    context = info.context if isinstance(info.context, dict) else {}
    return Path(context.get(BASE_DIR) or Path.cwd())


def _require_yaml_key(path: Path, key: str, kind: type, what: str) -> None:
    """A ValueError unless `path` is a YAML mapping whose `key` is a `kind`."""
    expected = f"expected {what}: a YAML mapping with a `{key}` {kind.__name__}"
    try:
        doc = read_yaml_mapping(path, what)
    except ConfigError as exc:
        raise ValueError(f"{exc} ({expected})") from None
    if not isinstance(doc.get(key), kind):
        raise ValueError(f"{path}: {expected}")


class Traffic(_Model):
    """Steady background traffic while faults are in force (game day, chaos runs, mutate), so
    rates and ratios have requests to count. A demo region gets the demo's token requests; any
    other region the requests of your `checks` named here, never the demo's."""

    enabled: bool = Field(True, description="false: no background traffic at all")
    checks: list[str] | None = Field(
        None,
        description="names of `http` checks whose request is sent to every region that is not "
        "a demo; default: every http check of the config",
    )
    per_second: float = Field(10.0, gt=0, le=100, description="rounds per second")


class Config(_Model):
    """The whole file: the regions under test, how to reach the backends, the local stack, the
    synthetic checks, the expectations, load profiles and background traffic."""

    regions: dict[str, Region] = Field(
        description="the regions of the service under test, by name (the value of their `region` "
        "label); at least one, each base_url's host in the allowlist",
    )
    backends: Backends = Field(
        Backends(),
        description="how to reach the observability backends; default: the local stack's",
    )
    stack: Stack = Field(Stack(), description="the local stack `signalcheck up` runs")
    allowlist: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "localhost"],
        description="hosts that probes, load, background traffic and chaos may send requests to "
        "(default: loopback only)",
    )
    runs_dir: Path = Field(
        Path("runs"),
        description="where each run's ledger and reports go (relative to the config file)",
    )
    checks: Annotated[list[Check], AfterValidator(unique_check_names)] = Field(
        default_factory=list,
        description="synthetic checks (http, workflow, browser; names unique) the probes "
        "run against every region; see probes/README.md",
    )
    expectations: Expectations = Field(
        Expectations(),
        description="what must arrive after an exercise, by kind (`pytest validation/` "
        "judges them)",
    )
    load: LoadSettings = Field(
        LoadSettings(),
        description="load profiles and load users' credentials (`signalcheck load`)",
    )
    traffic: Traffic = Field(Traffic(), description="background traffic while faults are in force")
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, regions: dict[str, Region]) -> dict[str, Region]:
        if not regions:
            raise ValueError("at least one region is required")
        return regions

    @model_validator(mode="after")
    def _local_backends_by_default(self) -> Config:
        """Backends not configured are the local stack's, on loopback."""
        ports = self.stack.ports
        local = {
            name: (CaptureBackend if name == "capture" else Backend)(
                url=f"http://127.0.0.1:{getattr(ports, name)}"
            )
            for name in StackPorts.model_fields
            if getattr(self.backends, name) is None
        }
        if local:
            object.__setattr__(self, "backends", self.backends.model_copy(update=local))
        return self

    @model_validator(mode="after")
    def _regions_on_allowlist(self) -> Config:
        for name, region in self.regions.items():
            if region.host not in self.allowlist:
                raise ValueError(
                    f"regions.{name}.base_url host {region.host!r} is not in allowlist "
                    f"{self.allowlist}"
                )
        return self

    @model_validator(mode="after")
    def _traffic_checks_exist(self) -> Config:
        http = {check.name for check in self.checks if check.type == "http"}
        for name in self.traffic.checks or []:
            if name not in http:
                raise ValueError(
                    f"traffic.checks: {name!r} is not an http check of this config "
                    f"(expected one of {sorted(http)})"
                )
        return self

    def demo_regions(self) -> dict[str, Region]:
        """The regions where the local stack runs the demo."""
        return {name: region for name, region in self.regions.items() if region.demo}


BACKEND_ENV = {name: f"SIGNALCHECK_{name.upper()}_URL" for name in Backends.model_fields}


def read_yaml_mapping(path: Path, what: str) -> dict[str, object]:
    """The YAML mapping in the file at `path` (`what` it is: "config file", "plan file"); a
    ConfigError naming the file when it cannot be read, is not YAML or is not a mapping."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what} ({exc.strerror})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", exc)
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    return raw


def load_config(path: Path | str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Load the config from `path`, `$SIGNALCHECK_CONFIG` or ./signalcheck.yaml.

    Backend URLs may be overridden with SIGNALCHECK_<BACKEND>_URL.
    """
    env = os.environ if environ is None else environ
    path = Path(path or env.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)
    raw = _apply_env_overrides(read_yaml_mapping(path, "config file"), env)
    try:
        config = Config.model_validate(raw, context={BASE_DIR: path.resolve().parent})
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from exc
    return _anchor_paths(config, path)


def _anchor_paths(config: Config, path: Path) -> Config:
    """Relative directories in the file are relative to the file, not to the cwd."""
    base = path.resolve().parent
    stack = config.stack.model_copy(update={"data_dir": base / config.stack.data_dir})
    profiles = {
        name: profile.model_copy(update={"locustfile": base / profile.locustfile})
        if profile.locustfile is not None
        else profile
        for name, profile in config.load.profiles.items()
    }
    load = config.load.model_copy(update={"profiles": profiles})
    return config.model_copy(
        update={"source": path, "stack": stack, "runs_dir": base / config.runs_dir, "load": load}
    )


def _apply_env_overrides(raw: dict[str, object], environ: Mapping[str, str]) -> dict[str, object]:
    given = raw.get("backends") or {}
    if not isinstance(given, dict):
        return raw  # validation names what is wrong with it
    backends = dict(given)
    for name, var in BACKEND_ENV.items():
        if environ.get(var):
            entry = backends.get(name)
            entry = dict(entry) if isinstance(entry, dict) else {}
            entry["url"] = environ[var]
            backends[name] = entry
    return {**raw, "backends": backends} if backends else raw


def _describe(path: Path, exc: ValidationError) -> str:
    """First validation error as 'file: key: problem (expected form)'."""
    err = exc.errors()[0]
    key = ".".join(str(part) for part in err["loc"]) or "<top level>"
    problem = err["msg"]
    if err["type"] == "extra_forbidden":
        problem = "unknown key"
    elif err["type"] == "missing":
        problem = "required key is missing"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{path}: {key}: {problem}{more}"
