"""Durations as users write them on the command line: '30s', '2m', '500ms', '1h' or seconds."""

from __future__ import annotations

import re

from signalcheck.errors import ConfigError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str, option: str) -> float:
    """Seconds, or a ConfigError naming the `option` and the expected form."""
    match = _DURATION.match(text.strip())
    seconds = float(match[1]) * _UNIT_SECONDS[match[2] or "s"] if match else 0.0
    if seconds <= 0:
        raise ConfigError(f"{option}: {text!r} is not a positive duration like 30s, 2m or 500ms")
    return seconds
