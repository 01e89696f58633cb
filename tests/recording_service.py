"""A stand-in service that records every request it gets, for tests of what signalcheck sends.

`python -m tests.recording_service PORT LOG` answers any method on any path with 200 and a
small JSON body, and appends one JSON line per request to LOG: method, path, headers, body.
Start it with `recording_service(port, log)` and stop it by its PID (`tests.support.stop`).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from signalcheck.waiting import wait_for
from tests.support import REPO


class Recorder(BaseHTTPRequestHandler):
    log: Path
    lock = threading.Lock()

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        line = {
            "method": self.command,
            "path": self.path,
            "headers": dict(self.headers.items()),
            "body": body,
        }
        with self.lock, self.log.open("a") as out:
            out.write(json.dumps(line) + "\n")
        answer = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _record

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the log file is the record."""


def recording_service(port: int, log: Path) -> subprocess.Popen[bytes]:
    """The service on 127.0.0.1:`port`, listening when this returns."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.recording_service", str(port), str(log)],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
    )

    def listening() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_for(listening, timeout=15, what=f"the recording service on port {port}")
    return process


def recorded(log: Path) -> list[dict]:
    """The requests recorded so far."""
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


if __name__ == "__main__":
    Recorder.log = Path(sys.argv[2])
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Recorder).serve_forever()
