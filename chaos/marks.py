"""The `signalcheck` mark on any Chaos Toolkit action, whatever its provider (python, process,
http): the fault it injects (`{"fault": "latency", "region": "eu-west-1"}`) or the fault it
restores (`{"restores": "latency"}`: a fault name or the name of the injecting action, and
optionally the `region`). The control writes the ledger's `fault` entries from these marks.
A probe of the method or rollbacks may be marked `restores` too: it ends a fault that heals by
itself (a killed pod its Deployment replaces) once it succeeds.

A fault's mark may also declare `alerts`: the alerts it may cause in its region besides those
of the alert expectations for its fault (`{"fault": "errors", "region": "eu-west-1", "alerts":
["ErrorBudgetBurnFast"]}`); the `quiet` expectation and "for the faulted region only" accept
no other alert in that region while the fault lasts. `signalcheck.chaos.actions` activities
record their own faults: their mark may declare `alerts` only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chaoslib import substitute
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from signalcheck.chaos.faultlog import injected_by
from signalcheck.chaos.targets import ACTIONS_MODULE, MARK_KEY
from signalcheck.errors import MarkError
from signalcheck.ledger import Entry

FAULT_NAME = r"^[a-z][a-z0-9_-]{0,62}$"
SECTIONS = ("method", "rollbacks")
"""Where marked actions may stand (the steady-state hypothesis holds probes only)."""


class Mark(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fault: str | None = Field(None, pattern=FAULT_NAME)
    """What the action breaks: the `fault` an alert expectation names (e.g. latency)."""
    region: str | None = Field(None, min_length=1)
    """The region it breaks (a fault needs one; a restore without one restores every region)."""
    restores: str | None = Field(None, min_length=1)
    """The fault name, or the name of the injecting action, this action undoes."""
    alerts: list[str] = Field(default_factory=list)
    """Alerts the fault may cause in its region besides its alert expectations' (a fault's)."""

    @model_validator(mode="after")
    def _one_role(self) -> Mark:
        if self.fault is None and self.restores is None and self.alerts:
            return self  # the alerts of a signalcheck.chaos.actions injection
        if (self.fault is None) == (self.restores is None):
            raise ValueError("expected exactly one of 'fault' (with 'region') or 'restores'")
        if self.restores is not None and self.alerts:
            raise ValueError("'alerts' are a fault's: a restore causes none")
        if self.fault is not None and self.region is None:
            raise ValueError("a 'fault' needs the 'region' it breaks")
        return self

    def resolved_region(self, configuration: dict[str, Any] | None) -> str | None:
        """The region with `${...}` configuration values substituted."""
        if self.region is None:
            return None
        return str(substitute(self.region, configuration or {}, {}))

    def restores_fault(self, fault: Entry, configuration: dict[str, Any] | None) -> bool:
        """Whether this restore undoes `fault` (by fault name or injecting action's name)."""
        named = self.restores in (fault.field("action"), injected_by(fault))
        region = self.resolved_region(configuration)
        return named and region in (None, fault.field("region"))


def mark_of(activity: dict[str, Any]) -> Mark | None:
    """The activity's mark, None when it has none; MarkError naming the activity and what is
    expected when the mark is malformed."""
    raw = activity.get(MARK_KEY)
    if raw is None:
        return None
    where = f"activity {activity.get('name')!r}: {MARK_KEY!r}"
    own = (activity.get("provider") or {}).get("module") == ACTIONS_MODULE
    if own and (not isinstance(raw, dict) or set(raw) != {"alerts"}):
        raise MarkError(
            f"{where}: {ACTIONS_MODULE} actions record their own faults; their mark may only "
            'declare the alerts the fault may cause ({"alerts": ["<alert>", ...]})'
        )
    try:
        mark = Mark.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'mark'}: {e['msg']}" for e in exc.errors()
        )
        raise MarkError(
            f'{where}: {problems} (expected {{"fault": "<name>", "region": "<region>"}} or '
            f'{{"restores": "<fault or action name>"}})'
        ) from None
    if mark.fault is not None and activity.get("type") != "action":
        raise MarkError(f"{where}: only an action can be a fault, not a {activity.get('type')}")
    if mark.fault is None and mark.restores is None and not own:
        raise MarkError(f"{where}: 'alerts' declares what a fault may cause: mark the fault")
    return mark


def marked(experiment: dict[str, Any], section: str) -> Iterator[tuple[dict[str, Any], Mark]]:
    """(activity, mark) of every marked activity of the experiment's `section`, in order."""
    for activity in experiment.get(section) or []:
        mark = mark_of(activity)
        if mark is not None:
            yield activity, mark


def check_marks(experiment: dict[str, Any]) -> None:
    """MarkError for the first malformed mark, or a mark outside the method and rollbacks."""
    for section in SECTIONS:
        list(marked(experiment, section))
    for probe in (experiment.get("steady-state-hypothesis") or {}).get("probes") or []:
        if MARK_KEY in probe:
            raise MarkError(
                f"activity {probe.get('name')!r}: {MARK_KEY!r}: a steady-state probe neither "
                "injects nor restores a fault; mark an action (or a method or rollback probe "
                "that waits for a recovery, with 'restores')"
            )


def fault_params(activity: dict[str, Any]) -> dict[str, str]:
    """The `params` of a marked action's fault entry: which action injected it, and how."""
    return {"activity": str(activity.get("name")), "provider": str(activity["provider"]["type"])}


def failure(activity: dict[str, Any], run: dict[str, Any] | None) -> str | None:
    """Why the activity's run did not do its job, None when it did: chaoslib records an HTTP
    error status or a non-zero exit code as a success (it only logs a warning)."""
    if run is None:
        return "interrupted"
    if run.get("status") != "succeeded":
        return f"{run.get('status')}: {' '.join(run.get('exception') or [])[-300:].strip()}"
    output = run.get("output")
    status = output.get("status") if isinstance(output, dict) else None
    kind = activity["provider"]["type"]
    if kind == "http" and isinstance(status, int) and status >= 400:
        return f"HTTP {status}"
    if kind == "process" and isinstance(status, int) and status != 0:
        return f"exit code {status}"
    return None
