"""Trace expectations: each probe's trace arrived complete, with the expected services and
operations, without error status unless a fault was active, and continued across a service
boundary.

A trace counts as arrived when every expected span is there and its span count has not grown
for `settle` seconds between polls (partial traces are the commonest false alarm). Every span
of the expected services carries the probe's region as resource attribute `region_attribute`.

What a trace must hold is what its probe did. A probe that passed ran every step: its trace
holds every expected service and operation. A probe that failed during a fault (a ledger
fault in its region overlapping it) ran its steps up to the failed one only, and the failing
request took whatever path the fault gave it; the expectation's operations name no step, so
which of them those requests produce is not known. What is known: each request it sent up to
and including the failed step was answered by the service (the probes judged are those whose
request reached it), and each such request starts a span tree of its own in the probe's
trace, its top continuing the probe's `traceparent`. So that trace must hold at least one
tree per such request of the last attempt (earlier attempts, which share the trace id, add
more), and the region, error and propagation checks apply to it as to any trace; the
healthy probes of the run still answer for every operation. A probe that failed with no
fault active is held to every operation: its failure is the system's, and the message says
at which step it stopped.

Timing: `time_to_appear` is when the trace became complete by the capture receiver's clock
(the latest, over the expected services and operations, of the receive time of the first
span of each; for a probe that failed during a fault, the first receipt of the tree that
completed the count) minus the probe's end: the probe's last request ends its trace, so a
complete trace exists only after it. Tempo and Jaeger record no arrival: there
`appeared_within` is when the check saw the trace complete, minus the probe's end, an upper
bound never held against the budget. A trace that arrived after its budget fails the check.
"""

from __future__ import annotations

import time

from signalcheck.backends.capture import CaptureClient
from signalcheck.backends.spans import Span, TraceSource
from signalcheck.checks import Check, WorkflowCheck
from signalcheck.errors import BackendError
from signalcheck.evidence.backends import TRACE_BACKENDS
from signalcheck.evidence.context import Context, no_probe_reached
from signalcheck.evidence.outcome import Outcome, late
from signalcheck.evidence.polling import Look, poll
from signalcheck.expectations import TraceExpectation
from signalcheck.ledger import Entry

MAX_LISTED = 3


def _during_fault(ctx: Context, probe: Entry) -> bool:
    """Whether a ledger fault was open in the probe's region (or in every region) at any time
    between the probe's start and end."""
    start, end = probe.field("start"), probe.field("end")
    return any(
        fault.field("region") in (None, probe.field("region"))
        and fault.field("start") <= end
        and (fault.field("end") is None or start <= fault.field("end"))
        for fault in ctx.faults()
    )


def _requests_answered(checks: list[Check], probe: Entry) -> int:
    """How many requests of a failed probe's last attempt the service answered: a workflow's
    steps (then its cleanup steps) up to and including the failed one, else the one request
    (a check no longer in the config counts as one)."""
    check = next((c for c in checks if c.name == probe.field("check")), None)
    if isinstance(check, WorkflowCheck):
        names = [step.name for step in [*check.steps, *check.cleanup]]
        if probe.field("failed_step") in names:
            return names.index(probe.field("failed_step")) + 1
    return 1


def _trees(spans: list[Span]) -> list[Span]:
    """The tops of the trace's span trees: spans whose parent is not in the trace (the probe's
    `traceparent`, a caller outside this backend, or none)."""
    ids = {s["span_id"] for s in spans}
    return [s for s in spans if s["parent_span_id"] not in ids]


class _Required:
    """What one probe's trace must hold: every expected service and operation, or, for a probe
    that failed during a fault, one span tree per request it had answered (`requests`)."""

    def __init__(self, exp: TraceExpectation, probe: Entry, ctx: Context):
        self.exp = exp
        self.probe = probe
        failed_in_fault = probe.field("outcome") != "success" and _during_fault(ctx, probe)
        self.requests = _requests_answered(ctx.config.checks, probe) if failed_in_fault else None

    def missing(self, spans: list[Span]) -> list[str]:
        if self.requests is not None:
            found = len(_trees(spans))
            if found >= self.requests:
                return []
            step = self.probe.field("failed_step")
            upto = f"up to step {step!r}, where" if step else "before"
            return [
                f"the span(s) of {self.requests - found} of the {self.requests} request(s) the "
                f"service answered {upto} the probe failed during a fault (each starts a span "
                f"tree continuing the probe's traceparent; {found} found)"
            ]
        services = {s["service"] for s in spans}
        names = {s["name"] for s in spans}
        return [f"service {s}" for s in self.exp.services if s not in services] + [
            f"operation {o!r}" for o in self.exp.operations if o not in names
        ]

    def stopped(self) -> str:
        """Why operations may be missing from a failed probe held to all of them ("" when it
        passed)."""
        if self.probe.field("outcome") == "success" or self.requests is not None:
            return ""
        step = self.probe.field("failed_step")
        if not step:
            return " (the probe itself failed with no fault active)"
        return (
            f" (the probe itself failed at step {step!r} with no fault active: the steps after "
            "it never ran)"
        )

    def arrival(self, spans: list[Span]) -> float | None:
        if self.requests is None:
            return arrival(self.exp, spans)
        received = _received(_trees(spans))
        if received is None or len(received) < self.requests:
            return None
        return sorted(received)[self.requests - 1]


def _received(spans: list[Span]) -> list[float] | None:
    """The spans' `received_at`; None when one lacks it (Tempo, Jaeger)."""
    received = [s.get("received_at") for s in spans]
    times = [t for t in received if t is not None]
    return times if len(times) == len(received) else None


def crossed_boundary(spans: list[Span], services: list[str]) -> bool:
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


def _no_caller(spans: list[Span], services: list[str]) -> str:
    """What is missing when no span of `services` continues a caller's context. The spans
    carry the probe's trace id, so its `traceparent` did reach the service: their tops have no
    parent span id. When the trace's other spans carry theirs, the backend keeps parent ids
    and the service dropped the incoming one; when no span of the trace carries one, the
    parent ids are missing from the backend altogether."""
    roots = sorted(
        {s["name"] for s in spans if s["service"] in services and not s["parent_span_id"]}
    )
    named = ", ".join(repr(name) for name in roots[:MAX_LISTED])
    if any(s["parent_span_id"] for s in spans):
        return (
            f"span(s) {named} of {', '.join(services)} are roots of the probe's trace while its "
            "other spans carry their parent ids: the service took the trace id of the probe's "
            "traceparent but not its parent span id (its propagator or instrumentation starts "
            "a new root span), so no span continues the caller's context"
        )
    return (
        f"none of the trace's {len(spans)} span(s) carries a parent span id, though they carry "
        "the probe's trace id (its traceparent did reach the service): the parent ids are "
        "missing in the backend altogether, dropped on the way (the exporter, a collector "
        "processor, the backend or its answer)"
    )


def arrival(exp: TraceExpectation, spans: list[Span]) -> float | None:
    """When the trace became complete by the backend's clock: the latest, over the expected
    services and operations, of the first `received_at` among their spans; None when a span
    lacks it (Tempo, Jaeger) or the trace is incomplete."""
    groups = [[s for s in spans if s["service"] == service] for service in exp.services] + [
        [s for s in spans if s["name"] == operation] for operation in exp.operations
    ]
    firsts = []
    for group in groups:
        received = _received(group)
        if not received:
            return None
        firsts.append(min(received))
    return max(firsts)


def wrong_region(exp: TraceExpectation, region: str, spans: list[Span]) -> str:
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


def _problems(exp: TraceExpectation, probe: Entry, spans: list[Span], ctx: Context) -> list[str]:
    problems = []
    region = wrong_region(exp, probe.field("region"), spans)
    if region:
        problems.append(region)
    if not _during_fault(ctx, probe):
        errors = [s["name"] for s in spans if s["status_code"] == "ERROR"]
        if errors:
            problems.append(f"span(s) {errors} have ERROR status though no fault was active")
    if exp.cross_boundary and not crossed_boundary(spans, exp.services):
        problems.append(_no_caller(spans, exp.services))
    return problems


def _not_found_hint(client: TraceSource, exp: TraceExpectation, probe: Entry) -> str:
    """Why a probe's trace may be missing, from the spans that arrived during the probe from
    its region (from any region with `region_attribute` None): none at all means the region's
    exporter or pipeline delivered nothing; root spans of the expected services in other
    traces mean the service started traces of its own instead of continuing the probe's."""
    if not isinstance(client, CaptureClient):
        return ""
    region = probe.field("region")
    window = {"start": probe.field("start") - 0.5, "end": probe.field("end") + 0.5}
    if exp.region_attribute is None:
        during, source, senders = client.spans(**window), "", "the services' exporters"
    else:
        during = client.spans(**window, attr=f"{exp.region_attribute}={region}")
        source = f" from {region} ({exp.region_attribute}={region})"
        senders = "that region's exporter"
    if not during:
        return (
            f" — no span of any service arrived{source} during the probe: {senders} or the "
            "pipeline to the backend delivered nothing"
        )
    roots = [
        s
        for s in during
        if s["service"] in exp.services
        and s["trace_id"] != probe.field("trace_id")
        and not s["parent_span_id"]
    ]
    if not roots:
        return ""
    example = roots[0]
    return (
        f" — but {len(roots)} root span(s) of {example['service']}{source} started during "
        f"the probe in other traces (e.g. {example['name']!r} in trace {example['trace_id']}): "
        "the service did not continue the probe's traceparent, trace context was not propagated"
    )


def _span_summary(span: Span) -> str:
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
    required = {probe.field("trace_id"): _Required(exp, probe, ctx) for probe in probes}
    spans_of: dict[str, list[Span]] = {}
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
            if spans and not required[trace_id].missing(spans) and now - since >= exp.settle:
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
        need = required[trace_id]
        where = f"trace {trace_id} ({probe.field('check')}, {probe.field('region')})"
        if partial.get(trace_id):
            problems.append(f"{where}: {len(spans)} span(s) returned, {partial[trace_id]}")
        elif not spans:
            problems.append(f"{where}: not found{_not_found_hint(client, exp, probe)}")
        elif trace_id not in complete:
            missing = need.missing(spans)
            state = f"missing {', '.join(missing)}{need.stopped()}" if missing else "still growing"
            problems.append(f"{where}: incomplete after {len(spans)} span(s), {state}")
        else:
            problems.extend(f"{where}: {p}" for p in _problems(exp, probe, spans, ctx))
            arrived = need.arrival(spans)
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
