"""The real Grafana Faro Web SDK, from the npm registry, in headless Chromium, on a page of
another origin than the ingest's: every preflight passes, and every item it sends is stored or
counted as dropped."""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import shutil
import sqlite3
import tarfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request, sync_playwright
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from signalcheck.errors import WaitTimeout
from signalcheck.rum_ingest.app import create_app
from signalcheck.rum_ingest.faro import NAVIGATION, RESOURCE
from signalcheck.waiting import wait_for
from tests.rum.conftest import API_KEY, settings
from tests.serving import served
from tests.support import launch_chromium

pytestmark = pytest.mark.slow

FARO_PACKAGES = ("@grafana/faro-web-sdk", "@grafana/faro-web-tracing")
FARO_VERSION = "2.12.1"  # the version whose Idempotency-Key header was blocked by CORS
REGISTRY = "https://registry.npmjs.org"
REGISTRY_TIMEOUT = 60.0
ARRIVAL_TIMEOUT = 20.0
WANTED = {"error", "log", "custom_event", "measurement", "web_vital", "page_load"}
VITALS = {"FCP", "TTFB", "LCP", "CLS"}
PAGE = """<!doctype html>
<html><head><title>shop</title><script src="faro-web-sdk.iife.js"></script></head>
<body><h1>Cart</h1><p>Three items in the cart, ready to pay.</p>
<script>
  const { initializeFaro, getWebInstrumentations } = window.GrafanaFaroWebSdk;
  window.faro = initializeFaro({
    url: "__INGEST__/collect",
    apiKey: "__KEY__",
    app: { name: "shop", version: "3.1.0" },
    instrumentations: getWebInstrumentations({ captureConsole: false }),
    batching: { enabled: true, sendTimeout: 200 },
  });
</script></body></html>
"""
PUSH_ITEMS = """() => {
  const api = window.faro.api;
  api.pushError(new Error("payment button broke"));
  api.pushLog(["cart rendered"], { level: "warn", context: { items: "3" } });
  api.pushEvent("checkout", { step: "pay" }, "shop");
  api.pushMeasurement({ type: "cart", values: { items: 3, total_eur: 42.5 } });
}"""
TRACED_PAGE = """<!doctype html>
<html><head><title>shop</title><script src="faro-web-sdk.iife.js"></script>
<script src="faro-web-tracing.iife.js"></script></head>
<body><h1>Cart</h1>
<script>
  const { initializeFaro, getWebInstrumentations } = window.GrafanaFaroWebSdk;
  const { TracingInstrumentation } = window.GrafanaFaroWebTracing;
  window.faro = initializeFaro({
    url: "__INGEST__/collect",
    apiKey: "__KEY__",
    app: { name: "shop", version: "3.1.0" },
    instrumentations: [...getWebInstrumentations({ captureConsole: false }),
                       new TracingInstrumentation()],
    batching: { enabled: true, sendTimeout: 200 },
  });
  window.faro.api.setUser({ id: "user-42", username: "heldout",
                            email: "held.out@shop.example", attributes: { plan: "gold" } });
</script></body></html>
"""
IDENTITY = ("user-42", "heldout", "held.out", "gold")
"""What `setUser` says on the traced page: none of it may be stored."""
HIDE_PAGE = """() => {
  Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""  # web-vitals reports LCP and CLS when the page is hidden


def npm_bundle(request: pytest.FixtureRequest, tmp_path_factory, package: str) -> Path:
    """A Faro package's browser bundle (`dist/bundle/NAME.iife.js`) from its npm registry
    tarball (integrity checked), kept in the pytest cache. Fetched with httpx: no npm needed,
    only the registry."""
    bundle_path = PurePosixPath(f"dist/bundle/{package.rsplit('/', 1)[1]}.iife.js")
    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    name = f"{package.rsplit('/', 1)[1]}-{FARO_VERSION}"
    directory = cache.mkdir(name) if cache is not None else tmp_path_factory.mktemp(name)
    bundle = directory / bundle_path.name
    if bundle.exists():
        return bundle
    what = f"{package}@{FARO_VERSION} from {REGISTRY}"
    try:
        with httpx.Client(timeout=REGISTRY_TIMEOUT, follow_redirects=True) as client:
            dist = client.get(f"{REGISTRY}/{package}/{FARO_VERSION}").raise_for_status()
            tarball = client.get(dist.json()["dist"]["tarball"]).raise_for_status().content
    except httpx.HTTPError as exc:
        pytest.fail(f"could not fetch {what} (the npm registry must be reachable): {exc}")
    algorithm, _, digest = dist.json()["dist"]["integrity"].partition("-")
    if base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode() != digest:
        pytest.fail(f"{what}: the tarball does not match its registry integrity {algorithm}")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        member = archive.extractfile(f"package/{bundle_path}")
        if member is None:
            pytest.fail(f"{what}: the tarball has no {bundle_path}")
        bundle.write_bytes(member.read())
    return bundle


@pytest.fixture(scope="module")
def faro_bundles(request: pytest.FixtureRequest, tmp_path_factory) -> list[Path]:
    """The web SDK's bundle and its tracing instrumentation's."""
    return [npm_bundle(request, tmp_path_factory, package) for package in FARO_PACKAGES]


@pytest.fixture
def page_origin(tmp_path: Path, faro_bundles: list[Path]) -> Iterator[tuple[str, Path]]:
    """A static server for the page and the bundles; yields its origin and its directory."""
    for bundle in faro_bundles:
        shutil.copy(bundle, tmp_path / bundle.name)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def open_faro_page(
    browser: Browser,
    origin: str,
    page_dir: Path,
    template: str,
    ingest: str,
    handlers: dict[str, Callable[[Any], None]],
) -> Page:
    """The page `template` (its ingest and key filled in) served from `origin`, open with
    `handlers` listening from the start, once Faro has started."""
    html = template.replace("__INGEST__", ingest).replace("__KEY__", API_KEY)
    (page_dir / "index.html").write_text(html)
    page = browser.new_page()
    for event, handler in handlers.items():
        page.on(event, handler)
    page.goto(f"{origin}/index.html")
    page.wait_for_function("window.faro && window.faro.api", timeout=10_000)
    return page


def expected_rows(payload: dict) -> Counter[str]:
    """The rows the ingest must store for a payload Faro sent, by event type."""
    expected: Counter[str] = Counter()
    expected["error"] += len(payload.get("exceptions", []))
    expected["log"] += len(payload.get("logs", []))
    for event in payload.get("events", []):
        timed = {NAVIGATION: "page_load", RESOURCE: "resource_load"}.get(event["name"])
        expected[timed or "custom_event"] += 1
    for measurement in payload.get("measurements", []):
        values = measurement["values"]
        if measurement["type"] == "web-vitals":
            expected["web_vital"] += 1  # one vital per measurement, the rest attribution
        else:
            expected["measurement"] += len(values)
    return expected


def test_faro_2_from_another_origin_reaches_the_ingest_and_every_item_is_accounted_for(
    tmp_path, page_origin
):
    origin, page_dir = page_origin
    db = tmp_path / "rum.db"
    app = create_app(settings(f"sqlite:///{db}", allowed_origins=(origin,)))
    sent: list[dict] = []  # the payloads the SDK posted, as the browser sent them
    failures: list[str] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and "/collect" in request.url:
            sent.append(json.loads(request.post_data))

    with served(app, "the RUM ingest") as ingest, sync_playwright() as playwright:
        assert ingest.rsplit(":", 1)[1] != origin.rsplit(":", 1)[1]  # two origins
        handlers = {
            "request": on_request,
            "requestfailed": lambda r: failures.append(f"{r.url}: {r.failure}"),
            "console": lambda m: failures.append(m.text) if "CORS" in m.text else None,
        }
        browser = launch_chromium(playwright)
        try:
            page = open_faro_page(browser, origin, page_dir, PAGE, ingest, handlers)
            page.evaluate(PUSH_ITEMS)
            page.click("h1")  # the first input: web-vitals reports LCP
            page.evaluate(HIDE_PAGE)

            def all_arrived() -> tuple[Counter[str], Counter[str], Counter[str]] | None:
                """(stored, expected, answers) once the ingest has answered every payload sent,
                every kind pushed is stored, and the store holds what the payloads carried."""
                stored = stored_types(db)
                expected = sum(map(expected_rows, sent), Counter())
                answers = batch_answers(ingest)
                vitals = stored_names(db).get("web_vital", set())
                seen.update(stored=stored, expected=expected, vitals=vitals, sent=len(sent),
                            answers=answers, failures=failures)  # fmt: skip
                if failures:
                    pytest.fail(f"the browser refused or failed requests: {failures}")
                if answers.total() != len(sent) or stored != expected:
                    return None
                complete = set(stored) >= WANTED and vitals >= VITALS
                return (stored, expected, answers) if complete else None

            seen: dict[str, object] = {}
            try:
                (stored, expected, answers), _ = wait_for(
                    all_arrived, timeout=ARRIVAL_TIMEOUT, what="every Faro item in the store"
                )
            except WaitTimeout as exc:
                pytest.fail(f"{exc}; last seen: {seen}")
            page.close()
        finally:
            browser.close()
        dropped = dropped_items(ingest)

    assert failures == [], "requests blocked (CORS preflight) or refused after the wait"
    assert answers == Counter({"202": len(sent)})
    assert stored == expected
    assert dropped == {}  # no tracing instrumentation, no user meta: nothing to drop
    names = stored_names(db)
    assert {"session_start", "checkout"} <= names["custom_event"]
    assert names["measurement"] == {"cart.items", "cart.total_eur"}
    assert names["log"] == {"warn"}
    assert names["error"] == {"Error"}


def test_faro_2_tracing_after_set_user_stores_no_identity(tmp_path, page_origin):
    """`setUser`, then a fetch the tracing instrumentation records: the payloads carry the user
    in `meta.user` and in the `faro.tracing.fetch` event's `user.*` attributes; the store holds
    the event, and none of the user."""
    origin, page_dir = page_origin
    db = tmp_path / "rum.db"
    app = create_app(settings(f"sqlite:///{db}", allowed_origins=(origin,)))
    sent: list[str] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and "/collect" in request.url:
            sent.append(request.post_data or "")

    with served(app, "the RUM ingest") as ingest, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            handlers = {"request": on_request}
            page = open_faro_page(browser, origin, page_dir, TRACED_PAGE, ingest, handlers)
            assert page.evaluate(f"() => fetch('{ingest}/health').then(r => r.status)") == 200

            def traced() -> bool:
                return "faro.tracing.fetch" in stored_names(db).get("custom_event", set())

            wait_for(traced, timeout=ARRIVAL_TIMEOUT, what="the fetch's faro.tracing event")
            page.close()
        finally:
            browser.close()
        dropped = dropped_items(ingest)
        identities = _samples(ingest, "rum_ingest_dropped_attributes_total")

    payloads = "\n".join(sent)
    assert '"user.id":"user-42"' in payloads and '"username":"heldout"' in payloads  # sent
    with sqlite3.connect(db, timeout=5) as conn:
        rows = conn.execute("SELECT * FROM rum_events").fetchall()
        [(attributes,)] = conn.execute(
            "SELECT attributes FROM rum_events WHERE name = 'faro.tracing.fetch'"
        ).fetchall()
    for identity in IDENTITY:
        assert identity not in str(rows), identity
    fetch = json.loads(attributes)["attributes"]
    assert fetch["url.full"].endswith("/health") and not any(k.startswith("user.") for k in fetch)
    assert (
        dropped[("meta_user", "personal_data")] >= 1 and dropped[("trace", "no_trace_store")] >= 1
    )
    by_kind = {sample.labels["kind"]: sample.value for sample in identities}
    assert by_kind["custom_event"] >= 3  # user.id, user.name, user.email of the fetch's span


def stored_types(db: Path) -> Counter[str]:
    if not db.exists():
        return Counter()
    with sqlite3.connect(db, timeout=5) as conn:
        try:
            rows = conn.execute("SELECT event_type FROM rum_events").fetchall()
        except sqlite3.OperationalError:  # the schema is not there yet
            return Counter()
    return Counter(kind for (kind,) in rows)


def stored_names(db: Path) -> dict[str, set[str]]:
    with sqlite3.connect(db, timeout=5) as conn:
        rows = conn.execute("SELECT event_type, name FROM rum_events").fetchall()
    names: dict[str, set[str]] = {}
    for kind, name in rows:
        names.setdefault(kind, set()).add(name)
    return names


def _samples(ingest: str, metric: str) -> list[Sample]:
    response = httpx.get(f"{ingest}/metrics", timeout=5)
    response.raise_for_status()
    return [
        sample
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == metric
    ]


def batch_answers(ingest: str) -> Counter[str]:
    """How many POSTs the ingest answered, by status (`rum_ingest_batches_total`)."""
    return Counter(
        {s.labels["status"]: int(s.value) for s in _samples(ingest, "rum_ingest_batches_total")}
    )


def dropped_items(ingest: str) -> dict[tuple[str, str], float]:
    samples = _samples(ingest, "rum_ingest_dropped_items_total")
    return {(s.labels["kind"], s.labels["reason"]): s.value for s in samples}
