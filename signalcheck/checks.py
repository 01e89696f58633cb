"""Synthetic check declarations (the `checks:` section of the config).

Three types: `http` (one request), `workflow` (ordered requests with captured values and
cleanup) and `browser` (a page in Chromium, or the user's own Playwright script). Every
check has a name (a bounded metric label value), a deadline and a retry policy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CHECK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

Seconds = Annotated[float, Field(gt=0, description="seconds")]
VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*)(?::-([^}]*))?\}")
"""`${name}` or `${name:-default}` in a request template."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Retry(_Model):
    """How often to try a check and how long to wait between attempts."""

    attempts: int = Field(
        1,
        ge=1,
        le=10,
        description="how many times the check is tried, the first included (1: no retry); it "
        "passes when an attempt passes",
    )
    backoff: Literal["fixed", "linear", "exponential"] = Field(
        "fixed",
        description="how the wait grows: fixed (delay each time), linear (delay times the "
        "attempt number), exponential (delay, doubled after each attempt)",
    )
    delay: Annotated[float, Field(ge=0)] = Field(
        1.0,
        description="seconds to wait after the first failed attempt",
    )
    max_delay: Seconds = Field(
        30.0,
        description="the longest wait between two attempts, in seconds",
    )

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if self.backoff == "fixed":
            delay = self.delay
        elif self.backoff == "linear":
            delay = self.delay * attempt
        else:
            delay = self.delay * 2 ** (attempt - 1)
        return min(delay, self.max_delay)


class Expect(_Model):
    """What a response must look like; `json` maps a path like `$.items[0].id` to a value."""

    status: list[Annotated[int, Field(ge=100, le=599)]] = Field(
        default_factory=lambda: [200],
        description="the status codes that pass",
    )
    body_contains: str | None = Field(
        None,
        description="text the response body must contain; may use ${name}; null: not checked",
    )
    json_values: dict[str, Any] = Field(
        default_factory=dict,
        alias="json",
        description="JSON path (e.g. `$.items[0].id`) → the value the response's JSON must hold "
        "there; values may use ${name}",
    )


class Request(_Model):
    """One HTTP request relative to a region's base URL.

    `${name}` in path, header values and body is replaced by a value captured earlier in a
    workflow or, failing that, by the environment variable `name` (`${name:-default}`).
    """

    method: str = Field(
        "GET",
        description="the HTTP method: GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS",
    )
    path: str = Field(
        "/",
        description="the request path relative to the region's base_url, starting with /; may use "
        "${name}",
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="request headers; values may use ${name} (e.g. a token captured by an earlier "
        "step)",
    )
    body: str | None = Field(
        None,
        description="a raw request body (not with json); may use ${name}",
    )
    json_body: Any = Field(
        None,
        alias="json",
        description="a JSON request body (not with body); its strings may use ${name}",
    )
    expect: Expect = Field(
        Expect(),
        description="what the response must look like; default: status 200",
    )
    timeout: Seconds = Field(5.0, description="seconds the request may take")
    verify_tls: bool = Field(
        True,
        description="verify the region's TLS certificate; false accepts any (e.g. self-signed)",
    )
    follow_redirects: bool = Field(
        True,
        description="follow 3xx redirects (the final response is judged); false judges the "
        "redirect itself",
    )
    max_redirects: int = Field(
        10,
        ge=0,
        le=50,
        description="the most redirects followed before the check fails",
    )

    @field_validator("method")
    @classmethod
    def _known_method(cls, method: str) -> str:
        if method.upper() not in HTTP_METHODS:
            raise ValueError(f"method must be one of {', '.join(HTTP_METHODS)}")
        return method.upper()

    @field_validator("path")
    @classmethod
    def _relative_path(cls, path: str) -> str:
        if not path.startswith("/"):
            raise ValueError("path must start with '/' (it is relative to the region's base_url)")
        return path

    @model_validator(mode="after")
    def _one_body(self) -> Request:
        if self.body is not None and self.json_body is not None:
            raise ValueError("give either body or json, not both")
        return self

    def variables(self) -> set[str]:
        """The `${name}`s this request uses without a default (in its path, headers, body and
        expected body text and JSON values)."""
        texts = (
            self.path,
            self.body or "",
            json.dumps(self.json_body),
            self.expect.body_contains or "",
            json.dumps(self.expect.json_values),
            *self.headers.values(),
        )
        return {m[1] for text in texts for m in VARIABLE.finditer(text) if m[2] is None}


class _Check(_Model):
    name: str = Field(
        description="the check's name, unique among the checks: the `check` label of its metrics "
        "and the name of its ledger entries (1-63 of a-z, 0-9, - and _)",
    )
    timeout: Seconds = Field(30.0, description="deadline of one attempt of the whole check")
    retries: Retry = Field(
        Retry(),
        description="how often to try the check and how long to wait between attempts; default: "
        "once",
    )

    @field_validator("name")
    @classmethod
    def _label_safe_name(cls, name: str) -> str:
        if not CHECK_NAME.match(name):
            raise ValueError(
                "name must be 1-63 characters of a-z, 0-9, '-' or '_' (it is a metric label)"
            )
        return name


class HttpCheck(_Check, Request):
    """One HTTP request to every region: the keys of a request plus the check's name, timeout and
    retries."""

    type: Literal["http"] = Field(description="http: one request")


class WorkflowStep(Request):
    """A workflow request; `capture` maps a variable name to a JSON path in the response."""

    name: str = Field(description="the step's name, unique within the workflow (steps and cleanup)")
    capture: dict[str, str] = Field(
        default_factory=dict,
        description="variable name → JSON path in the response (e.g. `$.id`); later steps use the "
        "value as ${name}",
    )


class WorkflowCheck(_Check):
    """Steps run in order; `cleanup` steps run afterwards whatever happened.

    A cleanup step runs only when every `${variable}` it uses was captured, so a workflow
    that failed before creating anything does not try to delete it.
    """

    type: Literal["workflow"] = Field(
        description="workflow: requests in order, values captured from one used by the next",
    )
    steps: list[WorkflowStep] = Field(
        min_length=1,
        description="the requests, in order; the check fails at the first step that fails",
    )
    cleanup: list[WorkflowStep] = Field(
        default_factory=list,
        description="requests run after the steps whatever happened, each only when every "
        "${variable} it uses was captured",
    )

    @model_validator(mode="after")
    def _unique_step_names(self) -> WorkflowCheck:
        names = [step.name for step in [*self.steps, *self.cleanup]]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"step names must be unique; repeated: {', '.join(duplicates)}")
        return self


class BrowserCheck(_Check):
    """Load `path` in Chromium and wait for a selector or text, or run a Playwright script.

    `script` is a Python file defining `async def run(page, context)`; relative paths are
    relative to the config file.
    """

    type: Literal["browser"] = Field(
        description="browser: a page in headless Chromium (Playwright)",
    )
    path: str = Field("/", description="the page loaded, relative to the region's base_url")
    wait_for_selector: str | None = Field(
        None,
        description="a CSS selector that must appear on the page; null: not waited for",
    )
    wait_for_text: str | None = Field(
        None,
        description="text that must appear on the page; null: not waited for",
    )
    script: Path | None = Field(
        None,
        description="a Playwright script run instead: a Python file (relative to the config file) "
        "defining `async def run(page, context)`",
    )
    navigation_timeout: Seconds = Field(15.0, description="seconds the page's navigation may take")


Check = Annotated[HttpCheck | WorkflowCheck | BrowserCheck, Field(discriminator="type")]


def unset_variables(checks: Iterable[Any], environ: Mapping[str, str]) -> list[str]:
    """Each `${name}` a check would fail on: used without a default, set neither by the
    environment nor (in a workflow) captured by an earlier step; as 'check, step: ${name}'.
    A cleanup step may use what any step captures: it is skipped when that was not captured."""
    unset = []
    for check in checks:
        if isinstance(check, HttpCheck):
            unset += [f"{check.name}: ${{{n}}}" for n in sorted(check.variables() - environ.keys())]
        if not isinstance(check, WorkflowCheck):
            continue
        captured: set[str] = set()
        for step in check.steps:
            for name in sorted(step.variables() - captured - environ.keys()):
                unset.append(f"{check.name}, step {step.name}: ${{{name}}}")
            captured |= step.capture.keys()
        for step in check.cleanup:
            for name in sorted(step.variables() - captured - environ.keys()):
                unset.append(f"{check.name}, cleanup step {step.name}: ${{{name}}}")
            captured |= step.capture.keys()
    return unset


def unique_check_names(checks: list[Any]) -> list[Any]:
    """Validator for the config's `checks` list: names identify series and ledger entries."""
    names = [check.name for check in checks]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"check names must be unique; repeated: {', '.join(duplicates)}")
    return checks
