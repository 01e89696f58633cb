"""The user's own locustfile, read as Locust reads it, before any load is sent: its User
classes (every non-abstract one, `HttpUser`, `FastHttpUser` or any other) and its
LoadTestShape, if it defines one.

Reading imports the file, and so Locust and gevent's monkey-patching: it happens in a
subprocess (`python -m signalcheck.loadtests.userfile PATH` prints what it found as JSON),
never in the calling process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from signalcheck.errors import LoadError
from signalcheck.load_profiles import LoadPlan

READ_TIMEOUT = 60.0


def read_locustfile(plan: LoadPlan) -> LoadPlan:
    """`plan` with the User classes and the shape of its locustfile (unchanged without one,
    or when already read); LoadError, in one line, when the file cannot be imported or
    defines no User class."""
    if plan.locustfile is None or plan.user_classes:
        return plan
    try:
        done = subprocess.run(
            [sys.executable, "-m", "signalcheck.loadtests.userfile", str(plan.locustfile)],
            capture_output=True,
            text=True,
            timeout=READ_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise LoadError(
            f"{plan.locustfile}: importing it took longer than {READ_TIMEOUT:g}s"
        ) from None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit code {done.returncode}"]
        raise LoadError(f"{plan.locustfile}: cannot be imported: {lines[-1]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])  # after any prints of its own
    if not found["users"]:
        raise LoadError(
            f"{plan.locustfile}: defines no User class (a non-abstract subclass of HttpUser, "
            "FastHttpUser or User)"
        )
    shape = found["shapes"][0] if found["shapes"] else None  # Locust's pick: the first
    return plan.model_copy(update={"user_classes": tuple(found["users"]), "own_shape": shape})


def _found(path: Path) -> dict[str, list[str]]:
    from locust.util.load_locustfile import load_locustfile

    users, shapes = load_locustfile(str(path))
    return {"users": sorted(users), "shapes": [type(shape).__name__ for shape in shapes]}


if __name__ == "__main__":
    print(json.dumps(_found(Path(sys.argv[1]))))
