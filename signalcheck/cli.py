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
