"""`signalcheck init --from-prometheus`: a starter config derived from what a live Prometheus
and Alertmanager serve (targets, rules, routes, series), and the alert coverage it gives.

- `expressions`: what a rule's PromQL shows (grouping labels, metrics, the fault it detects);
- `routing`: Alertmanager's routing of an alert's labels to receivers;
- `live`: what the live system serves, read once;
- `starter`: the config entries derived from it;
- `writer`: the commented YAML, and `--update`'s additions to an existing one;
- `coverage`: per alert rule, the exercises that fire it and the mutants they reach.
"""
