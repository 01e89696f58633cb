"""Real User Monitoring ingest: events from browsers -> a store, analytics and Prometheus metrics.

`signalcheck rum serve` runs it; the browser SDK it serves is `static/sdk.js` at `/v1/sdk.js`.
"""
