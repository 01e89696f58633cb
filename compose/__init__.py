"""The shipped configs (Prometheus, rules, Alertmanager, Compose, Grafana, Loki, Tempo,
OTel Collector), read as package data by the local stack and `signalcheck init`."""
