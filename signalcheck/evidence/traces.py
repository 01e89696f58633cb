"""Trace expectations: each probe's trace arrived complete, with the expected services and
operations, without error status unless a fault was active, and continued across a service
boundary.

A trace counts as arrived when every expected span is there and its span count has not grown
for `settle` seconds between polls (partial traces are the commonest false alarm). Every span
of the expected services carries the probe's region as resource attribute `region_attribute`.

Timing: `time_to_appear` is when the trace became complete by the capture receiver's clock
(the latest, over the expected services and operations, of the receive time of the first
span of each) minus the probe's end: the probe's last request ends its trace, so a complete
trace exists only after it. Tempo and Jaeger record no arrival: there `appeared_within` is
when the check saw the trace complete, minus the probe's end, an upper bound never held
against the budget. A trace that arrived after its budget fails the check.
"""

from __future__ import annotations

import time
from typing import Any

from signalcheck.backends.base import BackendError
from signalcheck.backends.capture import CaptureClient
from signalcheck.backends.spans import TraceSource
from signalcheck.evidence.backends import TRACE_BACKENDS
from signalcheck.evidence.context import Context, no_probe_reached
from signalcheck.evidence.outcome import Outcome, late
from signalcheck.evidence.polling import Look, poll
from signalcheck.expectations import TraceExpectation
from signalcheck.ledger import Entry

MAX_LISTED = 3


def _missing(exp: TraceExpectation, spans: list[dict[str, Any]]) -> list[str]:
    services = {s["service"] for s in spans}
    names = {s["name"] for s in spans}
    return [f"service {s}" for s in exp.services if s not in services] + [
        f"operation {o!r}" for o in exp.operations if o not in names
    ]


def crossed_boundary(spans: list[dict[str, Any]], services: list[str]) -> bool:
    """Whether a span of an expected service continues a caller's context: its parent is a
    span of another service, or a span outside this backend (the caller that sent
    `traceparent`)."""
    by_id = {s["span_id"]: s for s in spans}
    for span in spans:
        parent = span.get("parent_span_id")
        if span["service"] in services and parent:
            caller = by_id.get(parent)
            if caller is None or caller["service"] != span["service"]:
                return True
    return False


def arrival(exp: TraceExpectation, spans: list[dict[str, Any]]) -> float | None:
    """When the trace became complete by the backend's clock: the latest, over the expected
    services and operations, of the first `received_at` among their spans; None when a span
    lacks it (Tempo, Jaeger) or the trace is incomplete."""
    groups = [[s for s in spans if s["service"] == service] for service in exp.services] + [
        [s for s in spans if s["name"] == operation] for operation in exp.operations
    ]
    firsts = []
    for group in groups:
        received = [s.get("received_at") for s in group]
        if not received or None in received:
            return None
        firsts.append(min(received))
    return max(firsts)


def wrong_region(exp: TraceExpectation, region: str, spans: list[dict[str, Any]]) -> str:
    """What is wrong with the region of the expected services' spans ("" when every one
    carries `region`)."""
    if exp.region_attribute is None:
        return ""
    attribute = exp.region_attribute
    ours = [s for s in spans if s["service"] in exp.services]
    wrong = [s for s in ours if s.get("resource", {}).get(attribute) != region]
    if not wrong:
        return ""
    found = sorted({str(s.get("resource", {}).get(attribute) or "none") for s in wrong})
    return (
        f"{len(wrong)} of {len(ours)} span(s) of {', '.join(exp.services)} carry resource "
        f"{attribute} {', '.join(found)} (e.g. {wrong[0]['name']!r}), expected the probe's "
        f"region {region}"
    )


def _problems(
    exp: TraceExpectation, probe: Entry, spans: list[dict[str, Any]], ctx: Context
) -> list[str]:
    problems = []
    region = wrong_region(exp, probe.field("region"), spans)
    if region:
        problems.append(region)
    if not ctx.fault_active(probe.field("region"), probe.field("start")):
        errors = [s["name"] for s in spans if s["status_code"] == "ERROR"]
        if errors:
            problems.append(f"span(s) {errors} have ERROR status though no fault was active")
    if exp.cross_boundary and not crossed_boundary(spans, exp.services):
        problems.append(
            "no span continues the caller's context (every span of "
            f"{', '.join(exp.services)} is a root or a child of its own service): "
            "traceparent was not propagated into the service"
        )
    return problems


def _orphan_hint(client: Any, exp: TraceExpectation, probe: Entry) -> str:
    """When a trace is missing: spans of the service at the probe's time in other traces mean
    the service did not continue the probe's trace context."""
    if not isinstance(client, CaptureClient):
        return ""
    others = [
        s
        for service in exp.services
        for s in client.spans(
            service=service, start=probe.field("start") - 0.5, end=probe.field("end") + 0.5
        )
        if s["trace_id"] != probe.field("trace_id")
    ]
    roots = [s for s in others if not s["parent_span_id"]]
    if not roots:
        return ""
    example = roots[0]
    return (
        f" — but {len(roots)} root span(s) of {example['service']} started during the probe in "
        f"other traces (e.g. {example['name']!r} in trace {example['trace_id']}): the service "
        "did not continue the probe's traceparent, trace context was not propagated"
    )


def _span_summary(span: dict[str, Any]) -> str:
    parent = span["parent_span_id"] or "root"
    return f"{span['service']}: {span['name']} [{span['status_code']}] parent={parent}"


def check_traces(exp: TraceExpectation, ctx: Context) -> Outcome:
    probes = ctx.probes(exp.check)
    if not probes:
        return Outcome.nothing_to_judge(no_probe_reached(exp.check))
    backend = ctx.backends.first_configured(TRACE_BACKENDS, exp.backend)
    client = ctx.backends.client(backend)
    if not isinstance(client, TraceSource):
        raise BackendError(f"{backend} cannot answer a trace by its id")
    spans_of: dict[str, list[dict[str, Any]]] = {}
    partial: dict[str, str] = {}
    requests: dict[str, str] = {}
    complete: dict[str, float] = {}

    def observe() -> Look:
        for probe in probes:
            trace_id = probe.field("trace_id")
            if trace_id in complete:
                continue
            fetched = client.fetch_trace(trace_id)
            spans = fetched.spans
            requests[trace_id] = client.last_request
            spans_of[trace_id] = spans
            partial[trace_id] = fetched.partial
            now = time.monotonic()
            count, since = ctx.span_counts.get(trace_id, (-1, now))
            if count != len(spans):
                since = now
            ctx.span_counts[trace_id] = (len(spans), since)
            if spans and not _missing(exp, spans) and now - since >= exp.settle:
                complete[trace_id] = time.time()
        pending = [p for p in probes if p.field("trace_id") not in complete]
        return Look(done=not pending, observed=pending)

    polled = poll(observe, exp.budget)
    problems: list[str] = []
    arrivals: list[float] = []
    looked: list[float] = []
    for probe in probes:
        trace_id = probe.field("trace_id")
        spans = spans_of.get(trace_id, [])
        where = f"trace {trace_id} ({probe.field('check')}, {probe.field('region')})"
        if partial.get(trace_id):
            problems.append(f"{where}: {len(spans)} span(s) returned, {partial[trace_id]}")
        elif not spans:
            problems.append(f"{where}: not found{_orphan_hint(client, exp, probe)}")
        elif trace_id not in complete:
            missing = _missing(exp, spans)
            state = f"missing {', '.join(missing)}" if missing else "still growing"
            problems.append(f"{where}: incomplete after {len(spans)} span(s), {state}")
        else:
            problems.extend(f"{where}: {p}" for p in _problems(exp, probe, spans, ctx))
            arrived = arrival(exp, spans)
            if arrived is None:
                looked.append(complete[trace_id] - probe.field("end"))
                continue
            took = arrived - probe.field("end")
            arrivals.append(took)
            too_late = late(where, took, exp.budget)
            if too_late:
                problems.append(too_late)
    first_bad = next((p for p in probes if problems and p.field("trace_id") in problems[0]), None)
    shown = first_bad.field("trace_id") if first_bad else probes[0].field("trace_id")
    listed = problems[:MAX_LISTED] + (
        [f"... and {len(problems) - MAX_LISTED} more"] if len(problems) > MAX_LISTED else []
    )
    return Outcome(
        passed=not problems,
        summary="; ".join(listed) or f"{len(probes)} trace(s) complete in {backend}",
        query=f"{requests.get(shown, '')} (one such request per trace id, {len(probes)} in all)",
        observed=str([_span_summary(s) for s in spans_of.get(shown, [])]),
        waited=polled.waited,
        time_to_appear=max(arrivals, default=None),
        appeared_within=max(looked, default=None),
    )
