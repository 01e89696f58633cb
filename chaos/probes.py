"""Chaos Toolkit probes: did the expected alert fire, for the faulted region only, at the
expected receiver, and did it resolve — and how fast, measured from the ledger's fault times.

`alert_fires` and `alert_resolves` write `detection` and `recovery` entries to the run
ledger (time-to-detect from the fault's start, time-to-resolve from its end, beside the
floor the configuration implies). `probe_checks_pass` runs the synthetic checks with the
probe runner and `signals_present` the validators' expectations with the evidence engine,
both against this run's ledger.

In every probe, `configuration` is the experiment's configuration, which Chaos Toolkit passes
(its `signalcheck_config` key names the signalcheck config file, else `$SIGNALCHECK_CONFIG`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from signalcheck.backends.capture import CaptureClient
from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.chaos import faultlog, signals
from signalcheck.chaos.context import RunContext, run_context
from signalcheck.chaos.floors import alert_rule, detect_bound, detect_floor, resolve_bound
from signalcheck.chaos.probing import probe_and_push
from signalcheck.config import Config
from signalcheck.errors import AlertAlreadyFiring, AlertMisrouted, WaitTimeout
from signalcheck.evidence import Context, verifications_for
from signalcheck.evidence.backends import BackendSet
from signalcheck.expectations import Expectations
from signalcheck.ledger import Entry
from signalcheck.probes.runner import require_checks
from signalcheck.waiting import wait_for

__all__ = [
    "alert_fires",
    "alert_resolves",
    "keep_probing",
    "probe_checks_pass",
    "query_value",
    "signals_present",
]

POLL_SECONDS = 0.25
"""Seconds between looks at Prometheus and the receiver: how precise the measured times are."""

logger = logging.getLogger("chaostoolkit")


def alert_fires(
    name: str,
    labels: dict[str, str] | None = None,
    within: float = 60.0,
    receiver: str | None = None,
    fault: str | None = None,
    configuration: dict[str, Any] | None = None,
) -> float:
    """Seconds from the last fault of the `region` in `labels` (of action `fault` when given,
    e.g. `latency`: the cause, in a sequence of faults) until the alert rule `name` fired with
    `labels` (label name -> value, e.g. `{"region": "eu-west-1"}`) and, given `receiver` (an
    Alertmanager receiver name), until that receiver was notified.

    Only an alert that became active (pending) after the fault's start counts: one already
    firing for the region then (or still firing from before) fails at once, named, as it
    cannot be this fault's detection. Raises when that does not happen within `within`
    seconds of the fault, or when the alert also starts firing for another region after the
    fault's start, or reaches another receiver. Records a `detection` entry.
    """
    ctx = run_context(configuration)
    labels = dict(labels or {})
    region = labels.get("region")
    cause = faultlog.last_fault(ctx.ledger, region, fault)
    since = cause.field("start") if cause else time.time()
    with _clients(ctx) as (prometheus, capture):
        rule = alert_rule(prometheus, name)
        record: dict[str, Any] = {
            "experiment": ctx.experiment,
            "alert": name,
            "labels": labels,
            "region": region,
            "receiver": receiver,
            "fault_action": cause.field("action") if cause else None,
            "fault_start": since,
            "budget": within,
            "floor_seconds": detect_floor(ctx.config, rule),
            "bound_seconds": detect_bound(ctx.config, rule),
            "fired_at": None,
            "notified_at": None,
            "detected_at": None,
            "time_to_detect": None,
        }
        before = [a for a in _firing(prometheus, name, labels) if _active_at(a) < since]
        if before:
            began = min(_active_at(a) for a in before)
            ctx.ledger.append("detection", **record, already_firing_since=began)
            raise AlertAlreadyFiring(
                f"{name} {labels} was already firing (active since {began:.3f}, "
                f"{since - began:.1f}s before the {record['fault_action']} fault's start at "
                f"{since:.3f}): it cannot count as this fault's detection"
            )
        try:
            _wait(
                lambda: _firing(prometheus, name, labels, since),
                since,
                within,
                f"{name} {labels} firing, active after the fault's start",
            )
            record["fired_at"] = time.time()
            if receiver:
                sent = _wait(
                    lambda: _notified(capture, name, labels, receiver, "firing", since),
                    since,
                    within,
                    f"a firing {name} {labels} notification at receiver {receiver!r}",
                )
                record["notified_at"] = min(n["received_at"] for n in sent)
        except WaitTimeout:
            ctx.ledger.append("detection", **record)
            raise
        record["detected_at"] = record["notified_at"] or record["fired_at"]
        record["time_to_detect"] = record["detected_at"] - since
        strays = _strays(prometheus, capture, name, region, receiver, since)
        ctx.ledger.append("detection", **record, strays=strays)
    if strays:
        raise AlertMisrouted(f"{name} fired for {labels}, but also: {'; '.join(strays)}")
    return round(record["time_to_detect"], 3)


def alert_resolves(
    name: str,
    labels: dict[str, str] | None = None,
    within: float = 60.0,
    configuration: dict[str, Any] | None = None,
) -> bool:
    """True once the alert rule `name` with `labels` (label name -> value) is not firing,
    within `within` seconds of the end of the fault it was detected for (or of now, when it
    was not detected in this run); False when it still fires then.

    After a detection it also waits for the `resolved` notification at the same receiver
    and records a `recovery` entry with the time-to-resolve.
    """
    ctx = run_context(configuration)
    labels = dict(labels or {})
    region = labels.get("region")
    detection = _unresolved_detection(ctx, name, region)
    cleared_at = _fault_end(ctx, detection) if detection else None
    since = cleared_at or time.time()
    with _clients(ctx) as (prometheus, capture):
        rule = alert_rule(prometheus, name)
        record: dict[str, Any] = {
            "experiment": ctx.experiment,
            "alert": name,
            "labels": labels,
            "region": region,
            "fault_start": detection.field("fault_start") if detection else None,
            "cleared_at": cleared_at,
            "budget": within,
            "bound_seconds": resolve_bound(ctx.config, rule),
            "resolved_at": None,
            "notified_at": None,
            "time_to_resolve": None,
        }
        try:
            _wait(
                lambda: not _firing(prometheus, name, labels),
                since,
                within,
                f"{name} {labels} no longer firing",
            )
            record["resolved_at"] = time.time()
            receiver = detection.field("receiver") if detection else None
            if receiver:
                sent = _wait(
                    lambda: _notified(
                        capture, name, labels, receiver, "resolved", cleared_at or since
                    ),
                    since,
                    within,
                    f"a resolved {name} {labels} notification at receiver {receiver!r}",
                )
                record["notified_at"] = min(n["received_at"] for n in sent)
        except WaitTimeout as exc:
            logger.warning(str(exc))
            if detection:
                ctx.ledger.append("recovery", **record)
            return False
    if detection:
        if cleared_at is not None:
            resolved = record["notified_at"] or record["resolved_at"]
            record["time_to_resolve"] = resolved - cleared_at
        ctx.ledger.append("recovery", **record)
    return True


def query_value(promql: str, configuration: dict[str, Any] | None = None) -> float | None:
    """The value of the single sample the PromQL query `promql` returns now, None when it
    returns none.

    Raises when it returns several series: aggregate them in the query.
    """
    ctx = run_context(configuration)
    with PrometheusClient(ctx.config.backends.prometheus) as prometheus:
        result = prometheus.query(promql)
    if not result:
        return None
    if len(result) > 1:
        raise ValueError(f"{promql!r} returned {len(result)} series; aggregate them to one")
    return float(result[0]["value"][1])


def probe_checks_pass(
    region: str | None = None,
    checks: list[str] | None = None,
    configuration: dict[str, Any] | None = None,
) -> bool:
    """True when the configured synthetic checks (or those of the config named in `checks`)
    all pass in `region` (a configured region name; every region when None), run once by the
    probe runner. A region whose probes
    a `probes_paused` fault holds is left out (true when nothing else is left).

    Each result is a `probe` entry in this run's ledger and, when the pass ran every
    configured check, pushed to the region's Pushgateway group, as `signalcheck probe --once`
    does (a subset is not pushed: its PUT would drop the other checks' series).
    """
    ctx = run_context(configuration)
    config = _with_checks(ctx.config, checks)
    require_checks(config)
    return probe_and_push(ctx, config, region)


def keep_probing(
    seconds: float, every: float = 60.0, configuration: dict[str, Any] | None = None
) -> int:
    """A probe pass of every region whose probes are not paused, every `every` seconds for
    `seconds` seconds (as their probe CronJobs would go on): run in the background of a method that
    pauses one region's probes for longer than the stale-probe alert allows. Ends early when
    the run is interrupted. The number of passes in which a check failed."""
    ctx = run_context(configuration)
    require_checks(ctx.config)
    failed = 0
    until = time.time() + float(seconds)
    while not signals.stopping.is_set():
        failed += not probe_and_push(ctx, ctx.config, None)
        left = until - time.time()
        if left <= 0 or signals.stopping.wait(min(float(every), left)):
            break
    return failed


def signals_present(
    expectations: dict[str, Any] | None = None, configuration: dict[str, Any] | None = None
) -> bool:
    """True when every expectation finds its evidence for this run's ledger so far.

    `expectations` has the form of the config's `expectations:` section (the config's own
    when None). Records a `signals` entry with each check's outcome and time to appear.
    """
    ctx = run_context(configuration)
    wanted = (
        ctx.config.expectations
        if expectations is None
        else Expectations.model_validate(expectations)
    )
    entries = ctx.ledger.entries() if ctx.ledger.path.exists() else []
    backends = BackendSet(ctx.config.backends)
    try:
        evidence = Context(config=ctx.config, entries=entries, backends=backends)
        outcomes = [(v, v.judge(evidence)) for v in verifications_for(wanted)]
    finally:
        backends.close()
    for verification, outcome in outcomes:
        if not outcome.passed:
            logger.warning(outcome.report(verification.describe()))
    ctx.ledger.append(
        "signals",
        experiment=ctx.experiment,
        checks=[
            {
                "id": verification.id,
                "passed": outcome.passed,
                "summary": outcome.summary,
                "time_to_appear": outcome.time_to_appear,
            }
            for verification, outcome in outcomes
        ],
    )
    return all(outcome.passed for _, outcome in outcomes)


def _with_checks(config: Config, names: list[str] | None) -> Config:
    if names is None:
        return config
    known = {check.name: check for check in config.checks}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"no checks named {unknown} in the config (configured: {list(known)})")
    return config.model_copy(update={"checks": [known[name] for name in names]})


@contextmanager
def _clients(ctx: RunContext) -> Iterator[tuple[PrometheusClient, CaptureClient]]:
    backends = ctx.config.backends
    with (
        PrometheusClient(backends.prometheus) as prometheus,
        CaptureClient(backends.capture) as capture,
    ):
        yield prometheus, capture


def _wait(check: Callable[[], Any], since: float, within: float, what: str) -> Any:
    """wait_for with the deadline `within` seconds after `since` (not after now)."""
    left = max(since + within - time.time(), 0.0)
    logger.info(f"waiting up to {left:.0f}s for {what}")
    value, _ = wait_for(
        check,
        timeout=left,
        what=f"{what} within {within:g}s",
        interval=POLL_SECONDS,
        max_interval=POLL_SECONDS,
    )
    return value


def _matches(have: dict[str, str], want: dict[str, str]) -> bool:
    return all(have.get(key) == value for key, value in want.items())


def _firing(
    prometheus: PrometheusClient, name: str, labels: dict[str, str], since: float | None = None
) -> list[dict]:
    """The firing alerts `name` with `labels` (that became active at or after `since`)."""
    return [
        alert
        for alert in prometheus.alerts()
        if alert["state"] == "firing"
        and _matches(alert["labels"], {"alertname": name, **labels})
        and (since is None or _active_at(alert) >= since)
    ]


def _active_at(alert: dict[str, Any]) -> float:
    """When Prometheus' alert became active (pending, then firing), Unix seconds."""
    return datetime.fromisoformat(alert["activeAt"]).timestamp()


def _notified(
    capture: CaptureClient,
    name: str,
    labels: dict[str, str],
    receiver: str,
    status: str,
    since: float,
) -> list[dict]:
    sent = capture.notifications(alertname=name, receiver=receiver, status=status, since=since)
    return [n for n in sent if _matches(n["labels"], labels)]


def _strays(
    prometheus: PrometheusClient,
    capture: CaptureClient,
    name: str,
    region: str | None,
    receiver: str | None,
    since: float,
) -> list[str]:
    """The alert firing for regions other than `region`, or notified to other receivers, of
    those that started after the fault's start (`since`): one that began before (another
    region's own fault, in a game day that faults regions at once) is not this fault's."""
    strays = []
    if region is not None:
        strays += [
            f"firing in Prometheus for region {a['labels'].get('region')!r}"
            for a in _firing(prometheus, name, {}, since)
            if a["labels"].get("region") != region
        ]
    for sent in capture.notifications(alertname=name, status="firing", since=since):
        if (sent.get("starts_at") or since) < since:
            continue  # a re-notification of an alert older than the fault
        other_region = region is not None and sent["labels"].get("region") != region
        if other_region or (receiver is not None and sent["receiver"] != receiver):
            strays.append(
                f"notified to {sent['receiver']!r} for region {sent['labels'].get('region')!r}"
            )
    return strays


def _unresolved_detection(ctx: RunContext, name: str, region: str | None) -> Entry | None:
    """This run's last successful detection of `name` in `region` with no recovery yet."""
    if not ctx.ledger.path.exists():
        return None
    key = None
    detection = None
    for entry in ctx.ledger.entries():
        same = entry.field("alert") == name and entry.field("region") == region
        if entry.kind == "detection" and same and entry.field("detected_at") is not None:
            detection, key = entry, entry.field("fault_start")
        elif entry.kind == "recovery" and same and entry.field("fault_start") == key:
            detection = None
    return detection


def _fault_end(ctx: RunContext, detection: Entry) -> float | None:
    for fault in faultlog.faults(ctx.ledger):
        if fault.field("start") == detection.field("fault_start"):
            return fault.field("end")
    return None
