"""The backends a validation run talks to: built on first use, checked once.

An unreachable or misconfigured backend fails fast, once: the first use sends one request
to its health endpoint; if that fails, this and every later use raise `BackendUnavailable`
with the same message, without waiting out any expectation's budget.
"""

from __future__ import annotations

from signalcheck.backends.alertmanager import AlertmanagerClient
from signalcheck.backends.base import BackendClient
from signalcheck.backends.capture import CaptureClient
from signalcheck.backends.jaeger import JaegerClient
from signalcheck.backends.loki import LokiClient
from signalcheck.backends.prometheus import PrometheusClient
from signalcheck.backends.pushgateway import PushgatewayClient
from signalcheck.backends.tempo import TempoClient
from signalcheck.config import Backends
from signalcheck.errors import BackendError, BackendUnavailable

CLIENTS: dict[str, type[BackendClient]] = {
    "prometheus": PrometheusClient,
    "alertmanager": AlertmanagerClient,
    "pushgateway": PushgatewayClient,
    "capture": CaptureClient,
    "loki": LokiClient,
    "tempo": TempoClient,
    "jaeger": JaegerClient,
}
TRACE_BACKENDS = ("tempo", "jaeger", "capture")
LOG_BACKENDS = ("loki", "capture")


class BackendSet:
    def __init__(self, backends: Backends):
        self.backends = backends
        self._clients: dict[str, BackendClient] = {}
        self._broken: dict[str, str] = {}

    def client(self, name: str) -> BackendClient:
        if name in self._broken:
            raise BackendUnavailable(self._broken[name])
        if name not in self._clients:
            settings = getattr(self.backends, name)
            if settings is None:
                self._broken[name] = (
                    f"{name} is not configured: set backends.{name}.url in the config "
                    f"or SIGNALCHECK_{name.upper()}_URL"
                )
                raise BackendUnavailable(self._broken[name])
            client = CLIENTS[name](settings)
            try:
                client.check_reachable()
            except BackendError as exc:
                client.close()
                self._broken[name] = f"backend {name} ({settings.base_url}) failed its check: {exc}"
                raise BackendUnavailable(self._broken[name]) from None
            self._clients[name] = client
        return self._clients[name]

    def prometheus(self) -> PrometheusClient:
        client = self.client("prometheus")
        assert isinstance(client, PrometheusClient)
        return client

    def alertmanager(self) -> AlertmanagerClient:
        client = self.client("alertmanager")
        assert isinstance(client, AlertmanagerClient)
        return client

    def capture(self) -> CaptureClient:
        client = self.client("capture")
        assert isinstance(client, CaptureClient)
        return client

    def first_configured(self, names: tuple[str, ...], chosen: str | None = None) -> str:
        """`chosen`, else the first of `names` with a configured backend."""
        if chosen:
            return chosen
        return next((n for n in names if getattr(self.backends, n) is not None), names[-1])

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
