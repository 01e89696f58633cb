"""`signalcheck up | status | down | reload | capture`: the local stack and the capture
receiver."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from signalcheck.cli.common import ConfigOption, console, user_errors
from signalcheck.config import Config, load_config
from signalcheck.stack import LocalStack

app = typer.Typer()


def _stack(config_path: Path | None) -> tuple[Config, LocalStack]:
    config = load_config(config_path)
    return config, LocalStack(
        config, on_event=lambda line: console.print(f"  {line}", highlight=False, soft_wrap=True)
    )


@app.command()
@user_errors
def up(
    config: ConfigOption = None,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="Delete the stored data first (databases, Prometheus and Alertmanager storage, "
            "logs); only when the stack is stopped.",
        ),
    ] = False,
) -> None:
    """Start the local stack on loopback and wait until every part is healthy.

    The demo runs only at the regions that say `demo: true`; any other region's service must
    already answer there. On a running stack, restart only the components that died, then
    reload the configs as `signalcheck reload` does. Stored data is kept unless `--fresh`.
    Then restore any fault a chaos run that died left open.
    """
    from signalcheck.cli.chaos import restore_left_open

    loaded, stack = _stack(config)
    began = time.monotonic()
    if stack.running() and not fresh:
        restarted, reloaded = stack.update()
        if restarted:
            console.print(f"restarted {', '.join(restarted)}; kept the other components")
        print_reloaded(reloaded)
    else:
        stack.up(fresh=fresh)
        console.print(f"stack healthy in {time.monotonic() - began:.1f}s")
    restore_left_open(loaded)
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
    """Stop exactly what `signalcheck up` started, first restoring any fault a chaos run that
    died left open."""
    from signalcheck.cli.chaos import restore_left_open

    loaded, stack = _stack(config)
    if stack.running():
        restore_left_open(loaded)
    stopped = stack.down()
    console.print(f"stopped {len(stopped)} component(s)" if stopped else "no stack running")


@app.command()
@user_errors
def reload(config: ConfigOption = None) -> None:
    """Reload the running stack's rules, routes and scrape targets from the config, in place.

    Renders prometheus.yml, its scrape targets and alertmanager.yml again from the config
    (rules, routes, regions, stack.scrape) and has the running Prometheus and Alertmanager
    load them: no restart, no data lost. Exit 2 when no stack runs or a reload did not take.
    """
    _, stack = _stack(config)
    print_reloaded(stack.reload())


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
    from signalcheck.capture.server import serve

    serve(host=host, port=port, db_path=db)


def print_reloaded(reloaded: list[str]) -> None:
    for line in reloaded:
        console.print(f"reloaded {line}", highlight=False, soft_wrap=True)


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
    yours = [name for name, region in stack.config.regions.items() if not region.demo]
    if yours:
        console.print(
            f"your service (not started here): {', '.join(yours)}", highlight=False, soft_wrap=True
        )
    console.print(f"logs: {stack.logs_dir}", highlight=False)
    return all(row.healthy for row in rows)
