"""signalcheck as a Chaos Toolkit extension: what `chaos discover signalcheck` reports, for
`chaos init` to build an experiment from.

chaoslib, `inspect` and the package's version are imported when discovery is asked for, so
that `import signalcheck` stays cheap.
"""

from __future__ import annotations

import importlib
import types
import typing
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chaoslib.types import DiscoveredActivities, Discovery

DISTRIBUTION = "signalcheck"
TARGET = "observability"
"""What the extension's activities act on and check: a system's telemetry pipeline."""
ACTIONS_MODULE = "signalcheck.chaos.actions"
PROBES_MODULE = "signalcheck.chaos.probes"
CONTROL_MODULE = "signalcheck.chaos.control"


def discover(discover_system: bool = True) -> Discovery:
    """Every activity signalcheck offers. There is no system to discover (`discover_system`
    changes nothing): the regions, backends and allowlist come from the signalcheck config."""
    from chaoslib.discovery import initialize_discovery_result

    from signalcheck import __version__

    discovery = initialize_discovery_result(DISTRIBUTION, __version__, TARGET)
    discovery["activities"].extend(load_exported_activities())
    return discovery


def load_exported_activities() -> list[DiscoveredActivities]:
    """Each action, probe and control function that signalcheck's chaos modules export in
    `__all__`, with its arguments (name, portable type, default) and docstring."""
    from chaoslib.discovery.discover import discover_actions, discover_activities, discover_probes

    activities = [
        *discover_actions(ACTIONS_MODULE),
        *discover_probes(PROBES_MODULE),
        *discover_activities(CONTROL_MODULE, "control"),
    ]
    for activity in activities:
        _name_types(activity)
    return activities


def _name_types(activity: DiscoveredActivities) -> None:
    """Give the activity's arguments and return value the portable type of their annotation.

    chaoslib names only a bare type (`str`, `dict`), so it calls `X | None`, `dict[str, str]`
    and a postponed annotation (a string) an `object`; and `chaos init` needs every argument's
    type to prompt for its value.
    """
    import inspect

    from chaoslib.discovery.discover import portable_type_name

    func = getattr(importlib.import_module(activity["mod"]), activity["name"])
    signature = inspect.signature(func, eval_str=True)
    for argument in activity["arguments"]:
        annotation = signature.parameters[argument["name"]].annotation
        argument["type"] = portable_type_name(_bare_type(annotation))
    if signature.return_annotation is not inspect.Signature.empty:
        activity["return_type"] = portable_type_name(_bare_type(signature.return_annotation))


def _bare_type(annotation: object) -> object:
    """`X` for `X | None`, the plain type of a generic one (`dict` for `dict[str, str]`)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        kinds = [kind for kind in typing.get_args(annotation) if kind is not type(None)]
        return _bare_type(kinds[0]) if len(kinds) == 1 else annotation
    return typing.get_origin(annotation) or annotation
