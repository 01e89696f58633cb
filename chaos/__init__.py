"""Chaos Toolkit extension for signalcheck: fault actions, detection probes, a ledger control.

Experiments in `chaos/experiments/` call `chaos.actions` and `chaos.probes` as Python
activities and declare `chaos.control` as their control; `signalcheck chaos run` runs them
with the stock `chaos run`.
"""
