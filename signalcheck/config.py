"""One YAML file -> typed models.

Errors name the file, the key and the expected form, so a user can fix the file
without reading this module.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Annotated, Any, Literal
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
from signalcheck.errors import SignalcheckError
from signalcheck.expectations import Expectations
from signalcheck.load_profiles import LoadSettings

DEFAULT_CONFIG_PATH = Path("signalcheck.yaml")
CONFIG_ENV = "SIGNALCHECK_CONFIG"
BASE_DIR = "base_dir"
"""Validation context key: the directory relative paths are taken from (the config file's)."""

Duration = Annotated[float, Field(gt=0, description="seconds")]


class ConfigError(SignalcheckError):
    """A config file that cannot be used; the message names file, key and expected form."""


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

    @property
    def host(self) -> str:
        return urlsplit(str(self.base_url)).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(str(self.base_url))
        return parts.port or (443 if parts.scheme == "https" else 80)


class Backend(_Model):
    """How to reach one observability backend."""

    url: AnyHttpUrl
    timeout: Duration = 5.0
    tenant: str | None = None
    bearer_token_env: str | None = None
    username: str | None = None
    password_env: str | None = None
    verify_tls: bool = True

    @property
    def base_url(self) -> str:
        return str(self.url).rstrip("/")


class CaptureBackend(Backend):
    """The capture receiver; `source` picks whose Alertmanager notifications are read: ''
    (the default) the pipeline's own, a name those a shadow pipeline (`signalcheck mutate`)
    posted to `/alertmanager/webhook/{source}`."""

    source: str = Field("", pattern=r"^$|^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


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
    prometheus: Backend | None = None
    alertmanager: Backend | None = None
    pushgateway: Backend | None = None
    capture: CaptureBackend | None = None
    rum_ingest: Backend | None = None
    loki: Backend | None = None
    tempo: TempoBackend | None = None
    jaeger: JaegerBackend | None = None


class StackPorts(_Model):
    prometheus: int = Field(19090, ge=1, le=65535)
    alertmanager: int = Field(19093, ge=1, le=65535)
    pushgateway: int = Field(19091, ge=1, le=65535)
    capture: int = Field(14318, ge=1, le=65535)
    rum_ingest: int = Field(14319, ge=1, le=65535)


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

    data_dir: Path = Path(".signalcheck/stack")
    ports: StackPorts = StackPorts()
    port_range: PortRange | None = Field(
        None,
        description="where free ports are picked (e.g. {first: 20000, last: 20999}); default: "
        "10000 up to the kernel's ephemeral range",
    )
    scrape: Scrape = Scrape()
    scrape_interval: Duration = 1.0
    evaluation_interval: Duration = 1.0
    group_wait: Duration = 1.0
    group_interval: Duration = 2.0
    repeat_interval: Duration = 5.0
    """Re-notify a still-firing alert this often: an alert inhibition fails to mute shows."""
    ready_timeout: Duration = 30.0
    rule_files: list[Path] | None = Field(
        None,
        description="Prometheus rule files (paths or globs, relative to the config file) the "
        "stack loads and `signalcheck mutate` mutates instead of the shipped ones",
    )
    alertmanager_config: Path | None = Field(
        None,
        description="an Alertmanager config (relative to the config file) the stack renders "
        "and `signalcheck mutate` mutates instead of the shipped one",
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
    regions: dict[str, Region]
    backends: Backends = Backends()
    stack: Stack = Stack()
    allowlist: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost"])
    runs_dir: Path = Path("runs")
    checks: Annotated[list[Check], AfterValidator(unique_check_names)] = Field(default_factory=list)
    expectations: Expectations = Expectations()
    load: LoadSettings = LoadSettings()
    traffic: Traffic = Traffic()
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


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
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


def load_config(path: Path | str | None = None, environ: dict[str, str] | None = None) -> Config:
    """Load the config from `path`, `$SIGNALCHECK_CONFIG` or ./signalcheck.yaml.

    Backend URLs may be overridden with SIGNALCHECK_<BACKEND>_URL.
    """
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)
    raw = _apply_env_overrides(read_yaml_mapping(path, "config file"), environ)
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


def _apply_env_overrides(raw: dict[str, Any], environ: dict[str, str]) -> dict[str, Any]:
    backends = dict(raw.get("backends") or {})
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
