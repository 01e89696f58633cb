"""`signalcheck chaos run`: Chaos Toolkit experiments with the stack's configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from signalcheck.cli.common import ConfigOption, console, fail, user_errors
from signalcheck.config import load_config

app = typer.Typer(help="Chaos Toolkit experiments with measured detection and rollback.")


@app.command("run")
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
        fail(problem)
    if not outcome.problems:
        console.print("[green]steady state met before and after; experiment completed")
    raise typer.Exit(outcome.exit_code)
