"""What browsers may send to `POST /v1/events`: pydantic models with limits on every field."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_BODY_BYTES = 256 * 1024
MAX_EVENTS_PER_BATCH = 100
MAX_DURATION_MS = 3_600_000.0  # an hour: anything longer is a broken clock, not a measurement
MAX_TIMESTAMP_MS = 2**53  # the largest integer a browser's Number holds exactly

ShortText = Annotated[str, StringConstraints(max_length=128)]
UrlText = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
Millis = Annotated[float, Field(ge=0, le=MAX_DURATION_MS)]
SessionId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
]
TraceId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
VitalName = Literal["LCP", "INP", "CLS", "FCP", "TTFB"]
VITAL_NAMES: tuple[VitalName, ...] = ("LCP", "INP", "CLS", "FCP", "TTFB")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, frozen=True)


class Page(_Model):
    url: UrlText
    referrer: Annotated[str, StringConstraints(max_length=2048)] | None = None


class Viewport(_Model):
    width: int = Field(ge=0, le=100_000)
    height: int = Field(ge=0, le=100_000)


class _Event(_Model):
    session_id: SessionId
    timestamp: int = Field(ge=0, le=MAX_TIMESTAMP_MS, description="client time, unix ms")
    page: Page
    user_agent: Annotated[str, StringConstraints(max_length=512)] | None = None
    viewport: Viewport | None = None


class PageLoadMetrics(_Model):
    total: Millis
    dns_lookup: Millis | None = None
    tcp_connection: Millis | None = None
    tls_negotiation: Millis | None = None
    ttfb: Millis | None = None
    content_download: Millis | None = None
    dom_processing: Millis | None = None
    dom_complete: Millis | None = None
    onload: Millis | None = None


class PageLoad(_Event):
    type: Literal["page_load"]
    metrics: PageLoadMetrics


class Resource(_Model):
    name: UrlText
    type: ShortText
    duration: Millis
    size: int | None = Field(default=None, ge=0, le=10**12)


class ResourceLoad(_Event):
    type: Literal["resource_load"]
    resource: Resource


class LongTask(_Event):
    type: Literal["long_task"]
    duration: Millis


class Api(_Model):
    method: Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,10}$")]
    endpoint: UrlText
    duration: Millis
    status: int = Field(ge=0, le=599, description="0 when the request failed without a response")
    trace_id: TraceId | None = None


class ApiCall(_Event):
    type: Literal["api_call"]
    api: Api


class Interaction(_Model):
    action: ShortText
    target: Annotated[str, StringConstraints(max_length=256)]
    duration: Millis | None = None


class UserInteraction(_Event):
    type: Literal["user_interaction"]
    interaction: Interaction


class ErrorDetail(_Model):
    message: Annotated[str, StringConstraints(max_length=2048)]
    stack: Annotated[str, StringConstraints(max_length=8192)] | None = None
    kind: ShortText | None = None


class Error(_Event):
    type: Literal["error"]
    error: ErrorDetail


class Vital(_Model):
    name: VitalName
    value: float = Field(ge=0, le=MAX_DURATION_MS, description="ms, or unitless for CLS")
    rating: Literal["good", "needs-improvement", "poor"] | None = None


class WebVital(_Event):
    type: Literal["web_vital"]
    vital: Vital


Event = Annotated[
    PageLoad | ResourceLoad | LongTask | ApiCall | UserInteraction | Error | WebVital,
    Field(discriminator="type"),
]


class AppContext(_Model):
    version: ShortText | None = None
    region: ShortText | None = None


class Batch(_Model):
    events: list[Event] = Field(min_length=1, max_length=MAX_EVENTS_PER_BATCH)
    app: AppContext = AppContext()
