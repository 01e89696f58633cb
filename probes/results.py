"""What one check run in one region found; the JSON summary and the ledger are made of these."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CheckResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    check: str
    check_type: Literal["http", "workflow", "browser"]
    region: str
    endpoint: str
    trace_id: str
    start: float
    end: float
    duration: float = Field(description="seconds taken by the last attempt")
    outcome: Literal["success", "failure"]
    error_class: str | None = None
    error: str | None = None
    attempts: int
    failed_step: str | None = None
    status: int | None = None
    phases: dict[str, float] = Field(default_factory=dict)
    cert_expiry: float | None = None
    steps: list[dict[str, Any]] = Field(default_factory=list)
    web_vitals: dict[str, float | None] = Field(default_factory=dict)
    navigation: dict[str, float] = Field(default_factory=dict)
    screenshot: str | None = None
    console_errors: list[str] = Field(default_factory=list)
    rum_session_id: str | None = Field(
        None, description="browser checks: the session the page's RUM SDK reported under"
    )

    @property
    def passed(self) -> bool:
        return self.outcome == "success"

    def ledger_fields(self) -> dict[str, Any]:
        """The `probe` ledger entry of the foundation contract (plus duration and message)."""
        return self.model_dump(
            include={
                "check", "check_type", "region", "endpoint", "trace_id", "start", "end",
                "outcome", "error_class", "attempts", "failed_step", "duration", "error",
                "rum_session_id",
            }
        )  # fmt: skip
