"""demo: an instrumented assignments API that stands in for a user's production service.

It exports Prometheus metrics, OTLP traces and logs, and has a fault-injection admin API
so that signalcheck can prove its probes, load tests and alerts notice when it breaks.
"""
