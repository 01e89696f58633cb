"""The mutants: one-change breakages of the pipeline, each applied to the running stack (a
redeployed component, an edited rendered config, an in-process patch of the probe for one
pass) and each naming the `pytest validation/` test that must fail, with a phrase of its
failure message."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import httpx
import pytest
import yaml

from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.config import Config
from signalcheck.probes import once, push
from signalcheck.probes.push import PUSH_JOB
from signalcheck.probes.tracecontext import CHECK_HEADER, TraceContext
from signalcheck.waiting import wait_for
from tests.mutants.edits import (
    WAIT,
    Document,
    delete_group,
    edited,
    prometheus_yml,
    redeployed,
    reloaded,
    replace_once,
    rule_file_copy,
    scrape_job,
    stopped_after_notification,
)
from tests.mutants.exercises import (
    PLANNED_PROBE_PASS,
    PROBE_PASS,
    Exercise,
    Stage,
    kill_fault,
    load_run,
    probe_passes_apart,
)
from tests.support import free_port

REGION = "eu-west-1"
"""The region a mutant breaks when it breaks one."""

Apply = Callable[[Stage], AbstractContextManager[object]]


@dataclass(frozen=True)
class Mutant:
    name: str
    category: str
    change: str
    apply: Apply
    """Applies the change for the length of a `with` block and undoes it at its end."""
    kills: tuple[str, ...]
    """Expectation ids (`kind:name`) whose tests must fail."""
    says: str
    """A phrase the failure message of the first of `kills` must contain."""
    exercise: Exercise = PROBE_PASS
    survives: str | None = None
    """Why the suite cannot catch this mutant yet (the test is then a strict xfail)."""


# --------------------------------------------------------------------------- producers


def demo_defect(defect: str, dead_endpoint: bool = False) -> Apply:
    """The region's demo redeployed with one defect of tests/mutants/broken_demo.py."""

    def apply(stage: Stage) -> AbstractContextManager[object]:
        env = {"MUTANT": defect}
        if dead_endpoint:
            env["MUTANT_DEAD_ENDPOINT"] = f"http://127.0.0.1:{free_port()}"
        return redeployed(
            stage.stack, stage.config, f"demo-{REGION}", "tests.mutants.broken_demo", env
        )

    return apply


def sdk_defect(defect: str) -> Apply:
    """The RUM ingest redeployed serving an SDK copy with one defect (broken_rum_ingest.py)."""

    def apply(stage: Stage) -> AbstractContextManager[object]:
        env = {"MUTANT": defect, "MUTANT_DIR": str(stage.stack.data_dir)}
        return redeployed(
            stage.stack, stage.config, "rum-ingest", "tests.mutants.broken_rum_ingest", env
        )

    return apply


def _headers_without_traceparent(trace: TraceContext) -> dict[str, str]:
    return {CHECK_HEADER: trace.check}


@contextmanager
def _probe_without_traceparent(stage: Stage) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TraceContext, "headers", _headers_without_traceparent)
        yield


@contextmanager
def _region_left_out_of_the_pass(stage: Stage) -> Iterator[None]:
    """The probe pass probes every region but REGION (one pass, patched in process)."""
    select = once.select_regions

    def without_region(config: Config, region: str | None) -> list[str]:
        return [r for r in select(config, region) if r != REGION]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(once, "select_regions", without_region)
        yield


# ---------------------------------------------------------------------------- pipeline


@contextmanager
def _pushed_by_host(stage: Stage) -> Iterator[None]:
    """The probe pass pushes every region to one group keyed by the probing host."""
    host = socket.gethostname()
    original = push.group_path

    def by_host(job: str, **grouping_key: str) -> str:
        return original(job, instance=host)

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(push, "group_path", by_host)
            yield
    finally:
        delete_group(stage.config, PUSH_JOB, instance=host)


def _wait_until_none(config: Config, promql: str, what: str) -> None:
    with PrometheusClient(config.backends.prometheus) as prometheus:
        wait_for(lambda: not prometheus.query(promql), timeout=WAIT, what=what)


def _wait_until_some(config: Config, promql: str, what: str) -> None:
    with PrometheusClient(config.backends.prometheus) as prometheus:
        wait_for(lambda: prometheus.query(promql), timeout=WAIT, what=what)


@contextmanager
def _target_removed(stage: Stage) -> Iterator[None]:
    def drop(groups: Document) -> None:
        groups[:] = [g for g in groups if g["labels"].get("region") != REGION]

    with edited(stage.stack.data_dir / "targets" / "demo.json", drop):
        _wait_until_none(
            stage.config, f'up{{job="demo",region="{REGION}"}}', f"{REGION}'s series to go stale"
        )
        yield


@contextmanager
def _pushgateway_job_removed(stage: Stage) -> Iterator[None]:
    def drop(document: Document) -> None:
        document["scrape_configs"].remove(scrape_job(document, "pushgateway"))

    with PrometheusClient(stage.config.backends.prometheus) as prometheus:
        url = prometheus.backend.base_url
        with reloaded(prometheus_yml(stage.stack), drop, url):
            wait_for(
                lambda: (
                    not [t for t in prometheus.targets() if t["labels"]["job"] == "pushgateway"]
                ),
                timeout=WAIT,
                what="Prometheus to stop scraping the pushgateway",
            )
            yield


# ------------------------------------------------------------------------------ labels


@contextmanager
def _target_region_dropped(stage: Stage) -> Iterator[None]:
    port = stage.config.regions[REGION].port

    def unlabel(groups: Document) -> None:
        group = next(g for g in groups if g["labels"].get("region") == REGION)
        del group["labels"]["region"]

    with edited(stage.stack.data_dir / "targets" / "demo.json", unlabel):
        _wait_until_some(
            stage.config,
            f'up{{job="demo",instance="127.0.0.1:{port}",region=""}} == 1',
            f"the {REGION} target scraped without its region label",
        )
        yield


def _demo_metric_relabel(rule: dict[str, object], settled: str, what: str) -> Apply:
    """One metric_relabel_configs rule added to the demo job; `settled` is PromQL that
    returns nothing once the scrapes carry the change."""

    @contextmanager
    def apply(stage: Stage) -> Iterator[None]:
        def add(document: Document) -> None:
            scrape_job(document, "demo").setdefault("metric_relabel_configs", []).append(rule)

        url = stage.config.backends.prometheus.base_url
        with reloaded(prometheus_yml(stage.stack), add, url):
            _wait_until_none(stage.config, settled, what)
            yield

    return apply


# ------------------------------------------------------------------------------- rules


def rule_edit(shipped: str, change: Callable[[str], str]) -> Apply:
    def apply(stage: Stage) -> AbstractContextManager[None]:
        return rule_file_copy(stage.stack, stage.config, shipped, change)

    return apply


def _without_record(name: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        document = yaml.safe_load(text)
        for group in document["groups"]:
            group["rules"] = [r for r in group["rules"] if r.get("record") != name]
        return yaml.safe_dump(document, sort_keys=False)

    return change


# ----------------------------------------------------------------------------- routing


def alertmanager_edit(change: Callable[[Document], None]) -> Apply:
    """The running stack's alertmanager.yml changed by `change`, reloaded for the mutant."""

    @contextmanager
    def apply(stage: Stage) -> Iterator[None]:
        url = stage.config.backends.alertmanager.base_url
        with reloaded(stage.stack.data_dir / "alertmanager.yml", change, url):
            yield

    return apply


def _p0_of_region_to_chat(document: Document) -> None:
    document["route"]["routes"].insert(
        0, {"receiver": "chat", "matchers": ['priority="P0"', f'region="{REGION}"']}
    )


def _root_route_to_chat(document: Document) -> None:
    document["route"]["receiver"] = "chat"


# ---------------------------------------------------------------------------- the table

TRACES = "traces:probe-traces-complete"
BROWSER_TRACES = "traces:browser-traces-complete"
TRACE_LOGS = "logs:probe-logs-carry-trace-ids"
ERROR_LOGS = "logs:no-error-logs-outside-faults"
REQUESTS = "metrics:demo-requests-every-region"
RULES = "rules:rule-metrics-exist"
PROBE_RESULTS = "probes:probe-results-in-prometheus"
RUM = "rum:browser-sessions-in-rum-store"
TARGETS = "targets:demo-targets-up-with-region"
CARDINALITY = "cardinality:demo-http-cardinality"
LOAD = "load:load-counted-by-service"

MUTANTS = [
    Mutant(
        "demo-ignores-traceparent",
        "producer: demo",
        "the service starts a new trace for every request, ignoring the caller's traceparent",
        demo_defect("traceparent"),
        (TRACES, BROWSER_TRACES),
        "trace context was not propagated",
    ),
    Mutant(
        "demo-logs-without-trace-ids",
        "producer: demo",
        "log records are emitted outside the request's trace context",
        demo_defect("log_trace_ids"),
        (TRACE_LOGS,),
        "logs do not carry the trace context",
    ),
    Mutant(
        "demo-route-label-is-raw-path",
        "producer: demo",
        "http_requests_total's route label carries the raw path, assignment ids included",
        demo_defect("raw_route"),
        (CARDINALITY,),
        "route",
    ),
    Mutant(
        "demo-item-route-not-counted",
        "producer: demo",
        "http_requests_total leaves /v1/assignments/{assignment_id} out, like a health route",
        demo_defect("uncounted_item_route"),
        (LOAD,),
        f"{REGION}: /v1/assignments/{{assignment_id}} 2xx: sent",
        exercise=load_run(REGION),
    ),
    Mutant(
        "demo-assignments-not-counted",
        "producer: demo",
        "demo_assignments_created_total is never incremented",
        demo_defect("uncounted_assignments"),
        ("metrics:probe-assignments-counted",),
        f"{REGION}: counter rose by 0",
    ),
    Mutant(
        "demo-dependency-gauge-zero",
        "producer: demo",
        "demo_dependency_up reports 0 while the database answers",
        demo_defect("dependency_gauge_zero"),
        ("metrics:demo-dependency-up",),
        "value 0 of",
    ),
    Mutant(
        "demo-insert-span-dropped",
        "producer: demo",
        "the db.insert_assignment span is no longer created",
        demo_defect("insert_span_dropped"),
        (TRACES,),
        "missing operation 'db.insert_assignment'",
    ),
    Mutant(
        "demo-spans-in-wrong-region",
        "producer: demo",
        "spans carry another region's cloud.region resource attribute",
        demo_defect("spans_wrong_region"),
        (TRACES, BROWSER_TRACES),
        "cloud.region",
    ),
    Mutant(
        "demo-error-log-per-request",
        "producer: demo",
        "every request also logs an ERROR record",
        demo_defect("error_log_per_request"),
        (ERROR_LOGS,),
        "error-level record(s) in the healthy window",
    ),
    Mutant(
        "probe-sends-no-traceparent",
        "producer: probes",
        "the probes stop sending traceparent (one pass, patched in process)",
        _probe_without_traceparent,
        (TRACES, BROWSER_TRACES),
        f"(assignment-lifecycle, {REGION}): not found",
    ),
    Mutant(
        "sdk-sends-no-web-vitals",
        "producer: SDK",
        "the RUM SDK served at /v1/sdk.js never reports a web vital",
        sdk_defect("sdk_no_vitals"),
        (RUM,),
        "vital",
    ),
    Mutant(
        "sdk-sends-no-api-calls",
        "producer: SDK",
        "the RUM SDK served at /v1/sdk.js never reports an API call (nor its trace id)",
        sdk_defect("sdk_no_api_calls"),
        (RUM,),
        "api_call",
    ),
    Mutant(
        "sdk-stamps-events-in-seconds",
        "producer: SDK",
        "the RUM SDK stamps its events in unix seconds instead of milliseconds",
        sdk_defect("sdk_seconds_timestamps"),
        (RUM,),
        "s after the event, past the",
    ),
    Mutant(
        "pushgateway-grouped-by-host",
        "pipeline: Pushgateway grouping",
        "the probes push every region to one group keyed by host: regions overwrite each other",
        _pushed_by_host,
        (PROBE_RESULTS,),
        "synthetic_check",
    ),
    Mutant(
        "pushgateway-not-scraped",
        "pipeline: scrape",
        "the pushgateway scrape job is removed from prometheus.yml",
        _pushgateway_job_removed,
        (PROBE_RESULTS,),
        "synthetic_check",
    ),
    Mutant(
        "region-target-removed",
        "pipeline: scrape",
        f"the {REGION} target is removed from the demo job's file_sd targets",
        _target_removed,
        (REQUESTS, "metrics:probe-assignments-counted"),
        f"no series for region(s) {REGION}",
    ),
    Mutant(
        "otlp-traces-endpoint-dead",
        "pipeline: OTLP endpoint",
        f"the {REGION} demo exports spans to a port nothing listens on",
        demo_defect("traces_endpoint_dead", dead_endpoint=True),
        (TRACES, BROWSER_TRACES),
        f"(assignment-lifecycle, {REGION}): not found",
    ),
    Mutant(
        "otlp-logs-endpoint-dead",
        "pipeline: OTLP endpoint",
        f"the {REGION} demo exports log records to a port nothing listens on",
        demo_defect("logs_endpoint_dead", dead_endpoint=True),
        (TRACE_LOGS,),
        f"{REGION}): no log record carries this trace id",
    ),
    Mutant(
        "target-region-label-dropped",
        "labels",
        f"the {REGION} file_sd target loses its region label",
        _target_region_dropped,
        (TARGETS,),
        "region",
    ),
    Mutant(
        "route-label-dropped-at-scrape",
        "labels",
        "a metric_relabel_configs rule on the demo job drops the route label",
        _demo_metric_relabel(
            {"action": "labeldrop", "regex": "route"},
            'http_requests_total{job="demo",route!=""}',
            "the demo series with a route label to go stale",
        ),
        (REQUESTS,),
        "lack label 'route'",
    ),
    Mutant(
        "region-label-blanked-at-scrape",
        "labels",
        f"a metric_relabel_configs rule blanks region on {REGION}'s demo series",
        _demo_metric_relabel(
            {
                "source_labels": ["region"],
                "regex": REGION,
                "target_label": "region",
                "replacement": "",
            },
            f'demo_build_info{{job="demo",region="{REGION}"}}',
            f"{REGION}'s demo series with a region label to go stale",
        ),
        (REQUESTS,),
        f"no series for region(s) {REGION}",
    ),
    Mutant(
        "alert-rule-metric-renamed",
        "rules",
        "DependencyDown reads demo_dependency_status instead of demo_dependency_up",
        rule_edit(
            "service-alerts.yml",
            lambda text: replace_once(
                text,
                'expr: demo_dependency_up{job="demo"}',
                'expr: demo_dependency_status{job="demo"}',
            ),
        ),
        (RULES,),
        "uses demo_dependency_status, which no series in Prometheus has",
    ),
    Mutant(
        "recording-rule-input-renamed",
        "rules",
        "the 5m error-ratio recording rule reads http_request_total",
        rule_edit(
            "slo.yml",
            lambda text: replace_once(
                text,
                'rate(http_requests_total{job="demo", status=~"5.."}[5m])',
                'rate(http_request_total{job="demo", status=~"5.."}[5m])',
            ),
        ),
        (RULES,),
        "uses http_request_total, which no series in Prometheus has",
    ),
    Mutant(
        "recording-rule-removed",
        "rules",
        "the region:http_request_errors:ratio_rate5m recording rule is deleted",
        rule_edit("slo.yml", _without_record("region:http_request_errors:ratio_rate5m")),
        (RULES,),
        "region:http_request_errors:ratio_rate5m",
    ),
    Mutant(
        "p0-routed-to-chat",
        "routing",
        f"an Alertmanager route sends {REGION}'s P0 alerts to chat instead of pager",
        alertmanager_edit(_p0_of_region_to_chat),
        ("alerts:service-down-pages",),
        f"ServiceDown for {REGION} reached receiver(s) ['chat'], expected 'pager'",
        exercise=kill_fault(REGION),
    ),
    Mutant(
        "root-route-to-chat",
        "routing",
        "the root route's receiver is chat instead of default (what no other route matches)",
        alertmanager_edit(_root_route_to_chat),
        ("heartbeats:watchdog-reaches-default",),
        "Watchdog reached ['chat'] instead",
    ),
    Mutant(
        "region-not-probed",
        "producer: probes",
        f"the probes leave {REGION} out (its probe CronJob stopped): its counters are an earlier "
        "run's, still scraped",
        _region_left_out_of_the_pass,
        (REQUESTS,),
        f"no series for region(s) {REGION} of this run",
    ),
    Mutant(
        "dependency-alert-on-outage",
        "rules",
        "DependencyDown also fires when the service itself is down (`or up == 0`): during a "
        f"region outage, {REGION} gets a second, wrong alert",
        rule_edit(
            "service-alerts.yml",
            lambda text: replace_once(
                text,
                'expr: demo_dependency_up{job="demo"} == 0',
                'expr: demo_dependency_up{job="demo"} == 0 or up{job="demo"} == 0',
            ),
        ),
        ("quiet:no-unexpected-alerts",),
        "not an alert that fault may cause",
        exercise=kill_fault(REGION),
    ),
    Mutant(
        "alertmanager-dies-mid-run",
        "pipeline: Alertmanager",
        "the Alertmanager stops a few seconds into the run (and stays down until judged): the "
        "heartbeat stops, and Alertmanager's config can no longer be read from it",
        lambda stage: stopped_after_notification(
            stage.stack, stage.config, "alertmanager", "Watchdog"
        ),
        ("heartbeats:watchdog-reaches-default",),
        "no notification of Watchdog -> 'default'",
        exercise=probe_passes_apart(30.0),
    ),
]


# ------------------------------------------- issue 25: nothing to check, evidence not yet in


@contextmanager
def _no_rule_files(stage: Stage) -> Iterator[None]:
    """The rendered prometheus.yml loads no rule files (rule_files emptied), reloaded."""

    def empty(document: Document) -> None:
        document["rule_files"] = []

    with reloaded(prometheus_yml(stage.stack), empty, stage.config.backends.prometheus.base_url):
        yield


SLOW_SCRAPE = 20
"""Seconds between the demo job's scrapes in the slow-scrape mutant: more than the run and
the validation's first look together, more than the cardinality budget."""


@contextmanager
def _raw_route_scraped_slowly(stage: Stage) -> Iterator[None]:
    """REGION's demo labels routes with the raw path, and the demo job is scraped every
    SLOW_SCRAPE s; the block starts right after a scrape at that pace, so the run's requests
    are scraped only after the validation's first look."""
    instance = f"127.0.0.1:{stage.config.regions[REGION].port}"

    def slower(document: Document) -> None:
        scrape_job(document, "demo")["scrape_interval"] = f"{SLOW_SCRAPE}s"

    url = stage.config.backends.prometheus.base_url
    with (
        demo_defect("raw_route")(stage),
        PrometheusClient(stage.config.backends.prometheus) as prometheus,
        reloaded(prometheus_yml(stage.stack), slower, url),
    ):
        # a request before the paced scrapes: the demo's counter has series in the run's window
        httpx.get(f"{str(stage.config.regions[REGION].base_url).rstrip('/')}/", timeout=5)
        promql = f'timestamp(up{{instance="{instance}"}})'
        scrapes: list[float] = []

        def paced() -> bool:
            found = prometheus.query(promql)
            if found and float(found[0]["value"][1]) not in scrapes:
                scrapes.append(float(found[0]["value"][1]))
            return len(scrapes) >= 2 and scrapes[-1] - scrapes[-2] >= SLOW_SCRAPE - 1

        wait_for(
            paced, timeout=3 * SLOW_SCRAPE + WAIT, interval=0.05, max_interval=0.05,
            what=f"two scrapes of {instance} {SLOW_SCRAPE} s apart",
        )  # fmt: skip
        yield


MUTANTS += [
    Mutant(
        "prometheus-loads-no-rules",
        "rules",
        "prometheus.yml's rule_files is emptied: Prometheus loads no rules at all",
        _no_rule_files,
        (RULES,),
        "Prometheus has loaded no rules",
    ),
    Mutant(
        "raw-route-scraped-after-the-look",
        "labels",
        f"{REGION}'s demo labels routes with the raw path, and the demo job is scraped every "
        f"{SLOW_SCRAPE} s: the run's raw-path series land after the validation's first look",
        _raw_route_scraped_slowly,
        (CARDINALITY,),
        "have no sample since the run's end",
        exercise=PLANNED_PROBE_PASS,
    ),
]


# ------------------------------------- issue 25: a renamed experiment, NaN, partial answers

GLOB_EXPECTATION = "service-down-inhibits-burn-alerts"
PARTED_GLOB = "A region pages once, for its cause*"
"""A glob no experiment's title matches: the inhibition experiment's title and the glob of
GLOB_EXPECTATION parted (one of them renamed)."""


@contextmanager
def _glob_naming_no_experiment(stage: Stage) -> Iterator[None]:
    """The stage's config: GLOB_EXPECTATION judges the kill faults of experiments titled
    PARTED_GLOB, which no experiment is (the config `pytest validation/` reads, restored)."""

    def part(document: Document) -> None:
        alerts = document["expectations"]["alerts"]
        expectation = next(e for e in alerts if e["name"] == GLOB_EXPECTATION)
        assert expectation["experiment"] != PARTED_GLOB, expectation
        expectation["experiment"] = PARTED_GLOB

    with edited(stage.suite_config, part):
        yield


@contextmanager
def _remote_store_not_answering(stage: Stage) -> Iterator[None]:
    """prometheus.yml reads, for every query, a remote store that does not answer (a port
    nothing listens on): as a Thanos store or Mimir ingester down, each answer then carries
    `warnings` besides the local samples, complete as they are. Reloaded."""

    def add(document: Document) -> None:
        store = f"http://127.0.0.1:{free_port()}/api/v1/read"
        document["remote_read"] = [{"url": store, "read_recent": True}]

    with reloaded(prometheus_yml(stage.stack), add, stage.config.backends.prometheus.base_url):
        yield


MUTANTS += [
    Mutant(
        "dependency-gauge-nan",
        "producer: demo",
        "demo_dependency_up reports NaN (a 0/0 share of dependency checks) while the database "
        "answers: NaN is neither below min nor above max",
        demo_defect("dependency_gauge_nan"),
        ("metrics:demo-dependency-up",),
        "value NaN of",
    ),
    Mutant(
        "experiment-glob-names-no-title",
        "config: expectations",
        f"{GLOB_EXPECTATION}'s experiment glob becomes {PARTED_GLOB!r}, a title no experiment "
        "has (the inhibition experiment's title and the glob parted): with a kill fault "
        "planned, it skipped as if its experiment had not run",
        _glob_naming_no_experiment,
        (f"alerts:{GLOB_EXPECTATION}",),
        "and no experiment's title matches it",
        exercise=kill_fault(REGION),
    ),
    Mutant(
        "prometheus-remote-store-down",
        "pipeline: Prometheus",
        "prometheus.yml reads a remote store that does not answer (read_recent): every query's "
        "answer carries warnings, the local samples with them, as with a Thanos store down",
        _remote_store_not_answering,
        (REQUESTS, PROBE_RESULTS),
        "answered with warnings",
    ),
]
