"""Faults recorded in both places that must know of them: the run's ledger (for the verdict)
and the stack's open-faults file (for whoever restores what a run that died left open)."""

from __future__ import annotations

import time
from typing import Any

from signalcheck.chaos import faultlog
from signalcheck.chaos.context import RunContext
from signalcheck.chaos.openfaults import OpenFaults
from signalcheck.ledger import Entry


def record_fault(ctx: RunContext, action: str, region: str, params: dict[str, Any]) -> Entry:
    """Record a fault about to be applied: first in the stack's open faults (which outlive
    the run), then in the run's ledger."""
    start = time.time()
    OpenFaults(ctx.config.stack.data_dir).add(ctx.ledger.path.parent, action, region, params, start)
    return faultlog.open_fault(ctx.ledger, action, region, params, start, ctx.experiment)


def close_recorded(ctx: RunContext, faults: list[Entry], **fields: Any) -> list[Entry]:
    """Close `faults` (with `fields`) in the run's ledger, then in the stack's open faults."""
    closed = faultlog.close(ctx.ledger, faults, **fields)
    OpenFaults(ctx.config.stack.data_dir).remove(
        ctx.ledger.path.parent,
        [(f.field("action"), f.field("region"), f.field("start")) for f in closed],
    )
    return closed


def close_region_faults(ctx: RunContext, region: str, actions: tuple[str, ...]) -> list[Entry]:
    """Close the open faults of `region` with one of `actions`."""
    return close_recorded(
        ctx,
        [
            f
            for f in faultlog.open_faults(ctx.ledger)
            if f.field("region") == region and f.field("action") in actions
        ],
    )
