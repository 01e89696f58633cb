"""OpenTelemetry resource and tracer provider of the demo service."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from signalcheck.demo.settings import Settings

SERVICE_NAME = "demo-api"


def build_resource(settings: Settings) -> Resource:
    return Resource.create(
        {
            "service.name": SERVICE_NAME,
            "service.version": settings.service_version,
            "deployment.environment": "local",
            "cloud.region": settings.region,
        }
    )


def build_tracer_provider(
    settings: Settings, resource: Resource, exporter: SpanExporter | None = None
) -> TracerProvider:
    """Spans go to `exporter`, else to OTLP/HTTP when an endpoint is set, else nowhere.

    Without an exporter spans are still created, so logs keep their trace and span ids.
    """
    provider = TracerProvider(resource=resource)
    if exporter is None and settings.otlp_endpoint:
        exporter = OTLPSpanExporter(endpoint=f"{settings.otlp_endpoint.rstrip('/')}/v1/traces")
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider
