"""The metric names a PromQL expression reads, found without a full parser.

Strings, label matchers (`{...}`), range and subquery brackets and grouping clauses
(`by (...)`, `on (...)`, ...) are removed first; what is left that looks like an identifier
and is not a function call, keyword or number is a metric name.
"""

from __future__ import annotations

import re

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_BRACES = re.compile(r"\{[^{}]*\}")
_BRACKETS = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(
    r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
_NAME_MATCHER = re.compile(r'__name__\s*=\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"')
_IDENT = re.compile(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(\s*\()?")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
     "offset", "bool", "inf", "nan", "start", "end", "atan2"}
)  # fmt: skip
_DURATION = re.compile(r"^\d")


def metric_names(expr: str) -> set[str]:
    """Every metric name `expr` selects, e.g. {"http_requests_total"} for
    `sum by (region) (rate(http_requests_total{job="demo"}[1m]))`."""
    names = set(_NAME_MATCHER.findall(expr))
    text = _STRINGS.sub('""', expr)
    text = _BRACES.sub(" ", text)
    while _BRACKETS.search(text):
        text = _BRACKETS.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    for match in _IDENT.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in _KEYWORDS or _DURATION.match(name):
            continue
        names.add(name)
    return names
