"""The `browser` check: a page in headless Chromium (Playwright), or the user's own script.

The page's same-origin requests carry the check run's trace id, except those the page's own
tracing (a RUM SDK) already gave a `traceparent`: overwriting it would tie the browser's record
of the call to a trace that does not exist. Web vitals (LCP, CLS, FCP, TTFB) and navigation
timing are read from the page; on failure a screenshot and the console errors go to the run
directory. When the page runs the signalcheck RUM SDK, its session id is recorded
(`rum_session_id`) and its queued events are sent before the browser closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import inspect
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Page, Playwright, Route, async_playwright
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Request as PlaywrightRequest
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from signalcheck.checks import BrowserCheck
from signalcheck.probes.errors import ErrorType, ProbeFailure
from signalcheck.probes.tracecontext import TraceContext

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ENV = "SIGNALCHECK_CHROMIUM"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOT_TIMEOUT_MS = 5000
# Chromium network errors -> error types; anything else is a browser_error.
NET_ERRORS = {
    "ERR_NAME_NOT_RESOLVED": ErrorType.DNS_ERROR,
    "ERR_CONNECTION_REFUSED": ErrorType.CONNECT_ERROR,
    "ERR_CONNECTION_RESET": ErrorType.CONNECT_ERROR,
    "ERR_ADDRESS_UNREACHABLE": ErrorType.CONNECT_ERROR,
    "ERR_CERT_": ErrorType.TLS_ERROR,
    "ERR_SSL_": ErrorType.TLS_ERROR,
    "ERR_TOO_MANY_REDIRECTS": ErrorType.REDIRECT_LOOP,
    "ERR_TIMED_OUT": ErrorType.TIMEOUT,
}

RUM_FLUSH_TIMEOUT = 5.0
"""Seconds to wait for the RUM SDK's last reports to be answered before the browser closes."""

VITALS_OBSERVER_JS = """
(() => {
  // Requests in flight, so the RUM SDK's reports can be waited for before the browser closes
  // (the SDK keeps the fetch it finds at start-up: this one).
  const fetch = window.fetch;
  window.__signalcheckInFlight = 0;
  if (fetch) {
    window.fetch = function () {
      window.__signalcheckInFlight += 1;
      const done = () => { window.__signalcheckInFlight -= 1; };
      const pending = fetch.apply(this, arguments);
      pending.then(done, done);
      return pending;
    };
  }
  const vitals = { lcp: null, cls: 0 };
  window.__signalcheckVitals = vitals;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) vitals.lcp = e.renderTime || e.loadTime || e.startTime;
    }).observe({ type: "largest-contentful-paint", buffered: true });
  } catch (e) {}
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (!e.hadRecentInput) vitals.cls += e.value;
    }).observe({ type: "layout-shift", buffered: true });
  } catch (e) {}
})();
"""

COLLECT_JS = """
async () => {
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  const vitals = window.__signalcheckVitals || { lcp: null, cls: null };
  return {
    web_vitals: {
      lcp: vitals.lcp, cls: vitals.cls, fcp: fcp ? fcp.startTime : null,
      ttfb: nav ? nav.responseStart : null,
    },
    navigation: nav ? {
      dns: nav.domainLookupEnd - nav.domainLookupStart,
      connect: nav.connectEnd - nav.connectStart,
      request: nav.responseStart - nav.requestStart,
      response: nav.responseEnd - nav.responseStart,
      dom_content_loaded: nav.domContentLoadedEventEnd,
      load: nav.loadEventEnd,
    } : {},
  };
}
"""

RUM_FLUSH_JS = """
async (timeoutMs) => {
  const rum = window.signalcheckRum;
  if (!rum) return null;
  rum.flush();
  const until = Date.now() + timeoutMs;
  while (window.__signalcheckInFlight > 0 && Date.now() < until) {
    await new Promise((done) => setTimeout(done, 20));
  }
  return rum.sessionId;
}
"""


class Browsers:
    """One headless Chromium per pass, launched on first use and shared by the browser checks."""

    def __init__(self, concurrency: int = 2):
        self.slots = asyncio.Semaphore(concurrency)
        self._lock = asyncio.Lock()
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    async def get(self) -> Browser:
        async with self._lock:
            if self._browser is None:
                executable = os.environ.get(CHROMIUM_ENV, CHROMIUM)
                try:
                    self._playwright = await async_playwright().start()
                    self._browser = await self._playwright.chromium.launch(
                        executable_path=executable, args=CHROMIUM_ARGS, headless=True
                    )
                except PlaywrightError as exc:
                    raise ProbeFailure(
                        ErrorType.BROWSER_ERROR,
                        f"cannot launch Chromium at {executable} (set {CHROMIUM_ENV}): "
                        f"{exc.message.splitlines()[0]}",
                    ) from None
            return self._browser

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.close()
        if self._playwright is not None:
            await self._playwright.stop()
        self._browser = self._playwright = None


async def attempt_browser(
    check: BrowserCheck,
    base_url: str,
    trace: TraceContext,
    evidence: dict[str, Any],
    *,
    browsers: Browsers,
    artifacts: Path,
    script: Path | None,
) -> None:
    """One attempt in a fresh browser context; fills `evidence` and raises ProbeFailure."""
    async with browsers.slots:
        browser = await browsers.get()
        context = await browser.new_context(base_url=base_url)
        try:
            await _attempt(check, base_url, trace, evidence, context, artifacts, script)
        finally:
            await context.close()


async def _attempt(
    check: BrowserCheck,
    base_url: str,
    trace: TraceContext,
    evidence: dict[str, Any],
    context: BrowserContext,
    artifacts: Path,
    script: Path | None,
) -> None:
    console_errors: list[str] = evidence.setdefault("console_errors", [])
    await context.add_init_script(script=VITALS_OBSERVER_JS)
    origin = _origin(base_url)

    async def with_trace(route: Route, request: PlaywrightRequest) -> None:
        if _origin(request.url) == origin:
            # the page's own traceparent (its RUM SDK's) wins over the probe's
            await route.continue_(headers={**trace.headers(), **request.headers})
        else:
            await route.continue_()

    await context.route("**/*", with_trace)
    page = await context.new_page()
    page.set_default_timeout(check.navigation_timeout * 1000)
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    try:
        if script is not None:
            await _run_script(script, page, context)
        else:
            await _load_page(check, page)
        evidence.update(await _measure(page))
        evidence["rum_session_id"] = await page.evaluate(RUM_FLUSH_JS, RUM_FLUSH_TIMEOUT * 1000)
    except BaseException as exc:
        evidence["screenshot"] = await _screenshot(page, artifacts, check.name, trace)
        if isinstance(exc, ProbeFailure | asyncio.CancelledError | KeyboardInterrupt):
            raise
        raise _classify(exc) from None


async def _load_page(check: BrowserCheck, page: Page) -> None:
    response = await page.goto(check.path, wait_until="load")
    if response is not None and response.status >= 400:
        raise ProbeFailure(ErrorType.HTTP_STATUS, f"{page.url}: status {response.status}")
    try:
        if check.wait_for_selector:
            await page.wait_for_selector(check.wait_for_selector)
        if check.wait_for_text:
            await page.get_by_text(check.wait_for_text).first.wait_for()
    except PlaywrightTimeoutError:
        wanted = check.wait_for_selector or check.wait_for_text
        raise ProbeFailure(
            ErrorType.ASSERTION,
            f"{page.url}: {wanted!r} did not appear within {check.navigation_timeout:g}s",
        ) from None


async def _run_script(script: Path, page: Page, context: BrowserContext) -> None:
    spec = importlib.util.spec_from_file_location(f"signalcheck_script_{script.stem}", script)
    if spec is None or spec.loader is None:
        raise ProbeFailure(ErrorType.SCRIPT_ERROR, f"{script}: cannot load as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ProbeFailure(
            ErrorType.SCRIPT_ERROR, f"{script}: {type(exc).__name__}: {exc}"
        ) from None
    run = getattr(module, "run", None)
    if not inspect.iscoroutinefunction(run):
        raise ProbeFailure(
            ErrorType.SCRIPT_ERROR, f"{script}: defines no `async def run(page, context)`"
        )
    await run(page, context)


async def _measure(page: Page) -> dict[str, Any]:
    """Web vitals and navigation timing, in seconds."""
    measured = await page.evaluate(COLLECT_JS)
    return {
        "web_vitals": {
            name: value if name == "cls" or value is None else value / 1000
            for name, value in measured["web_vitals"].items()
        },
        "navigation": {name: value / 1000 for name, value in measured["navigation"].items()},
    }


async def _screenshot(page: Page, artifacts: Path, check: str, trace: TraceContext) -> str | None:
    path = artifacts / f"{check}-{trace.trace_id}.png"
    artifacts.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PlaywrightError):
        await page.screenshot(path=str(path), full_page=True, timeout=SCREENSHOT_TIMEOUT_MS)
        return str(path)
    return None


def _classify(exc: BaseException) -> ProbeFailure:
    if isinstance(exc, AssertionError):
        return ProbeFailure(ErrorType.ASSERTION, f"assertion failed: {exc}")
    if isinstance(exc, PlaywrightTimeoutError):
        return ProbeFailure(ErrorType.TIMEOUT, exc.message.splitlines()[0])
    if isinstance(exc, PlaywrightError):
        first_line = exc.message.splitlines()[0]
        for marker, error_type in NET_ERRORS.items():
            if marker in exc.message:
                return ProbeFailure(error_type, first_line)
        return ProbeFailure(ErrorType.BROWSER_ERROR, first_line)
    return ProbeFailure(ErrorType.SCRIPT_ERROR, f"{type(exc).__name__}: {exc}")


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
