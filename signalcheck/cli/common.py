"""What every command shares: the consoles, the --config option, one-line user errors."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from signalcheck.config import CONFIG_ENV
from signalcheck.errors import ConfigError, LedgerError, StackError
from signalcheck.ledger import LEDGER_FILE, new_run_dir
from signalcheck.terminal import colour_allowed

console = Console(color_system="auto" if colour_allowed(sys.stdout) else None)
errors = Console(stderr=True, color_system="auto" if colour_allowed(sys.stderr) else None)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", envvar=CONFIG_ENV, help="signalcheck YAML config file."),
]
LedgerOption = Annotated[
    Path | None,
    typer.Option(
        "--ledger",
        help=f"Add to this run (its {LEDGER_FILE}) instead of starting a new one, so that "
        "probes, load, faults and validate judge one exercise.",
        show_default=False,
    ),
]
P = ParamSpec("P")
R = TypeVar("R")
USER_ERRORS = (ConfigError, StackError, LedgerError)


def user_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a user-facing error into one line on stderr and exit code 2, an interrupt into
    one line and exit code 130."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except USER_ERRORS as exc:
            fail(str(exc))
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            fail("interrupted")
            raise typer.Exit(130) from None

    return wrapper


def run_dir_for(ledger: Path | None, runs_dir: Path) -> Path:
    """The run directory a command writes to: the one holding `ledger` (an existing run's
    ledger file), else a new one under `runs_dir`."""
    if ledger is None:
        return new_run_dir(runs_dir)
    if ledger.name != LEDGER_FILE or not ledger.parent.is_dir():
        raise ConfigError(
            f"--ledger {ledger}: expected the {LEDGER_FILE} of an existing run directory "
            f"(e.g. {runs_dir}/<run>/{LEDGER_FILE})"
        )
    return ledger.parent


def fail(message: str) -> None:
    """One line on stderr, prefixed with the program's name."""
    errors.print(f"signalcheck: {message}", markup=False, highlight=False, soft_wrap=True)
