"""What every command shares: the consoles, the --config option, one-line user errors."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from signalcheck.config import CONFIG_ENV, ConfigError
from signalcheck.ledger import LedgerError
from signalcheck.stack import StackError
from signalcheck.terminal import colour_allowed

console = Console(color_system="auto" if colour_allowed(sys.stdout) else None)
errors = Console(stderr=True, color_system="auto" if colour_allowed(sys.stderr) else None)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", envvar=CONFIG_ENV, help="signalcheck YAML config file."),
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


def fail(message: str) -> None:
    """One line on stderr, prefixed with the program's name."""
    errors.print(f"signalcheck: {message}", markup=False, highlight=False, soft_wrap=True)
