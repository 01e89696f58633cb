"""`${name}` and `${name:-default}` in request templates: captured values, then the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from signalcheck.checks import VARIABLE
from signalcheck.probes.errors import ErrorType, ProbeFailure


def render(text: str, variables: Mapping[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name, default = match.groups()
        if name in variables:
            return str(variables[name])
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ProbeFailure(ErrorType.OTHER, f"no captured value or environment variable {name}")

    return VARIABLE.sub(value, text)


def render_json(value: Any, variables: Mapping[str, Any]) -> Any:
    """`render` applied to every string inside a JSON-like value."""
    if isinstance(value, str):
        return render(value, variables)
    if isinstance(value, list):
        return [render_json(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: render_json(item, variables) for key, item in value.items()}
    return value
