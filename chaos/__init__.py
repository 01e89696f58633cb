"""Chaos Toolkit extension for signalcheck: fault actions, detection probes, a ledger control.

Installed as `signalcheck.chaos`. Experiments in `chaos/experiments/` call
`signalcheck.chaos.actions` and `signalcheck.chaos.probes` as Python activities and declare
`signalcheck.chaos.control` as their control; `signalcheck chaos run` runs them with the stock
`chaos run`.
"""
