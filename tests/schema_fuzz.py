"""Schemathesis against a served API: cases generated from its OpenAPI schema, none may 5xx."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

REQUEST_TIMEOUT = 5.0
SCHEMA_TIMEOUT = 10.0


@dataclass
class FuzzReport:
    cases: int = 0
    server_errors: list[str] = field(default_factory=list)
    """`METHOD path -> status: body` of every answer >= 500."""
    statuses: dict[int, int] = field(default_factory=dict)
    unsatisfiable: list[str] = field(default_factory=list)
    """Operations and modes no case could be generated for."""


def fuzz(
    base_url: str, credentials: Callable[[schemathesis.Case], dict[str, str]], examples: int
) -> FuzzReport:
    """Up to `examples` valid and as many invalid cases per operation of the schema at
    `base_url/openapi.json`, each sent with the headers `credentials` gives for it."""
    schema = schemathesis.openapi.from_url(
        f"{base_url}/openapi.json", wait_for_schema=SCHEMA_TIMEOUT
    )
    report = FuzzReport()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,  # the same cases every run: a failure reproduces
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def send(case: schemathesis.Case) -> None:
                response = case.call(
                    base_url=base_url, headers=credentials(case), timeout=REQUEST_TIMEOUT
                )
                report.cases += 1
                status = response.status_code
                report.statuses[status] = report.statuses.get(status, 0) + 1
                if status >= 500:
                    report.server_errors.append(
                        f"{case.method} {case.formatted_path} -> {status}: {response.text[:300]}"
                    )

            try:
                send()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                report.unsatisfiable.append(f"{operation.label} ({mode.value})")
    return report
