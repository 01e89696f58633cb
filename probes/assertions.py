"""Expectations on a response: status set, body text, values at JSON paths."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from signalcheck.checks import Expect
from signalcheck.probes.client import Response
from signalcheck.probes.errors import ErrorType, ProbeFailure
from signalcheck.probes.templates import render, render_json

_PATH_PART = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[[\"']([^\"']+)[\"']\]")
_MISSING = object()


def json_path(document: Any, path: str) -> Any:
    """The value at a simple JSON path (`$.a.b[0]["c-d"]`); a ProbeFailure if absent."""
    rest = path[1:] if path.startswith("$") else f".{path}"
    value, position = document, 0
    for match in _PATH_PART.finditer(rest):
        if match.start() != position:
            break
        key, index, quoted = match.groups()
        value = _step(value, key or quoted, index)
        if value is _MISSING:
            raise ProbeFailure(ErrorType.ASSERTION, f"JSON path {path}: no value at {match[0]}")
        position = match.end()
    if position != len(rest):
        raise ProbeFailure(
            ErrorType.ASSERTION, f"JSON path {path}: cannot parse {rest[position:]!r}"
        )
    return value


def _step(value: Any, key: str | None, index: str | None) -> Any:
    if key is not None:
        return value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
    position = int(index or 0)
    return value[position] if isinstance(value, list) and position < len(value) else _MISSING


def check_response(
    response: Response, expect: Expect, variables: Mapping[str, Any] | None = None
) -> None:
    """Raise a ProbeFailure naming the first expectation the response does not meet.

    Expected values may use `${name}` for values captured earlier (read back and compare).
    """
    if response.status not in expect.status:
        # An error body says why; a successful one may carry a token, so it stays out.
        detail = f": {response.text()[:120]!r}" if response.status >= 400 else ""
        raise ProbeFailure(
            ErrorType.HTTP_STATUS,
            f"{response.url}: status {response.status}, expected {expect.status}{detail}",
        )
    variables = variables or {}
    if expect.body_contains is not None:
        text = render(expect.body_contains, variables)
        if text not in response.text():
            raise ProbeFailure(
                ErrorType.ASSERTION, f"{response.url}: body does not contain {text!r}"
            )
    if expect.json_values:
        document = response.json()
        for path, expected in expect.json_values.items():
            actual = json_path(document, path)
            expected = render_json(expected, variables)
            if actual != expected:
                raise ProbeFailure(
                    ErrorType.ASSERTION,
                    f"{response.url}: {path} is {actual!r}, expected {expected!r}",
                )
