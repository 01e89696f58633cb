"""Dependencies point one way (docs: DESIGN.md, "Rooms"): the judging core (signalcheck/evidence,
signalcheck/backends) uses neither the stack, the CLI nor a feature folder; only the CLI (and
`python -m signalcheck`, its entry point) imports the CLI, and bench/ does not either.

Read from the source (ast), imports inside functions included."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

FEATURES = (
    "signalcheck.gameday",
    "signalcheck.mutate",
    "signalcheck.scaffold",
    "signalcheck.capture",
    "signalcheck.probes",
    "signalcheck.report",
    "signalcheck.chaos",
    "signalcheck.loadtests",
    "signalcheck.rum_ingest",
    "signalcheck.demo",
    "probes",
    "chaos",
    "loadtests",
    "rum_ingest",
    "demo",
)
"""The feature folders, as installed (signalcheck.chaos is chaos/) and as top-level folders."""
JUDGING_MAY_NOT_IMPORT = ("signalcheck.stack", "signalcheck.cli", *FEATURES)
CLI_ENTRY_POINT = "signalcheck/__main__.py"


def module_of(path: Path) -> str:
    """`signalcheck/evidence/alerts.py` -> `signalcheck.evidence.alerts`."""
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, module: str, is_package: bool = False) -> Iterator[list[str]]:
    """Per import statement of `source` (the text of `module`), the module names it may import:
    `from a import b` may import `a` and `a.b` (b may be a module). Relative imports resolved."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            yield [base, *(f"{base}.{alias.name}" for alias in node.names)]


def within(name: str, prefixes: tuple[str, ...]) -> str | None:
    """The prefix `name` is, or is a submodule of; None when none."""
    return next((p for p in prefixes if name == p or name.startswith(p + ".")), None)


def violations(paths: list[Path], forbidden: tuple[str, ...]) -> set[tuple[str, str]]:
    """(file, forbidden module it imports) of every such import statement in `paths`."""
    found = set()
    for path in paths:
        for names in imported(path.read_text(), module_of(path), path.name == "__init__.py"):
            name = next((n for n in names if within(n, forbidden)), None)
            if name is not None:
                found.add((str(path.relative_to(REPO)), name))
    return found


def sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (REPO / folder).rglob("*.py"))


def test_the_judging_core_imports_no_stack_cli_or_feature_folder() -> None:
    found = violations(
        sources("signalcheck/evidence", "signalcheck/backends"), JUDGING_MAY_NOT_IMPORT
    )
    assert not found, f"signalcheck/evidence and signalcheck/backends import: {sorted(found)}"


def test_only_the_cli_imports_the_cli() -> None:
    core = [
        p
        for p in sources("signalcheck")
        if not p.is_relative_to(REPO / "signalcheck/cli") and p != REPO / CLI_ENTRY_POINT
    ]
    found = violations(core, ("signalcheck.cli",))
    assert not found, f"modules outside signalcheck/cli import it: {sorted(found)}"


def test_bench_imports_no_cli() -> None:
    found = violations(sources("bench"), ("signalcheck.cli",))
    assert not found, f"bench/ imports the CLI: {sorted(found)}"


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("import signalcheck.stack.launcher", "signalcheck.stack"),
        ("from signalcheck import cli", "signalcheck.cli"),
        ("def f():\n    from signalcheck.capture.store import CaptureStore", "signalcheck.capture"),
        ("from ..stack import launcher", "signalcheck.stack"),
        ("from chaos.runner import run_experiment", "chaos"),
        ("from signalcheck.backends.capture import MAX_LIMIT", None),
        ("from signalcheck.evidence.context import Context", None),
        ("import signalcheck.capturex", None),
    ],
)
def test_the_detector_flags_a_forbidden_import(source: str, flagged: str | None) -> None:
    (names,) = imported(source, "signalcheck.evidence.sample")
    assert next(filter(None, (within(n, JUDGING_MAY_NOT_IMPORT) for n in names)), None) == flagged
