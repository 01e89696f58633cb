"""The `signalcheck` command line."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from signalcheck.config import CONFIG_ENV, Config, ConfigError, load_config
from signalcheck.ledger import LedgerError
from signalcheck.stack import LocalStack, StackError

app = typer.Typer(
    help="Prove that a system's observability works.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
errors = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", envvar=CONFIG_ENV, help="signalcheck YAML config file."),
]
P = ParamSpec("P")
R = TypeVar("R")
USER_ERRORS = (ConfigError, StackError, LedgerError)


def user_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a user-facing error into one line on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except USER_ERRORS as exc:
            errors.print(f"signalcheck: {exc}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


def _stack(config_path: Path | None) -> tuple[Config, LocalStack]:
    config = load_config(config_path)
    return config, LocalStack(config, on_event=lambda line: console.print(f"  {line}"))


@app.command()
@user_errors
def up(config: ConfigOption = None) -> None:
    """Start the local stack on loopback and wait until every part is healthy."""
    _, stack = _stack(config)
    began = time.monotonic()
    if stack.running():
        console.print(f"stack already running in {stack.data_dir}")
    else:
        stack.up()
        console.print(f"stack healthy in {time.monotonic() - began:.1f}s")
    print_status(stack)


@app.command()
@user_errors
def status(config: ConfigOption = None) -> None:
    """Show each component of the local stack, its URL and health; exit 1 if any is unhealthy."""
    _, stack = _stack(config)
    if not print_status(stack):
        raise typer.Exit(1)


@app.command()
@user_errors
def down(config: ConfigOption = None) -> None:
    """Stop exactly what `signalcheck up` started."""
    _, stack = _stack(config)
    stopped = stack.down()
    console.print(f"stopped {len(stopped)} component(s)" if stopped else "no stack running")


@app.command()
@user_errors
def capture(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 4318,
    db: Annotated[Path, typer.Option(help="SQLite file for what is captured.")] = Path(
        "capture.db"
    ),
) -> None:
    """Run the capture receiver: OTLP/HTTP traces and logs, Alertmanager webhooks."""
    from signalcheck.capture import serve

    serve(host=host, port=port, db_path=db)


def print_status(stack: LocalStack) -> bool:
    """Print the status table; True when every component is healthy."""
    rows = stack.status()
    if not rows:
        console.print(f"no stack running in {stack.data_dir}")
        return False
    table = Table("component", "url", "pid", "health")
    for row in rows:
        health = (
            "[green]healthy" if row.healthy else ("[red]unhealthy" if row.running else "[red]down")
        )
        table.add_row(row.name, row.url, str(row.pid or "-"), health)
    console.print(table)
    console.print(f"logs: {stack.logs_dir}", highlight=False)
    return all(row.healthy for row in rows)


@app.command()
@user_errors
def probe(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="Run one pass, push it, exit.")] = False,
    serve: Annotated[
        bool, typer.Option("--serve", help="Run a pass every interval; serve /metrics.")
    ] = False,
    region: Annotated[
        str | None, typer.Option(help="Only this region (a CronJob deployed in it).")
    ] = None,
    interval: Annotated[str, typer.Option(help="Time between passes with --serve.")] = "30s",
    host: Annotated[str, typer.Option(help="Address of /metrics with --serve.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of /metrics with --serve.")] = 9477,
    concurrency: Annotated[int, typer.Option(min=1, help="Checks running at once.")] = 8,
    ledger: Annotated[
        Path | None, typer.Option(help="Append to this ledger instead of a new run's.")
    ] = None,
    push: Annotated[bool, typer.Option(help="Push --once results to the Pushgateway.")] = True,
) -> None:
    """Run the synthetic checks of the config in every region (or one).

    --once prints a JSON summary and exits 0 (all passed), 1 (a check failed), 2 (config
    error) or 3 (the Pushgateway push failed; results are still printed and in the ledger).
    """
    import json

    from probes.once import run_once
    from probes.serve import parse_interval
    from probes.serve import serve as serve_forever

    if once == serve:
        raise ConfigError("probe: give exactly one of --once or --serve")
    loaded = load_config(config)
    if serve:
        serve_forever(
            loaded, region=region, interval=parse_interval(interval), host=host, port=port,
            concurrency=concurrency, on_pass=lambda line: errors.print(line, markup=False),
        )  # fmt: skip
        return
    summary, code = run_once(
        loaded, region=region, concurrency=concurrency, ledger_path=ledger, push=push
    )
    print(json.dumps(summary, indent=2))
    if summary["push"]["error"]:
        errors.print(f"signalcheck: push failed: {summary['push']['error']}", markup=False)
    raise typer.Exit(code)


rum_app = typer.Typer(help="Real User Monitoring: the ingest service and its browser SDK.")
app.add_typer(rum_app, name="rum", no_args_is_help=True)


@rum_app.command("serve")
@user_errors
def rum_serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    keys_file: Annotated[
        Path | None, typer.Option(help="File of API keys, one app=key per line.")
    ] = None,
) -> None:
    """Run the RUM ingest: POST /v1/events, Faro /collect, /v1/sdk.js, analytics, /metrics.

    The store is DATABASE_URL (default sqlite:///rum.db; postgresql://... for PostgreSQL);
    API keys come from RUM_API_KEYS (app=key,...) or a keys file, never from the command line.
    """
    import os

    from rum_ingest.server import serve
    from rum_ingest.settings import Settings

    serve(Settings.from_env(os.environ, keys_file=keys_file), host=host, port=port)


@app.command()
@user_errors
def load(
    config: ConfigOption = None,
    profile: Annotated[str, typer.Option(help="Load profile of the config's `load:`.")] = "smoke",
    region: Annotated[str | None, typer.Option(help="Region to send the load to.")] = None,
    duration: Annotated[str | None, typer.Option(help="Run time, e.g. 60s or 5m.")] = None,
    users: Annotated[int | None, typer.Option(help="Peak concurrent users.")] = None,
    rate: Annotated[float | None, typer.Option(help="Users started per second.")] = None,
    workers: Annotated[int, typer.Option(min=0, help="Local Locust workers (0: one process).")] = 0,
    remote_workers: Annotated[
        int, typer.Option(min=0, help="Workers started on other hosts to wait for.")
    ] = 0,
    master_bind: Annotated[
        str, typer.Option(help="Address the Locust master listens on for workers.")
    ] = "127.0.0.1",
    master_port: Annotated[int | None, typer.Option(help="Port of the Locust master.")] = None,
) -> None:
    """Run a load profile headless with Locust against one region.

    Reports (CSV, HTML, logs) and the ledger's `load` entry go to a new run directory.
    Exits 0 (thresholds passed), 1 (a threshold broken), 2 (bad input or a target outside
    the allowlist; nothing sent) or 3 (Locust failed; see the log named).
    """
    from loadtests.display import print_summary, progress_display
    from loadtests.runner import Distribution, LoadRunError, run_plan
    from signalcheck.ledger import new_run_dir
    from signalcheck.load_profiles import LoadError, parse_duration, plan_for

    loaded = load_config(config)
    try:
        plan = plan_for(
            loaded, profile, region=region, users=users, spawn_rate=rate,
            duration=parse_duration(duration) if duration else None,
        )  # fmt: skip
    except LoadError as exc:
        raise ConfigError(str(exc)) from exc
    distribution = Distribution(
        local=workers, remote=remote_workers, bind_host=master_bind, bind_port=master_port
    )
    run_dir = new_run_dir(loaded.runs_dir)
    try:
        with progress_display(console, plan) as on_progress:
            outcome = run_plan(plan, run_dir, distribution, on_progress)
    except LoadRunError as exc:
        errors.print(f"signalcheck: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(3) from None
    print_summary(console, outcome)
    raise typer.Exit(0 if outcome.passed else 1)


chaos_app = typer.Typer(help="Chaos Toolkit experiments with measured detection and rollback.")
app.add_typer(chaos_app, name="chaos", no_args_is_help=True)


@chaos_app.command("run")
@user_errors
def chaos_run(
    experiment: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Chaos Toolkit experiment file.")
    ],
    dry: Annotated[
        bool, typer.Option("--dry", help="Check targets and show what would be done; do nothing.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Run an experiment with the stock `chaos run` and the stack's configuration.

    The journal and the ledger go to a new run directory. Exit 1 when the steady state was not
    met before or after the method, or the experiment did not complete.
    """
    from chaos.runner import run_experiment

    outcome = run_experiment(load_config(config), experiment, dry=dry)
    console.print(f"journal: {outcome.journal}", highlight=False)
    console.print(f"ledger:  {outcome.ledger}", highlight=False)
    for problem in outcome.problems:
        errors.print(f"signalcheck: {problem}", markup=False, highlight=False, soft_wrap=True)
    if not outcome.problems:
        console.print("[green]steady state met before and after; experiment completed")
    raise typer.Exit(outcome.exit_code)
