"""`signalcheck chaos run | restore`: Chaos Toolkit experiments with the stack's configuration,
and the restore of faults a run that died left in force."""

from __future__ import annotations

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
from signalcheck.config import Config, load_config
from signalcheck.errors import ConfigError
from signalcheck.shipped import experiment_file

app = typer.Typer(help="Chaos Toolkit experiments with measured detection and rollback.")


@app.command("run")
@user_errors
def chaos_run(
    experiment: Annotated[
        str,
        typer.Argument(
            help="Chaos Toolkit experiment file, or the name of a shipped one (region-outage).",
            show_default=False,
        ),
    ],
    dry: Annotated[
        bool, typer.Option("--dry", help="Check targets and show what would be done; do nothing.")
    ] = False,
    config: ConfigOption = None,
    ledger: LedgerOption = None,
) -> None:
    """Run an experiment with the stock `chaos run` and the stack's configuration (first
    restoring any fault a chaos run that died left open).

    The journal and the ledger go to a new run directory (or to the run of --ledger). Exit 1
    when the steady state was not met before or after the method, or the experiment did not
    complete; 2 when the experiment file is not valid or targets something outside the
    allowlist (nothing is run); 130 when interrupted (the faults are rolled back).
    """
    from signalcheck.chaos.runner import run_experiment
    from signalcheck.errors import TargetRefused

    path = experiment_file(experiment)
    loaded = load_config(config)
    restore_left_open(loaded)
    try:
        run_dir = None if ledger is None else run_dir_for(ledger, loaded.runs_dir)
        outcome = run_experiment(loaded, path, dry=dry, run_dir=run_dir)
    except TargetRefused as exc:
        raise ConfigError(f"refused the experiment, nothing was done: {exc}") from None
    for name, path in (("journal:", outcome.journal), ("ledger: ", outcome.ledger)):
        if path.exists():
            console.print(f"{name} {path}", highlight=False)
    for problem in outcome.problems:
        fail(problem)
    if outcome.interrupted:
        raise typer.Exit(130)
    if not outcome.problems:
        console.print("[green]steady state met before and after; experiment completed")
    raise typer.Exit(outcome.exit_code)


@app.command("restore")
@user_errors
def chaos_restore(config: ConfigOption = None) -> None:
    """Restore every fault left open by a chaos run that died (its process is gone), and close
    it in that run's ledger. Exit 1 when one could not be restored."""
    from signalcheck.chaos.openfaults import OpenFaults

    loaded = load_config(config)
    restored = restore_left_open(loaded)
    running = OpenFaults(loaded.stack.data_dir).all()
    for fault in running:
        console.print(
            f"left to its run (pid {fault.pid}): {fault.describe()}",
            highlight=False,
            soft_wrap=True,
        )
    if restored is None:
        raise typer.Exit(1)
    if not restored and not running:
        console.print("no open fault")


def restore_left_open(config: Config) -> list[str] | None:
    """Restore what chaos runs that died left in force, one line per fault (for `chaos run`,
    `gameday`, `up`, `down`); the lines, or None when a fault could not be restored."""
    from signalcheck.chaos.restore import restore_orphans

    restored, failed = restore_orphans(config)
    for line in restored:
        console.print(line, highlight=False, soft_wrap=True)
    for line in failed:
        fail(line)
    return None if failed else restored
