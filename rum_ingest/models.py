"""What browsers may send to `POST /v1/events`: typed dicts with limits on every field.

Validated by pydantic (`BATCH.validate_json`) into plain dicts rather than model instances:
pydantic's performance guide recommends TypedDict for hot paths, and here it halves the cost of
validating a batch (30 us against 56 us for 20 events), which is then cheaper than `json.loads`.
Optional fields may be absent: read them with `.get`.
"""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, TypeAdapter, with_config
from typing_extensions import TypedDict

MAX_BODY_BYTES = 256 * 1024
MAX_EVENTS_PER_BATCH = 100
MAX_DURATION_MS = 3_600_000.0  # an hour: anything longer is a broken clock, not a measurement
MAX_TIMESTAMP_MS = 2**53 - 1  # Number.MAX_SAFE_INTEGER: the largest a browser holds exactly
MAX_MEASUREMENT = 1e15  # a custom measurement's magnitude; beyond it, a bug rather than a value


def _whole(value: float) -> int:
    if not value.is_integer():
        raise ValueError("must be a whole number")
    return int(value)


Whole = Annotated[float, AfterValidator(_whole), Field(json_schema_extra={"type": "integer"})]
"""An integer, written as JSON writes one: `7` or `7.0` (the schema's `integer` takes both), not
`true` or `"7"` (which the fields' strict mode refuses)."""


def whole(low: float, high: float, description: str | None = None) -> object:
    """A `Whole` from `low` to `high`."""
    return Annotated[
        float,
        Field(ge=low, le=high),
        AfterValidator(_whole),
        Field(description=description, json_schema_extra={"type": "integer"}),
    ]


ShortText = Annotated[str, StringConstraints(max_length=128)]
UrlText = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
Millis = Annotated[float, Field(ge=0, le=MAX_DURATION_MS)]
SessionId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
]
TraceId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
VitalName = Literal["LCP", "INP", "CLS", "FCP", "TTFB"]
VITAL_NAMES: tuple[VitalName, ...] = ("LCP", "INP", "CLS", "FCP", "TTFB")

strict_numbers = with_config(ConfigDict(allow_inf_nan=False, strict=True))
"""Numbers are JSON numbers (not booleans, not strings; an integer field takes no fraction),
as the schema says; unknown keys are ignored."""


@strict_numbers
class Page(TypedDict):
    url: UrlText
    referrer: NotRequired[Annotated[str, StringConstraints(max_length=2048)] | None]


@strict_numbers
class Viewport(TypedDict):
    width: whole(0, 100_000)
    height: whole(0, 100_000)


@strict_numbers
class _Event(TypedDict):
    session_id: SessionId
    timestamp: whole(0, MAX_TIMESTAMP_MS, "client time, ms")
    page: Page
    user_agent: NotRequired[Annotated[str, StringConstraints(max_length=512)] | None]
    viewport: NotRequired[Viewport | None]
    trace_id: NotRequired[
        Annotated[TraceId | None, Field(description="the trace the event happened in")]
    ]


@strict_numbers
class PageLoadMetrics(TypedDict):
    total: Millis
    dns_lookup: NotRequired[Millis | None]
    tcp_connection: NotRequired[Millis | None]
    tls_negotiation: NotRequired[Millis | None]
    ttfb: NotRequired[Millis | None]
    content_download: NotRequired[Millis | None]
    dom_processing: NotRequired[Millis | None]
    dom_complete: NotRequired[Millis | None]
    onload: NotRequired[Millis | None]


@strict_numbers
class PageLoad(_Event):
    type: Literal["page_load"]
    metrics: PageLoadMetrics


@strict_numbers
class Resource(TypedDict):
    name: UrlText
    type: ShortText
    duration: Millis
    size: NotRequired[whole(0, 10**12) | None]


@strict_numbers
class ResourceLoad(_Event):
    type: Literal["resource_load"]
    resource: Resource


@strict_numbers
class LongTask(_Event):
    type: Literal["long_task"]
    duration: Millis


@strict_numbers
class Api(TypedDict):
    method: Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,10}$")]
    endpoint: UrlText
    duration: Millis
    status: whole(0, 599, "0: failed without a response")
    trace_id: NotRequired[TraceId | None]


@strict_numbers
class ApiCall(_Event):
    type: Literal["api_call"]
    api: Api


@strict_numbers
class Interaction(TypedDict):
    action: ShortText
    target: Annotated[str, StringConstraints(max_length=256)]
    duration: NotRequired[Millis | None]


@strict_numbers
class UserInteraction(_Event):
    type: Literal["user_interaction"]
    interaction: Interaction


@strict_numbers
class ErrorDetail(TypedDict):
    message: Annotated[str, StringConstraints(max_length=2048)]
    stack: NotRequired[Annotated[str, StringConstraints(max_length=8192)] | None]
    kind: NotRequired[ShortText | None]


@strict_numbers
class Error(_Event):
    type: Literal["error"]
    error: ErrorDetail


@strict_numbers
class Vital(TypedDict):
    name: VitalName
    value: Annotated[float, Field(ge=0, le=MAX_DURATION_MS, description="ms; CLS unitless")]
    rating: NotRequired[Literal["good", "needs-improvement", "poor"] | None]
    attribution: NotRequired[
        Annotated[
            dict[ShortText, float | Annotated[str, StringConstraints(max_length=512)]],
            Field(max_length=96, description="what caused the value, as web-vitals reports it"),
        ]
        | None
    ]


@strict_numbers
class WebVital(_Event):
    type: Literal["web_vital"]
    vital: Vital


LogLevel = Literal["trace", "debug", "info", "log", "warn", "error"]
Context = Annotated[
    dict[ShortText, Annotated[str, StringConstraints(max_length=512)]], Field(max_length=64)
]


@strict_numbers
class LogDetail(TypedDict):
    level: LogLevel
    message: Annotated[str, StringConstraints(max_length=2048)]
    context: NotRequired[Context | None]


@strict_numbers
class Log(_Event):
    type: Literal["log"]
    log: LogDetail


@strict_numbers
class CustomDetail(TypedDict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    domain: NotRequired[ShortText | None]
    attributes: NotRequired[Context | None]


@strict_numbers
class CustomEvent(_Event):
    """An event the app names itself (`pushEvent`), or a session's start, resume or extension."""

    type: Literal["custom_event"]
    custom: CustomDetail


@strict_numbers
class MeasurementDetail(TypedDict):
    name: Annotated[
        str,
        StringConstraints(min_length=1, max_length=128),
        Field(description="`type.key`, e.g. cart.items"),
    ]
    value: Annotated[float, Field(ge=-MAX_MEASUREMENT, le=MAX_MEASUREMENT)]
    context: NotRequired[Context | None]


@strict_numbers
class Measurement(_Event):
    """A number the app measures itself (`pushMeasurement`), in its own unit."""

    type: Literal["measurement"]
    measurement: MeasurementDetail


Event = Annotated[
    PageLoad
    | ResourceLoad
    | LongTask
    | ApiCall
    | UserInteraction
    | Error
    | WebVital
    | Log
    | CustomEvent
    | Measurement,
    Field(discriminator="type"),
]
EVENTS = TypeAdapter(list[Event])
"""Events without the batch's limit on their number: a Faro payload's items become many."""


@strict_numbers
class AppContext(TypedDict, total=False):
    version: ShortText | None
    region: ShortText | None


@strict_numbers
class Batch(TypedDict):
    events: Annotated[list[Event], Field(min_length=1, max_length=MAX_EVENTS_PER_BATCH)]
    app: NotRequired[AppContext]


BATCH = TypeAdapter(Batch)
