"""The capture receiver: where traces, logs and Alertmanager notifications go on a machine
without Tempo or Loki, and where the validators read them back. OTLP metrics sent to it (an
OTel SDK's default exporters send all three signals) are counted per service and metric, not
kept: Prometheus is the metrics backend.

`app.create_app(store)` builds the FastAPI app, `server.serve(host, port, db_path)` runs it
under uvicorn, `store.CaptureStore(path)` is the SQLite store. The package imports none of
them itself, so that a validator reading a constant of the store does not load the server.
"""
