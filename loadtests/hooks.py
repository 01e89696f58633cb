"""Locust event hooks: the plan option, per-route counting, thresholds and the ledger entry.

Workers count the requests their users send (`events.request`), by Locust request name and
target (the region's service, the RUM ingest, or any other host a user's own locustfile
sends to), and hand the counts to the master with each report; the master (or the single
local process) merges them and, when the run ends, evaluates the thresholds, writes the
result file and appends the `load` entry to the run ledger. The process exits 1 when a
threshold is broken, else 0.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

import gevent
from locust import events
from locust.env import Environment
from locust.runners import WORKER_REPORT_INTERVAL, MasterRunner, WorkerRunner

from signalcheck.ledger import Ledger
from signalcheck.loadtests.counting import RUM, SERVICE, RequestCounts
from signalcheck.loadtests.plan import PLAN_ATTRIBUTE, PLAN_OPTION, plan_of

REPORT_KEY = "signalcheck_counts"
FINAL_REPORT_WAIT = 2 * WORKER_REPORT_INTERVAL + 1.0
"""Seconds the master waits, once the users stopped, for each worker's next report: a
worker sends its last requests' counts with its next periodic report, and Locust's own
final report (sent on quit) has only 0.5 s to arrive before the master stops listening."""

counts = RequestCounts()
run: dict[str, float] = {}
"""When this process saw the run start, how many workers it had then (master), and the most
users it ran at once."""
process: dict[str, Environment] = {}
"""This process's Locust environment (kept on init): its `host` is the region's service (a
worker learns it from the master's first spawn message)."""
reported: dict[str, float] = {}
"""Worker id -> when the master last merged its counts."""


@events.init_command_line_parser.add_listener
def _add_plan_option(parser: Any) -> None:
    parser.add_argument(
        PLAN_OPTION,
        dest=PLAN_ATTRIBUTE,
        default="",
        include_in_web_ui=False,
        help="The run's plan (JSON), as `signalcheck load` writes it.",
    )


@events.request.add_listener
def _count_request(
    name: str,
    response_time: float,
    response: Any = None,
    context: dict[str, Any] | None = None,
    start_time: float | None = None,
    url: str | None = None,
    **_: Any,
) -> None:
    end = time.time()
    start = start_time if start_time is not None else end - response_time / 1000
    status = getattr(response, "status_code", None)
    counts.add((context or {}).get("target") or _target(url), name, status, start, end)


def _target(url: str | None) -> str:
    """Who a request without a `target` in its context went to: the region's service when its
    URL is on the run's host, else that URL's `host:port` (`unknown` without a URL)."""
    origin = _origin(url or "")
    if origin and origin == _origin(process["environment"].host or ""):
        return SERVICE
    return urlsplit(url or "").netloc or "unknown"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.netloc else ""


@events.init.add_listener
def _keep_environment(environment: Environment, **_: Any) -> None:
    process["environment"] = environment


@events.spawning_complete.add_listener
def _note_users(user_count: int) -> None:
    run["peak_users"] = max(run.get("peak_users", 0), user_count)


@events.report_to_master.add_listener
def _send_counts(client_id: str, data: dict[str, Any]) -> None:
    data[REPORT_KEY] = counts.drain()


@events.worker_report.add_listener
def _merge_counts(client_id: str, data: dict[str, Any]) -> None:
    if REPORT_KEY in data:
        counts.merge(data[REPORT_KEY])
        reported[client_id] = time.time()


@events.test_stop.add_listener
def _await_final_reports(environment: Environment, **_: Any) -> None:
    """On the master: wait (at most FINAL_REPORT_WAIT) until every worker that reported
    has reported again since its users stopped, so no request is left uncounted."""
    if not isinstance(environment.runner, MasterRunner):
        return
    stopped = time.time()
    deadline = stopped + FINAL_REPORT_WAIT
    while time.time() < deadline and any(t <= stopped for t in reported.values()):
        gevent.sleep(0.1)


@events.test_start.add_listener
def _note_start(environment: Environment, **_: Any) -> None:
    if "start" not in run:
        run["start"] = time.time()
        master = isinstance(environment.runner, MasterRunner)
        run["workers"] = environment.runner.worker_count if master else 0


@events.quitting.add_listener
def _record_run(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner) or "start" not in run:
        return
    plan = plan_of(environment)
    total = environment.stats.total
    p95 = total.get_response_time_percentile(0.95) if total.num_requests else None
    results = plan.thresholds.evaluate(total.fail_ratio, p95)
    entry = {
        "profile": plan.profile,
        "shape": plan.own_shape or plan.shape,
        "region": plan.region,
        "locustfile": str(plan.locustfile) if plan.locustfile else None,
        "user_classes": list(plan.user_classes),
        "user_mix": {} if plan.locustfile else plan.user_mix,
        "start": run["start"],
        "end": counts.last_end or time.time(),
        "users": int(run.get("peak_users", 0)) if plan.own_shape else plan.users,
        "workers": int(run["workers"]),
        "requests": counts.of(SERVICE),
        "rum_requests": counts.of(RUM),
        "other_requests": counts.others(),
        "total_requests": total.num_requests,
        "failures": total.num_failures,
        "error_rate": total.fail_ratio,
        "p95_ms": p95,
        "thresholds": [result.model_dump() for result in results],
        "passed": all(result.passed for result in results),
    }
    if plan.ledger is not None:
        Ledger(plan.ledger).append("load", **entry)
    if plan.result is not None:
        plan.result.write_text(json.dumps(entry, indent=2))
    environment.process_exit_code = 0 if entry["passed"] else 1
