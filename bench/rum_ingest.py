"""Benchmark of the RUM ingest: events/s with batches of 20, and p50/p99 request latency.

Run from the repository root:  .venv/bin/python -m bench.rum_ingest [--seconds 6] [--workers 1 2]

Measured in one run, one server at a time, all on 127.0.0.1, same load generator, for each
worker count (`xN`: N server processes sharing the port, rum_ingest/server.py `run`):
  null        the ceiling: the same server (uvicorn through rum_ingest/server.py `run`, its process
              tuning and workers), the same CORS middleware and the same route style (a
              DirectRoute: no dependency resolution), answering 202 after parsing the JSON body
  signalcheck `signalcheck rum serve` (RUM_WORKERS=N) on SQLite (default) and on PostgreSQL:
              validation, scrubbing, route folding, metrics, and a commit before every 202
  no store    the ceiling of any store design: the same ingest app (validation, scrubbing, rows,
              metrics) whose database stores nothing and answers at once
and once, with one worker:
  reference   a faithful re-implementation of the reference design's ingest
              (../shared/reference/observability-mcp.md, "RUM Backend Ingestion"): a new asyncpg
              pool per event, one INSERT per event, raw URLs as metric labels. Two changes keep it
              alive long enough to measure: each pool is closed after its event (the original
              leaks them and exhausts PostgreSQL's connections within seconds), and the JSON
              columns are passed as text (asyncpg refuses a dict for jsonb).
PostgreSQL is a throwaway cluster started from the OS packages (as in the tests).

The load keeps CONCURRENCY (8) keep-alive connections busy, each sending its next batch when the
last is answered, so at most 8 batches share a commit. CPU is the server's processes (workers
and SQLite writers) per batch answered, warm-up included; PostgreSQL's own CPU is not counted.
"""

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.processes import cpu_seconds, started

BATCH_SIZE = 20
API_KEY = "bench-key-0123456789abcdef"
CONCURRENCY = 8
WARMUP = 1.0
READY_TIMEOUT = 30.0
REQUEST_TIMEOUT = 30.0
_CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")


def batch_body() -> bytes:
    """20 events that both this ingest's models and the reference design's models accept."""
    now = int(time.time() * 1000)
    common = {
        "session_id": "bench-session",
        "timestamp": now,
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) bench",
        "viewport": {"width": 1280, "height": 800},
    }
    events = []
    for i in range(BATCH_SIZE):
        page = {"url": f"https://shop.example/products/{1000 + i}"}
        if i % 4 == 0:
            events.append(
                {
                    **common,
                    "type": "page_load",
                    "page": page,
                    "metrics": {"total": 1234.5 + i, "ttfb": 120.0, "dns_lookup": 3.0},
                }
            )
        elif i % 4 == 1:
            events.append(
                {
                    **common,
                    "type": "web_vital",
                    "page": page,
                    "vital": {"name": "LCP", "value": 1800.0 + i},
                }
            )
        elif i % 10 == 9:
            events.append(
                {
                    **common,
                    "type": "error",
                    "page": page,
                    "error": {
                        "message": f"TypeError: x is undefined ({i})",
                        "stack": "at f (https://shop.example/app.js:1:2)",
                    },
                }
            )
        else:
            events.append({**common, "type": "api_call", "page": page,
                           "api": {"method": "GET", "endpoint": f"https://shop.example/api/items/{i}",
                                   "duration": 85.0 + i, "status": 200}})  # fmt: skip
    return json.dumps({"events": events}).encode()


# ------------------------------------------------------------------------ the two comparison apps


def null_app():
    """The ceiling: the same server stack and route style, parsing the body and nothing else."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    from signalcheck.rum_ingest.app import allow_cross_origin
    from signalcheck.rum_ingest.direct_route import DirectRoute

    app = FastAPI()
    allow_cross_origin(app, ())

    async def ingest(request: Request, key: str | None) -> JSONResponse:
        body = json.loads(await request.body())
        return JSONResponse({"accepted": len(body["events"])}, status_code=202)

    app.router.add_api_route(
        "/v1/events", ingest, methods=["POST"], status_code=202, route_class_override=DirectRoute
    )

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app


def reference_app():
    """The reference design's rum_ingest/server.py, as written but for the two changes above."""
    from typing import Any

    import asyncpg
    from fastapi import FastAPI
    from prometheus_client import Counter as PromCounter
    from prometheus_client import Histogram
    from pydantic import BaseModel

    app = FastAPI()
    rum_event_count = PromCounter(
        "rum_events_total", "Total RUM events received", ["event_type", "page"]
    )
    rum_page_load_time = Histogram(
        "rum_page_load_seconds", "User-perceived page load time", ["page"],
        buckets=[0.1, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0],
    )  # fmt: skip
    rum_api_call_duration = Histogram(
        "rum_api_call_duration_seconds", "API call duration from client", ["endpoint", "status"],
        buckets=[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
    )  # fmt: skip

    class RUMEvent(BaseModel):
        type: str
        session_id: str
        timestamp: int
        user_agent: str
        viewport: dict[str, int]
        page: dict[str, str] = {}
        metrics: dict[str, float] = {}
        api: dict[str, Any] = {}
        interaction: dict[str, Any] = {}
        error: dict[str, str] = {}

    class RUMBatch(BaseModel):
        events: list[RUMEvent]

    async def store_event(event: RUMEvent) -> None:
        pool = await asyncpg.create_pool(os.environ["DATABASE_URL"])
        try:
            async with pool.acquire() as conn:
                await conn.execute(
                    """
                    INSERT INTO rum_events (
                        session_id, event_type, timestamp, user_agent,
                        page_url, metrics, raw_event
                    ) VALUES ($1, $2, $3, $4, $5, $6, $7)
                    """,
                    event.session_id, event.type, event.timestamp, event.user_agent,
                    event.page.get("url"), json.dumps(event.metrics), event.model_dump_json(),
                )  # fmt: skip
        finally:
            await pool.close()

    @app.post("/v1/events")
    async def ingest_events(batch: RUMBatch):
        for event in batch.events:
            rum_event_count.labels(
                event_type=event.type, page=event.page.get("url", "unknown")
            ).inc()
            if event.type == "page_load":
                rum_page_load_time.labels(page=event.page.get("url", "unknown")).observe(
                    event.metrics.get("total", 0) / 1000
                )
            elif event.type == "api_call":
                rum_api_call_duration.labels(
                    endpoint=event.api.get("endpoint", "unknown"),
                    status=str(event.api.get("status", 0)),
                ).observe(event.api.get("duration", 0) / 1000)
            await store_event(event)
        return {"status": "ok", "events_processed": len(batch.events)}

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app


REFERENCE_TABLE = """
CREATE TABLE IF NOT EXISTS rum_events (
    session_id TEXT, event_type TEXT, timestamp BIGINT, user_agent TEXT,
    page_url TEXT, metrics JSONB, raw_event JSONB
)
"""


async def keep_nothing(rows: list[tuple]) -> None:
    """Stands in for the database's commit in the no-store row."""


def serve_app(kind: str, port: int, workers: int) -> None:
    from signalcheck.rum_ingest.server import ingest_app, run
    from signalcheck.rum_ingest.settings import Settings

    if kind != "no-store":
        app = null_app() if kind == "null" else reference_app()
        run(app, "127.0.0.1", port, workers)  # as `signalcheck rum serve` does: the same server
        return
    settings = Settings.from_env({**os.environ, "RUM_WORKERS": str(workers)})
    with ingest_app(settings) as app:  # the ingest as `signalcheck rum serve` builds it
        app.state.store.database.add = keep_nothing
        run(app, "127.0.0.1", port, workers)


# ------------------------------------------------------------------------------- load generator


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float]
    statuses: Counter
    cpu_per_batch: float  # seconds of the server and its children, warm-up included

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def events_per_second(self) -> float:
        return self.ok * BATCH_SIZE / self.seconds

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _connection(port, request, start, stop, latencies, statuses, completed) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop:
            began = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            match = _CONTENT_LENGTH.search(head)
            await reader.readexactly(int(match.group(1)) if match else 0)
            ended = time.perf_counter()
            completed[0] += 1
            if start <= ended <= stop:  # completions inside the window, however long they took
                latencies.append(ended - began)
                statuses[int(head[9:12])] += 1
    finally:
        writer.close()


async def load(port: int, seconds: float, concurrency: int) -> tuple[list[float], Counter, int]:
    """Latencies and statuses of the answers inside the window, and all answers counted."""
    body = batch_body()
    request = (
        b"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"X-API-Key: {API_KEY}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    latencies: list[float] = []
    statuses: Counter = Counter()
    completed = [0]
    start = time.perf_counter() + WARMUP
    stop = start + seconds
    tasks = [
        asyncio.create_task(_connection(port, request, start, stop, latencies, statuses, completed))
        for _ in range(concurrency)
    ]
    done, pending = await asyncio.wait(tasks, timeout=WARMUP + seconds + REQUEST_TIMEOUT)
    for task in pending:
        task.cancel()
    errors = [t.exception() for t in done if t.exception() is not None]
    if errors and not statuses:
        raise RuntimeError(f"load failed: {errors[0]!r}")
    return latencies, statuses, completed[0]


def measure(
    name: str, argv: list[str], env: dict[str, str], port: int, args, seconds=None
) -> Result:
    log = Path(args.workdir) / f"{name.replace(' ', '_')}.log"
    ready = f"http://127.0.0.1:{port}/health/ready"
    with started(argv, ready, log, env=env, timeout=READY_TIMEOUT) as server:
        seconds = seconds or args.seconds
        tree = [server, *server.children(recursive=True)]  # the SQLite writer is a child
        cpu = cpu_seconds(tree)
        latencies, statuses, completed = asyncio.run(load(port, seconds, args.concurrency))
        cpu_per_batch = (cpu_seconds(tree) - cpu) / max(completed, 1)
        return Result(name, seconds, latencies, statuses, cpu_per_batch)


async def _create_databases(server_url: str) -> tuple[str, str]:
    import asyncpg

    base = server_url.rsplit("/", 1)[0]
    conn = await asyncpg.connect(server_url, timeout=10)
    try:
        for name in ("bench_signalcheck", "bench_reference"):
            await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    reference = await asyncpg.connect(f"{base}/bench_reference", timeout=10)
    try:
        await reference.execute(REFERENCE_TABLE)
    finally:
        await reference.close()
    return f"{base}/bench_signalcheck", f"{base}/bench_reference"


def run(args) -> list[Result]:
    from tests.rum.postgres import temporary_postgres
    from tests.support import free_port

    python = sys.executable
    ours_env = {
        "RUM_API_KEYS": f"bench={API_KEY}",
        "RUM_RATE_LIMIT": "1000000",
        "RUM_RATE_BURST": "1000000",
    }
    ours = [python, "-m", "signalcheck", "rum", "serve", "--host", "127.0.0.1", "--port"]

    def serve(kind: str, workers: int) -> list[str]:
        return [python, "-m", "bench.rum_ingest", f"serve-{kind}", "{port}", str(workers)]

    def one(name: str, argv: list[str], env: dict[str, str], seconds=None) -> Result:
        port = free_port()
        argv = [str(port) if arg == "{port}" else arg for arg in argv]
        return measure(name, argv, env, port, args, seconds)

    results = []
    with temporary_postgres() as server_url:
        ours_pg, reference_pg = asyncio.run(_create_databases(server_url))
        for workers in args.workers:
            sqlite_url = f"sqlite:///{Path(args.workdir) / f'bench-rum-{workers}.db'}"
            workers_env = {**ours_env, "RUM_WORKERS": str(workers)}
            results.append(one(f"null x{workers}", serve("null", workers), {}))
            results.append(
                one(
                    f"signalcheck sqlite x{workers}",
                    [*ours, "{port}"],
                    {**workers_env, "DATABASE_URL": sqlite_url},
                )
            )
            results.append(
                one(
                    f"signalcheck postgresql x{workers}",
                    [*ours, "{port}"],
                    {**workers_env, "DATABASE_URL": ours_pg},
                )
            )
            no_store_url = f"sqlite:///{Path(args.workdir) / f'bench-no-store-{workers}.db'}"
            results.append(
                one(
                    f"no store x{workers}",
                    serve("no-store", workers),
                    {**workers_env, "DATABASE_URL": no_store_url},
                )
            )
        results.append(
            one(
                "reference postgresql x1",
                serve("reference", 1),
                {"DATABASE_URL": reference_pg},
                seconds=max(args.seconds, args.reference_seconds),
            )
        )
    return results


def report(results: list[Result], args) -> None:
    print(
        f"batches of {BATCH_SIZE} events, {args.concurrency} keep-alive connections, "
        f"{args.seconds:g} s measured ({args.reference_seconds:g} s for the reference) after "
        f"{WARMUP:g} s warm-up, 127.0.0.1, {os.cpu_count()} cores; "
        "xN: N server worker processes; CPU: the server's processes, not PostgreSQL's"
    )
    print(
        f"{'target':<28}{'events/s':>10}{'batches':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'CPU us/batch':>14}{'vs null':>9}  statuses"
    )
    by_name = {r.name: r for r in results}
    for r in results:
        null = by_name.get(f"null {r.name.rsplit(' ', 1)[-1]}")
        ratio = r.events_per_second / null.events_per_second if null else float("nan")
        print(
            f"{r.name:<28}{r.events_per_second:>10.0f}{r.ok:>9}{r.percentile(0.5) * 1000:>9.1f}"
            f"{r.percentile(0.99) * 1000:>9.1f}{r.cpu_per_batch * 1e6:>14.0f}{ratio:>9.2f}"
            f"  {dict(r.statuses)}"
        )
    reference = by_name["reference postgresql x1"]
    for workers in args.workers:
        ceiling = by_name[f"no store x{workers}"].events_per_second
        for store in ("sqlite", "postgresql"):
            ours = by_name[f"signalcheck {store} x{workers}"]
            null = by_name[f"null x{workers}"]
            vs_null = ours.events_per_second / null.events_per_second
            vs_ceiling = ours.events_per_second / ceiling
            vs_reference = (
                f"{ours.events_per_second / reference.events_per_second:.0f}x"
                if reference.ok
                else "no reference batch answered in its window: >> 1x"
            )
            print(
                f"{store} x{workers}: {vs_ceiling:.0%} of the no-store ceiling (goal >= 60%: the "
                f"store costs {1 - vs_ceiling:.0%} of the ingest's throughput), "
                f"{vs_null:.0%} of the null endpoint, {vs_reference} the reference design; "
                f"{ours.cpu_per_batch / null.cpu_per_batch:.1f}x the null's CPU per batch"
            )
        print(
            f"no store x{workers}: {ceiling / by_name[f'null x{workers}'].events_per_second:.0%} "
            "of the null endpoint: the most any store design could give"
        )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] in ("serve-null", "serve-reference", "serve-no-store"):
        serve_app(sys.argv[1].removeprefix("serve-"), int(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="measured seconds per target")
    parser.add_argument(
        "--reference-seconds",
        type=float,
        default=20.0,
        help="measured seconds for the reference design, whose batches take seconds each",
    )
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="server processes, one row each"
    )
    parser.add_argument(
        "--workdir", help="logs and the SQLite file go here (default: a new temp dir)"
    )
    args = parser.parse_args()
    args.workdir = args.workdir or tempfile.mkdtemp(prefix="rum-bench-")
    report(run(args), args)


if __name__ == "__main__":
    main()
