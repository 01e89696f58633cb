"""The files signalcheck ships as package data: configs, rules, routes, experiments.

Read through importlib.resources, so they are found the same from a wheel install, an
editable install and the repository (`compose/` and `chaos/experiments/` in the checkout).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from signalcheck.errors import ConfigError

COMPOSE_DIR = Path(str(files("signalcheck.compose")))
"""Prometheus, Alertmanager, Compose, Grafana, Loki, Tempo and OTel Collector configs."""
EXPERIMENTS = Path(str(files("signalcheck.chaos"))) / "experiments"
"""The shipped Chaos Toolkit experiments, `<name>.json`."""
EXPERIMENT_SUFFIXES = (".json", ".yaml", ".yml")


def experiment_file(name: str, experiments: Path = EXPERIMENTS) -> Path:
    """An experiment given by path (a file name with an experiment suffix) or by the name of
    a shipped one; a ConfigError naming the known names when neither exists."""
    path = Path(name) if Path(name).suffix in EXPERIMENT_SUFFIXES else experiments / f"{name}.json"
    if not path.is_file():
        known = ", ".join(p.stem for p in sorted(experiments.glob("*.json")))
        raise ConfigError(f"{name}: no such experiment file or shipped experiment (known: {known})")
    return path
