"""Fixtures for the tests of the shipped Prometheus and Alertmanager configs (compose/).

The backend tools come from `PROMTOOL_BIN` / `AMTOOL_BIN` / `ALERTMANAGER_BIN` or PATH.
A missing tool fails the test with instructions (it is never a silent skip): these tests
are the only thing standing between a typo in a rule file and a game day that never pages.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from signalcheck.errors import StackError
from signalcheck.stack.binaries import find_binary


def find_tool(tool: str) -> str:
    """The executable for `tool` from its *_BIN variable or PATH; fail the test if absent."""
    try:
        return str(find_binary(tool))
    except StackError as exc:
        pytest.fail(f"{exc} (`make test` installs it)", pytrace=False)


@dataclass(frozen=True)
class Ran:
    """The outcome of one command; str() is a readable account for assertion messages."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (
            f"$ {' '.join(self.args)}\n(exit {self.returncode})\n"
            f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}"
        )


def _run(*args: str | Path, cwd: Path | None = None) -> Ran:
    argv = [str(arg) for arg in args]
    try:
        done = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"gave up after 120 s waiting for: {' '.join(argv)}", pytrace=False)
    return Ran(argv, done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def run() -> Callable[..., Ran]:
    """run(*argv, cwd=None) -> Ran, with a 120 s deadline."""
    return _run


@pytest.fixture(scope="session")
def promtool() -> str:
    return find_tool("promtool")


@pytest.fixture(scope="session")
def amtool() -> str:
    return find_tool("amtool")


@pytest.fixture(scope="session")
def alertmanager_bin() -> str:
    return find_tool("alertmanager")
