"""The kill table: per mutant, whether `pytest validation/` failed the test naming the broken
signal, and which tests it failed."""

from __future__ import annotations

from dataclasses import dataclass


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
"""Rows of this session, in run order (filled by test_mutants, printed by the conftest)."""

WORKER_OUTPUT_KEY = "mutant_kill_table"
"""Where an xdist worker hands its shard's table to the controller (`workeroutput`)."""


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
