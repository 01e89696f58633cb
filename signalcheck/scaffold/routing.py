"""Alertmanager's routing of an alert's labels to receivers, as its dispatcher does it
(dispatch/route.go `Route.Match`): a route whose matchers all match takes the alert; its child
routes are tried in order, each matching one taking the alert, the first without `continue`
ending the search; a route with no matching child delivers to its own receiver, which a child
route that names none inherits from its parent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from signalcheck.mutate import matchers


@dataclass(frozen=True)
class Routing:
    receivers: list[str]
    """The receivers the alert reaches, in the order Alertmanager notifies them."""
    consulted: frozenset[str]
    """Every label a matcher read on the way (beyond them, the labels did not matter)."""


def route_alert(route: dict[str, Any], labels: dict[str, str]) -> Routing:
    """Where an alert with `labels` goes in the route tree `route` (a config's `route:`)."""
    consulted: set[str] = set()
    found = _match(route, labels, str(route.get("receiver", "")), consulted)
    return Routing(receivers=found or [], consulted=frozenset(consulted))


def _match(
    route: dict[str, Any], labels: dict[str, str], inherited: str, consulted: set[str]
) -> list[str] | None:
    own = matchers.of_route(route)
    consulted.update(m.name for m in own)
    if not matchers.all_match(own, labels):
        return None
    receiver = str(route.get("receiver") or inherited)
    found: list[str] = []
    for child in route.get("routes") or []:
        taken = _match(child, labels, receiver, consulted)
        if taken is None:
            continue
        found += taken
        if not child.get("continue", False):
            break
    return found or [receiver]
