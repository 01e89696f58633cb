"""The Alertmanager webhook payload (version "4") and the per-alert rows stored from it.

Alertmanager's ``webhook_config`` POSTs one JSON document per notification of an alert
group::

    {"version": "4", "groupKey": "...", "truncatedAlerts": 0, "status": "firing|resolved",
     "receiver": "pager", "groupLabels": {...}, "commonLabels": {...},
     "commonAnnotations": {...}, "externalURL": "http://...:9093",
     "alerts": [{"status": "firing|resolved", "labels": {...}, "annotations": {...},
                 "startsAt": "RFC3339", "endsAt": "RFC3339", "generatorURL": "...",
                 "fingerprint": "..."}]}

The receiver stores one :class:`Notification` per alert, with the payload's ``receiver``.
Times become unix seconds; Alertmanager's zero time (``0001-01-01T00:00:00Z``, an alert
that has not ended) becomes ``None``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from signalcheck.capture.otlp import CaptureInputError

__all__ = [
    "WEBHOOK_VERSION",
    "Notification",
    "WebhookAlert",
    "WebhookDecodeError",
    "WebhookPayload",
    "decode_webhook",
    "notifications_from_payload",
]

WEBHOOK_VERSION = "4"
AlertStatus = Literal["firing", "resolved"]


class WebhookDecodeError(CaptureInputError):
    """The webhook body is not a valid Alertmanager payload (HTTP 400)."""

    status = 400


class WebhookAlert(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime | None = Field(default=None, alias="startsAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")
    fingerprint: str = ""


class WebhookPayload(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    version: Literal["4"]
    group_key: str = Field(default="", alias="groupKey")
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts")
    status: AlertStatus
    receiver: str
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL")
    alerts: list[WebhookAlert]


class Notification(BaseModel):
    """One alert of one webhook call, as returned by ``/api/notifications``."""

    received_at: float
    receiver: str
    status: AlertStatus
    alertname: str
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: float | None = None
    ends_at: float | None = None
    fingerprint: str = ""
    source: str = Field(default="", exclude=True)
    """The webhook path segment it came in on: '' for `/alertmanager/webhook` (the real
    pipeline), the mutant's name for `/alertmanager/webhook/{source}` (a shadow pipeline)."""
    generator_url: str = Field(default="", exclude=True)


def _unix(value: datetime | None) -> float | None:
    if value is None or value.year <= 1:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def decode_webhook(body: bytes) -> WebhookPayload:
    """JSON body -> WebhookPayload; raises WebhookDecodeError with a reason."""
    try:
        doc: Any = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookDecodeError(f"malformed JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise WebhookDecodeError("malformed webhook payload: the body must be a JSON object")
    if "version" in doc and doc["version"] != WEBHOOK_VERSION:
        raise WebhookDecodeError(
            f"unsupported Alertmanager webhook version {doc['version']!r}: expected "
            f"{WEBHOOK_VERSION!r}"
        )
    try:
        return WebhookPayload.model_validate(doc)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise WebhookDecodeError(f"invalid Alertmanager webhook payload: {problems}") from exc


def notifications_from_payload(
    payload: WebhookPayload, received_at: float, source: str = ""
) -> list[Notification]:
    """One Notification per alert, each carrying the payload's receiver and the source."""
    return [
        Notification(
            received_at=received_at,
            receiver=payload.receiver,
            status=alert.status,
            alertname=alert.labels.get("alertname", ""),
            labels=alert.labels,
            annotations=alert.annotations,
            starts_at=_unix(alert.starts_at),
            ends_at=_unix(alert.ends_at),
            fingerprint=alert.fingerprint,
            source=source,
            generator_url=alert.generator_url,
        )
        for alert in payload.alerts
    ]
