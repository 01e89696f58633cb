"""Push a pass's results to the Pushgateway: one group per region, so regions never erase
each other's results (a PUT replaces only its own group)."""

from __future__ import annotations

import base64
import re
from collections import defaultdict

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from signalcheck.backends.pushgateway import PushgatewayClient
from signalcheck.config import Backend
from signalcheck.errors import BackendError, PushError
from signalcheck.ledger import Ledger
from signalcheck.probes.metrics import ProbeMetrics
from signalcheck.probes.results import CheckResult

PUSH_JOB = "synthetic-probes"
_PLAIN_LABEL_VALUE = re.compile(r"^[A-Za-z0-9_.-]+$")


def group_path(job: str, **grouping_key: str) -> str:
    """`/metrics/job/<job>/<label>/<value>...`, base64-encoding values that need it."""
    path = f"/metrics/job/{job}"
    for label, value in grouping_key.items():
        if _PLAIN_LABEL_VALUE.match(value):
            path += f"/{label}/{value}"
        else:
            path += f"/{label}@base64/{base64.urlsafe_b64encode(value.encode()).decode()}"
    return path


def push_results(
    backend: Backend, results: list[CheckResult], ledger: Ledger, job: str = PUSH_JOB
) -> None:
    """PUT each region's metrics to its own group `{job, region}`; each group the gateway
    accepted is a `push` entry in `ledger` (when the results became scrapeable)."""
    by_region: dict[str, ProbeMetrics] = defaultdict(ProbeMetrics)
    checks: dict[str, list[str]] = defaultdict(list)
    for result in results:
        by_region[result.region].record(result)
        checks[result.region].append(result.check)
    with PushgatewayClient(backend) as client:
        for region, metrics in by_region.items():
            path = group_path(job, region=region)
            try:
                response = client.request(
                    "PUT",
                    path,
                    content=generate_latest(metrics.registry),
                    headers={"Content-Type": CONTENT_TYPE_LATEST},
                )
            except BackendError as exc:
                raise PushError(str(exc)) from None
            if response.is_error:
                raise PushError(
                    f"pushgateway: PUT {backend.base_url}{path} returned {response.status_code}: "
                    f"{response.text[:200]}"
                )
            ledger.append("push", region=region, job=job, checks=sorted(checks[region]))
