"""Find the backend binaries under their Debian or upstream names, or from the environment."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from signalcheck.errors import StackError

# component -> (environment variable, names on PATH: Debian's first, then upstream)
BINARIES = {
    "prometheus": ("PROMETHEUS_BIN", ("prometheus",)),
    "alertmanager": ("ALERTMANAGER_BIN", ("prometheus-alertmanager", "alertmanager")),
    "pushgateway": ("PUSHGATEWAY_BIN", ("prometheus-pushgateway", "pushgateway")),
    "promtool": ("PROMTOOL_BIN", ("promtool",)),
    "amtool": ("AMTOOL_BIN", ("amtool",)),
}
APT_PACKAGE = {
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "alertmanager": "prometheus-alertmanager",
    "amtool": "prometheus-alertmanager",
    "pushgateway": "prometheus-pushgateway",
}


def find_binary(component: str, environ: dict[str, str] | None = None) -> Path:
    """The executable for `component`, or a StackError saying how to get one."""
    environ = os.environ if environ is None else environ
    variable, names = BINARIES[component]
    if environ.get(variable):
        path = Path(environ[variable])
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise StackError(f"{component}: {variable}={path} is not an executable file")
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise StackError(
        f"{component}: no binary named {' or '.join(names)} on PATH; "
        f"install it with `apt-get install -y {APT_PACKAGE[component]}` or set {variable}"
    )
