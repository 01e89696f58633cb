"""`signalcheck load`: Locust load profiles, headless or distributed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from signalcheck.cli.common import (
    ConfigOption,
    LedgerOption,
    console,
    fail,
    run_dir_for,
    user_errors,
)
from signalcheck.config import load_config
from signalcheck.errors import ConfigError

app = typer.Typer()


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
    master_port: Annotated[
        int | None,
        typer.Option(help="Port of the Locust master (default: a free one in stack.port_range)."),
    ] = None,
    locustfile: Annotated[
        Path | None,
        typer.Option(
            help="Your own locustfile: its User classes (and its LoadTestShape, if any) run "
            "instead of the profile's shipped users (and shape).",
            show_default=False,
        ),
    ] = None,
    ledger: LedgerOption = None,
) -> None:
    """Run a load profile headless with Locust against one region: the shipped users, or
    those of your own locustfile (--locustfile, or the profile's `locustfile`).

    Reports (CSV, HTML, logs) and the ledger's `load` entry go to a new run directory (or to
    the run of --ledger).
    Exits 0 (thresholds passed), 1 (a threshold broken), 2 (bad input or a target outside
    the allowlist; nothing sent) or 3 (Locust failed; see the log named).
    """
    from signalcheck.durations import parse_duration
    from signalcheck.errors import LoadError, LoadRunError
    from signalcheck.load_profiles import plan_for
    from signalcheck.loadtests.display import print_summary, progress_display
    from signalcheck.loadtests.runner import Distribution, run_plan
    from signalcheck.loadtests.userfile import read_locustfile
    from signalcheck.stack.ports import free_port

    loaded = load_config(config)
    try:
        plan = plan_for(
            loaded, profile, region=region, users=users, spawn_rate=rate,
            duration=parse_duration(duration, "--duration") if duration else None,
            locustfile=locustfile,
        )  # fmt: skip
        plan = read_locustfile(plan)
    except LoadError as exc:
        raise ConfigError(str(exc)) from exc
    distributed = workers or remote_workers
    distribution = Distribution(
        local=workers,
        remote=remote_workers,
        bind_host=master_bind,
        bind_port=master_port or (free_port(loaded.stack.port_range) if distributed else None),
    )
    run_dir = run_dir_for(ledger, loaded.runs_dir)
    try:
        with progress_display(console, plan) as on_progress:
            outcome = run_plan(plan, run_dir, distribution, on_progress)
    except LoadRunError as exc:
        fail(str(exc))
        raise typer.Exit(3) from None
    print_summary(console, outcome)
    raise typer.Exit(0 if outcome.passed else 1)
