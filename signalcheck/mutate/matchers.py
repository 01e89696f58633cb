"""Alertmanager matchers (`name="value"`, `=~`, `!=`, `!~`, and the older `match`/`match_re`
maps): parsed, broken on purpose, and evaluated against an alerting rule's static labels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from signalcheck.errors import MatcherError

_MATCHER = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$')
BROKEN_SUFFIX = "-mutated"
"""Appended to a matcher's value (or a metric's name) to break it: no real value ends so."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def text(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = re.fullmatch(self.value, actual) is not None
        return found if self.op == "=~" else not found


def parse(text: str) -> Matcher:
    found = _MATCHER.match(text)
    if found is None:
        raise MatcherError(f"not a matcher: {text!r}")
    return Matcher(*found.groups())


def of_route(route: dict[str, Any], key: str = "matchers") -> list[Matcher]:
    """The matchers of a route (`matchers`, `match`, `match_re`) or of an inhibit rule side
    (`key` = source_matchers/target_matchers, with source_match/source_match_re likewise)."""
    prefix = key.removesuffix("matchers")
    found = [parse(str(m)) for m in route.get(key) or []]
    found += [Matcher(k, "=", str(v)) for k, v in (route.get(f"{prefix}match") or {}).items()]
    found += [Matcher(k, "=~", str(v)) for k, v in (route.get(f"{prefix}match_re") or {}).items()]
    return found


def all_match(matchers: list[Matcher], labels: dict[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
