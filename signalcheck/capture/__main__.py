"""``python -m signalcheck.capture --host H --port P --db PATH``"""

from __future__ import annotations

import argparse
import sqlite3
import sys

from signalcheck.capture.server import DEFAULT_DB, DEFAULT_HOST, DEFAULT_PORT, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m signalcheck.capture",
        description="Capture receiver: OTLP/HTTP traces and logs and Alertmanager "
        "notifications, kept in SQLite; OTLP/HTTP metrics counted.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"bind address ({DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file ({DEFAULT_DB})")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn log level (info)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be between 0 and 65535, got {args.port}")
    try:
        serve(args.host, args.port, args.db, log_level=args.log_level)
    except (sqlite3.Error, OSError) as exc:
        print(f"capture: cannot open database {args.db}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
