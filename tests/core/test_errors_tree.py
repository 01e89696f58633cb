"""The public errors, their tree in signalcheck/errors.py's docstring, the classes' real bases
and what `signalcheck` exports never drift apart; an error that stays in its room is named
there too."""

from __future__ import annotations

import ast
import builtins
import re

import signalcheck
from signalcheck import errors
from signalcheck.capture.alerts import WebhookDecodeError
from signalcheck.capture.otlp import (
    CaptureInputError,
    OTLPDecodeError,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from signalcheck.errors import SignalcheckError
from signalcheck.probes.errors import ProbeFailure
from signalcheck.rum_ingest.store import StoreBusy, StoreClosed
from signalcheck.rum_ingest.store.sqlite import WriterFailed
from signalcheck.scaffold.expressions import ExpressionError
from tests.support import REPO

ROOMS = ("signalcheck", "probes", "chaos", "loadtests", "rum_ingest", "validation")
NOT_ERRORS = {"discover", "load_exported_activities"}
"""What `signalcheck` exports besides its errors."""
ROOM_OWNED = {
    CaptureInputError: CaptureInputError,
    OTLPDecodeError: CaptureInputError,
    UnsupportedMediaType: CaptureInputError,
    PayloadTooLarge: CaptureInputError,
    WebhookDecodeError: CaptureInputError,
    ExpressionError: ExpressionError,
    ProbeFailure: ProbeFailure,
    StoreBusy: StoreBusy,
    StoreClosed: StoreClosed,
    WriterFailed: WriterFailed,
}
"""Errors that never leave their room -> the name errors.py's docstring gives them under."""
TREE_LINE = re.compile(r"^(?P<indent> *)\* (?P<name>\w+)(?: \(also (?P<also>[\w, ]+)\))?")


def drawn_tree(doc: str) -> dict[str, tuple[str | None, list[str]]]:
    """Each error the docstring draws -> (its parent in the drawing, its extra standard bases)."""
    tree: dict[str, tuple[str | None, list[str]]] = {}
    path: list[str] = []
    for line in doc.splitlines():
        drawn = TREE_LINE.match(line)
        if not drawn:
            continue
        depth = len(drawn["indent"]) // 2
        path[depth:] = [drawn["name"]]
        also = [name.strip() for name in (drawn["also"] or "").split(",") if name.strip()]
        tree[drawn["name"]] = (path[depth - 1] if depth else None, also)
    return tree


def defined_errors() -> dict[str, type[SignalcheckError]]:
    return {
        name: value
        for name, value in vars(errors).items()
        if isinstance(value, type)
        and issubclass(value, SignalcheckError)
        and value.__module__ == errors.__name__
    }


def test_the_drawing_shows_each_error_with_its_real_bases() -> None:
    tree = drawn_tree(errors.__doc__ or "")
    defined = defined_errors()
    assert sorted(tree) == sorted(defined)
    for name, (parent, also) in tree.items():
        bases = [defined[parent] if parent else Exception]
        bases += [getattr(builtins, kind) for kind in also]
        assert defined[name].__bases__ == tuple(bases), name


def test_signalcheck_exports_every_error_and_only_them_besides_discovery() -> None:
    defined = defined_errors()
    assert sorted(signalcheck.__all__) == sorted([*defined, *NOT_ERRORS])
    for name, error in defined.items():
        assert getattr(signalcheck, name) is error, name


def test_the_drawing_reads_its_own_lines() -> None:
    doc = "* Root\n  * A (also ValueError) - a\n    * B\n  * C - c\n"
    assert drawn_tree(doc) == {
        "Root": (None, []),
        "A": ("Root", ["ValueError"]),
        "B": ("A", []),
        "C": ("Root", []),
    }


def test_an_error_left_in_its_room_is_under_the_root_and_named() -> None:
    doc = " ".join((errors.__doc__ or "").split())
    for error, named in ROOM_OWNED.items():
        assert issubclass(error, SignalcheckError), error
        assert issubclass(error, named) and named.__name__ in doc, error


def test_every_other_error_is_defined_in_signalcheck_errors() -> None:
    """Read from the source: a class of a room deriving from a known error is either one of
    the public errors (defined in signalcheck/errors.py), private, or left in its room."""
    known = {*defined_errors(), *(error.__name__ for error in ROOM_OWNED)}
    classes = [
        (str(path.relative_to(REPO)), node)
        for room in ROOMS
        for path in (REPO / room).rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
    ]
    errors_seen = set(known)
    stray: set[str] = set()
    grown = True
    while grown:  # until no class derives from an error not yet seen
        grown = False
        for where, node in classes:
            bases = {ast.unparse(base).rsplit(".", 1)[-1] for base in node.bases}
            if bases & errors_seen and node.name not in errors_seen:
                errors_seen.add(node.name)
                grown = True
            outside = where != "signalcheck/errors.py" and node.name not in known
            if bases & errors_seen and outside and not node.name.startswith("_"):
                stray.add(f"{where}: {node.name}")
    assert not stray, f"define these in signalcheck/errors.py (or name them): {sorted(stray)}"
