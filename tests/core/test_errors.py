"""One exception tree: every error the harness raises on purpose is a SignalcheckError.

Read from the source (importing every module would start Locust's monkey-patching): a public
class of the harness's rooms that names a built-in exception among its bases must also name
SignalcheckError, or derive from a class that does. The demo and the RUM ingest are services
of their own, with errors of their own (HTTP answers), and are not read.
"""

from __future__ import annotations

import ast
import builtins

import pytest

from signalcheck.errors import (
    BackendError,
    BackendUnavailable,
    ConfigError,
    PushError,
    SignalcheckError,
    WaitTimeout,
)
from tests.support import REPO

HARNESS_ROOMS = ("signalcheck", "probes", "chaos", "loadtests", "validation")
BUILTIN_EXCEPTIONS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type)
    and issubclass(value, BaseException)
    and not issubclass(value, Warning)  # warnings are not errors
}


def new_roots(source: str) -> list[str]:
    """Public classes in `source` that start an exception tree of their own."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
            continue
        if node.name == SignalcheckError.__name__:  # the root itself
            continue
        bases = {base.id for base in node.bases if isinstance(base, ast.Name)}
        if bases & BUILTIN_EXCEPTIONS and "SignalcheckError" not in bases:
            found.append(node.name)
    return found


def test_no_room_starts_an_exception_tree_of_its_own():
    roots = {
        f"{path.relative_to(REPO)}: {name}"
        for room in HARNESS_ROOMS
        for path in (REPO / room).rglob("*.py")
        for name in new_roots(path.read_text())
    }
    assert not roots, f"errors outside SignalcheckError: {sorted(roots)}"


def test_the_rule_finds_a_new_root():
    assert new_roots("class Oops(ValueError):\n    pass\n") == ["Oops"]
    assert new_roots("class Fine(SignalcheckError, ValueError):\n    pass\n") == []
    assert new_roots("class _Internal(ValueError):\n    pass\n") == []
    assert new_roots("class Note(UserWarning):\n    pass\n") == []


@pytest.mark.parametrize(
    ("error", "also"),
    [
        (ConfigError, Exception),
        (BackendUnavailable, BackendError),
        (PushError, BackendError),
        (WaitTimeout, TimeoutError),
    ],
)
def test_an_error_keeps_its_standard_kind(error, also):
    assert issubclass(error, SignalcheckError)
    assert issubclass(error, also)
