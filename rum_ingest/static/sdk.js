/* signalcheck RUM SDK: plain JavaScript, no build step.
 *
 * <script src="https://rum.example/v1/sdk.js" data-api-key="KEY" data-app-name="web"
 *         data-app-version="1.2.3" data-region="eu-west-1"></script>
 *
 * Events go to the origin the script came from. Nothing here ever throws into the page.
 */
(function () {
  "use strict";
  try {
    if (window.signalcheckRum) return;
    var script = document.currentScript;
    if (!script || !script.src) return;
    start(script);
  } catch (ignored) {
    /* never break the host page */
  }

  function start(script) {
    var data = function (name, fallback) {
      var value = script.getAttribute("data-" + name);
      return value === null || value === "" ? fallback : value;
    };
    var endpoint = new URL("/v1/events", script.src).href;
    var apiKey = data("api-key", "");
    var app = { version: data("app-version", null), region: data("region", null) };
    var number = function (name, fallback) {
      var value = Number(data(name, fallback));
      return isFinite(value) && value >= 0 ? value : fallback;
    };
    var FLUSH_MS = Math.max(100, number("flush-interval", 3000));
    var RESOURCE_SAMPLE = number("resource-sample-rate", 0.1);
    var MAX_BATCH = 20;
    var MAX_QUEUE = 500;
    var MAX_BODY = 60000; // bytes: under the 64 KiB keepalive / beacon budget
    var MAX_RETRIES = 5;

    var nativeFetch = window.fetch ? window.fetch.bind(window) : null;
    var encoder = window.TextEncoder ? new TextEncoder() : null;
    var queue = [];
    var timer = null;
    var retryAt = 0;
    var retries = 0;
    var keepaliveBytes = 0;
    var finalReported = false;
    var sessionId = session();

    function safe(fn) {
      return function () {
        try {
          return fn.apply(this, arguments);
        } catch (ignored) {
          return undefined;
        }
      };
    }

    function hex(bytes) {
      var values = new Uint8Array(bytes);
      if (window.crypto && window.crypto.getRandomValues) {
        window.crypto.getRandomValues(values);
      } else {
        for (var i = 0; i < bytes; i++) values[i] = Math.floor(Math.random() * 256);
      }
      values[bytes - 1] |= 1; // an all-zero trace or span id is invalid
      var out = "";
      for (var j = 0; j < bytes; j++) out += (values[j] + 256).toString(16).slice(1);
      return out;
    }

    function session() {
      var key = "signalcheck.rum.session";
      try {
        var existing = window.sessionStorage.getItem(key);
        if (existing) return existing;
        var created = hex(16);
        window.sessionStorage.setItem(key, created);
        return created;
      } catch (ignored) {
        return hex(16);
      }
    }

    function bare(url) {
      // origin + path: query strings and fragments may hold personal data
      try {
        var parsed = new URL(url, location.href);
        return parsed.origin + parsed.pathname;
      } catch (ignored) {
        return String(url).split(/[?#]/)[0];
      }
    }

    function ms(value) {
      return Math.max(0, Math.round(value * 1000) / 1000);
    }

    function track(type, fields) {
      var event = {
        type: type,
        session_id: sessionId,
        timestamp: Date.now(),
        page: { url: bare(location.href), referrer: document.referrer ? bare(document.referrer) : null },
        user_agent: String(navigator.userAgent || "").slice(0, 512),
        viewport: { width: window.innerWidth || 0, height: window.innerHeight || 0 },
      };
      for (var name in fields) event[name] = fields[name];
      queue.push(event);
      if (queue.length > MAX_QUEUE) queue.splice(0, queue.length - MAX_QUEUE);
      if (queue.length >= MAX_BATCH) flush(false);
      else schedule(FLUSH_MS);
    }

    function schedule(delay) {
      if (timer === null) timer = setTimeout(safe(function () { timer = null; flush(false); }), delay);
    }

    function size(text) {
      return encoder ? encoder.encode(text).length : text.length * 3;
    }

    function takeBatch() {
      // up to MAX_BATCH events whose body stays under MAX_BODY; a lone oversized event is dropped
      var batch = [];
      var body = null;
      while (queue.length && batch.length < MAX_BATCH) {
        var candidate = JSON.stringify({ events: batch.concat([queue[0]]), app: app });
        if (size(candidate) > MAX_BODY) {
          if (!batch.length) queue.shift();
          else break;
        } else {
          batch.push(queue.shift());
          body = candidate;
        }
      }
      return batch.length ? { events: batch, body: body } : null;
    }

    function flush(unloading) {
      if (timer !== null) { clearTimeout(timer); timer = null; }
      if (!unloading && Date.now() < retryAt) { schedule(retryAt - Date.now()); return; }
      var batch;
      while ((batch = takeBatch())) {
        if (unloading) sendOnUnload(batch.body);
        else post(batch);
      }
    }

    function sendOnUnload(body) {
      // A text/plain beacon needs no CORS preflight; an application/json one would, and is lost.
      try {
        if (navigator.sendBeacon && navigator.sendBeacon(endpoint + "?api_key=" + encodeURIComponent(apiKey), body)) return;
      } catch (ignored) { /* fall back to a keepalive fetch */ }
      var bytes = size(body);
      if (!nativeFetch || keepaliveBytes + bytes > MAX_BODY) return;
      keepaliveBytes += bytes;
      var release = function () { keepaliveBytes -= bytes; };
      nativeFetch(endpoint + "?api_key=" + encodeURIComponent(apiKey), {
        method: "POST", body: body, keepalive: true, credentials: "omit",
        headers: { "Content-Type": "text/plain" },
      }).then(release, release);
    }

    function post(batch) {
      if (!nativeFetch) return;
      nativeFetch(endpoint, {
        method: "POST", body: batch.body, credentials: "omit",
        headers: { "Content-Type": "application/json", "X-API-Key": apiKey },
      }).then(safe(function (response) {
        if (response.status === 429 || response.status === 503) retry(batch, response.headers.get("Retry-After"));
        else retries = 0;
      }), safe(function () { retry(batch, null); }));
    }

    function retry(batch, retryAfter) {
      if (retries >= MAX_RETRIES) { retries = 0; return; } // give up on this batch
      retries += 1;
      var backoff = Math.min(30000, 1000 * Math.pow(2, retries - 1)) * (0.5 + Math.random() / 2);
      var told = Number(retryAfter) * 1000;
      retryAt = Date.now() + Math.max(backoff, isFinite(told) ? told : 0);
      queue = batch.events.concat(queue).slice(-MAX_QUEUE);
      schedule(retryAt - Date.now());
    }

    // ---------------------------------------------------------------- page load and vitals

    function vital(name, value) {
      track("web_vital", { vital: { name: name, value: name === "CLS" ? Math.max(0, value) : ms(value) } });
    }

    function observe(type, callback, options) {
      try {
        var observer = new PerformanceObserver(safe(function (list) { list.getEntries().forEach(callback); }));
        var init = { type: type, buffered: true };
        for (var key in options) init[key] = options[key];
        observer.observe(init);
      } catch (ignored) { /* entry type not supported by this browser */ }
    }

    function pageLoad() {
      var nav = performance.getEntriesByType("navigation")[0];
      if (!nav) return;
      var start = nav.activationStart || 0;
      track("page_load", {
        metrics: {
          total: ms(nav.loadEventEnd - start),
          dns_lookup: ms(nav.domainLookupEnd - nav.domainLookupStart),
          tcp_connection: ms(nav.connectEnd - nav.connectStart),
          tls_negotiation: ms(nav.secureConnectionStart > 0 ? nav.connectEnd - nav.secureConnectionStart : 0),
          ttfb: ms(nav.responseStart - nav.requestStart),
          content_download: ms(nav.responseEnd - nav.responseStart),
          dom_processing: ms(nav.domInteractive - nav.responseEnd),
          dom_complete: ms(nav.domComplete - nav.domInteractive),
          onload: ms(nav.loadEventEnd - nav.loadEventStart),
        },
      });
      vital("TTFB", nav.responseStart - start);
    }

    var lcp = null;
    var cls = 0, clsWindow = 0, clsWindowStart = 0, clsLast = 0;
    var interactions = {}; // interactionId -> longest event duration

    observe("paint", function (entry) {
      if (entry.name === "first-contentful-paint") vital("FCP", entry.startTime);
    });
    observe("largest-contentful-paint", function (entry) { lcp = entry.startTime; });
    observe("layout-shift", function (entry) {
      if (entry.hadRecentInput) return;
      // session windows: shifts less than 1 s apart, at most 5 s long; CLS is the largest window
      if (clsWindow && entry.startTime - clsLast < 1000 && entry.startTime - clsWindowStart < 5000) {
        clsWindow += entry.value;
      } else {
        clsWindow = entry.value;
        clsWindowStart = entry.startTime;
      }
      clsLast = entry.startTime;
      cls = Math.max(cls, clsWindow);
    });
    observe("event", function (entry) {
      if (entry.interactionId) {
        interactions[entry.interactionId] = Math.max(interactions[entry.interactionId] || 0, entry.duration);
      }
    }, { durationThreshold: 40 });
    observe("longtask", function (entry) { track("long_task", { duration: ms(entry.duration) }); });
    observe("resource", function (entry) {
      if (Math.random() >= RESOURCE_SAMPLE || bare(entry.name) === endpoint) return;
      track("resource_load", {
        resource: {
          name: bare(entry.name), type: String(entry.initiatorType || "other").slice(0, 128),
          duration: ms(entry.duration), size: entry.transferSize || 0,
        },
      });
    });

    function reportFinalVitals() {
      // LCP, CLS and INP are final once the page is hidden for the first time
      if (finalReported) return;
      finalReported = true;
      if (lcp !== null) vital("LCP", lcp);
      vital("CLS", cls);
      var durations = Object.keys(interactions).map(function (id) { return interactions[id]; });
      if (durations.length) {
        durations.sort(function (a, b) { return b - a; });
        // INP: the worst interaction, ignoring one in fifty as web-vitals does
        vital("INP", durations[Math.min(durations.length - 1, Math.floor(durations.length / 50))]);
      }
    }

    if (document.readyState === "complete") setTimeout(safe(pageLoad), 0);
    else window.addEventListener("load", safe(function () { setTimeout(safe(pageLoad), 0); }));

    var leaving = safe(function () {
      reportFinalVitals();
      flush(true);
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") leaving();
    });
    window.addEventListener("pagehide", leaving);

    // ---------------------------------------------------------------- API calls, traced

    function describe(input, method) {
      var url = new URL(typeof input === "string" ? input : (input && input.url) || String(input), location.href);
      if (url.origin + url.pathname === endpoint) return null; // our own reports
      return {
        method: String(method || "GET").toUpperCase(),
        url: url.origin + url.pathname,
        sameOrigin: url.origin === location.origin,
        traceId: hex(16),
        started: performance.now(),
      };
    }

    function traceparent(call) {
      return "00-" + call.traceId + "-" + hex(8) + "-01";
    }

    function recordCall(call, status) {
      track("api_call", {
        api: {
          method: call.method, endpoint: call.url, status: status || 0,
          duration: ms(performance.now() - call.started),
          trace_id: call.sameOrigin ? call.traceId : null,
        },
      });
    }

    if (nativeFetch) {
      window.fetch = function (input, init) {
        var call = null;
        var args = arguments;
        try {
          var method = (init && init.method) || (input && input.method) || "GET";
          call = describe(input, method);
          if (call && call.sameOrigin) {
            // only same-origin calls get a traceparent: a cross-origin one would need CORS consent
            var source = init && init.headers !== undefined ? init.headers : input && input.headers;
            var headers = new Headers(source || undefined);
            if (!headers.has("traceparent")) headers.set("traceparent", traceparent(call));
            var changed = {};
            for (var key in init || {}) changed[key] = init[key];
            changed.headers = headers;
            args = [input, changed];
          }
        } catch (ignored) {
          call = null;
          args = arguments;
        }
        var pending = nativeFetch.apply(window, args);
        if (call) {
          pending.then(
            safe(function (response) { recordCall(call, response.status); }),
            safe(function () { recordCall(call, 0); })
          );
        }
        return pending;
      };
    }

    var XHR = window.XMLHttpRequest;
    if (XHR && XHR.prototype) {
      var calls = new WeakMap();
      var open = XHR.prototype.open;
      var send = XHR.prototype.send;
      XHR.prototype.open = function (method, url) {
        try { calls.set(this, describe(url, method)); } catch (ignored) { /* not ours to break */ }
        return open.apply(this, arguments);
      };
      XHR.prototype.send = function () {
        try {
          var call = calls.get(this);
          if (call) {
            call.started = performance.now();
            if (call.sameOrigin) this.setRequestHeader("traceparent", traceparent(call));
            var xhr = this;
            this.addEventListener("loadend", safe(function () { recordCall(call, xhr.status); }));
          }
        } catch (ignored) { /* not ours to break */ }
        return send.apply(this, arguments);
      };
    }

    // ---------------------------------------------------------------- errors and interactions

    window.addEventListener("error", safe(function (event) {
      track("error", {
        error: {
          kind: "error",
          message: String(event.message || (event.error && event.error.message) || "unknown error").slice(0, 2048),
          stack: event.error && event.error.stack ? String(event.error.stack).slice(0, 8192) : null,
        },
      });
    }));
    window.addEventListener("unhandledrejection", safe(function (event) {
      var reason = event.reason;
      track("error", {
        error: {
          kind: "unhandledrejection",
          message: String((reason && reason.message) || reason || "unhandled rejection").slice(0, 2048),
          stack: reason && reason.stack ? String(reason.stack).slice(0, 8192) : null,
        },
      });
    }));
    document.addEventListener("click", safe(function (event) {
      var target = event.target;
      if (!target || !target.tagName) return;
      var name = target.tagName.toLowerCase() + (target.id ? "#" + target.id : "");
      track("user_interaction", { interaction: { action: "click", target: name.slice(0, 256) } });
    }), true);

    window.signalcheckRum = {
      sessionId: sessionId,
      track: safe(track),
      flush: safe(function () { flush(false); }),
    };
  }
})();
