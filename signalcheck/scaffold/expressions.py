"""What a rule's PromQL shows, read with a PromQL parser (promql-parser, a port of Prometheus'
own): the labels its aggregations group by, the metrics it reads, whether its result keeps a
label, and the fault it detects when the expression shows exactly one.

Recording rules are expanded: an alert on `region:errors:ratio_rate5m` reads what that rule
records. The fault kinds are the faults signalcheck's and the marked experiments inject:
`kill` (`up == 0`), `errors` (a 5xx ratio), `latency` (a quantile of a duration) and
`probes_paused` (the probes' own results gone stale); anything else, or more than one of them,
shows no fault unambiguously.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import promql_parser as pp

from signalcheck.errors import SignalcheckError

PROBE_METRIC_PREFIX = "synthetic_"
"""The probes' own metrics (probes/metrics.py): a rule on them needs a probe run to fire."""
MAX_EXPANSION = 5
"""Recording rules expanded through at most this many levels."""

_FIVE_XX = re.compile(r"5(\.\.|\.\*|\.\+|xx|\\d\\d|\\d\{2\}|\[0-9\]\[0-9\]|\[0-9\]\{2\})")
_DURATION_WORDS = ("duration", "latency")
_QUANTILES = frozenset({"histogram_quantile", "quantile_over_time"})
_ABSENT = frozenset({"absent", "absent_over_time"})
_LABEL_FREE_CALLS = frozenset({"vector", "time", "scalar", "pi"})


class ExpressionError(SignalcheckError):
    """An expression the PromQL parser does not accept."""


@dataclass(frozen=True)
class Fault:
    kind: str
    """kill | errors | latency | probes_paused: an alert expectation's `fault`."""
    needs_probes: bool
    """The rule reads the probes' own metrics: it fires only with a probe run during the fault."""


def parse(expr: str) -> pp.Expr:
    try:
        return pp.parse(expr)
    except (ValueError, TypeError) as exc:
        raise ExpressionError(f"not PromQL: {expr!r} ({exc})") from None


def _children(node: pp.Expr) -> list[pp.Expr]:
    if isinstance(node, pp.AggregateExpr):
        return [node.expr] + ([node.param] if node.param is not None else [])
    if isinstance(node, pp.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, pp.Call):
        return list(node.args)
    if isinstance(node, pp.MatrixSelector):
        return [node.vector_selector]
    if isinstance(node, pp.ParenExpr | pp.UnaryExpr | pp.SubqueryExpr):
        return [node.expr]
    return []


def nodes(node: pp.Expr) -> Iterator[pp.Expr]:
    """`node` and every node below it, depth first."""
    yield node
    for child in _children(node):
        yield from nodes(child)


def selector_name(selector: pp.VectorSelector) -> str | None:
    """The metric a selector selects: its name, or its `__name__="..."` matcher."""
    if selector.name:
        return str(selector.name)
    return next(
        (
            str(m.value)
            for m in selector.matchers.matchers
            if m.name == "__name__" and m.op == pp.MatchOp.Equal
        ),
        None,
    )


def metric_names(expr: str) -> set[str]:
    """Every metric name `expr` selects (recording-rule outputs included, not expanded)."""
    return {
        name
        for node in nodes(parse(expr))
        if isinstance(node, pp.VectorSelector) and (name := selector_name(node))
    }


def grouping_labels(expr: str) -> set[str]:
    """The labels of every `by (...)` clause of the expression's aggregations."""
    return {
        str(label)
        for node in nodes(parse(expr))
        if isinstance(node, pp.AggregateExpr)
        and node.modifier is not None
        and node.modifier.type == pp.AggModifierType.By
        for label in node.modifier.labels
    }


def keeps_label(expr: str, label: str) -> bool:
    """Whether the series `expr` returns can carry `label` (an aggregation not grouping by it,
    a `vector(1)`, a one-to-one match `on` other labels drop it)."""
    return _keeps(parse(expr), label)


def _keeps(node: pp.Expr, label: str) -> bool:
    if isinstance(node, pp.VectorSelector | pp.MatrixSelector):
        return True
    if isinstance(node, pp.AggregateExpr):
        if node.modifier is None:
            return False  # `sum(x)`: no label left
        listed = label in [str(x) for x in node.modifier.labels]
        by = node.modifier.type == pp.AggModifierType.By
        return (listed if by else not listed) and _keeps(node.expr, label)
    if isinstance(node, pp.BinaryExpr):
        return _binary_keeps(node, label)
    if isinstance(node, pp.Call):
        if node.func.name in _LABEL_FREE_CALLS:
            return False
        return any(_keeps(arg, label) for arg in node.args)
    if isinstance(node, pp.ParenExpr | pp.UnaryExpr | pp.SubqueryExpr):
        return _keeps(node.expr, label)
    return False  # a number or a string


def _binary_keeps(node: pp.BinaryExpr, label: str) -> bool:
    lhs, rhs = _keeps(node.lhs, label), _keeps(node.rhs, label)
    if str(node.op) == "or":
        return lhs or rhs
    if _is_scalar(node.lhs) or _is_scalar(node.rhs):
        return lhs or rhs
    matching = node.modifier.matching if node.modifier is not None else None
    one_to_one = node.modifier is None or node.modifier.card == pp.VectorMatchCardinality.OneToOne
    if matching is not None and one_to_one and str(node.op) not in ("and", "unless"):
        listed = label in [str(x) for x in matching.labels]
        on = matching.type == pp.LabelModifierType.Include
        return lhs and (listed if on else not listed)
    return lhs


def _is_scalar(node: pp.Expr) -> bool:
    inner = _unwrapped(node)
    return isinstance(inner, pp.NumberLiteral) or (
        isinstance(inner, pp.Call) and inner.func.name in ("time", "scalar", "pi")
    )


def _unwrapped(node: pp.Expr) -> pp.Expr:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def _expanded(
    node: pp.Expr, recorded: Mapping[str, str], depth: int = MAX_EXPANSION
) -> Iterator[pp.Expr]:
    """Nodes of `node`, each selector of a recording rule's output followed by the nodes of
    the expression it records."""
    for item in nodes(node):
        yield item
        name = selector_name(item) if isinstance(item, pp.VectorSelector) else None
        if name in recorded and depth > 0:
            yield from _expanded(parse(recorded[name]), recorded, depth - 1)


def _read_metrics(node: pp.Expr, recorded: Mapping[str, str]) -> set[str]:
    """The raw metrics (no recording-rule output) `node` reads, recording rules expanded."""
    return {
        name
        for item in _expanded(node, recorded)
        if isinstance(item, pp.VectorSelector)
        and (name := selector_name(item))
        and name not in recorded
    }


def _is_kill(root: pp.Expr, recorded: Mapping[str, str]) -> bool:
    """`up{...} == 0` (or `< 1`, `<= 0`), possibly aggregated."""
    node = _unwrapped(root)
    if not isinstance(node, pp.BinaryExpr) or not isinstance(
        threshold := _unwrapped(node.rhs), pp.NumberLiteral
    ):
        return False
    op, value = str(node.op), float(threshold.val)
    down = (op == "==" and value == 0) or (op == "<" and value == 1) or (op == "<=" and value == 0)
    return down and _read_metrics(node.lhs, recorded) == {"up"}


def _five_xx(node: pp.Expr, recorded: Mapping[str, str]) -> bool:
    """Whether a selector below `node` keeps only 5xx statuses (`status=~"5.."`, `="5xx"`)."""
    for item in _expanded(node, recorded):
        if isinstance(item, pp.VectorSelector):
            for m in item.matchers.matchers:
                value = str(m.value)
                if (m.op == pp.MatchOp.Re and _FIVE_XX.fullmatch(value)) or (
                    m.op == pp.MatchOp.Equal and value.lower() == "5xx"
                ):
                    return True
    return False


def _is_error_ratio(root: pp.Expr, recorded: Mapping[str, str]) -> bool:
    """A division whose numerator keeps 5xx answers and whose denominator does not."""
    return any(
        isinstance(item, pp.BinaryExpr)
        and str(item.op) == "/"
        and _five_xx(item.lhs, recorded)
        and not _five_xx(item.rhs, recorded)
        for item in _expanded(root, recorded)
    )


def _latency_metrics(root: pp.Expr, recorded: Mapping[str, str]) -> set[str]:
    """The duration metrics a quantile of the expression reads (empty: none)."""
    return {
        name
        for item in _expanded(root, recorded)
        if isinstance(item, pp.Call) and item.func.name in _QUANTILES
        for name in _read_metrics(item, recorded)
        if any(word in name for word in _DURATION_WORDS)
    }


def _is_probes_paused(root: pp.Expr, recorded: Mapping[str, str]) -> bool:
    """Only the probes' metrics, and their age (`time() - <...>_timestamp_seconds`) or their
    absence is what is judged."""
    read = _read_metrics(root, recorded)
    if not read or not all(name.startswith(PROBE_METRIC_PREFIX) for name in read):
        return False
    calls = {item.func.name for item in _expanded(root, recorded) if isinstance(item, pp.Call)}
    aged = "time" in calls and any(name.endswith("_timestamp_seconds") for name in read)
    return aged or bool(calls & _ABSENT)


def fault_of(expr: str, recorded: Mapping[str, str]) -> tuple[Fault | None, str]:
    """The fault the expression detects, when it shows exactly one; else None and why.
    `recorded`: recording rule output -> its expression."""
    root = parse(expr)
    latency = _latency_metrics(root, recorded)
    found = {
        "kill": Fault("kill", needs_probes=False) if _is_kill(root, recorded) else None,
        "errors": Fault("errors", needs_probes=False) if _is_error_ratio(root, recorded) else None,
        "latency": Fault(
            "latency", needs_probes=all(n.startswith(PROBE_METRIC_PREFIX) for n in latency)
        )
        if latency
        else None,
        "probes_paused": Fault("probes_paused", needs_probes=False)
        if _is_probes_paused(root, recorded)
        else None,
    }
    shown = [fault for fault in found.values() if fault is not None]
    if len(shown) == 1:
        return shown[0], ""
    if not shown:
        return None, "its expression shows no fault kind unambiguously"
    kinds = " and ".join(f.kind for f in shown)
    return None, f"its expression shows more than one fault kind ({kinds})"
