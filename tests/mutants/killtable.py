"""The kill table: per mutant, whether `pytest validation/` failed the test naming the broken
signal, and which tests it failed."""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Kill:
    mutant: str
    category: str
    expected: tuple[str, ...]
    killed: bool
    failed: frozenset[str]
    seconds: float
    note: str = ""


KILLS: list[Kill] = []
"""Rows of this session, in run order (filled by test_mutants)."""

WORKER_OUTPUT_KEY = "mutant_kill_table"
"""Where an xdist worker hands its shard's table to the controller (`workeroutput`)."""

TABLES: list[str] = []
"""The kill tables this process prints at the end of the session: its own, or in the xdist
controller the one each shard's worker handed back."""


def hand_over(config: pytest.Config, table: str) -> None:
    """`table` to this process's TABLES, or from an xdist worker to the controller's."""
    output = getattr(config, "workeroutput", None)
    if output is None:
        TABLES.append(table)
    else:
        output[WORKER_OUTPUT_KEY] = table


def markdown(kills: list[Kill]) -> str:
    lines = [
        "| mutant | category | must fail | killed | failed tests seen | s | note |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for k in kills:
        failed = ", ".join(sorted(k.failed)) or "(none)"
        lines.append(
            f"| {k.mutant} | {k.category} | {', '.join(k.expected)} | "
            f"{'yes' if k.killed else 'NO'} | {failed} | {k.seconds:.0f} | {k.note} |"
        )
    killed = sum(k.killed for k in kills)
    lines.append(f"\n{killed} of {len(kills)} mutants killed.")
    return "\n".join(lines)
