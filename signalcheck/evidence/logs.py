"""Log expectations: records carrying each probe's trace id exist, with the required fields and
the probe's region; no error-level records outside the ledger's fault windows.

Records are compared in the capture receiver's shape (`time`, `severity_text`,
`severity_number`, `body`, `trace_id`, `span_id`, `service`, `attributes`, `resource`,
`received_at`); Loki lines are parsed as JSON when they are JSON, else as logfmt, with the
stream labels, structured metadata and parsed labels (`categorize-labels`) as `resource`.
Lines written by the OTel Collector's Loki exporter are read as it writes them: JSON with
`body`, `traceid`, `spanid`, `severity`, `attributes`, `resources`; logfmt with `msg`,
`traceID`, `spanID`, `severity`, `attribute_*`, `resource_*`.

Nothing a backend returns is trusted: a record counts for a probe only when it carries the
probe's trace id (as a field or in its text), whatever the query matched; its severity is the
highest that its number and its level names (`severity_text`, `level`, `detected_level`, any
case; syslog and Python names such as CRITICAL, crit, emerg and alert included) map to.

Timing: `time_to_appear` is the receive time the capture receiver recorded for the latest
record judged of a probe, minus the probe's end (the last request it made, so the records of
the whole run exist only after it). Loki records no arrival: there `appeared_within` is when
the check saw the records, minus the probe's end, an upper bound never held against a budget.
Records that arrived after the budget fail the check.
"""

from __future__ import annotations

import json
import shlex
import time

from signalcheck.backends.base import BackendClient, JsonObject, JsonValue, within_deadline
from signalcheck.backends.capture import MAX_LIMIT, CaptureClient, LogRecord
from signalcheck.backends.loki import LogLine, LokiClient
from signalcheck.errors import LokiTruncated
from signalcheck.evidence.backends import LOG_BACKENDS
from signalcheck.evidence.context import Context, no_probe_reached
from signalcheck.evidence.outcome import Outcome, late
from signalcheck.evidence.polling import Look, poll
from signalcheck.expectations import LogExpectation
from signalcheck.ledger import Entry

MAX_LISTED = 3
DEFAULT_REGION_ATTRIBUTE = "cloud.region"
SEVERITY_NUMBERS = {
    "TRACE": 1,
    "DEBUG": 5,
    "DBG": 5,
    "INFO": 9,
    "INFORMATION": 9,
    "INFORMATIONAL": 9,
    "NOTICE": 10,
    "WARN": 13,
    "WARNING": 13,
    "ERR": 17,
    "ERROR": 17,
    "EROR": 17,
    "CRIT": 18,
    "CRITICAL": 18,
    "ALERT": 21,
    "FATAL": 21,
    "PANIC": 21,
    "EMERG": 22,
    "EMERGENCY": 22,
}
"""Level names -> OTel severity numbers (17 ERROR .. 24 FATAL4); the syslog names as in
opentelemetry-php's PSR-3 mapping (critical 18, alert 21, emergency 22)."""
LEVEL_KEYS = ("severity_text", "level", "severity", "detected_level", "loglevel")


def severity_number(number: object, *levels: object) -> int:
    """The highest severity that `number` and the level names say."""
    text = str(number or "").strip()
    numbers = [int(text)] if text.isdigit() else []
    numbers += [SEVERITY_NUMBERS.get(str(level or "").strip().upper(), 0) for level in levels]
    return max(numbers, default=0)


def field_value(record: LogRecord, path: str) -> object:
    """A dotted field of a record, else the name as one key of its attributes or resource
    (OTel names such as `host.name` hold dots)."""
    value: object = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value in (None, ""):
        value = record.get("attributes", {}).get(path) or record.get("resource", {}).get(path)
    return value


def logfmt_fields(text: str) -> dict[str, str]:
    """The `key=value` pairs of a logfmt line (quoted values unquoted); {} when it has none or
    its quotes do not balance."""
    try:
        tokens = shlex.split(text, posix=True)
    except ValueError:
        return {}
    return dict(token.split("=", 1) for token in tokens if "=" in token)


def _parsed_line(text: str) -> JsonObject:
    """A Loki line as fields: its JSON object, else its logfmt pairs with the exporter's
    `attribute_` and `resource_` prefixes folded into `attributes` and `resources`."""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return parsed
    fields: JsonObject = {**logfmt_fields(text)}
    for prefix, key in (("attribute_", "attributes"), ("resource_", "resources")):
        folded = {
            k.removeprefix(prefix): fields.pop(k) for k in list(fields) if k.startswith(prefix)
        }
        if folded:
            fields[key] = folded
    return fields


def _object(value: JsonValue) -> JsonObject:
    return value if isinstance(value, dict) else {}


def _from_loki(line: LogLine) -> LogRecord:
    parsed = _parsed_line(line.line)
    attributes, resources = _object(parsed.get("attributes")), _object(parsed.get("resources"))
    labels: JsonObject = {**resources, **line.labels, **line.metadata}

    def first(*keys: str) -> JsonValue:
        return next(
            (s[k] for k in keys for s in (parsed, labels) if s.get(k) not in (None, "")), ""
        )

    levels = [s.get(k) for k in LEVEL_KEYS for s in (parsed, labels)]
    body = first("message", "body", "msg")
    return {
        "time": line.time,
        "severity_text": str(first(*LEVEL_KEYS)).upper(),
        "severity_number": severity_number(first("severity_number"), *levels),
        "body": body if isinstance(body, str) and body else line.line,
        "trace_id": str(first("trace_id", "traceid", "traceID")).lower() or None,
        "span_id": str(first("span_id", "spanid", "spanID")).lower() or None,
        "service": str(first("service", "service_name", "service.name")),
        "attributes": {**parsed, **attributes},
        "resource": labels,
        "received_at": None,
    }


def carries(record: LogRecord, trace_id: str) -> bool:
    """Whether a record carries `trace_id`: as its trace id field or in its text."""
    return str(record.get("trace_id") or "").lower() == trace_id or trace_id in str(
        record.get("body")
    )


def region_keys(exp: LogExpectation, loki: bool) -> list[str]:
    """Where a record names its region: `region_attribute`; from Loki also `region_label`,
    the attribute's label form (cloud.region -> cloud_region) and cloud_region."""
    attribute = exp.region_attribute or DEFAULT_REGION_ATTRIBUTE
    if not loki:
        return [attribute]
    keys = [attribute, exp.region_label, attribute.replace(".", "_"), "cloud_region"]
    return list(dict.fromkeys(keys))


def record_region(record: LogRecord, keys: list[str]) -> str | None:
    """The region a record names: the first of `keys` in its resource or attributes."""
    for key in keys:
        for fields in (record["resource"], record["attributes"]):
            value = fields.get(key)
            if value not in (None, ""):
                return str(value)
    return None


def _lacking(records: list[LogRecord], fields: list[str]) -> str:
    """Which records lack which required fields ("" when every record has them all)."""
    for record in records:
        lacking = [f for f in fields if field_value(record, f) in (None, "")]
        if lacking:
            return f"record {record.get('body')!r} lacks field(s) {lacking}"
    return ""


def _records(
    client: BackendClient,
    exp: LogExpectation,
    start: float,
    end: float,
    trace_id: str = "",
    deadline: float | None = None,
) -> list[LogRecord]:
    if isinstance(client, LokiClient):
        if not exp.logql:
            raise ValueError(f"logs expectation {exp.name}: Loki needs `logql`")
        logql = exp.logql.replace("{trace_id}", trace_id)
        return [_from_loki(line) for line in client.lines(logql, start, end, deadline=deadline)]
    assert isinstance(client, CaptureClient)
    if trace_id:
        return client.logs(trace_id=trace_id, start=start, end=end)
    return client.logs(start=start, end=end, severity=str(exp.min_severity), limit=MAX_LIMIT)


def check_logs(exp: LogExpectation, ctx: Context) -> Outcome:
    backend = ctx.backends.first_configured(LOG_BACKENDS, exp.backend)
    client = ctx.backends.client(backend)
    try:
        if exp.evidence == "no_errors":
            return _check_no_errors(exp, ctx, client)
        return _check_trace_ids(exp, ctx, client)
    except LokiTruncated as exc:
        return Outcome(passed=False, summary=str(exc), query=client.last_request)


def _check_trace_ids(exp: LogExpectation, ctx: Context, client: BackendClient) -> Outcome:
    probes = ctx.probes(exp.check)
    if not probes:
        return Outcome.nothing_to_judge(no_probe_reached(exp.check))
    loki = isinstance(client, LokiClient)
    found: dict[str, list[LogRecord]] = {}
    returned: dict[str, int] = {}
    requests: dict[str, str] = {}
    seen_at: dict[str, float] = {}
    deadline = time.monotonic() + exp.budget

    def observe() -> Look:
        for probe in probes:
            trace_id = probe.field("trace_id")
            if trace_id in seen_at:
                continue
            records = _records(
                client,
                exp,
                probe.field("start") - 1,
                probe.field("end") + exp.budget,
                trace_id,
                deadline,
            )
            returned[trace_id] = len(records)
            found[trace_id] = [r for r in records if carries(r, trace_id)]
            requests[trace_id] = client.last_request
            if found[trace_id] and not _lacking(found[trace_id], exp.fields):
                seen_at[trace_id] = time.time()
        return Look(done=len(seen_at) == len(probes))

    polled = poll(observe, exp.budget)
    problems = []
    failed: list[str] = []
    arrivals: list[float] = []
    looked: list[float] = []
    for probe in probes:
        trace_id = probe.field("trace_id")
        records = found.get(trace_id, [])
        where = f"trace {trace_id} ({probe.field('check')}, {probe.field('region')})"
        wrong = _wrong_region(exp, probe, records, loki) if trace_id in seen_at else ""
        arrived = _arrival(records)
        took = None if arrived is None else arrived - probe.field("end")
        too_late = "" if took is None else late(f"log records of {where}", took, exp.budget)
        if trace_id not in seen_at or wrong or too_late:
            failed.append(trace_id)
        if not records:
            hint = _other_lines(returned.get(trace_id, 0)) or _untraced_hint(client, probe)
            problems.append(f"{where}: no log record carries this trace id{hint}")
        elif trace_id not in seen_at:
            problems.append(f"{where}: {_lacking(records, exp.fields)}")
        elif wrong:
            problems.append(f"{where}: {wrong}")
        elif took is not None:
            if too_late:
                problems.append(too_late)
            arrivals.append(took)
        else:
            looked.append(seen_at[trace_id] - probe.field("end"))
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
        time_to_appear=max(arrivals, default=None),
        appeared_within=max(looked, default=None),
    )


def _arrival(records: list[LogRecord]) -> float | None:
    """When the latest record arrived by the receiver's clock; None when the backend records
    no arrival (Loki) or there are no records."""
    received = [r["received_at"] for r in records]
    times = [t for t in received if t is not None]
    if not received or len(times) < len(received):
        return None
    return max(times)


def _wrong_region(exp: LogExpectation, probe: Entry, records: list[LogRecord], loki: bool) -> str:
    """What is wrong with the records' region ("" when each names the probe's region)."""
    if exp.region_attribute is None:
        return ""
    expected = probe.field("region")
    keys = region_keys(exp, loki)
    regions = [record_region(r, keys) for r in records]
    wrong = [region for region in regions if region != expected]
    if not wrong:
        return ""
    named = sorted({str(region) if region else "none" for region in wrong})
    return (
        f"{len(wrong)} of {len(records)} record(s) carry {exp.region_attribute} "
        f"{', '.join(named)}, expected the probe's region {expected}"
    )


def _other_lines(returned: int) -> str:
    if not returned:
        return ""
    return f" — the query returned {returned} line(s), none of them with this trace id"


def _untraced_hint(client: BackendClient, probe: Entry) -> str:
    """What the service logged during the probe instead: records without a trace id (logs
    not correlated) or with another trace id (the service started its own trace)."""
    if not isinstance(client, CaptureClient):
        return ""
    during = [
        r
        for r in client.logs(start=probe.field("start") - 0.5, end=probe.field("end") + 0.5)
        if record_region(r, [DEFAULT_REGION_ATTRIBUTE]) in (None, probe.field("region"))
    ]
    untraced = [r for r in during if not r["trace_id"]]
    if untraced:
        return (
            f" — but {len(untraced)} record(s) of {untraced[0]['service']} were logged during "
            f"the probe without any trace_id (e.g. {untraced[0]['body']!r}): logs do not carry "
            "the trace context"
        )
    others = sorted({r["trace_id"] for r in during if r["trace_id"]})
    if others:
        return (
            f" — records logged during the probe carry other trace id(s) ({others[0]}...): the "
            "service started its own trace, trace context was not propagated"
        )
    return ""


def _check_no_errors(exp: LogExpectation, ctx: Context, client: BackendClient) -> Outcome:
    if not ctx.actor_entries():
        return Outcome.nothing_to_judge(
            "no probe, load or fault entry in this run: no window of activity to look at"
        )
    loki = isinstance(client, LokiClient)
    keys = region_keys(exp, loki)
    start, end = ctx.window()
    # A record emitted at the window's end arrives one export delay later: look only once the
    # pipeline has delivered everything emitted up to the end (within the budget).
    wait = max(0.0, min(end + exp.settle, end + exp.budget) - time.time())
    time.sleep(wait)
    deadline = time.monotonic() + exp.budget
    with within_deadline(deadline):
        records = _records(client, exp, start, end, deadline=deadline)
    if not loki and len(records) >= MAX_LIMIT:
        return Outcome(
            passed=False,
            summary=f"the answer was cut at {MAX_LIMIT} records: the window cannot be judged",
            query=client.last_request,
        )
    unexplained = [
        r
        for r in records
        if severity_number(r["severity_number"], r["severity_text"]) >= exp.min_severity
        and not ctx.fault_active(record_region(r, keys), r["time"])
    ]
    examples = "; ".join(
        f"{r['severity_text']} {record_region(r, keys) or ''} {r['body']!r} trace={r['trace_id']}"
        for r in unexplained[:MAX_LISTED]
    )
    return Outcome(
        passed=not unexplained,
        summary=(
            f"{len(unexplained)} error-level record(s) in the healthy window: {examples}"
            if unexplained
            else f"no error-level records between {start:.3f} and {end:.3f} outside faults "
            f"({len(records)} record(s) looked at)"
        )
        + f", looked {time.time() - end:.1f}s after the window's end (settle {exp.settle:g}s)",
        query=client.last_request,
        observed=json.dumps(unexplained[:MAX_LISTED], default=str),
        waited=wait,
    )
