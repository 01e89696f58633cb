"""`signalcheck init [DIR]`: a starter signalcheck.yaml for the local stack, and with
`--with-rules` copies of the shipped alerting rules and Alertmanager routes to edit; with
`--from-prometheus URL`, a starter derived from a live Prometheus (and Alertmanager) and its
alert coverage (signalcheck/scaffold/)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from signalcheck.cli.common import console, user_errors
from signalcheck.config import DEFAULT_CONFIG_PATH, Backend, load_config
from signalcheck.errors import BackendError, ConfigError
from signalcheck.scaffold.coverage import Coverage, Experiment, coverage_of
from signalcheck.scaffold.live import read_live
from signalcheck.scaffold.starter import Starter, derive_starter
from signalcheck.scaffold.writer import add_new, render
from signalcheck.shipped import EXPERIMENTS, experiment_file
from signalcheck.stack.render import ALERTMANAGER_YML, shipped_rule_files

app = typer.Typer()

RULES_DIR = Path("rules")
"""Where `--with-rules` copies the shipped rule files, relative to DIR."""
ALERTMANAGER_COPY = Path("alertmanager.yml")
"""Where `--with-rules` copies the shipped Alertmanager config, relative to DIR."""
COVERAGE_JSON = Path("signalcheck.coverage.json")
"""Where `--from-prometheus` writes its coverage report, relative to DIR."""
_env = Environment(
    loader=PackageLoader("signalcheck", "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)


def starter_config(*, with_rules: bool) -> str:
    """The starter signalcheck.yaml; `with_rules` sets the keys naming the copied files."""
    return _env.get_template(f"{DEFAULT_CONFIG_PATH.name}.j2").render(
        with_rules=with_rules,
        rule_files=f"{RULES_DIR}/*.yml",
        alertmanager_config=str(ALERTMANAGER_COPY),
    )


def starter_files(*, with_rules: bool) -> dict[Path, str]:
    """Path relative to DIR -> text, of every file `init` writes."""
    files = {Path(DEFAULT_CONFIG_PATH.name): starter_config(with_rules=with_rules)}
    if with_rules:
        files.update({RULES_DIR / path.name: path.read_text() for path in shipped_rule_files()})
        files[ALERTMANAGER_COPY] = ALERTMANAGER_YML.read_text()
    return files


def write_starter(directory: Path, *, with_rules: bool, force: bool) -> list[Path]:
    """Write the starter files into `directory` (created if missing); without `force`, a
    ConfigError and nothing written when one of them exists already."""
    files = {
        directory / relative: text
        for relative, text in starter_files(with_rules=with_rules).items()
    }
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"{directory}: not a directory (expected a folder for signalcheck.yaml)")
    existing = [path for path in files if path.exists()]
    if existing and not force:
        others = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise ConfigError(f"{existing[0]} already exists{others}; use --force to overwrite")
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    except OSError as exc:
        raise ConfigError(f"{exc.filename}: cannot write ({exc.strerror})") from exc
    return list(files)


@app.command()
@user_errors
def init(
    directory: Annotated[
        Path, typer.Argument(help="Folder for signalcheck.yaml (created if missing).")
    ] = Path("."),
    with_rules: Annotated[
        bool,
        typer.Option(
            "--with-rules",
            help="Also copy the shipped alerting rules (rules/*.yml) and Alertmanager routes "
            "(alertmanager.yml) to edit; the config points the stack and `mutate` at them.",
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files that exist already.")
    ] = False,
    from_prometheus: Annotated[
        str | None,
        typer.Option(
            "--from-prometheus",
            help="Derive the config from this live Prometheus (or compatible API): regions, "
            "targets, alerts, rules, cardinality; and write its alert coverage beside it.",
            show_default=False,
        ),
    ] = None,
    alertmanager: Annotated[
        str | None,
        typer.Option(
            help="The live Alertmanager whose routes give each alert's receiver.",
            show_default=False,
        ),
    ] = None,
    region_label: Annotated[
        str, typer.Option(help="The target label whose values are the regions.")
    ] = "region",
    experiments: Annotated[
        list[Path] | None,
        typer.Option(
            "--experiments",
            help="Your Chaos Toolkit experiments (marked actions) the coverage counts, besides "
            "the shipped ones.",
            show_default=False,
        ),
    ] = None,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="Add what is new on the live system to DIR/signalcheck.yaml; keep the rest.",
        ),
    ] = False,
    bearer_token_env: Annotated[
        str | None, typer.Option(help="Env variable with a bearer token for both backends.")
    ] = None,
    username: Annotated[str | None, typer.Option(help="Basic-auth user for both.")] = None,
    password_env: Annotated[
        str | None, typer.Option(help="Env variable with the basic-auth password.")
    ] = None,
    tenant: Annotated[
        str | None, typer.Option(help="Tenant sent as X-Scope-OrgID (Mimir, Cortex).")
    ] = None,
    verify_tls: Annotated[bool, typer.Option(help="Verify the backends' TLS certificates.")] = True,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds per request.")] = 5.0,
) -> None:
    """Write a starter signalcheck.yaml that runs as-is against the local stack, or with
    --from-prometheus one derived from your live Prometheus and Alertmanager."""
    if from_prometheus is None:
        if update or alertmanager or experiments:
            raise ConfigError("--update, --alertmanager and --experiments need --from-prometheus")
        write_local_starter(directory, with_rules=with_rules, force=force)
        return
    auth = {
        "timeout": timeout, "tenant": tenant, "bearer_token_env": bearer_token_env,
        "username": username, "password_env": password_env, "verify_tls": verify_tls,
    }  # fmt: skip
    backends = {"prometheus": _backend("--from-prometheus", from_prometheus, auth)}
    if alertmanager is not None:
        backends["alertmanager"] = _backend("--alertmanager", alertmanager, auth)
    from_live(directory, backends, region_label, experiments or [], update=update, force=force)


def write_local_starter(directory: Path, *, with_rules: bool, force: bool) -> None:
    for path in write_starter(directory, with_rules=with_rules, force=force):
        console.print(f"wrote {path}", highlight=False, soft_wrap=True)
    cd = "" if directory == Path(".") else f"cd {directory} && "
    console.print(
        f"next: {cd}signalcheck up && signalcheck probe --once "
        "(then edit the parts marked YOUR SERVICE)",
        highlight=False,
        soft_wrap=True,
    )


def _backend(option: str, url: str, auth: dict[str, Any]) -> Backend:
    try:
        return Backend(url=url, **auth)
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"]
        raise ConfigError(f"{option} {url}: {problem} (expected http(s)://host:port)") from None


def from_live(
    directory: Path,
    backends: dict[str, Backend],
    region_label: str,
    experiments: list[Path],
    *,
    update: bool,
    force: bool,
) -> Coverage:
    """Derive, write (or update) DIR/signalcheck.yaml and its coverage report; print both."""
    path = directory / DEFAULT_CONFIG_PATH.name
    if update and not path.is_file():
        raise ConfigError(f"--update: {path} does not exist (run without --update first)")
    if path.exists() and not (update or force):
        raise ConfigError(f"{path} already exists; use --update to add to it or --force")
    mine = [_experiment(item, "yours") for item in experiments]
    try:
        live = read_live(backends["prometheus"], backends.get("alertmanager"))
    except BackendError as exc:
        raise ConfigError(f"cannot read the live system: {exc}") from None
    starter = derive_starter(live, region_label)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if update:
        text, added = add_new(path.read_text(), starter, stamp)
        console.print(f"{path}: {len(added)} new entries added", highlight=False)
    else:
        written = {
            name: backend.model_dump(mode="json", exclude_defaults=True) | {"url": backend.base_url}
            for name, backend in backends.items()
        }
        source = f"{' and '.join(f'{n} {b.base_url}' for n, b in backends.items())} ({stamp})"
        text = render(starter, written, source)
    config = _write_valid(path, text)
    shipped = [_experiment(str(p), "shipped") for p in sorted(EXPERIMENTS.glob("*.json"))]
    coverage = coverage_of(live, starter, config, shipped + mine)
    (directory / COVERAGE_JSON).write_text(json.dumps(coverage.as_dict(), indent=2) + "\n")
    print_coverage(coverage, starter)
    console.print(f"wrote {path} and {directory / COVERAGE_JSON}", highlight=False)
    return coverage


def _experiment(item: str | Path, source: str) -> Experiment:
    from signalcheck.mutate.experiments import faults_of

    try:
        path = experiment_file(str(item))
    except ConfigError as exc:
        raise ConfigError(f"--experiments {exc}") from None
    return Experiment(path.stem, source, faults_of([path]))


def _write_valid(path: Path, text: str) -> Any:
    """Write `text` to `path` once it loads as a config; the loaded config."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text)
        config = load_config(partial, environ={})
        partial.replace(path)
    except OSError as exc:
        raise ConfigError(f"{exc.filename}: cannot write ({exc.strerror})") from None
    finally:
        partial.unlink(missing_ok=True)
    return config


def print_coverage(coverage: Coverage, starter: Starter) -> None:
    table = Table("alerting rule", "fault", "receivers", "fired by / why not", title="coverage")
    for rule in coverage.rules:
        fired = ", ".join(rule.fired_by)
        table.add_row(
            rule.alert, rule.fault or "-", ", ".join(rule.receivers or ["?"]),
            f"[green]{escape(fired)}" if fired else f"[yellow]{escape(rule.why)}",
        )  # fmt: skip
    console.print(table)
    for exercise in coverage.exercises:
        if exercise.fires:
            console.print(
                f"{exercise.experiment} ({exercise.source}): fires {', '.join(exercise.fires)}; "
                f"reaches {len(exercise.mutants)} of {coverage.mutants} mutants",
                highlight=False,
                soft_wrap=True,
            )
    console.print(
        f"regions by {starter.region_label}; {coverage.summary()}", highlight=False, soft_wrap=True
    )
