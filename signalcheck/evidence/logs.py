"""Log expectations: records carrying each probe's trace id exist with the required fields;
no error-level records outside the ledger's fault windows.

Records are compared in the capture receiver's shape (`time`, `severity_text`,
`severity_number`, `body`, `trace_id`, `span_id`, `service`, `attributes`, `resource`);
Loki lines are parsed as JSON when they are JSON, with the stream labels as `resource`.
"""

from __future__ import annotations

import json
import time
from typing import Any

from signalcheck.backends.base import BackendClient
from signalcheck.backends.capture import CaptureClient
from signalcheck.backends.loki import LogLine, LokiClient
from signalcheck.evidence.backends import LOG_BACKENDS
from signalcheck.evidence.context import Context
from signalcheck.evidence.outcome import Outcome
from signalcheck.evidence.polling import Look, poll
from signalcheck.expectations import LogExpectation
from signalcheck.ledger import Entry

MAX_LISTED = 3
LOKI_SEVERITY = {"TRACE": 1, "DEBUG": 5, "INFO": 9, "WARN": 13, "WARNING": 13, "ERROR": 17}


def field_value(record: dict[str, Any], path: str) -> Any:
    """A dotted field of a record; a bare name is also looked up in attributes and resource."""
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value in (None, "") and "." not in path:
        value = record.get("attributes", {}).get(path) or record.get("resource", {}).get(path)
    return value


def _from_loki(line: LogLine) -> dict[str, Any]:
    try:
        parsed = json.loads(line.line)
    except ValueError:
        parsed = {}
    parsed = parsed if isinstance(parsed, dict) else {}
    labels = line.labels
    level = str(parsed.get("level") or labels.get("level") or labels.get("detected_level") or "")
    level = level.upper()
    return {
        "time": line.time,
        "severity_text": level,
        "severity_number": LOKI_SEVERITY.get(level, 21 if level == "FATAL" else 0),
        "body": parsed.get("message", line.line),
        "trace_id": parsed.get("trace_id") or line.labels.get("trace_id"),
        "span_id": parsed.get("span_id") or line.labels.get("span_id"),
        "service": parsed.get("service") or line.labels.get("service_name", ""),
        "attributes": parsed,
        "resource": line.labels,
    }


def _lacking(records: list[dict[str, Any]], fields: list[str]) -> str:
    """Which records lack which required fields ("" when every record has them all)."""
    for record in records:
        lacking = [f for f in fields if field_value(record, f) in (None, "")]
        if lacking:
            return f"record {record.get('body')!r} lacks field(s) {lacking}"
    return ""


def _records(
    client: BackendClient, exp: LogExpectation, start: float, end: float, trace_id: str = ""
) -> list[dict[str, Any]]:
    if isinstance(client, LokiClient):
        if not exp.logql:
            raise ValueError(f"logs expectation {exp.name}: Loki needs `logql`")
        logql = exp.logql.replace("{trace_id}", trace_id)
        return [_from_loki(line) for line in client.lines(logql, start, end)]
    assert isinstance(client, CaptureClient)
    if trace_id:
        return client.logs(trace_id=trace_id, start=start, end=end)
    return client.logs(start=start, end=end, severity=str(exp.min_severity))


def check_logs(exp: LogExpectation, ctx: Context) -> Outcome:
    backend = ctx.backends.first_configured(LOG_BACKENDS, exp.backend)
    client = ctx.backends.client(backend)
    if exp.evidence == "no_errors":
        return _check_no_errors(exp, ctx, client)
    probes = ctx.probes(exp.check)
    if not probes:
        return Outcome.skip("the ledger has no probe entries with a trace id")
    found: dict[str, list[dict[str, Any]]] = {}
    requests: dict[str, str] = {}
    seen_at: dict[str, float] = {}

    def observe() -> Look:
        for probe in probes:
            trace_id = probe.field("trace_id")
            if trace_id in seen_at:
                continue
            records = _records(
                client, exp, probe.field("start") - 1, probe.field("end") + exp.budget, trace_id
            )
            found[trace_id] = records
            requests[trace_id] = client.last_request
            if records and not _lacking(records, exp.fields):
                seen_at[trace_id] = time.time()
        return Look(done=len(seen_at) == len(probes))

    polled = poll(observe, exp.budget)
    problems = []
    failed: list[str] = []
    for probe in probes:
        trace_id = probe.field("trace_id")
        records = found.get(trace_id, [])
        where = f"trace {trace_id} ({probe.field('check')}, {probe.field('region')})"
        if trace_id not in seen_at:
            failed.append(trace_id)
        if not records:
            hint = _untraced_hint(client, probe)
            problems.append(f"{where}: no log record carries this trace id{hint}")
        elif trace_id not in seen_at:
            problems.append(f"{where}: {_lacking(records, exp.fields)}")
    listed = problems[:MAX_LISTED] + (
        [f"... and {len(problems) - MAX_LISTED} more"] if len(problems) > MAX_LISTED else []
    )
    shown = failed[0] if failed else probes[0].field("trace_id")
    return Outcome(
        passed=not problems,
        summary="; ".join(listed)
        or f"log records with {len(probes)} trace id(s) and fields {exp.fields}",
        query=f"{requests.get(shown, '')} (one such request per trace id, {len(probes)} in all)",
        observed=json.dumps(found.get(shown, [])[:3], default=str),
        waited=polled.waited,
        time_to_appear=max(
            (
                seen_at[p.field("trace_id")] - p.field("end")
                for p in probes
                if p.field("trace_id") in seen_at
            ),
            default=None,
        ),
    )


def _untraced_hint(client: BackendClient, probe: Entry) -> str:
    """What the service logged during the probe instead: records without a trace id (logs
    not correlated) or with another trace id (the service started its own trace)."""
    if not isinstance(client, CaptureClient):
        return ""
    during = [
        r
        for r in client.logs(start=probe.field("start") - 0.5, end=probe.field("end") + 0.5)
        if _region(r) in (None, probe.field("region"))
    ]
    untraced = [r for r in during if not r["trace_id"]]
    if untraced:
        return (
            f" — but {len(untraced)} record(s) of {untraced[0]['service']} were logged during "
            f"the probe without any trace_id (e.g. {untraced[0]['body']!r}): logs do not carry "
            "the trace context"
        )
    others = sorted({r["trace_id"] for r in during})
    if others:
        return (
            f" — records logged during the probe carry other trace id(s) ({others[0]}...): the "
            "service started its own trace, trace context was not propagated"
        )
    return ""


def _region(record: dict[str, Any]) -> str | None:
    return record.get("resource", {}).get("cloud.region") or record.get("attributes", {}).get(
        "region"
    )


def _check_no_errors(exp: LogExpectation, ctx: Context, client: BackendClient) -> Outcome:
    start, end = ctx.window()
    wait = end + exp.settle - time.time()
    if wait > 0:
        time.sleep(min(wait, exp.budget))
    records = _records(client, exp, start, end)
    unexplained = [
        r
        for r in records
        if r["severity_number"] >= exp.min_severity and not ctx.fault_active(_region(r), r["time"])
    ]
    examples = "; ".join(
        f"{r['severity_text']} {_region(r) or ''} {r['body']!r} trace={r['trace_id']}"
        for r in unexplained[:MAX_LISTED]
    )
    return Outcome(
        passed=not unexplained,
        summary=(
            f"{len(unexplained)} error-level record(s) in the healthy window: {examples}"
            if unexplained
            else f"no error-level records between {start:.3f} and {end:.3f} outside faults"
        ),
        query=client.last_request,
        observed=json.dumps(unexplained[:MAX_LISTED], default=str),
        waited=max(wait, 0.0),
    )
