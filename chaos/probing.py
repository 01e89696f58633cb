"""One probe pass inside a chaos run: the configured checks in every region whose probes no
`probes_paused` fault holds, recorded in the run's ledger and pushed as the probe CronJobs
push theirs."""

from __future__ import annotations

import asyncio
import logging

from signalcheck.chaos import faultlog
from signalcheck.chaos.context import RunContext
from signalcheck.config import Config
from signalcheck.errors import PushError
from signalcheck.probes.push import push_results
from signalcheck.probes.runner import run_pass, select_regions

logger = logging.getLogger("chaostoolkit")


def probe_and_push(ctx: RunContext, config: Config, region: str | None) -> bool:
    """One pass of `config`'s checks in `region` (every region when None) but the paused ones,
    in the ledger and pushed when the pass ran every configured check; whether all passed."""
    paused = faultlog.paused_regions(ctx.ledger)
    regions = [r for r in select_regions(config, region) if r not in paused]
    if paused:
        logger.info(f"probes paused in {sorted(paused)}: not probed")
    results = asyncio.run(run_pass(config, regions, ctx.ledger)) if regions else []
    if results and len(config.checks) == len(ctx.config.checks):
        try:
            push_results(config.backends.pushgateway, results, ctx.ledger)
        except PushError as exc:
            logger.warning(f"probe results not pushed: {exc}")
    failing = [f"{r.check} in {r.region}: {r.error}" for r in results if not r.passed]
    if failing:
        logger.warning(f"checks failing: {'; '.join(failing)}")
    return not failing
