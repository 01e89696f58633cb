"""RUM expectations: each browser probe's RUM session arrived in the RUM store whole (the
event kinds and web vitals expected), each API call the browser traced is a trace the service
recorded (its SERVER span in the trace backend), and the ingest's `rum_*` metrics moved.

Timing is each event's own trip: the time the ingest received it minus the time the browser
recorded it (the event's client time; the browser probes run on the harness's clock). A session
arrived when its slowest expected piece did: the first event of each expected kind and vital, and
every traced API call. So the RUM pipeline's delay (the SDK's buffering, the network, the ingest)
is judged, not how long Chromium took to start or to load the page. Later than the budget fails.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from signalcheck.backends.capture import CaptureClient
from signalcheck.backends.jaeger import JaegerClient
from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.backends.rum_ingest import RumIngestClient, SessionEvent, rum_read_key
from signalcheck.backends.spans import Span
from signalcheck.backends.tempo import TempoClient
from signalcheck.errors import BackendError
from signalcheck.evidence.backends import TRACE_BACKENDS
from signalcheck.evidence.context import Context
from signalcheck.evidence.outcome import Outcome, late
from signalcheck.evidence.polling import Look, poll
from signalcheck.expectations import RumExpectation
from signalcheck.ledger import Entry

TraceClient = CaptureClient | TempoClient | JaegerClient
MAX_LISTED = 3


def browser_probes(ctx: Context, check: str | None) -> list[Entry]:
    """The browser probe entries (of `check`) whose request reached the service."""
    return [e for e in ctx.probes(check) if e.field("check_type") == "browser"]


def no_browser_probe(check: str | None) -> str:
    """'no home-page browser probe reached the service in this run'."""
    return f"no {check + ' ' if check else ''}browser probe reached the service in this run"


def traced_calls(events: list[SessionEvent]) -> list[tuple[str, SessionEvent]]:
    """(trace id, event) of the session's api_call events that carry a trace id (same-origin
    calls the SDK traced)."""
    return [(e["trace_id"], e) for e in events if e["event_type"] == "api_call" and e["trace_id"]]


def missing_in_session(exp: RumExpectation, events: list[SessionEvent]) -> list[str]:
    """What the session lacks: event kinds, web vitals, a traced api_call."""
    kinds = {e["event_type"] for e in events}
    vitals = {e["name"] for e in events if e["event_type"] == "web_vital"}
    missing = [f"{kind} event" for kind in exp.events if kind not in kinds]
    missing += [f"web vital {v}" for v in exp.vitals if v not in vitals]
    if "api_call" in exp.events and "api_call" in kinds and not traced_calls(events):
        missing.append("an api_call with a trace id")
    return missing


def call_problem(call: SessionEvent, spans: list[Span]) -> str:
    """Why a traced api_call is not the service's trace ('' when its SERVER span is there)."""
    where = f"api_call {call['name']!r} (trace {call['trace_id']})"
    if not spans:
        return f"{where}: the trace is not in the trace backend"
    if not any(s["kind"] == "SERVER" for s in spans):
        names = sorted({s["name"] for s in spans})
        return f"{where}: the trace has no SERVER span, only {names}"
    return ""


def arrival(exp: RumExpectation, events: list[SessionEvent]) -> float:
    """Seconds the slowest expected piece took from the browser to the store: the first stored
    event of each expected kind and vital, and every traced api_call."""

    def trip(event: SessionEvent) -> float:
        return event["received_at"] - event["client_time"] / 1000

    def first(matches: list[SessionEvent]) -> SessionEvent:
        return min(matches, key=lambda e: e["received_at"])

    pieces = [first([e for e in events if e["event_type"] == kind]) for kind in exp.events]
    pieces += [
        first([e for e in events if e["event_type"] == "web_vital" and e["name"] == v])
        for v in exp.vitals
    ]
    pieces += [call for _, call in traced_calls(events)]
    return max(trip(e) for e in pieces)


@dataclass
class _Session:
    """One browser probe's session, as last seen."""

    probe: Entry
    events: list[SessionEvent] = field(default_factory=list)
    spans: dict[str, list[Span]] = field(default_factory=dict)
    """trace id -> spans, for the traced api_calls."""

    @property
    def id(self) -> str:
        return str(self.probe.field("rum_session_id"))

    def where(self) -> str:
        return f"{self.probe.field('check')} ({self.probe.field('region')}) session {self.id}"

    def problems(self, exp: RumExpectation) -> list[str]:
        if not self.events:
            return ["no event of it in the RUM store"]
        missing = missing_in_session(exp, self.events)
        if missing:
            return [f"missing {', '.join(missing)}"]
        calls = [
            call_problem(call, self.spans.get(trace_id, []))
            for trace_id, call in traced_calls(self.events)
        ]
        return [p for p in calls if p]


@dataclass
class _Metric:
    selector: str
    since: float
    """The first browser probe's start."""
    before: float
    now: float | None = None
    increase: float = 0.0
    """increase() since the probes started: sees a rise across a counter reset (an ingest
    restart), which the sums alone read as a fall."""

    def risen(self) -> bool:
        return (self.now is not None and self.now > self.before) or self.increase > 0

    def look(self, prometheus: PrometheusClient) -> None:
        self.now = _sum(prometheus, self.selector)
        window = max(1, math.ceil(time.time() - self.since))
        self.increase = _sum(prometheus, f"increase({self.selector}[{window}s])")


def _sum(prometheus: PrometheusClient, selector: str, at: float | None = None) -> float:
    """sum(selector) at `at` (now when None); 0 when no series exists (no counter yet)."""
    result = prometheus.query(f"sum({selector})", time=at)
    return float(result[0]["value"][1]) if result else 0.0


def check_rum(exp: RumExpectation, ctx: Context) -> Outcome:
    probes = browser_probes(ctx, exp.check)
    if not probes:
        return Outcome.nothing_to_judge(no_browser_probe(exp.check))
    backend = ctx.config.backends.rum_ingest
    if backend is None:
        return Outcome(passed=False, summary="backends.rum_ingest is not configured")
    tracer = ctx.backends.client(ctx.backends.first_configured(TRACE_BACKENDS, exp.trace_backend))
    prometheus = ctx.backends.client("prometheus")
    if not isinstance(tracer, TraceClient) or not isinstance(prometheus, PrometheusClient):
        raise TypeError(f"not a trace and a Prometheus client: {tracer!r}, {prometheus!r}")
    started = min(p.field("start") for p in probes)
    metrics = [_Metric(s, started, _sum(prometheus, s, started)) for s in exp.metrics]
    try:
        store = RumIngestClient(backend, rum_read_key(ctx.config))
    except BackendError as exc:
        return Outcome(passed=False, summary=str(exc))
    with store:
        try:
            store.check_reachable()
        except BackendError as exc:
            return Outcome(passed=False, summary=str(exc))
        return _judge(exp, probes, metrics, store, tracer, prometheus)


def _judge(
    exp: RumExpectation,
    probes: list[Entry],
    metrics: list[_Metric],
    store: RumIngestClient,
    tracer: TraceClient,
    prometheus: PrometheusClient,
) -> Outcome:
    sessions = [_Session(p) for p in probes if p.field("rum_session_id")]
    requests: dict[str, str] = {}

    def observe() -> Look:
        for session in sessions:
            if not session.problems(exp):
                continue
            session.events = store.session_events(session.id)
            requests[session.id] = store.last_request
            for trace_id, _ in traced_calls(session.events):
                if not session.spans.get(trace_id):
                    session.spans[trace_id] = tracer.trace(trace_id)
        for metric in metrics:
            if not metric.risen():
                metric.look(prometheus)
        done = not any(s.problems(exp) for s in sessions) and all(m.risen() for m in metrics)
        return Look(done=done)

    polled = poll(observe, exp.budget)
    problems = [
        f"{p.field('check')} ({p.field('region')}): the probe recorded no RUM session id "
        "(the page did not run the RUM SDK)"
        for p in probes
        if not p.field("rum_session_id")
    ]
    arrivals: list[float] = []
    for session in sessions:
        found = session.problems(exp)
        problems += [f"{session.where()}: {p}" for p in found]
        if not found:
            took = arrival(exp, session.events)
            arrivals.append(took)
            problems += [p for p in [late(f"{session.where()}: its events", took, exp.budget)] if p]
    problems += [
        f"{m.selector} did not rise (sum {m.before:g} at the first browser probe's start, "
        f"{'no answer' if m.now is None else f'{m.now:g}'} at the last look, "
        f"increase {m.increase:g})"
        for m in metrics
        if not m.risen()
    ]
    listed = problems[:MAX_LISTED] + (
        [f"... and {len(problems) - MAX_LISTED} more"] if len(problems) > MAX_LISTED else []
    )
    shown = next((s for s in sessions if s.problems(exp)), sessions[0] if sessions else None)
    queries = [requests.get(shown.id, "")] if shown else []
    queries += [
        f"sum({m.selector}) at the first browser probe's start and now, and its increase since"
        for m in metrics
    ]
    complete = bool(sessions) and len(arrivals) == len(sessions)
    return Outcome(
        passed=not problems,
        summary="; ".join(listed)
        or f"{len(sessions)} RUM session(s) complete, their API calls traced, metrics risen",
        query=" | ".join(q for q in queries if q),
        observed=str([_event_summary(e) for e in shown.events]) if shown else "",
        waited=polled.waited,
        time_to_appear=max(arrivals) if complete else None,
    )


def _event_summary(event: SessionEvent) -> str:
    name = f" {event['name']}" if event.get("name") else ""
    trace = f" trace={event['trace_id']}" if event.get("trace_id") else ""
    return f"{event['event_type']}{name}{trace}"
