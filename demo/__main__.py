"""`python -m signalcheck.demo`: serve the demo API with uvicorn, configured by the environment."""

from __future__ import annotations

import os
import sys

import uvicorn

from signalcheck.demo.app import create_app
from signalcheck.demo.settings import Settings, SettingsError


def main() -> int:
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    app = create_app(settings)
    # Logging is configured by create_app; the access log is the app's own, with trace ids.
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
