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

    attempts: int = Field(1, ge=1, le=10)
    backoff: Literal["fixed", "linear", "exponential"] = "fixed"
    delay: Annotated[float, Field(ge=0)] = 1.0
    max_delay: Seconds = 30.0

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

    status: list[Annotated[int, Field(ge=100, le=599)]] = Field(default_factory=lambda: [200])
    body_contains: str | None = None
    json_values: dict[str, Any] = Field(default_factory=dict, alias="json")


class Request(_Model):
    """One HTTP request relative to a region's base URL.

    `${name}` in path, header values and body is replaced by a value captured earlier in a
    workflow or, failing that, by the environment variable `name` (`${name:-default}`).
    """

    method: str = "GET"
    path: str = "/"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    json_body: Any = Field(None, alias="json")
    expect: Expect = Expect()
    timeout: Seconds = 5.0
    verify_tls: bool = True
    follow_redirects: bool = True
    max_redirects: int = Field(10, ge=0, le=50)

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
        expected JSON values)."""
        texts = (
            self.path,
            self.body or "",
            json.dumps(self.json_body),
            json.dumps(self.expect.json_values),
            *self.headers.values(),
        )
        return {m[1] for text in texts for m in VARIABLE.finditer(text) if m[2] is None}


class _Check(_Model):
    name: str
    timeout: Seconds = Field(30.0, description="deadline of one attempt of the whole check")
    retries: Retry = Retry()

    @field_validator("name")
    @classmethod
    def _label_safe_name(cls, name: str) -> str:
        if not CHECK_NAME.match(name):
            raise ValueError(
                "name must be 1-63 characters of a-z, 0-9, '-' or '_' (it is a metric label)"
            )
        return name


class HttpCheck(_Check, Request):
    type: Literal["http"]


class WorkflowStep(Request):
    """A workflow request; `capture` maps a variable name to a JSON path in the response."""

    name: str
    capture: dict[str, str] = Field(default_factory=dict)


class WorkflowCheck(_Check):
    """Steps run in order; `cleanup` steps run afterwards whatever happened.

    A cleanup step runs only when every `${variable}` it uses was captured, so a workflow
    that failed before creating anything does not try to delete it.
    """

    type: Literal["workflow"]
    steps: list[WorkflowStep] = Field(min_length=1)
    cleanup: list[WorkflowStep] = Field(default_factory=list)

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

    type: Literal["browser"]
    path: str = "/"
    wait_for_selector: str | None = None
    wait_for_text: str | None = None
    script: Path | None = None
    navigation_timeout: Seconds = 15.0


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
