"""What every chaos activity needs: the signalcheck config, the run ledger, dry mode.

Activities run inside the `chaos` process; they find the config through the experiment's
`signalcheck_config` configuration key (or `$SIGNALCHECK_CONFIG`) and the run directory
through `$SIGNALCHECK_RUN_DIR`. When no run directory is given, the first activity (or the
control) creates one under the config's `runs_dir` and exports it to the rest of the run.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from signalcheck.config import Config, load_config
from signalcheck.ledger import LEDGER_FILE, Ledger, new_run_dir

CONFIG_KEY = "signalcheck_config"
RUN_DIR_ENV = "SIGNALCHECK_RUN_DIR"
DRY_ENV = "SIGNALCHECK_CHAOS_DRY"
EXPERIMENT_ENV = "SIGNALCHECK_CHAOS_EXPERIMENT"
EXPERIMENT_FILE_ENV = "SIGNALCHECK_CHAOS_EXPERIMENT_FILE"
"""The experiment file `signalcheck chaos run` and the game day started `chaos run` with:
recorded on the run's `chaos` entry, so that validation knows the titles of its folder."""

logger = logging.getLogger("chaostoolkit")


@dataclass(frozen=True)
class RunContext:
    config: Config
    ledger: Ledger
    experiment: str
    dry: bool


def run_context(configuration: dict[str, Any] | None) -> RunContext:
    """The config, ledger and mode of the current chaos run."""
    config = load_config((configuration or {}).get(CONFIG_KEY) or None)
    return RunContext(
        config=config,
        ledger=Ledger(run_dir(config) / LEDGER_FILE),
        experiment=os.environ.get(EXPERIMENT_ENV, ""),
        dry=os.environ.get(DRY_ENV, "") not in ("", "0"),
    )


def run_dir(config: Config) -> Path:
    """`$SIGNALCHECK_RUN_DIR`, or a new run directory exported as that variable."""
    if os.environ.get(RUN_DIR_ENV):
        return Path(os.environ[RUN_DIR_ENV])
    path = new_run_dir(config.runs_dir)
    os.environ[RUN_DIR_ENV] = str(path)
    return path


def dry_run(what: str) -> dict[str, Any]:
    """Log what a dry run would do; the activity's result in dry mode."""
    logger.info(f"dry run: would {what}")
    return {"dry": True, "would": what, "at": time.time()}
