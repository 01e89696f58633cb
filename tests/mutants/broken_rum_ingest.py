"""The RUM ingest serving a copy of its browser SDK with one defect, for the mutant tests only.

`python -m tests.mutants.broken_rum_ingest rum serve ...` runs `signalcheck rum serve ...` with
the SDK it serves at /v1/sdk.js replaced by a copy of rum_ingest/static/sdk.js with one edit,
named by $MUTANT and written under $MUTANT_DIR; rum_ingest/ itself stays correct:

- `sdk_no_vitals`: the SDK never reports a web vital.
- `sdk_no_api_calls`: the SDK never reports an API call (nor its trace id).
- `sdk_seconds_timestamps`: the SDK stamps its events in unix seconds, not milliseconds (the
  ingest takes both: any non-negative integer up to its bound).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from signalcheck.rum_ingest import app as ingest_app

EDITS: dict[str, tuple[str, str]] = {
    "sdk_no_vitals": (
        "    function vital(name, value) {\n",
        "    function vital(name, value) {\n      return;\n",
    ),
    "sdk_no_api_calls": (
        "    function recordCall(call, status) {\n",
        "    function recordCall(call, status) {\n      return;\n",
    ),
    "sdk_seconds_timestamps": (
        "        timestamp: Date.now(),\n",
        "        timestamp: Math.floor(Date.now() / 1000),\n",
    ),
}


def mutated_sdk(mutant: str, directory: Path) -> Path:
    """Write the SDK with the edit of `mutant`; exit 2 when the shipped SDK no longer has the
    text the edit replaces (the mutant must change exactly one place)."""
    old, new = EDITS[mutant]
    shipped = ingest_app.SDK_PATH.read_text()
    if shipped.count(old) != 1:
        sys.exit(f"{ingest_app.SDK_PATH}: expected {old.strip()!r} exactly once")
    path = directory / f"sdk-{mutant}.js"
    path.write_text(shipped.replace(old, new))
    return path


if __name__ == "__main__":
    ingest_app.SDK_PATH = mutated_sdk(os.environ["MUTANT"], Path(os.environ["MUTANT_DIR"]))
    from signalcheck.cli import app

    app(prog_name="signalcheck")
